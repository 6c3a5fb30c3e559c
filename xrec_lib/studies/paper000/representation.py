"""Paper 000, entity representation (Fig. 6-8): Siamese GCN against GCN, GraphSAGE and RGCN (+ LightGCN, BPR-MF).

Protocol, per dataset and seed (:func:`train_with_holdout`, :func:`run_representation`):

1. A seeded ``val_fraction`` of the training interactions is held out for early stopping
   (:func:`xrec_lib.training.encoders.holdout_dataset`); models are fitted on the graph of the rest.
2. Each encoder (built by :data:`xrec_lib.models.encoders.ENCODERS`) is trained by
   :func:`xrec_lib.training.encoders.train_encoder` (same loop, same negatives sampler, same budget):
   Siamese GCN with the pairwise loss of eq. (4) (``siamese_loss``) plus its cross-domain alignment loss;
   GCN / GraphSAGE / RGCN with ``baseline_loss`` (default: pointwise BCE, the usual link-prediction training of
   these encoders, which learns "global" representations rather than optimising the ranking directly, the
   distinction the paper's Discussion draws); LightGCN and MF with BPR as published.
   Graphs: Siamese GCN, GCN, GraphSAGE and RGCN see the heterogeneous graph of Fig. 2 (suppliers and sellers
   included when the data has them; GCN/GraphSAGE/Siamese GCN as one homogeneous node set, RGCN with typed
   relations); LightGCN and MF see the user-product interactions only.
3. The best-validation parameters are evaluated by full ranking over the evaluated products, training items
   excluded, on the full training graph, at K = 5..30. The paper does not state K for HR/recall (Fig. 6) and
   MAP (Fig. 7b); we report them at K = 20.

The tables and verdicts of these runs are built in :mod:`xrec_lib.studies.paper000.representation_tables`.
:func:`store_siamese_embeddings` / :func:`load_siamese_embeddings` keep trained Siamese GCN vectors in the package
cache (:mod:`xrec_lib.data.cache`) for the interaction-layer notebook.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any, Iterable

import numpy as np
import pandas as pd
import torch

from xrec_lib.config import RunConfig, Settings, seed_everything
from xrec_lib.data.amazon import load_amazon_pair
from xrec_lib.data.cache import cache_path, cached
from xrec_lib.data.crossdomain import TARGET, CrossDomainDataset
from xrec_lib.data.synthetic_crossdomain import SyntheticCrossDomainConfig, generate_crossdomain_cached
from xrec_lib.errors import ConfigError, DataError
from xrec_lib.evaluate import SampledCandidates, embedding_candidate_scorer, evaluate_embeddings, evaluate_sampled
from xrec_lib.models import CrossDomainViews, GraphData, GraphEncoder, SiameseGCN
from xrec_lib.models.encoders import ENCODERS
from xrec_lib.results import ResultsBundle, to_jsonable
from xrec_lib.training.encoders import EncoderTrainConfig, embeddings, holdout_dataset, train_encoder

MODELS = ("GCN", "GraphSAGE", "RGCN", "Siamese GCN", "LightGCN", "MF")
KS = (5, 10, 15, 20, 25, 30)
CLAIM_K = 20
METRICS = ("hr", "recall", "precision", "ndcg", "map", "mrr")
SCENARIOS = {"sparse": 1, "sufficient": 2}
HETEROGENEOUS = {"GCN", "GraphSAGE", "RGCN", "Siamese GCN"}
#: Settings that do not shape a trained encoder (left out of the embedding cache key).
_NOT_TRAINING = ("device", "synthetic_scale", "n_seeds")


@dataclass(frozen=True)
class RepresentationSettings(Settings):
    """Hyper-parameters shared by all encoders of one comparison (profile ``01_siamese_gcn.yaml``).

    The ``amazon:`` block of the profile replaces some of them for Amazon Elec->Phone
    (``RepresentationSettings.from_config(cfg, "amazon")``): the budget (``epochs``, ``max_batches``), the number of
    seeds and the alignment weight. The alignment weight is set per dataset: the InfoNCE term is scale-free while
    the ranking loss starts near ``ln 2`` with near-zero gradients, so a weight that helps on the synthetic data can
    dominate the first steps on Amazon Elec->Phone and lower both the validation NDCG and the test HR (documented
    in the profile).

    Attributes:
        synthetic_scale: paper-preset counts times this (:func:`scaled_synthetic_config`).
        n_seeds: the run's seeds used at most (None: all of them).
        dim, n_layers, lightgcn_layers, rgcn_bases, alignment_weight, temperature: the encoders' sizes
            (:class:`xrec_lib.models.encoders.EncoderSizes`).
        epochs, batch_size, lr, l2, patience, max_batches: the training budget
            (:class:`xrec_lib.training.encoders.EncoderTrainConfig`).
        val_fraction: share of the training interactions held out for early stopping.
        baseline_loss: ranking loss of GCN, GraphSAGE and RGCN; siamese_loss: that of the Siamese GCN.
        device: ``"cpu"`` or ``"cuda"``.
    """

    DATASETS = ("amazon",)

    synthetic_scale: float = 1.0
    n_seeds: int | None = None
    dim: int = 64
    n_layers: int = 2
    lightgcn_layers: int = 3
    epochs: int = 30
    batch_size: int = 8192
    lr: float = 5e-3
    l2: float = 1e-4
    patience: int = 3
    val_fraction: float = 0.1
    max_batches: int | None = None
    baseline_loss: str = "bce"
    siamese_loss: str = "bpr"
    alignment_weight: float = 0.1
    temperature: float = 0.2
    rgcn_bases: int = 4
    device: str = "cpu"

    def train_config(self, loss: str, seed: int) -> EncoderTrainConfig:
        return EncoderTrainConfig(epochs=self.epochs, batch_size=self.batch_size, lr=self.lr, loss=loss, l2=self.l2,
                                  patience=self.patience, max_batches=self.max_batches, seed=seed,
                                  device=self.device)


@dataclass
class RepresentationRun:
    """Results of :func:`run_representation` on one dataset.

    Attributes:
        label: data label used in titles ("synthetic, sparse", "Amazon Elec->Phone").
        metrics: one row per (seed, model, k): the mean of every metric over evaluated users + coverage.
        per_user: one row per (seed, model, k, user) at the claims' cut-offs (for per-user verdicts).
        history: per-epoch training history with seed and model columns.
        sampled: sampled-protocol HR@10 / NDCG@10 per (seed, model), or None when the data defines no negatives.
        embeddings: ``{(model, seed): (user_emb, item_emb)}`` of the trained Siamese GCN.
    """

    label: str
    metrics: pd.DataFrame
    per_user: pd.DataFrame
    history: pd.DataFrame
    sampled: pd.DataFrame | None
    embeddings: dict[tuple[str, int], tuple[np.ndarray, np.ndarray]]


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


def model_loss(name: str, settings: RepresentationSettings) -> str:
    """The training loss of each model (module docstring)."""
    if name == "Siamese GCN":
        return settings.siamese_loss
    return settings.baseline_loss if name in HETEROGENEOUS else "bpr"


def train_with_holdout(name: str, dataset: CrossDomainDataset, settings: RepresentationSettings,
                       seed: int) -> tuple[GraphEncoder, pd.DataFrame]:
    """Train the encoder ``name`` (steps 1-2 of the protocol); returns it on the full training graph and its
    history (column ``best``: the epoch whose parameters were restored)."""
    seed_everything(seed)
    fitting = holdout_dataset(dataset, settings.val_fraction, seed)
    side_nodes = name in HETEROGENEOUS
    views = CrossDomainViews.from_interactions(fitting.interaction_matrix("train"), dataset.product_domain) \
        if name == "Siamese GCN" else None
    model = ENCODERS.build(name, GraphData.from_dataset(fitting, side_nodes), settings, views)
    result = train_encoder(model, fitting.interaction_matrix("train"), fitting.interaction_matrix("test"),
                           settings.train_config(model_loss(name, settings), seed))
    model.set_graph(GraphData.from_dataset(dataset, side_nodes))
    if isinstance(model, SiameseGCN):
        model.set_views(CrossDomainViews.from_interactions(dataset.interaction_matrix("train"), dataset.product_domain))
    return model, result.history.assign(best=lambda h: h["epoch"] == result.best_epoch)


def run_representation(dataset: CrossDomainDataset, settings: RepresentationSettings, seeds: Iterable[int],
                       label: str, models: Iterable[str] = MODELS, ks: Iterable[int] = KS,
                       eval_domain: int | None = None) -> RepresentationRun:
    """Train and evaluate every model for every seed (module docstring).

    ``eval_domain`` restricts ranking to the products of one domain (e.g. ``TARGET`` for Amazon Elec->Phone).
    """
    ks = sorted(ks)
    items = np.arange(dataset.n_products) if eval_domain is None else np.flatnonzero(dataset.product_domain ==
                                                                                    eval_domain)
    test = dataset.interaction_matrix("test")[:, items]
    exclude = dataset.interaction_matrix("train")[:, items]
    if test.nnz == 0:
        raise DataError(f"{dataset.name}: no test interaction among the evaluated products")
    metric_rows, user_frames, histories, sampled_rows, stored = [], [], [], [], {}
    for seed in seeds:
        for name in models:
            model, history = train_with_holdout(name, dataset, settings, seed)
            user_emb, item_emb = embeddings(model)
            result = evaluate_embeddings(user_emb, item_emb[torch.from_numpy(items).to(item_emb.device)], test,
                                         exclude, ks)
            metric_rows += [{"seed": seed, "model": name, "k": k, **values} for k, values in result.summary().items()]
            user_frames.append(_per_user(result, seed, name, [k for k in ks if k in (15, CLAIM_K)]))
            histories.append(history.assign(seed=seed, model=name))
            if dataset.sampled_negatives is not None:
                sampled_rows.append({"seed": seed, "model": name, **sampled_protocol(dataset, user_emb, item_emb)})
            if name == "Siamese GCN":
                stored[(name, seed)] = (user_emb.cpu().numpy(), item_emb.cpu().numpy())
    return RepresentationRun(label, pd.DataFrame(metric_rows), pd.concat(user_frames, ignore_index=True),
                             pd.concat(histories, ignore_index=True),
                             pd.DataFrame(sampled_rows) if sampled_rows else None, stored)


def _per_user(result, seed: int, model: str, ks: list[int]) -> pd.DataFrame:
    return pd.concat([pd.DataFrame({"seed": seed, "model": model, "k": k, "user": result.users,
                                    **result.values[k]}) for k in ks], ignore_index=True)


def sampled_protocol(dataset: CrossDomainDataset, user_emb: torch.Tensor, item_emb: torch.Tensor,
                     k: int = 10) -> dict[str, float]:
    """DisenCDR protocol: each sampled user's held-out item ranked against its 999 sampled negatives."""
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
    """Paper-shaped synthetic data of ``scenario`` (scaled by the profile's ``synthetic_scale``; generator seed =
    the run's first seed) and the comparison over the run's seeds; the dataset is recorded in ``bundle``."""
    settings = RepresentationSettings.from_config(config, device=config.device)
    data_config = scaled_synthetic_config(settings.synthetic_scale, scenario)
    dataset = generate_crossdomain_cached(data_config, config.seed)
    bundle.add_dataset(dataset.name, synthetic=True, generator_seed=config.seed, config=data_config.to_dict())
    run = run_representation(dataset, settings, config.seeds, label=f"synthetic, {scenario}")
    return dataset, run


def run_amazon(config: RunConfig, bundle: ResultsBundle) -> RepresentationRun | None:
    """Amazon Elec->Phone (DisenCDR pair): Electronics as the source-domain bridge, ranking over Phone products,
    with the settings of the profile's ``amazon:`` block; None (with a note in ``bundle``) when the real data is
    absent."""
    if config.data_dir is None:
        bundle.note_real_data_absent()
        return None
    dataset = load_amazon_pair("electronic_phone", "phone_electronic", config.data_dir, seed=config.seed)
    bundle.add_dataset(dataset.name, synthetic=False, checksum=None, sha256=dataset.meta.get("sha256"))
    settings = RepresentationSettings.from_config(config, "amazon", device=config.device)
    return run_representation(dataset, settings, config.seeds[: settings.n_seeds], label="Amazon Elec->Phone",
                              eval_domain=TARGET)
