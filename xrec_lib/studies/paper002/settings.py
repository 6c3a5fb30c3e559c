"""Typed profile values of notebook 04 (paper 002) and the names of the models and variants it compares.

The profile ``xrec_lib/profiles/04_gconv_transform.yaml`` holds the shared values at the top level and two nested
blocks: ``depth`` (the Table-3 sweep over N) and ``real`` (the real-data section), each read into its own small
settings class.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from xrec_lib.config import Settings
from xrec_lib.errors import ConfigError

OURS = "GConv-Transform"
MODEL_NAMES = ("SVM", "DNN", "CNN", "DenseNet", "DenseCNN", "Graph", "Attention", OURS)
ABLATIONS = {"without Chebyshev convolution": {"use_cheb": False},
             "without graph convolution": {"use_graph": False},
             "without attention": {"use_attention": False}}
REAL_DATASETS = ("ML-100k", "MicroLens-50k")


@dataclass(frozen=True)
class DepthSweep(Settings):
    """Table 3: GConv-Transform with N = each of ``values`` layers on the first ``seeds`` seeds of the run, trained
    under the same epoch cap, early stopping and learning-rate selection as Table 1."""

    values: tuple[int, ...]
    seeds: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", tuple(int(n) for n in self.values))
        if not self.values or min(self.values) < 0:
            raise ConfigError(f"depth.values must list layer counts >= 0, got {list(self.values)}")
        _check_positive(self, "depth", ("seeds",))


@dataclass(frozen=True)
class RealData(Settings):
    """The real-data section: ``models`` on each of ``datasets``, restricted to ``max_users`` random users, on the
    first ``seeds`` seeds of the run, trained under the same epoch cap, early stopping and learning-rate selection
    as Table 1."""

    datasets: tuple[str, ...]
    models: tuple[str, ...]
    max_users: int
    seeds: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "datasets", tuple(self.datasets))
        object.__setattr__(self, "models", tuple(self.models))
        for name, known in (("datasets", REAL_DATASETS), ("models", MODEL_NAMES)):
            unknown = sorted(set(getattr(self, name)) - set(known))
            if unknown:
                raise ConfigError(f"real.{name}: unknown {unknown}; choose among {list(known)}")
        _check_positive(self, "real", ("max_users", "seeds"))


@dataclass(frozen=True)
class Paper002Settings(Settings):
    """Profile values of notebook 04.

    Attributes:
        scale: synthetic log size as a share of the paper's 18M behaviours.
        history_len: behaviours per ego-subgraph (+ node 0, the query node of the purchase to predict).
        max_train_positives: training targets (buys) used per fit: one example each on the next-category task
            (each paired with one sampled non-buy in the binary fallback).
        max_epochs: epoch cap of every fit (Tables 1-3 and the real data alike).
        patience: early stopping: validation evaluations (one per epoch) without a gain in validation accuracy
            before a fit stops; the epoch with the best validation accuracy is kept.
        batch_size: training examples per optimisation step.
        lr_grid: Adam learning rates tried on the first seed of each model.
        hidden / n_layers / heads / cheb_k: GConv-Transform width d, depth N, attention heads, Chebyshev size K.
        dropout: dropout of every neural model.
        weight_decay: Adam's weight decay of every neural model.
        id_dim: product-id embedding size of every neural model.
        baseline_hidden: width of the neural baselines.
        widths: per-model width overrides, model name -> a width or ``"paper"`` (the largest width within the
            paper's Table 1 parameter count of that model; :mod:`xrec_lib.models.baselines_002`).
        svm_max_examples: training examples the linear SVM is fitted on at most.
        rank_users / n_negatives: users and sampled negatives of the HR/NDCG@10 protocol of the binary fallback
            (the next-category task ranks the C classes of every test example).
        timing_repeats: timed calls of the inference measurement.
        depth: the Table-3 sweep (:class:`DepthSweep`).
        real: the real-data section (:class:`RealData`).
    """

    scale: float
    history_len: int
    max_train_positives: int
    max_epochs: int
    patience: int
    batch_size: int
    lr_grid: tuple[float, ...]
    hidden: int
    n_layers: int
    heads: int
    cheb_k: int
    dropout: float
    id_dim: int
    baseline_hidden: int
    svm_max_examples: int
    rank_users: int
    n_negatives: int
    timing_repeats: int
    depth: DepthSweep
    real: RealData
    weight_decay: float = 0.0
    widths: Mapping[str, int | str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "widths", dict(self.widths or {}))
        for name, width in self.widths.items():
            if name not in MODEL_NAMES or name == "SVM":
                raise ConfigError(f"widths: unknown neural model {name!r}; choose among {list(MODEL_NAMES[1:])}")
            if width != "paper" and not (isinstance(width, int) and width >= 1):
                raise ConfigError(f"widths.{name} must be a positive width or 'paper', got {width!r}")
        object.__setattr__(self, "lr_grid", tuple(float(lr) for lr in self.lr_grid))
        if not self.lr_grid:
            raise ConfigError("lr_grid must hold at least one learning rate")
        for name, kind in (("depth", DepthSweep), ("real", RealData)):
            block = getattr(self, name)
            if isinstance(block, Mapping):
                object.__setattr__(self, name, kind.from_config(block))
        _check_positive(self, "", ("history_len", "max_train_positives", "max_epochs", "patience", "batch_size",
                                   "svm_max_examples", "rank_users", "n_negatives", "timing_repeats"))


def _check_positive(settings: Settings, block: str, names: tuple[str, ...]) -> None:
    for name in names:
        if getattr(settings, name) < 1:
            where = f"{block}.{name}" if block else name
            raise ConfigError(f"{where} must be >= 1, got {getattr(settings, name)}")
