"""Paper 000, entity representation (Fig. 6-8): Siamese GCN against GCN, GraphSAGE and RGCN (+ LightGCN, BPR-MF).

Protocol, per dataset and seed (:func:`train_with_holdout`, :func:`run_representation`):

1. **Data.** Each seed draws its own synthetic dataset (the generator seeded with the seed, :func:`run_synthetic`)
   and its own initialisation; the Amazon pair is one fixed dataset, so there a seed varies the initialisation,
   the validation slice and the batches only.
2. **Validation slice.** A seeded ``val_fraction`` of the training interactions (both domains) is held out for
   early stopping (:func:`xrec_lib.training.encoders.holdout_dataset`); models are fitted on the graph of the rest.
3. **Training.** Every encoder (built by :data:`xrec_lib.models.encoders.ENCODERS`) is trained by the one loop
   (:func:`xrec_lib.training.loop.fit` with :class:`TargetDomainObjective`) with the same ranking loss (``loss``:
   BPR, eq. (4) of the paper), negatives sampler, learning rate, epoch cap and patience; early stopping follows
   validation NDCG@20 over the target-domain products, the best parameters are restored. The Siamese GCN adds its
   cross-domain alignment loss (Fig. 5); everything else about it is the GCN of eq. (1) on the same graph
   (:mod:`xrec_lib.models.siamese_gcn`), so "Siamese GCN beats GCN" is the ablation "GCN + BPR + alignment beats
   GCN + BPR". Graphs: Siamese GCN, GCN, GraphSAGE and RGCN see the heterogeneous graph of Fig. 2 (suppliers and
   sellers included when the data has them; GCN/GraphSAGE/Siamese GCN as one homogeneous node set, RGCN with typed
   relations); LightGCN and MF see the user-product interactions only.
4. **Evaluation** on the sparse B2C target domain the paper is about: the best-validation parameters, on the full
   training graph, rank the target-domain products only (training items excluded) against the target-domain test
   interactions, at K = 5..30. The paper does not state K for HR/recall (Fig. 6) and MAP (Fig. 7b); we report
   them at K = 20. A random and a perfect ranking of the same task give every metric's chance and ideal levels
   (:func:`xrec_lib.studies.paper000.verdicts.reference_results`) for the verdicts' at-chance rule.

Every fit (:class:`~xrec_lib.training.loop.FitResult`, module dropped) is kept in :attr:`RepresentationRun.fits`
with its labels, for :meth:`xrec_lib.results.ResultsBundle.add_training`. The tables and verdicts of these runs are
built in :mod:`xrec_lib.studies.paper000.representation_tables`. :func:`store_siamese_embeddings` /
:func:`load_siamese_embeddings` keep trained Siamese GCN vectors in the package cache (:mod:`xrec_lib.data.cache`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Callable, Iterable, Mapping

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

from xrec_lib.config import RunConfig, seed_everything
from xrec_lib.data.amazon import amazon_label, amazon_pair, load_amazon_pair
from xrec_lib.data.xmarket import load_xmarket
from xrec_lib.data.cache import cache_path, cached
from xrec_lib.data.crossdomain import TARGET, CrossDomainDataset
from xrec_lib.data.synthetic_crossdomain import (SyntheticCrossDomainConfig, generate_crossdomain_cached,
                                                 latent_model)
from xrec_lib.errors import ConfigError, DataError
from xrec_lib.evaluate import (SampledCandidates, embedding_candidate_scorer, evaluate_embeddings,
                               evaluate_full_ranking, evaluate_sampled)
from xrec_lib.metrics import RankingResult
from xrec_lib.models import CrossDomainViews, GraphData, GraphEncoder, SiameseGCN
from xrec_lib.models.encoders import ENCODERS
from xrec_lib.results import ResultsBundle, to_jsonable
from xrec_lib.studies.paper000.representation_tuning import NOTEBOOK as TUNED_NOTEBOOK, tuned_settings
from xrec_lib.studies.paper000.settings import RepresentationSettings
from xrec_lib.studies.paper000.verdicts import reference_results
from xrec_lib.training.encoders import (HISTORY_COLUMNS, EncoderObjective, EncoderTrainConfig, embeddings,
                                        holdout_dataset)
from xrec_lib.training.loop import FitResult, fit
from xrec_lib.tuning import load_tuned

MODELS = ("GCN", "GraphSAGE", "RGCN", "Siamese GCN", "LightGCN", "MF")
KS = (5, 10, 15, 20, 25, 30)
CLAIM_K = 20
METRICS = ("hr", "recall", "precision", "ndcg", "map", "mrr")
SCENARIOS = {"sparse": 1, "sufficient": 2}
HETEROGENEOUS = {"GCN", "GraphSAGE", "RGCN", "Siamese GCN"}
#: Settings that do not shape a trained encoder (left out of the embedding cache key).
_NOT_TRAINING = ("device", "synthetic_scale", "n_seeds")


@dataclass
class RepresentationRun:
    """Results of :func:`run_representation` on one dataset.

    Attributes:
        label: data label used in titles ("synthetic, sparse", "Amazon Elec->Phone").
        metrics: one row per (seed, model, k): the mean of every metric over evaluated users + coverage.
        per_user: one row per (seed, model, k, user) at the claims' cut-offs (for per-user verdicts).
        history: per-epoch training history with seed and model columns (``best``: the restored epoch).
        sampled: sampled-protocol HR@10 / NDCG@10 per (seed, model), or None when the data defines no negatives.
        embeddings: ``{(model, seed): (user_emb, item_emb)}`` of the trained Siamese GCN (every product).
        references: one row per (seed, k, metric): ``chance`` and ``ideal`` (a random and a perfect ranking of the
            same task).
        fits: ``(labels, FitResult)`` of every training run (labels: data, model, seed; module dropped).
        generator: synthetic data only: the generator's oracle and training popularity on the same task, one row
            per (seed, model, k) like ``metrics`` (:func:`generator_references`); empty for real data.
    """

    label: str
    metrics: pd.DataFrame
    per_user: pd.DataFrame
    history: pd.DataFrame
    sampled: pd.DataFrame | None
    embeddings: dict[tuple[str, int], tuple[np.ndarray, np.ndarray]]
    references: pd.DataFrame = field(default_factory=pd.DataFrame)
    fits: list[tuple[dict, FitResult]] = field(default_factory=list)
    generator: pd.DataFrame = field(default_factory=pd.DataFrame)

    def record_training(self, bundle: ResultsBundle) -> None:
        """Every fit into ``bundle`` (:meth:`~xrec_lib.results.ResultsBundle.add_training`)."""
        for labels, result in self.fits:
            bundle.add_training(result, **labels)


def scaled_synthetic_config(scale: float, scenario: str) -> SyntheticCrossDomainConfig:
    """The paper preset with every count multiplied by ``scale`` (1.0: the paper's 52,516 x 65,832 data)."""
    if not 0 < scale <= 1:
        raise ConfigError(f"synthetic_scale must lie in (0, 1], got {scale}")
    paper = SyntheticCrossDomainConfig.paper(scenario)
    if scale == 1:
        return paper
    counts = ("n_users", "n_products", "n_suppliers", "n_sellers", "n_interactions")
    return replace(paper, preset=f"paper-x{scale:g}", **{name: max(2, round(getattr(paper, name) * scale))
                                                        for name in counts})


def synthetic_label(scenario: str, data_config: SyntheticCrossDomainConfig) -> str:
    """The data label of tables and figure titles, with the scale actually run, e.g. "synthetic, sparse, 10% scale
    (5,252 users)"."""
    scale = data_config.n_users / SyntheticCrossDomainConfig.paper(scenario).n_users
    return f"synthetic, {scenario}, {scale:.0%} scale ({data_config.n_users:,} users)"


def domain_items(dataset: CrossDomainDataset, domain: int | None = TARGET) -> np.ndarray:
    """Ids of the products of ``domain`` (None: every product)."""
    return np.arange(dataset.n_products) if domain is None else np.flatnonzero(dataset.product_domain == domain)


class TargetDomainObjective(EncoderObjective):
    """:class:`~xrec_lib.training.encoders.EncoderObjective` whose validation ranks the products ``items`` only
    (the target domain): NDCG@``monitor_k`` and recall of the held-out interactions with those products."""

    def __init__(self, model: GraphEncoder, train: sp.csr_matrix, valid: sp.spmatrix, config: EncoderTrainConfig,
                 items: np.ndarray):
        super().__init__(model, train, valid, config)
        self.eval_items = torch.from_numpy(items)
        self.valid_items = sp.csr_matrix(valid)[:, items]
        self.exclude_items = train[:, items]
        if self.valid_items.nnz == 0:
            raise DataError("the validation slice holds no interaction with the evaluated products; raise "
                            "val_fraction or the data scale")

    def validate(self) -> dict[str, float]:
        user_emb, item_emb = embeddings(self.module)
        k = self.config.monitor_k
        summary = evaluate_embeddings(user_emb, item_emb[self.eval_items.to(item_emb.device)], self.valid_items,
                                      self.exclude_items, [k]).summary()[k]
        return {"ndcg": summary["ndcg"], "recall": summary["recall"]}


def train_with_holdout(name: str, dataset: CrossDomainDataset, settings: RepresentationSettings, seed: int,
                       domain: int | None = TARGET) -> tuple[GraphEncoder, FitResult]:
    """Train the encoder ``name`` (steps 2-3 of the protocol); returns it on the full training graph and its fit
    (module dropped; history column ``best``: the epoch whose parameters were restored)."""
    seed_everything(seed)
    fitting = holdout_dataset(dataset, settings.val_fraction, seed)
    side_nodes = name in HETEROGENEOUS
    train = sp.csr_matrix(fitting.interaction_matrix("train"))
    views = CrossDomainViews.from_interactions(train, dataset.product_domain) if name == "Siamese GCN" else None
    model = ENCODERS.build(name, GraphData.from_dataset(fitting, side_nodes), settings, views)
    config = settings.train_config(seed)
    objective = TargetDomainObjective(model, train, fitting.interaction_matrix("test"), config,
                                      domain_items(dataset, domain))
    result = fit(objective, config.loop(), on_epoch=config.on_epoch)
    for column in HISTORY_COLUMNS:
        if column not in result.history:
            result.history[column] = math.nan
    model.set_graph(GraphData.from_dataset(dataset, side_nodes))
    if isinstance(model, SiameseGCN):
        model.set_views(CrossDomainViews.from_interactions(dataset.interaction_matrix("train"), dataset.product_domain))
    history = result.history.assign(best=lambda h: h["epoch"] == result.best_epoch)
    return model, replace(result, module=None, history=history)


def run_representation(data: CrossDomainDataset | Callable[[int], CrossDomainDataset],
                       settings: RepresentationSettings, seeds: Iterable[int], label: str,
                       models: Iterable[str] = MODELS, ks: Iterable[int] = KS,
                       domain: int | None = TARGET,
                       tuned: Mapping[str, Mapping[str, Any]] | None = None) -> RepresentationRun:
    """Train and evaluate every model for every seed (module docstring).

    ``data`` is one dataset for every seed, or a function of the seed that draws it. ``domain`` is the domain whose
    products are ranked and whose test interactions are scored (None: every product). ``tuned``: per-model values
    (``make tune``, :mod:`~xrec_lib.studies.paper000.representation_tuning`) laid over ``settings``; None: the
    profile's values for every model.
    """
    ks, models = sorted(ks), list(models)
    metric_rows, user_frames, histories, sampled_rows, reference_rows, fits, stored = [], [], [], [], [], [], {}
    for seed in seeds:
        dataset = data(seed) if callable(data) else data
        items = domain_items(dataset, domain)
        test = dataset.interaction_matrix("test")[:, items]
        exclude = dataset.interaction_matrix("train")[:, items]
        if test.nnz == 0:
            raise DataError(f"{dataset.name}: no test interaction among the evaluated products")
        chance, ideal = (r.summary() for r in reference_results(test, exclude, ks, seed))
        reference_rows += [{"seed": seed, "k": k, "metric": m, "chance": chance[k][m], "ideal": ideal[k][m]}
                           for k in ks for m in METRICS]
        for name in models:
            model_settings = tuned_settings(name, settings, tuned or {})
            model, result = train_with_holdout(name, dataset, model_settings, seed, domain)
            fits.append(({"data": label, "model": name, "seed": seed}, result))
            user_emb, item_emb = embeddings(model)
            ranked = evaluate_embeddings(user_emb, item_emb[torch.from_numpy(items).to(item_emb.device)], test,
                                         exclude, ks)
            metric_rows += [{"seed": seed, "model": name, "k": k, **values} for k, values in ranked.summary().items()]
            user_frames.append(_per_user(ranked, seed, name, [k for k in ks if k in (15, CLAIM_K)]))
            histories.append(result.history.assign(seed=seed, model=name))
            if dataset.sampled_negatives is not None:
                sampled_rows.append({"seed": seed, "model": name, **sampled_protocol(dataset, user_emb, item_emb)})
            if name == "Siamese GCN":
                stored[(name, seed)] = (user_emb.cpu().numpy(), item_emb.cpu().numpy())
    return RepresentationRun(label, pd.DataFrame(metric_rows), pd.concat(user_frames, ignore_index=True),
                             pd.concat(histories, ignore_index=True),
                             pd.DataFrame(sampled_rows) if sampled_rows else None, stored,
                             pd.DataFrame(reference_rows), fits)


def generator_references(dataset: CrossDomainDataset, data_config: SyntheticCrossDomainConfig, seed: int,
                         ks: Iterable[int] = KS, domain: int | None = TARGET) -> dict[str, RankingResult]:
    """The ceiling and a floor of a synthetic draw on the evaluation task of :func:`run_representation`:
    ``"Oracle"`` ranks by the generator's true ``log P(i | u)`` (:meth:`LatentModel.log_probabilities`),
    ``"Popularity"`` by the products' training interaction counts; same products, exclusions and test set."""
    items = domain_items(dataset, domain)
    test = dataset.interaction_matrix("test")[:, items]
    exclude = dataset.interaction_matrix("train")[:, items]
    model = latent_model(data_config, seed)
    counts = torch.from_numpy(np.asarray(exclude.sum(axis=0), dtype=np.float32).ravel())

    def oracle(users: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(model.log_probabilities(users.numpy())[:, items].astype(np.float32))

    def popularity(users: torch.Tensor) -> torch.Tensor:
        return counts.repeat(len(users), 1)

    return {"Oracle": evaluate_full_ranking(oracle, test, exclude, ks),
            "Popularity": evaluate_full_ranking(popularity, test, exclude, ks)}


def _per_user(result, seed: int, model: str, ks: list[int]) -> pd.DataFrame:
    return pd.concat([pd.DataFrame({"seed": seed, "model": model, "k": k, "user": result.users,
                                    **result.values[k]}) for k in ks], ignore_index=True)


def sampled_protocol(dataset: CrossDomainDataset, user_emb: torch.Tensor, item_emb: torch.Tensor,
                     k: int = 10) -> dict[str, float]:
    """Sampled protocol: each sampled user's held-out item ranked against its sampled negatives (DisenCDR: 999,
    XMarket as FOREC: 99)."""
    if dataset.sampled_users is None or dataset.sampled_negatives is None:
        raise DataError(f"{dataset.name} defines no sampled negatives")
    first_test = pd.Series(dataset.test.product).groupby(dataset.test.user).first()
    positives = first_test.reindex(dataset.sampled_users).to_numpy()
    if np.isnan(positives.astype(float)).any():
        raise DataError(f"{dataset.name}: a sampled user has no test item")
    candidates = SampledCandidates(dataset.sampled_users, positives.astype(np.int64), dataset.sampled_negatives)
    values = evaluate_sampled(embedding_candidate_scorer(user_emb, item_emb), candidates, [k])[k]
    return {f"hr@{k}": values["hr"], f"ndcg@{k}": values["ndcg"]}


# ------------------------------------------------------------------------------------- embedding cache
def embedding_cache_key(dataset: CrossDomainDataset, settings: RepresentationSettings, seed: int) -> dict[str, Any]:
    """Cache key of the Siamese GCN vectors: dataset name and provenance, the training settings (device, data
    scale and seed count excluded), seed."""
    training = {k: v for k, v in asdict(settings).items() if k not in _NOT_TRAINING}
    return {"kind": "000/siamese-gcn-embeddings", "dataset": dataset.name, "data_meta": to_jsonable(dataset.meta),
            "settings": training, "seed": int(seed)}


def store_siamese_embeddings(run: RepresentationRun, dataset: CrossDomainDataset,
                             settings: RepresentationSettings, seed: int, cache_dir: str | None = None) -> str:
    """Put the run's Siamese GCN vectors of ``seed`` into the cache; returns the file path.

    The entry is ``{"user_emb": (n_users, d), "item_emb": (n_products, d), "meta": {...}}`` (float32 arrays) under
    :func:`embedding_cache_key`; :func:`load_siamese_embeddings` with the same arguments reads it back.
    """
    if ("Siamese GCN", seed) not in run.embeddings:
        raise DataError(f"the run holds no Siamese GCN embeddings for seed {seed}")
    user_emb, item_emb = run.embeddings[("Siamese GCN", seed)]
    key = embedding_cache_key(dataset, settings, seed)
    entry = {"user_emb": user_emb, "item_emb": item_emb, "meta": {"dataset": dataset.name, "seed": seed,
                                                                  "label": run.label}}
    cached(key, lambda: entry, cache_dir)
    return str(cache_path(key, cache_dir))


def load_siamese_embeddings(dataset: CrossDomainDataset, settings: RepresentationSettings, seed: int,
                            cache_dir: str | None = None) -> dict[str, Any]:
    """The cached Siamese GCN vectors for these arguments, trained (and cached) first when absent."""

    def build() -> dict[str, Any]:
        model, _ = train_with_holdout("Siamese GCN", dataset, settings, seed)
        user_emb, item_emb = embeddings(model)
        return {"user_emb": user_emb.cpu().numpy(), "item_emb": item_emb.cpu().numpy(),
                "meta": {"dataset": dataset.name, "seed": seed}}

    return cached(embedding_cache_key(dataset, settings, seed), build, cache_dir)


# ------------------------------------------------------------------------------------------ notebook steps
def run_synthetic(config: RunConfig, scenario: str, bundle: ResultsBundle) -> tuple[CrossDomainDataset,
                                                                                   RepresentationRun]:
    """Paper-shaped synthetic data of ``scenario`` (scaled by the profile's ``synthetic_scale``), one dataset drawn
    per seed of the run (generator seed = the seed), and the comparison on them; the datasets and every fit are
    recorded in ``bundle``. Returns the first seed's dataset and the run."""
    settings = RepresentationSettings.from_config(config, device=config.device)
    data_config = scaled_synthetic_config(settings.synthetic_scale, scenario)
    drawn: dict[int, CrossDomainDataset] = {}

    def draw(seed: int) -> CrossDomainDataset:
        drawn[seed] = generate_crossdomain_cached(data_config, seed)
        bundle.add_dataset(drawn[seed].name, synthetic=True, generator_seed=seed, config=data_config.to_dict())
        return drawn[seed]

    run = run_representation(draw, settings, config.seeds, label=synthetic_label(scenario, data_config),
                             tuned=load_tuned(TUNED_NOTEBOOK))
    run.record_training(bundle)
    run.generator = pd.DataFrame([{"seed": seed, "model": name, "k": k, **values}
                                  for seed, dataset in drawn.items()
                                  for name, result in generator_references(dataset, data_config, seed).items()
                                  for k, values in result.summary().items()])
    return drawn[config.seeds[0]], run


def run_xmarket(config: RunConfig, bundle: ResultsBundle) -> dict[str, RepresentationRun]:
    """XMarket Electronics, each ``(source, target)`` market pair of the profile's ``xmarket_pairs``
    (:func:`xrec_lib.data.xmarket.load_xmarket`: a dense source market bridged to a sparse target market by the
    ASINs both sell, paper 000's cross-border setting), every model, the ``xmarket:`` block's seeds; ranking over
    the target market's listings. Returns ``{"uk->de": run, ...}``; empty (with a note in ``bundle``) when the
    real data is absent."""
    if config.data_dir is None:
        bundle.note_real_data_absent()
        return {}
    settings = RepresentationSettings.from_config(config, "xmarket", device=config.device)
    runs = {}
    for source, target in config["xmarket_pairs"]:
        dataset = load_xmarket(source, target, config.data_dir, seed=config.seed)
        bundle.add_dataset(dataset.name, synthetic=False, checksum=None, sha256=dataset.meta["sha256"])
        label = f"XMarket Electronics {source}->{target}, full data ({dataset.n_users:,} users)"
        run = run_representation(dataset, settings, config.seeds[: settings.n_seeds], label=label,
                                 tuned=load_tuned(TUNED_NOTEBOOK))
        run.record_training(bundle)
        runs[f"{source}->{target}"] = run
    return runs


def run_amazon(config: RunConfig, bundle: ResultsBundle) -> dict[str, RepresentationRun]:
    """Each Amazon cross-domain pair of the profile's ``amazon_pairs`` (DisenCDR pairs,
    :data:`xrec_lib.data.amazon.STANDARD_PAIRS`: e.g. ``elec->phone``, Electronics as the source-domain bridge),
    every user, every model, with the settings of the profile's ``amazon:`` block and its first ``n_seeds`` seeds;
    ranking over the target domain's products. Returns ``{"elec->phone": run, ...}``; empty (with a note in
    ``bundle``) when the real data is absent."""
    if config.data_dir is None:
        bundle.note_real_data_absent()
        return {}
    settings = RepresentationSettings.from_config(config, "amazon", device=config.device)
    runs = {}
    for pair in config["amazon_pairs"]:
        dataset = load_amazon_pair(*amazon_pair(pair), config.data_dir, seed=config.seed)
        bundle.add_dataset(dataset.name, synthetic=False, checksum=None, sha256=dataset.meta.get("sha256"))
        label = f"Amazon {amazon_label(pair)}, full data ({dataset.n_users:,} users)"
        run = run_representation(dataset, settings, config.seeds[: settings.n_seeds], label=label)
        run.record_training(bundle)
        runs[pair] = run
    return runs
