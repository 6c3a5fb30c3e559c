"""Notebook 00: build every dataset of a profile and describe it beside the papers' stated counts.

Synthetic data is generated (and cached) from the profile; real datasets are read from the data root when it
holds them. Every table says which kind of data a column is.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from xrec_lib import papers
from xrec_lib.config import Settings
from xrec_lib.data.crossdomain import SOURCE, TARGET, CrossDomainDataset
from xrec_lib.data.synthetic_crossdomain import SyntheticCrossDomainConfig, generate_crossdomain_cached
from xrec_lib.errors import ConfigError, MissingDataError

PAPER_000_COUNTS = {  # statistics-table row -> metric name in xrec_lib.papers
    "users": "users", "products": "products", "suppliers": "suppliers", "interactions": "interactions",
    "train interactions": "train_interactions", "test interactions": "test_interactions",
}


@dataclass(frozen=True)
class DataPrepSettings(Settings):
    """Profile values of notebook 00.

    Attributes:
        scale: the :class:`SyntheticCrossDomainConfig` preset (``"smoke"`` or ``"paper"``).
        scenarios: paper 000's data scenarios to generate (``"sparse"``, ``"sufficient"``).
        real_data: describe the real datasets found under the data root.
    """

    scale: str
    scenarios: tuple[str, ...]
    real_data: bool = True

    def __post_init__(self) -> None:
        if self.scale not in ("smoke", "paper"):
            raise ConfigError(f"scale must be 'smoke' or 'paper', got {self.scale!r}")
        object.__setattr__(self, "scenarios", tuple(self.scenarios))


def synthetic_crossdomain(settings: DataPrepSettings, seed: int) -> dict[str, CrossDomainDataset]:
    """The paper-000 synthetic dataset of the profile's scale, one per scenario (sparse, sufficient)."""
    preset = getattr(SyntheticCrossDomainConfig, settings.scale)
    return {scenario: generate_crossdomain_cached(preset(scenario), seed) for scenario in settings.scenarios}


def crossdomain_statistics(datasets: dict[str, CrossDomainDataset]) -> pd.DataFrame:
    """Statistics of each dataset (one column each, labelled synthetic/real) beside paper 000's counts."""
    columns = {_label(ds): ds.statistics()["value"] for ds in datasets.values()}
    table = pd.DataFrame(columns)
    paper = {row: papers.one(paper="000", metric=metric).value for row, metric in PAPER_000_COUNTS.items()}
    table["paper 000 (Alibaba/AliExpress)"] = pd.Series(paper, dtype=float).reindex(table.index)
    return table


def domain_overlap(datasets: dict[str, CrossDomainDataset]) -> pd.DataFrame:
    """Share of users whose training interactions fall in the source domain only, the target only, or both."""
    rows = {}
    for ds in datasets.values():
        source = np.diff(ds.interaction_matrix("train", SOURCE).indptr) > 0
        target = np.diff(ds.interaction_matrix("train", TARGET).indptr) > 0
        active = max(int((source | target).sum()), 1)
        rows[_label(ds)] = {"source only": (source & ~target).sum() / active,
                            "target only": (target & ~source).sum() / active,
                            "both": (source & target).sum() / active}
    return pd.DataFrame(rows).T


def train_matrices(datasets: dict[str, CrossDomainDataset]) -> dict[str, sp.csr_matrix]:
    """Training interaction matrices keyed by dataset label (input of the long-tail and degree figures)."""
    return {_label(ds): ds.interaction_matrix("train") for ds in datasets.values()}


def real_datasets(data_dir: Path | None) -> tuple[dict[str, sp.csr_matrix], pd.DataFrame, list[str]]:
    """Interaction matrices and a statistics table of the real datasets present under ``data_dir``.

    Returns ``(matrices, table, missing)`` where ``missing`` names the datasets that are not there.
    """
    from xrec_lib.data.amazon import STANDARD_PAIRS, load_amazon_pair
    from xrec_lib.data.gowalla import load_gowalla
    from xrec_lib.data.microlens import load_microlens_50k
    from xrec_lib.data.movielens import load_movielens_100k

    loaders = {f"amazon {pair}": (lambda s=src, t=tgt: load_amazon_pair(s, t, data_dir).interaction_matrix("train"))
               for pair, (src, tgt) in STANDARD_PAIRS.items()}
    loaders["gowalla"] = lambda: load_gowalla(data_dir).train
    loaders["ml-100k"] = lambda: _pairs_matrix(load_movielens_100k(data_dir).interactions, "user", "item")
    loaders["microlens-50k"] = lambda: _pairs_matrix(load_microlens_50k(data_dir).pairs, "user", "item")
    matrices, missing = {}, []
    for name, load in loaders.items():
        try:
            matrices[name] = load()
        except MissingDataError:
            missing.append(name)
    table = pd.DataFrame({name: _matrix_statistics(m) for name, m in matrices.items()}).T
    return matrices, table, missing


def _pairs_matrix(frame: pd.DataFrame, user: str, item: str) -> sp.csr_matrix:
    users, user_ids = np.unique(frame[user].to_numpy(), return_inverse=True)
    items, item_ids = np.unique(frame[item].to_numpy(), return_inverse=True)
    matrix = sp.csr_matrix((np.ones(len(frame), dtype=np.float32), (user_ids, item_ids)),
                           shape=(len(users), len(items)))
    matrix.data[:] = 1.0
    return matrix


def _matrix_statistics(matrix: sp.csr_matrix) -> dict[str, float]:
    degrees = np.diff(matrix.indptr)
    item_counts = np.sort(np.asarray(matrix.sum(axis=0)).ravel())[::-1]
    head = max(int(0.2 * matrix.shape[1]), 1)
    return {"users": matrix.shape[0], "items": matrix.shape[1], "interactions": matrix.nnz,
            "density": matrix.nnz / (matrix.shape[0] * matrix.shape[1]),
            "mean per user": degrees.mean(), "users with <= 4 (share)": (degrees <= 4).mean(),
            "top 20% items' share": item_counts[:head].sum() / max(item_counts.sum(), 1)}


def _label(dataset: CrossDomainDataset) -> str:
    return f"{dataset.name} ({'synthetic' if dataset.synthetic else 'real'})"
