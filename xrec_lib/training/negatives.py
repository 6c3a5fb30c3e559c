"""The one negative sampler of training: items a user has not interacted with, vectorised, bounded and seeded.

Items are drawn uniformly (``probabilities=None``) or from ``probabilities`` (e.g. popularity), all at once for
every user; the draws that hit one of the user's interacted items are redrawn, at most ``max_rounds`` times, after
which a :class:`~xrec_lib.errors.DataError` names the problem (a user who interacted with almost every item).
Membership is tested by binary search in the sorted ``user * n_items + item`` keys of the interaction matrix.

(The sampled *evaluation* protocol draws its candidates without replacement:
:func:`xrec_lib.evaluate.sample_candidates`.)
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from xrec_lib.errors import DataError


def interaction_keys(interacted: sp.csr_matrix) -> np.ndarray:
    """Sorted ``user * n_items + item`` keys of the stored interactions."""
    interacted = sp.csr_matrix(interacted)
    rows = np.repeat(np.arange(interacted.shape[0], dtype=np.int64), np.diff(interacted.indptr))
    return np.sort(rows * interacted.shape[1] + interacted.indices)


def contains(sorted_keys: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Whether each query key occurs in ``sorted_keys``."""
    if not len(sorted_keys):
        return np.zeros(len(queries), dtype=bool)
    position = np.searchsorted(sorted_keys, queries).clip(max=len(sorted_keys) - 1)
    return sorted_keys[position] == queries


def sample_negatives(users: np.ndarray, interacted: sp.spmatrix, rng: np.random.Generator,
                     probabilities: np.ndarray | None = None, keys: np.ndarray | None = None,
                     max_rounds: int = 20) -> np.ndarray:
    """One item per entry of ``users`` that the user has no interaction with in ``interacted`` (module docstring).

    ``keys`` (:func:`interaction_keys` of ``interacted``) may be passed to avoid recomputing them per batch.
    """
    n_items = interacted.shape[1]
    if probabilities is not None and len(probabilities) != n_items:
        raise DataError(f"probabilities cover {len(probabilities)} items; the matrix has {n_items}")
    keys = interaction_keys(interacted) if keys is None else keys
    users = np.asarray(users, dtype=np.int64)

    def draw(n: int) -> np.ndarray:
        return rng.integers(0, n_items, n) if probabilities is None else rng.choice(n_items, n, p=probabilities)

    items = draw(len(users))
    for round_ in range(max_rounds + 1):
        clash = contains(keys, users * n_items + items)
        if not clash.any():
            return items
        if round_ < max_rounds:
            items[clash] = draw(int(clash.sum()))
    raise DataError(f"could not draw negatives in {max_rounds} rounds: some users interacted with (almost) every "
                    f"item")
