"""Gowalla check-ins in the NGCF/LightGCN split (Wang et al., SIGIR 2019; He et al., SIGIR 2020), dataset
``gowalla-lightgcn``.

Files (``<data root>/gowalla-lightgcn/``): ``train.txt``, ``valid.txt`` and ``test.txt``, one line per user,
``user_id item_id item_id ...`` (space separated, 0-based ids). LightGCN++ split LightGCN's original training
file into ``train.txt`` + ``valid.txt``; their union is the canonical LightGCN training set, ``test.txt`` its
test set (full ranking over all items the user has not trained on).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from xrec_lib.data.manifest import dataset_checksums, dataset_path
from xrec_lib.data.parsing import read_id_lists

DATASET = "gowalla-lightgcn"
FILES = ("train.txt", "valid.txt", "test.txt")


@dataclass(frozen=True)
class ImplicitFeedback:
    """Binary users x items interaction matrices of a train/test split.

    Attributes:
        name: dataset identifier.
        n_users, n_items: matrix shape (largest id + 1 over all files).
        train, test: ``scipy.sparse.csr_matrix`` of float32 ones, one stored entry per (user, item) pair.
        meta: provenance (sha256 of the files read).
    """

    name: str
    n_users: int
    n_items: int
    train: sp.csr_matrix
    test: sp.csr_matrix
    meta: dict = field(default_factory=dict)


def load_gowalla(data_dir: Path | str | None = None, validation: bool = False) -> ImplicitFeedback:
    """The canonical LightGCN Gowalla split: train = ``train.txt`` + ``valid.txt``, test = ``test.txt``.

    ``validation=True`` gives the split for choosing settings without the test set: train = ``train.txt``,
    test = ``valid.txt`` (same users and items, so the shapes agree).
    """
    pairs = [read_id_lists(dataset_path(DATASET, name, data_dir))[:2] for name in FILES]
    n_users = max(int(user.max()) for user, _ in pairs) + 1
    n_items = max(int(item.max()) for _, item in pairs) + 1
    if validation:
        train_user, train_item = pairs[0]
        test = pairs[1]
    else:
        train_user = np.concatenate([pairs[0][0], pairs[1][0]])
        train_item = np.concatenate([pairs[0][1], pairs[1][1]])
        test = pairs[2]
    return ImplicitFeedback(
        name="gowalla-lightgcn" + (" (validation split)" if validation else ""), n_users=n_users, n_items=n_items,
        train=binary_matrix(train_user, train_item, (n_users, n_items)),
        test=binary_matrix(*test, (n_users, n_items)),
        meta={"dataset": DATASET, "sha256": dataset_checksums(DATASET, list(FILES))},
    )


def binary_matrix(user: np.ndarray, item: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    """``csr_matrix`` with a 1.0 at every (user, item) pair (repeated pairs count once)."""
    matrix = sp.csr_matrix((np.ones(len(user), dtype=np.float32), (user, item)), shape=shape)
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix
