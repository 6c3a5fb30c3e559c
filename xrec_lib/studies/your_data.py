"""Notebook 06: paper 000's recommender (Siamese GCN + BLA) on one's own cross-domain or cross-market data.

The steps of notebooks 01 and 02 on any :mod:`xrec_lib.data.generic` file, with their functions:

1. **Data** (:func:`load_data`): the file ``train_path`` (optional ``test_path``) read by
   :func:`~xrec_lib.data.generic.load_interactions`, the ``source`` / ``target`` sides (``by`` market or domain)
   and the ``split`` turned into paper 000's heterogeneous graph by :func:`xrec_lib.data.tables.to_crossdomain`.
   Without ``train_path`` the XMarket pair ``source`` -> ``target`` of the data root goes the same way (its two
   market files read by :func:`xrec_lib.data.xmarket.read_market`, checksummed, one table with a ``market``
   column); without a data root a small generated file (:func:`write_example_file`, written to a temporary
   folder) does, so the notebook always runs. ``max_users`` keeps the rows of that many seeded random users.
2. **Encoders** (:func:`run_encoders`): notebook 01's comparison
   (:func:`~xrec_lib.studies.paper000.representation.run_representation`, the one training loop, BPR, early
   stopping on target validation NDCG@20, notebook 01's tuned values) of the encoders ``models``, with the
   encoder settings notebook 02 derives from this profile
   (:meth:`~xrec_lib.studies.paper000.settings.InteractionSettings.encoder_settings`); Fig. 6-8 tables, figures
   and verdicts by :mod:`~xrec_lib.studies.paper000.representation_tables` (the paper's sparse-scenario statements,
   the target side being the sparse one; each baseline of ``models`` one claim; one Holm family).
3. **Heads** (:func:`run_heads`): notebook 02's per-seed study (:func:`~xrec_lib.studies.paper000.interaction.run_seed`:
   BLA against BL / CNIM / Gated, Methods 1-4, the Table 2 ablation) on the one "standard" scenario of the data;
   tables, figures and verdicts by :mod:`~xrec_lib.studies.paper000.interaction_tables` and
   :mod:`~xrec_lib.studies.paper000.interaction_claims`.
4. **Recommender** (:func:`build_recommender`): the first seed's Siamese GCN vectors of step 2 and a BLA head fitted
   on them as in step 3 (:func:`~xrec_lib.studies.paper000.head_training.fit_head`, the same validation and stopping
   rule), served by :class:`xrec_lib.recommender.OwnDataRecommender` in the file's own ids.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from xrec_lib.config import RunConfig, Settings
from xrec_lib.data.generic import InteractionTable, load_interactions, table_from_frame
from xrec_lib.data.tables import to_crossdomain
from xrec_lib.data.xmarket import market_file, read_market
from xrec_lib.errors import ConfigError
from xrec_lib.recommender import OwnDataRecommender
from xrec_lib.results import ResultsBundle
from xrec_lib.studies.paper000 import figures
from xrec_lib.studies.paper000 import interaction_tables as head_tables
from xrec_lib.studies.paper000 import representation_tables as encoder_tables
from xrec_lib.studies.paper000.head_training import fit_head
from xrec_lib.studies.paper000.head_tuning import NOTEBOOK as HEADS_TUNED
from xrec_lib.studies.paper000.interaction import SeedRun, StudyResult, collect_study, run_seed
from xrec_lib.studies.paper000.interaction_claims import notebook_verdicts
from xrec_lib.studies.paper000.representation import RepresentationRun, run_representation
from xrec_lib.studies.paper000.representation_tuning import NOTEBOOK as ENCODERS_TUNED
from xrec_lib.studies.paper000.settings import InteractionSettings
from xrec_lib.studies.paper000.tasks import TargetTask
from xrec_lib.tuning import load_tuned

NOTEBOOK = "06_your_data"
PROPOSED = "Siamese GCN"


@dataclass(frozen=True)
class YourDataSettings(Settings):
    """The data parameters of ``profiles/06_your_data.yaml`` (the others are
    :class:`~xrec_lib.studies.paper000.settings.InteractionSettings`, read by :func:`interaction_settings`).

    Attributes:
        train_path, test_path: the user's files (None: the XMarket pair, or the generated file).
        source, target: the two sides, values of the ``market`` (or ``domain``) column.
        by: ``"market"``, ``"domain"`` or None (picked from the table, :func:`xrec_lib.data.tables.choose_by`).
        split: ``"file"``, ``"leave-last-out"`` or ``"random"`` (:mod:`xrec_lib.data.tables`); ``"file"`` is used
            whenever ``test_path`` is given.
        test_fraction: the test share of ``split="random"``.
        rating_threshold: keep rows rated at least this (None: every row).
        max_users: keep the rows of at most this many seeded random users (None: all).
        models: the encoders of step 2 (notebook 01's names; must include the Siamese GCN).
        recommend_k: the length of the example recommendations.
        generated_users, generated_items: size of the generated file used without a file and a data root.
    """

    IGNORED = tuple(f.name for f in fields(InteractionSettings) if f.init and f.name not in ("source", "target"))

    train_path: str | None = None
    test_path: str | None = None
    source: str = "ca"
    target: str = "de"
    by: str | None = None
    split: str = "leave-last-out"
    test_fraction: float = 0.4
    rating_threshold: float | None = None
    max_users: int | None = None
    models: tuple[str, ...] = ("Siamese GCN", "GCN", "GraphSAGE", "RGCN", "LightGCN", "MF")
    recommend_k: int = 10
    generated_users: int = 300
    generated_items: int = 240

    def __post_init__(self) -> None:
        object.__setattr__(self, "models", tuple(self.models))
        if PROPOSED not in self.models:
            raise ConfigError(f"models {list(self.models)} must include {PROPOSED!r} (the recommender's encoder)")


def data_settings(cfg: RunConfig | dict) -> YourDataSettings:
    return YourDataSettings.from_config(cfg)


def interaction_settings(cfg: RunConfig) -> InteractionSettings:
    """Notebook 02's settings from this profile's values (the data parameters left out)."""
    data_fields = {f.name for f in fields(YourDataSettings)}
    return InteractionSettings.from_config({k: v for k, v in cfg.params.items() if k not in data_fields},
                                           device=cfg.device)


# ------------------------------------------------------------------------------------------------- data
@dataclass
class YourData:
    """The data of one run: the table, the graph built from it, a label for titles, where it came from."""

    table: InteractionTable
    dataset: object  # CrossDomainDataset
    label: str
    origin: str  # "file", "xmarket" or "generated"
    synthetic: bool
    details: dict

    def statistics(self) -> pd.DataFrame:
        """The graph's statistics plus the bridges between the sides."""
        extra = pd.DataFrame({"value": [self.dataset.meta["n_shared_items"], self.dataset.meta["n_users_both_sides"]]},
                             index=pd.Index(["items on both sides (bridges)", "users on both sides"], name="quantity"))
        return pd.concat([self.dataset.statistics(), extra])


def write_example_file(path: str | Path, n_users: int = 300, n_items: int = 240, seed: int = 0,
                       markets: tuple[str, str] = ("ca", "de")) -> Path:
    """A small interaction file in the generic format with learnable structure: string user and item ids, ISO
    dates, two markets; users and items carry seeded latent tastes (dimension 4) and each user picks items of
    their market(s) with probability growing with the match; some items are listed in both markets and a third
    of the users buy in both (the bridges)."""
    rng = np.random.default_rng(seed)
    users, items = rng.normal(size=(n_users, 4)), rng.normal(size=(n_items, 4))
    in_market = np.stack([rng.random(n_items) < 0.75, rng.random(n_items) < 0.55])
    in_market[1, ~in_market.any(axis=0)] = True
    home = rng.integers(0, 2, n_users)
    both = rng.random(n_users) < 1 / 3
    user_names = np.array([f"A{v:X}" for v in rng.integers(16 ** 9, 16 ** 10, n_users)])
    item_names = np.array([f"B0{v:X}" for v in rng.integers(16 ** 7, 16 ** 8, n_items)])
    rows = []
    for u in range(n_users):
        for market in ((0, 1) if both[u] else (home[u],)):
            listed = np.flatnonzero(in_market[market])
            weights = np.exp(1.5 * items[listed] @ users[u])
            count = min(len(listed), int(rng.integers(6, 16)) if market == 0 else int(rng.integers(3, 9)))
            picked = rng.choice(listed, size=count, replace=False, p=weights / weights.sum())
            days = np.sort(rng.integers(0, 1000, count))
            rows += [(user_names[u], item_names[i], str(pd.Timestamp("2019-01-01") + pd.Timedelta(days=int(d)))[:10],
                      markets[market]) for i, d in zip(picked, days)]
    path = Path(path)
    pd.DataFrame(rows, columns=["user", "item", "timestamp", "market"]).to_csv(path, index=False)
    return path


def xmarket_table(source: str, target: str, data_dir: Path | str | None,
                  rating_threshold: float | None = None) -> tuple[InteractionTable, dict]:
    """The two XMarket market files as one generic table (``market`` column = the market, ``timestamp`` = the
    date, ``rating``; rows rated below ``rating_threshold`` left out) and their sha256 (checked against the
    manifest for the listed markets)."""
    frames, checksums = [], {}
    for market in (source, target):
        path, sha = market_file(market, data_dir)
        rows = read_market(path)
        frames.append(pd.DataFrame({"user": rows["user"], "item": rows["item"], "market": market,
                                    "rating": rows["rating"],
                                    "timestamp": (rows["date"] - pd.Timestamp(0)).dt.total_seconds()}))
        checksums[path.name] = sha
    rows = pd.concat(frames, ignore_index=True)
    if rating_threshold is not None:
        rows = rows[rows["rating"] >= rating_threshold]
    return table_from_frame(rows), checksums


def keep_users(table: InteractionTable, max_users: int | None, seed: int) -> InteractionTable:
    """The rows (train and test) of ``max_users`` seeded random users of the training file (None: all)."""
    if max_users is None or max_users >= table.n_users:
        return table
    kept = np.zeros(table.n_users, dtype=bool)
    kept[np.random.default_rng(seed).permutation(table.n_users)[:max_users]] = True
    test = None if table.test is None else table.test[kept[table.test["user"]]].reset_index(drop=True)
    return InteractionTable(table.train[kept[table.train["user"]]].reset_index(drop=True), test, table.user_ids,
                            table.item_ids)


def load_data(cfg: RunConfig, bundle: ResultsBundle | None = None, folder: str | Path | None = None) -> YourData:
    """Step 1 (module docstring); the dataset is recorded in ``bundle``. ``folder``: where the generated file is
    written (default: a new temporary folder)."""
    s = data_settings(cfg)
    split = "file" if s.test_path else s.split
    if s.train_path:
        table = load_interactions(s.train_path, s.test_path, s.rating_threshold)
        origin, synthetic, name = "file", False, Path(s.train_path).stem
        details = {"train_path": str(s.train_path), "test_path": s.test_path and str(s.test_path)}
    elif cfg.data_dir is not None:
        table, checksums = xmarket_table(s.source, s.target, cfg.data_dir, s.rating_threshold)
        origin, synthetic, name = "xmarket", False, "xmarket"
        details = {"dataset": "xmarket-forec-electronics", "sha256": checksums}
    else:
        folder = Path(folder or tempfile.mkdtemp(prefix="xrec-your-data-"))
        path = write_example_file(folder / "example_interactions.csv", s.generated_users, s.generated_items,
                                  cfg.seed, (s.source, s.target))
        table = load_interactions(path, rating_threshold=None)
        origin, synthetic, name = "generated", True, "generated"
        details = {"train_path": str(path), "generator_seed": cfg.seed, "n_users": s.generated_users,
                   "n_items": s.generated_items}
    table = keep_users(table, s.max_users, cfg.seed)
    dataset = to_crossdomain(table, s.source, s.target, s.by, split, cfg.seed, s.test_fraction,
                             name=f"{name}/{s.source}->{s.target}", synthetic=synthetic)
    users = f", {s.max_users:,} random users" if s.max_users and s.max_users < len(table.user_ids) else ""
    label = f"{'generated file' if synthetic else name} {s.source}->{s.target} ({split}{users})"
    if bundle is not None:
        bundle.add_dataset(dataset.name, synthetic=synthetic, origin=origin, split=split, by=dataset.meta["by"],
                           max_users=s.max_users, **details)
        if origin == "generated":
            bundle.note("no train_path and no data root: a small generated file was used (wiring, not a finding)")
    return YourData(table, dataset, label, origin, synthetic, details)


# --------------------------------------------------------------------------------------------- encoders
def run_encoders(cfg: RunConfig, data: YourData, bundle: ResultsBundle | None = None) -> RepresentationRun:
    """Step 2: notebook 01's comparison of ``models`` on the data, every fit recorded in ``bundle``."""
    settings = interaction_settings(cfg).encoder_settings()
    run = run_representation(data.dataset, settings, cfg.seeds, label=data.label, models=data_settings(cfg).models,
                             tuned=load_tuned(ENCODERS_TUNED))
    if bundle is not None:
        run.record_training(bundle)
    return run


def encoder_report(run: RepresentationRun, bundle: ResultsBundle) -> dict[str, pd.DataFrame]:
    """Fig. 6-8 tables (ours beside the paper's sparse-scenario values), their figures, and the verdicts of the
    paper's sparse-scenario statements against each baseline of the run (one Holm family)."""
    tables = {"fig6": encoder_tables.figure_table(run, "Fig. 6", scenario=1),
              "fig7": encoder_tables.figure_table(run, "Fig. 7"), "fig8": encoder_tables.figure_table(run, "Fig. 8")}
    for item, table in tables.items():
        bundle.add_table(f"{item}_encoders", table)
    bundle.add_figure("fig6_encoders", figures.plot_fig6({"your data": tables["fig6"]}))
    for item, metrics in (("fig7", ("ndcg", "map")), ("fig8", ("precision", "coverage"))):
        bundle.add_figure(f"{item}_encoders", figures.plot_metric_curves(
            encoder_tables.curves_table(run, metrics), metrics, tables[item], f"Fig. {item[3:]}"))
    bundle.add_figure("learning_curves_encoders", figures.plot_learning_curves(run.history, run.label))
    baselines = tuple(m for m in run.metrics["model"].unique() if m != PROPOSED)
    verdicts = encoder_tables.claim_verdicts({"sparse": run}, baselines=baselines).assign(data=run.label)
    bundle.add_table("verdicts_encoders", verdicts)
    bundle.add_metrics("encoders/verdicts", verdicts.reset_index().to_dict(orient="records"))
    tables["verdicts"] = verdicts
    return tables


# ------------------------------------------------------------------------------------------------ heads
def run_heads(cfg: RunConfig, data: YourData, bundle: ResultsBundle | None = None) -> StudyResult:
    """Step 3: notebook 02's per-seed study on the data (one "standard" scenario), every fit recorded."""
    settings, started, records = interaction_settings(cfg), time.perf_counter(), []
    tuned = load_tuned(HEADS_TUNED)
    task = TargetTask.from_dataset(data.dataset)
    for seed in cfg.seeds:
        records.append(run_seed(data.label, {"standard": task}, settings, seed, tuned, load_tuned(ENCODERS_TUNED)))
    study = collect_study(data.label, records, cfg.seeds, settings, started, tuned)
    if bundle is not None:
        head_tables.record_training(study, bundle)
        bundle.add_metrics("heads/metrics", study.metrics)
    return study


def head_report(study: StudyResult, bundle: ResultsBundle) -> dict[str, pd.DataFrame]:
    """Notebook 02's real-data tables (Fig. 9, 11, 12, 14, Table 2, the paper's values beside), its figures, and
    the verdicts of its claims on this data (one Holm family)."""
    tables = {head_tables.claim_item(name): head_tables.figure_table(study, name)
              for name in head_tables.REAL_DATA_FIGURES}
    for item, table in tables.items():
        bundle.add_table(f"{item}_heads", table)
    for item in ("fig9", "fig11", "fig12", "fig14"):
        bundle.add_figure(f"{item}_heads", head_tables.study_figure(study, item))
    bundle.add_metrics("table2/heads", head_tables.table2_per_seed(study))
    verdicts = notebook_verdicts(study)[study.data]
    bundle.add_table("verdicts_heads", verdicts)
    bundle.add_metrics("heads/verdicts", head_tables.verdict_records(verdicts))
    tables["verdicts"] = verdicts
    return tables


# ------------------------------------------------------------------------------------------ recommender
def build_recommender(cfg: RunConfig, data: YourData, run: RepresentationRun,
                      seed: int | None = None) -> tuple[OwnDataRecommender, object]:
    """Step 4: the Siamese GCN vectors of ``seed`` (default: the run's first) and a BLA head fitted on them as
    notebook 02 fits its heads (same settings, validation and stopping rule); returns the recommender and the
    head's fit."""
    seed = cfg.seed if seed is None else seed
    settings = interaction_settings(cfg)
    user_np, item_np = run.embeddings[(PROPOSED, seed)]
    device = torch.device(settings.device)
    user_emb, item_emb = torch.from_numpy(user_np).to(device), torch.from_numpy(item_np).to(device)
    task = TargetTask.from_dataset(data.dataset)
    seed_run = SeedRun(data.label, settings, seed, load_tuned(HEADS_TUNED))
    target_emb = item_emb[torch.from_numpy(task.items).to(device)]
    head, result = fit_head("BLA", user_emb, target_emb, seed_run.fitting("standard", task).train,
                            seed_run.head_settings("BLA"), seed, validate=seed_run.validation("standard", task, "BLA"))
    info = {"encoder": PROPOSED, "head": "BLA", "seed": seed, "label": data.label, "split": data.dataset.meta["split"]}
    return OwnDataRecommender.from_training(data.dataset, user_emb, item_emb, head, settings.n_candidates,
                                            info), result


def example_users(data: YourData, n: int = 3) -> list:
    """Raw ids of ``n`` users with a target-side test item (most training rows first), for worked examples."""
    test_users = np.unique(data.dataset.test.user)
    counts = np.bincount(data.dataset.train.user, minlength=data.dataset.n_users)[test_users]
    chosen = test_users[np.argsort(-counts, kind="stable")[:n]]
    return data.dataset.meta["user_ids"][chosen].tolist()


def held_out_items(data: YourData, user_id) -> set:
    """Raw item ids of ``user_id``'s target-side test rows."""
    users = data.dataset.meta["user_ids"]
    index = np.flatnonzero(users.astype(str) == str(user_id))
    if not len(index):
        return set()
    products = data.dataset.test.product[data.dataset.test.user == index[0]]
    return set(data.dataset.meta["item_ids"][data.dataset.meta["product_item"][products]].tolist())
