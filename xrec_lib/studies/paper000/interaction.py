"""Paper 000, stage 2: interaction heads on frozen Siamese GCN embeddings, ablation and business scenarios.

Runs the experiments of notebook ``02_bilinear_attention`` (Fig. 9-14 and Table 2 of paper 000); the task, slices
and ROC pairs are defined in :mod:`xrec_lib.studies.paper000.tasks`, the head training in
:mod:`xrec_lib.studies.paper000.head_training`, the tables and verdicts built from a :class:`StudyResult` in
:mod:`xrec_lib.studies.paper000.interaction_tables`. Protocol, per seed and data set (each synthetic seed draws its
own data set):

* **Encoders** (offline stage) are trained exactly as in notebook 01
  (:func:`xrec_lib.studies.paper000.representation.train_with_holdout`: BPR for all, the Siamese GCN with its
  cross-domain alignment loss, early stopping on target-domain validation NDCG@20 of a held-out slice of the
  training interactions, the same ``patience`` as the heads): Siamese GCN, GCN and GraphSAGE on the heterogeneous
  training graph (users, products, suppliers, sellers), MF on the user-product interactions only.
* **Heads** (online stage, :mod:`xrec_lib.models.interaction`) are trained on the frozen embeddings with binary
  cross-entropy on the target-domain training pairs and ``n_negatives`` uniform unobserved target products per
  positive (:func:`~xrec_lib.studies.paper000.head_training.fit_head`). A seeded ``val_fraction`` of those pairs is
  held out (:meth:`~xrec_lib.studies.paper000.tasks.TargetTask.holdout`); every head gets the same seed, optimiser
  (Adam, ``head_lr``), epoch cap (``head_epochs``), batches, negatives and early stopping (validation NDCG@20 of
  the two-stage ranking, ``patience``). :func:`~xrec_lib.studies.paper000.head_training.fit_end_to_end` trains
  encoder and head jointly instead, with the same validation and stopping rule. The validation pairs stay in the
  graph the encoders propagate over, so validation scores are optimistic, alike for every head; they only decide
  when to stop.
* **Tuned heads** (synthetic study, every seed and scenario): a head on frozen embeddings uses its ``head_lr`` and
  ``head_weight_decay`` chosen by ``make tune`` (:mod:`~xrec_lib.studies.paper000.head_tuning`), if tuned.
* **Ranking** with a head (:class:`~xrec_lib.studies.paper000.tasks.Method`) uses the two-stage path of
  :mod:`xrec_lib.serving`: the ``n_candidates`` (``C``) products with the largest inner product, reranked by the
  head; dot-product methods rank every product. Training items (all of them) are excluded.
* **ROC** (Fig. 11(b), 14(c)): pooled over the pairs of :func:`~xrec_lib.studies.paper000.tasks.roc_pairs`, scored
  by the head (or inner product).
* **Reference levels**: a random and a perfect ranking of each task
  (:func:`~xrec_lib.studies.paper000.tasks.reference_rows`), for the verdicts' at-chance rule. On synthetic data
  also the generator's oracle (ranking by its true preferences: the ceiling) and training popularity, in metrics
  group ``"generator"`` (:meth:`SeedRun.add_generator_references`).

Every fit (encoders, heads, end-to-end; :class:`~xrec_lib.training.loop.FitResult` with the module dropped) is
kept with its labels in :attr:`StudyResult.fits`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

from xrec_lib.config import RunConfig
from xrec_lib.data.amazon import amazon_pair, load_amazon_pair
from xrec_lib.data.xmarket import load_xmarket
from xrec_lib.evaluate import global_auc, roc_points, tpr_at_fpr
from xrec_lib.models.interaction import InteractionHead
from xrec_lib.studies.paper000.head_training import RankingValidation, fit_end_to_end, fit_head
from xrec_lib.studies.paper000.head_tuning import NOTEBOOK as TUNED_NOTEBOOK, tuned_settings
from xrec_lib.studies.paper000.representation import generator_references, scaled_synthetic_config, train_with_holdout
from xrec_lib.studies.paper000.representation_tuning import NOTEBOOK as ENCODERS_TUNED
from xrec_lib.studies.paper000.representation_tuning import tuned_settings as encoder_settings
from xrec_lib.studies.paper000.settings import InteractionSettings
from xrec_lib.studies.paper000.tasks import (RANKING_METRICS, Method, Slices, TargetTask, binary, reference_rows,
                                             roc_pairs, subsample_users, synthetic_dataset)
from xrec_lib.training.encoders import embeddings
from xrec_lib.training.loop import FitResult
from xrec_lib.tuning import load_tuned

HEAD_COMPARISON = ("BLA", "BL", "CNIM", "Gated")
#: Synthetic scenarios: study name -> the generator's scenario.
SCENARIOS = {"standard": "sufficient", "sparse": "sparse"}
#: Fig. 12-14 methods: (paper's name, encoder, head).
METHODS = {"Siamese GCN + BLA": ("Siamese GCN", "BLA"), "GCN + BL": ("GCN", "BL"),
           "GraphSAGE + self-attention": ("GraphSAGE", "self-attention"), "MF + MLP": ("MF", "MLP")}
#: Table 2 rows: (variant, encoder, head); the last row is "BLA without attention".
ABLATION = (("baseline: MF + dot product", "MF", "dot"),
            ("+ heterogeneous graph: GCN + dot product", "GCN", "dot"),
            ("+ Siamese GCN: Siamese GCN + dot product", "Siamese GCN", "dot"),
            ("+ BLA: Siamese GCN + BLA", "Siamese GCN", "BLA"),
            ("BLA without attention: Siamese GCN + BL", "Siamese GCN", "BL"))
END_TO_END_ROW = "Siamese GCN + BLA trained end-to-end"
#: Metrics group of the synthetic data's references: the generator's ``"Oracle"`` and ``"Popularity"``.
GENERATOR_GROUP = "generator"
GENERATOR_ROWS = ("Oracle", "Popularity")


# ------------------------------------------------------------------------------------------ one seed
@dataclass
class SeedRecords:
    """Everything measured for one seed of one data set."""

    metrics: list[dict]
    curves: list[dict]
    roc: list[dict]
    roc_curves: dict
    per_user: dict
    references: list[dict] = field(default_factory=list)
    fits: list[tuple[dict, FitResult]] = field(default_factory=list)


class SeedRun:
    """Trains and evaluates every (scenario, encoder, head) a seed needs, each once (results are shared by the
    figures: e.g. Method 1 of Fig. 12 is the BLA head of Fig. 9-11). ``tuned``: tuned values per head
    (:func:`~xrec_lib.studies.paper000.head_tuning.tuned_settings`; None or empty: the profile's for all);
    ``encoder_tuned``: notebook 01's tuned values per encoder
    (:func:`~xrec_lib.studies.paper000.representation_tuning.tuned_settings`; the encoders are notebook 01's)."""

    def __init__(self, data: str, settings: InteractionSettings, seed: int,
                 tuned: Mapping[str, Mapping[str, Any]] | None = None,
                 encoder_tuned: Mapping[str, Mapping[str, Any]] | None = None):
        self.data, self.settings, self.seed = data, settings, seed
        self.tuned = dict(tuned or {})
        self.encoder_tuned = dict(encoder_tuned or {})
        self.records = SeedRecords([], [], [], {}, {})
        self._encoders: dict = {}
        self._ranked: dict = {}
        self._fitting: dict = {}

    def _labels(self, scenario: str, stage: str, model: str) -> dict:
        return {"data": self.data, "scenario": scenario, "stage": stage, "model": model, "seed": self.seed}

    def encoder(self, scenario: str, task: TargetTask, encoder: str):
        """``(model, user_emb, target item_emb)`` of ``encoder`` trained on ``task``'s data (once per scenario)."""
        if (scenario, encoder) not in self._encoders:
            settings = encoder_settings(encoder, self.settings.encoder_settings(), self.encoder_tuned)
            model, result = train_with_holdout(encoder, task.dataset, settings, self.seed)
            self.records.fits.append((self._labels(scenario, "encoder", encoder), result))
            user_emb, item_emb = embeddings(model)
            self._encoders[scenario, encoder] = (model, user_emb, item_emb[torch.from_numpy(task.items)])
        return self._encoders[scenario, encoder]

    def embeddings(self, scenario: str, task: TargetTask, encoder: str) -> tuple[torch.Tensor, torch.Tensor]:
        return self.encoder(scenario, task, encoder)[1:]

    def fitting(self, scenario: str, task: TargetTask) -> TargetTask:
        """The validation task of ``scenario`` (held-out target training pairs; the same for every head)."""
        if scenario not in self._fitting:
            self._fitting[scenario] = task.holdout(self.settings.val_fraction, self.seed)
        return self._fitting[scenario]

    def head_settings(self, head: str) -> InteractionSettings:
        """The settings head ``head`` is trained with on frozen embeddings (its tuned values, if any)."""
        return tuned_settings(head, self.settings, self.tuned)

    def validation(self, scenario: str, task: TargetTask, head_name: str):
        """Validation NDCG@20 and MAP@20 of a head: two-stage ranking of the held-out pairs (fitting part
        excluded; :class:`~xrec_lib.studies.paper000.head_training.RankingValidation`, users split over the ranks
        under data parallelism)."""
        return RankingValidation(self.fitting(scenario, task), head_name, self.settings.n_candidates)

    def evaluate(self, scenario: str, task: TargetTask, slices: Slices | None, group: str, label: str,
                 encoder: str, head: str) -> None:
        """Train (if not done) and evaluate one method; append rows labelled ``group``/``label``."""
        key = (scenario, encoder, head)
        if key not in self._ranked:
            user_emb, item_emb = self.embeddings(scenario, task, encoder)
            with_curve = scenario == "standard" and encoder == "Siamese GCN" and head in HEAD_COMPARISON
            curve = self._curve(task, head, user_emb, item_emb) if with_curve else None
            trained, result = fit_head(head, user_emb, item_emb, self.fitting(scenario, task).train,
                                       self.head_settings(head), self.seed, curve,
                                       self.validation(scenario, task, head))
            if result is not None:
                self.records.fits.append((self._labels(scenario, "head", f"{encoder} + {head}"), result))
            if with_curve:
                self._record_curve(scenario, head, result.history)
            self._ranked[key] = self._measure(task, slices, Method(label, user_emb, item_emb, trained))
        self._record(scenario, group, label, *self._ranked[key])

    def evaluate_end_to_end(self, task: TargetTask) -> None:
        """Table 2's extra row: Siamese GCN + BLA trained jointly, starting from the trained Siamese GCN encoder,
        which is trained further in place (its frozen vectors, already taken, stay as they are; the encoder is
        not used again)."""
        encoder, user_emb, item_emb = self.encoder("standard", task, "Siamese GCN")
        if encoder is None:
            raise RuntimeError("the Siamese GCN encoder of this seed was already trained end to end")
        self._encoders["standard", "Siamese GCN"] = (None, user_emb, item_emb)
        fitting = self.fitting("standard", task)
        encoder, head, result = fit_end_to_end(encoder, "BLA", fitting.train, task.items, self.settings, self.seed,
                                               self.validation("standard", task, "BLA"))
        self.records.fits.append((self._labels("standard", "end-to-end", END_TO_END_ROW), result))
        user_emb, item_emb = embeddings(encoder)
        method = Method(END_TO_END_ROW, user_emb, item_emb[torch.from_numpy(task.items)], head)
        self._record("standard", "ablation", END_TO_END_ROW, *self._measure(task, None, method))

    def add_references(self, scenario: str, task: TargetTask, slices: Slices | None) -> None:
        """Chance and ideal levels of every metric of ``scenario``
        (:func:`~xrec_lib.studies.paper000.tasks.reference_rows`)."""
        self.records.references += [{"data": self.data, "scenario": scenario, "seed": self.seed, **row}
                                    for row in reference_rows(task, slices, self.settings.ks, self.seed)]

    def _curve(self, task: TargetTask, head_name: str, user_emb: torch.Tensor, item_emb: torch.Tensor):
        """Fig. 9's per-epoch NDCG@20 and MAP@20 of a head on ``curve_users`` seeded random users."""
        users = np.random.default_rng(self.seed).permutation(task.test.shape[0])[: self.settings.curve_users]
        keep = np.zeros(task.test.shape[0], dtype=bool)
        keep[users] = True
        curve_test = binary(sp.diags(keep.astype(np.float32)) @ task.test)

        def measure(head: InteractionHead) -> dict[str, float]:
            summary = Method(head_name, user_emb, item_emb, head).rank(
                task, [20], self.settings.n_candidates, curve_test).summary()[20]
            return {"ndcg": summary["ndcg"], "map": summary["map"]}
        return measure

    def _record_curve(self, scenario: str, head: str, history: pd.DataFrame) -> None:
        measured = history[history["epoch"] % self.settings.eval_every == 0]
        self.records.curves += [{"data": self.data, "scenario": scenario, "model": head, "seed": self.seed,
                                 "epoch": int(row.epoch), "ndcg": row.ndcg, "map": row.map}
                                for row in measured.itertuples()]

    def _measure(self, task: TargetTask, slices: Slices | None, method: Method):
        result = method.rank(task, self.settings.ks, self.settings.n_candidates)
        per_slice = slices.values(result) if slices is not None else {"all": result.values}
        users, items, labels = roc_pairs(task, self.seed)
        scores = method.score_pairs(users, items)
        roc = {"auc": global_auc(labels, scores), "tpr_at_fpr_0.2": tpr_at_fpr(labels, scores, 0.2)}
        fpr, tpr, _ = roc_points(labels, scores)
        grid = np.linspace(0, 1, 101)
        return per_slice, roc, (grid, np.interp(grid, fpr, tpr))

    def add_generator_references(self, scenario: str, task: TargetTask, generated: str) -> None:
        """Synthetic data only: the generator's oracle (its true preferences, the ceiling) and training
        popularity on ``task`` (:func:`~xrec_lib.studies.paper000.representation.generator_references`: the same
        target products, exclusions and test set), as rows of group ``"generator"`` (``generated``: the
        generator's scenario of ``task``'s data)."""
        data_config = scaled_synthetic_config(self.settings.synthetic_scale, generated)
        for name, result in generator_references(task.dataset, data_config, self.seed, self.settings.ks).items():
            self._record_ranking(scenario, GENERATOR_GROUP, name, {"all": result.values})

    def _record(self, scenario: str, group: str, label: str, per_slice: dict, roc: dict, curve) -> None:
        self._record_ranking(scenario, group, label, per_slice)
        base = {"data": self.data, "scenario": scenario, "group": group, "model": label, "seed": self.seed}
        self.records.roc.append({**base, **roc})
        self.records.roc_curves[scenario, group, label] = curve

    def _record_ranking(self, scenario: str, group: str, label: str, per_slice: dict) -> None:
        base = {"data": self.data, "scenario": scenario, "group": group, "model": label, "seed": self.seed}
        for slice_name, by_k in per_slice.items():
            for k, values in by_k.items():
                for metric in RANKING_METRICS:
                    value = float(values[metric].mean()) if len(values[metric]) else math.nan
                    self.records.metrics.append({**base, "slice": slice_name, "k": k, "metric": metric,
                                                 "value": value})
                    self.records.per_user[scenario, group, label, slice_name, k, metric] = values[metric]


def run_seed(data: str, tasks: dict[str, TargetTask], settings: InteractionSettings, seed: int,
             tuned: Mapping[str, Mapping[str, Any]] | None = None,
             encoder_tuned: Mapping[str, Mapping[str, Any]] | None = None,
             generated: Mapping[str, str] | None = None) -> SeedRecords:
    """Heads comparison in every scenario of ``tasks``; Methods 1-4, Table 2 ablation in ``"standard"``
    (``tuned``, ``encoder_tuned``: :class:`SeedRun`; ``generated``: synthetic data only, the generator's scenario
    of each task, for the oracle and popularity rows)."""
    run = SeedRun(data, settings, seed, tuned, encoder_tuned)
    task = tasks["standard"]
    slices = Slices.of(task, settings.high_value_share, settings.cold_start_max)
    for scenario, scenario_task in tasks.items():
        run.add_references(scenario, scenario_task, slices if scenario == "standard" else None)
        if generated is not None:
            run.add_generator_references(scenario, scenario_task, generated[scenario])
        for head in HEAD_COMPARISON:
            run.evaluate(scenario, scenario_task, slices if scenario == "standard" else None, "heads", head,
                         "Siamese GCN", head)
    for method, (encoder, head) in METHODS.items():
        run.evaluate("standard", task, slices, "methods", method, encoder, head)
    for variant, encoder, head in ABLATION:
        run.evaluate("standard", task, slices, "ablation", variant, encoder, head)
    if settings.end_to_end:
        run.evaluate_end_to_end(task)
    return run.records


# -------------------------------------------------------------------------------------------- studies
@dataclass
class StudyResult:
    """All seeds of one data set: long-format ``metrics`` (data, scenario, group, model, seed, slice, k, metric,
    value), per-epoch ``curves``, per-method ``roc`` (auc, tpr_at_fpr_0.2), the first seed's ROC curves
    (scenario, group, model, fpr, tpr) and per-user values (for user-level verdicts when only one seed ran), the
    settings, the wall time, the ``references`` (data, scenario, seed, slice, k, metric, chance, ideal), the
    ``fits`` ((labels, FitResult) of every training run) and the ``tuned`` values per head the heads used."""

    data: str
    metrics: pd.DataFrame
    curves: pd.DataFrame
    roc: pd.DataFrame
    roc_curves: pd.DataFrame
    per_user: dict
    seeds: tuple[int, ...]
    settings: InteractionSettings
    seconds: float
    references: pd.DataFrame = field(default_factory=pd.DataFrame)
    fits: list[tuple[dict, FitResult]] = field(default_factory=list)
    tuned: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        """The data as figure titles name it, with the scale actually run for synthetic data (e.g. "synthetic,
        5% scale (2,626 users)"); a real data set's name otherwise."""
        if self.data != "synthetic":
            return self.data
        users = scaled_synthetic_config(self.settings.synthetic_scale, "sparse").n_users
        return f"synthetic, {self.settings.synthetic_scale:.0%} scale ({users:,} users)"


def collect_study(data: str, records: list[SeedRecords], seeds, settings: InteractionSettings,
                  started: float, tuned: Mapping[str, Mapping[str, Any]] | None = None) -> StudyResult:
    """One :class:`StudyResult` from the records of each seed (``started``: perf_counter at the start;
    ``tuned``: the tuned values per head used)."""
    roc_curves = pd.concat([pd.DataFrame({"scenario": scenario, "group": group, "model": model, "fpr": grid,
                                          "tpr": tpr})
                            for (scenario, group, model), (grid, tpr) in records[0].roc_curves.items()],
                           ignore_index=True)
    return StudyResult(data, pd.DataFrame([r for rec in records for r in rec.metrics]),
                       pd.DataFrame([r for rec in records for r in rec.curves]),
                       pd.DataFrame([r for rec in records for r in rec.roc]), roc_curves, records[0].per_user,
                       tuple(seeds), settings, time.perf_counter() - started,
                       pd.DataFrame([r for rec in records for r in rec.references]),
                       [fit for rec in records for fit in rec.fits], dict(tuned or {}))


def run_synthetic_study(cfg: RunConfig) -> StudyResult:
    """Every seed of ``cfg`` on synthetic data drawn with that seed: ``"standard"`` (the generator's
    ``"sufficient"`` scenario) and ``"sparse"``; each head with its tuned values when the notebook was tuned."""
    settings, started, records = InteractionSettings.from_config(cfg, device=cfg.device), time.perf_counter(), []
    tuned = load_tuned(TUNED_NOTEBOOK)
    for seed in cfg.seeds:
        tasks = {scenario: TargetTask.from_dataset(synthetic_dataset(settings.synthetic_scale, generated, seed))
                 for scenario, generated in SCENARIOS.items()}
        records.append(run_seed("synthetic", tasks, settings, seed, tuned, load_tuned(ENCODERS_TUNED), SCENARIOS))
    return collect_study("synthetic", records, cfg.seeds, settings, started, tuned)


def run_xmarket_studies(cfg: RunConfig) -> list[StudyResult]:
    """The same study on each XMarket market pair of the profile's ``xmarket_pairs``
    (:func:`xrec_lib.data.xmarket.load_xmarket`: the dense source market bridged to the sparse target market by
    shared ASINs; suppliers = ASINs, sellers = the two markets), full data unless the block sets ``max_users``
    (:func:`~xrec_lib.studies.paper000.tasks.subsample_users`), for the ``xmarket:`` block's first
    ``n_seeds`` seeds (one "standard" scenario: the target market is the sparse side); every model with the tuned
    values of the synthetic study. Empty when ``cfg.data_dir`` is None."""
    if cfg.data_dir is None:
        return []
    settings = InteractionSettings.from_config(cfg, "xmarket", device=cfg.device)
    seeds, studies = cfg.seeds[: settings.n_seeds], []
    for source, target in cfg["xmarket_pairs"]:
        full = load_xmarket(source, target, cfg.data_dir, seed=cfg.seed, n_negatives=1)
        started, records = time.perf_counter(), []
        for seed in seeds:
            dataset = full if settings.max_users is None else subsample_users(full, settings.max_users, seed)
            records.append(run_seed(dataset.name, {"standard": TargetTask.from_dataset(dataset)}, settings, seed,
                                    load_tuned(TUNED_NOTEBOOK), load_tuned(ENCODERS_TUNED)))
        studies.append(collect_study(dataset.name, records, seeds, settings, started, load_tuned(TUNED_NOTEBOOK)))
    return studies


def run_amazon_studies(cfg: RunConfig) -> list[StudyResult]:
    """The same study on each Amazon cross-domain pair of the profile's ``amazon_pairs``
    (:data:`xrec_lib.data.amazon.STANDARD_PAIRS`; interactions of at most the ``amazon:`` block's ``max_users``
    seeded random users, :func:`~xrec_lib.studies.paper000.tasks.subsample_users`; None: every user) for its first
    ``n_seeds`` seeds (one "standard" scenario; no suppliers or sellers, so the "heterogeneous" graph is the
    user-product graph). Empty when ``cfg.data_dir`` is None or the profile names no pair."""
    if cfg.data_dir is None:
        return []
    settings = InteractionSettings.from_config(cfg, "amazon", device=cfg.device)
    seeds, studies = cfg.seeds[: settings.n_seeds], []
    for pair in cfg["amazon_pairs"]:
        full = load_amazon_pair(*amazon_pair(pair), cfg.data_dir, seed=cfg.seed, n_negatives=1)
        started, records = time.perf_counter(), []
        for seed in seeds:
            dataset = full if settings.max_users is None else subsample_users(full, settings.max_users, seed)
            records.append(run_seed(dataset.name, {"standard": TargetTask.from_dataset(dataset)}, settings, seed))
        studies.append(collect_study(dataset.name, records, seeds, settings, started))
    return studies