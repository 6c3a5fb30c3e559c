"""Top-k ranking metrics for implicit-feedback recommendation.

Every metric is computed per user from the top-``k`` recommendation list and then averaged over the
*evaluated users*: the users with at least one test item. Users without test items are left out of every
average. For an evaluated user ``u`` with test items ``T_u`` (``n_u = |T_u|``) and relevance ``rel_i = 1`` if the
item at rank ``i`` (1-based) of the top-``k`` list is in ``T_u``, else 0, ``hits = sum_i rel_i``:

* ``hr`` (hit ratio)  = 1 if ``hits > 0`` else 0.
* ``recall``          = ``hits / n_u``.
* ``precision``       = ``hits / k`` (also when fewer than ``k`` items could be recommended).
* ``ndcg`` (binary)   = ``DCG / IDCG`` with ``DCG = sum_i rel_i / log2(i + 1)`` and the ideal
  ``IDCG = sum_{i=1}^{min(n_u, k)} 1 / log2(i + 1)``.
* ``map`` (MAP@k)     = ``sum_i rel_i * precision@i / min(n_u, k)``, ``precision@i = (sum_{j<=i} rel_j) / i``.
  The denominator is ``min(n_u, k)`` (as RecBole ``MAP`` and PyG ``LinkPredMAP``), not ``n_u``.
* ``mrr``             = ``1 / i`` for the rank ``i`` of the first hit within the top-``k``, 0 if there is none.
* ``coverage``        = number of distinct items recommended to the evaluated users / number of items (a catalogue
  statistic, not a per-user average).

Recommendation lists follow these rules:

* Excluded items (typically the user's training interactions) get the score ``-inf`` and are never recommended.
  An item whose score is ``-inf`` for any other reason is not recommended either, so a user with fewer than ``k``
  candidate items receives a shorter list (empty slots hold ``-1``).
* A test item that is also excluded counts in ``n_u`` but can never be hit.
* Ties in scores are broken deterministically: among equal scores the lower item index ranks first.
* A NaN among the candidate (non-excluded) scores raises :class:`EvaluationInputError`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch

from xrec_lib.errors import DataError

RANKING_METRIC_NAMES = ("hr", "recall", "precision", "ndcg", "map", "mrr")
_BLOCK_SIZE = 64


class EvaluationInputError(DataError):
    """Raised when scores, interaction matrices or evaluation settings are malformed."""


def as_score_tensor(scores: torch.Tensor | np.ndarray) -> torch.Tensor:
    """Return ``scores`` as a 2-D floating torch tensor (integer scores become float64)."""
    if isinstance(scores, np.ndarray):
        scores = torch.from_numpy(scores)
    if not isinstance(scores, torch.Tensor):
        raise EvaluationInputError(
            f"scores must be a torch.Tensor or numpy.ndarray, got {type(scores).__name__}"
        )
    if scores.dim() != 2 or scores.shape[1] == 0:
        raise EvaluationInputError(
            f"scores must be a 2-D n_users x n_items matrix with at least one item, got shape {tuple(scores.shape)}"
        )
    if not scores.is_floating_point():
        scores = scores.to(torch.float64)
    return scores


def as_binary_csr(matrix: sp.spmatrix | sp.sparray, shape: tuple[int, int], name: str) -> sp.csr_matrix:
    """Validate a binary user x item interaction matrix and return it as CSR with sorted indices.

    Explicitly stored zeros are dropped; any stored value other than 0 or 1 is an error.
    """
    if not sp.issparse(matrix):
        raise EvaluationInputError(
            f"{name} must be a scipy.sparse matrix (n_users x n_items), got {type(matrix).__name__}"
        )
    if tuple(matrix.shape) != tuple(shape):
        raise EvaluationInputError(
            f"{name} has shape {tuple(matrix.shape)} but scores have shape {tuple(shape)}; "
            "both must be n_users x n_items"
        )
    csr = sp.csr_matrix(matrix, copy=True)
    csr.sum_duplicates()
    csr.eliminate_zeros()
    if csr.nnz and not np.all(csr.data == 1):
        raise EvaluationInputError(
            f"{name} must be binary (stored values 0 or 1); binarise it first, e.g. (matrix > 0).astype(int)"
        )
    csr.sort_indices()
    return csr


def evaluated_users(test: sp.csr_matrix) -> np.ndarray:
    """Ids (ascending) of the users with at least one test item."""
    return np.flatnonzero(np.diff(test.indptr) > 0)


def _csr_rows_as_coordinates(matrix: sp.csr_matrix, users: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(row position within ``users``, item) pairs of the stored entries of the given rows."""
    rows = matrix[users]
    return np.repeat(np.arange(len(users)), np.diff(rows.indptr)), rows.indices


def mask_excluded_(scores: torch.Tensor, users: np.ndarray, exclude: sp.csr_matrix | None) -> torch.Tensor:
    """Set, in place, the scores of each row's excluded items to ``-inf``; row ``r`` belongs to ``users[r]``."""
    if exclude is None or exclude.nnz == 0:
        return scores
    rows, items = _csr_rows_as_coordinates(exclude, users)
    index = (torch.from_numpy(rows).to(scores.device), torch.from_numpy(items.astype(np.int64)).to(scores.device))
    return scores.index_put_(index, torch.tensor(-math.inf, dtype=scores.dtype, device=scores.device))


def _top_candidates(scores: torch.Tensor, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Values and item indices of the ``n`` largest scores per row (descending, ties in any order).

    For wide rows the search is restricted to the ``n`` blocks of ``_BLOCK_SIZE`` items with the largest block
    maxima, plus the last ``n_items % _BLOCK_SIZE`` items. This is exact: the chosen blocks hold ``n`` block maxima
    that are each >= every item left out, so no item left out can exceed the ``n``-th value found.
    """
    n_items = scores.shape[1]
    n_blocks = n_items // _BLOCK_SIZE
    if n_blocks < 4 * n:
        return torch.topk(scores, n, dim=1)
    blocks = scores[:, : n_blocks * _BLOCK_SIZE].unflatten(1, (n_blocks, _BLOCK_SIZE))
    top_blocks = torch.topk(blocks.amax(dim=2), n, dim=1).indices
    block_items = (top_blocks.unsqueeze(2) * _BLOCK_SIZE + torch.arange(_BLOCK_SIZE, device=scores.device)).flatten(1)
    tail_items = torch.arange(n_blocks * _BLOCK_SIZE, n_items, device=scores.device).expand(len(scores), -1)
    items = torch.cat([block_items, tail_items], dim=1)
    values, position = torch.topk(scores.gather(1, items), n, dim=1)
    return values, items.gather(1, position)


def _order_by_score_then_index(values: torch.Tensor, items: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Sort each row by descending score, equal scores by ascending item index."""
    by_index = items.argsort(dim=1)
    values, items = values.gather(1, by_index), items.gather(1, by_index)
    by_score = values.argsort(dim=1, descending=True, stable=True)
    return values.gather(1, by_score), items.gather(1, by_score)


def top_k_items(scores: torch.Tensor, k: int) -> torch.Tensor:
    """Deterministic top-``k`` item indices per row of an (already masked) score matrix.

    Rows are ranked by descending score; equal scores rank the lower item index first. Slots whose score is
    ``-inf`` (excluded items, or fewer than ``k`` candidates) hold ``-1``. Raises on NaN candidate scores.
    """
    if k < 1:
        raise EvaluationInputError(f"k must be a positive integer, got {k}")
    n_items = scores.shape[1]
    values, items = _top_candidates(scores, min(k + 1, n_items))
    if torch.isnan(values).any():
        bad_rows = torch.isnan(values).any(dim=1).nonzero().flatten()[:5].tolist()
        raise EvaluationInputError(f"scores contain NaN (first affected chunk rows: {bad_rows}); check the model")
    if k < n_items:
        boundary_tie = (values[:, k - 1] == values[:, k]) & (values[:, k - 1] > -math.inf)
        tied_rows = boundary_tie.nonzero().flatten()
        if len(tied_rows):
            tied_values, tied_items = torch.sort(scores[tied_rows], dim=1, descending=True, stable=True)
            values[tied_rows, :k], items[tied_rows, :k] = tied_values[:, :k], tied_items[:, :k]
        values, items = values[:, :k], items[:, :k]
    values, items = _order_by_score_then_index(values, items)
    return items.masked_fill(values == -math.inf, -1)


def hit_matrix(top_items: np.ndarray, users: np.ndarray, test: sp.csr_matrix) -> np.ndarray:
    """Boolean matrix: ``hits[r, i]`` is True when ``top_items[r, i]`` is a test item of ``users[r]``."""
    n_items = test.shape[1]
    rows, items = _csr_rows_as_coordinates(test, users)
    test_keys = rows.astype(np.int64) * n_items + items
    pred_keys = np.arange(len(users), dtype=np.int64)[:, None] * n_items + top_items
    if not len(test_keys):
        return np.zeros(top_items.shape, dtype=bool)
    position = np.searchsorted(test_keys, pred_keys).clip(max=len(test_keys) - 1)
    return (top_items >= 0) & (test_keys[position] == pred_keys)


def per_user_values(hits: np.ndarray, n_relevant: np.ndarray, k: int) -> dict[str, np.ndarray]:
    """Per-user ``hr``, ``recall``, ``precision``, ``ndcg``, ``map``, ``mrr`` at ``k`` (module docstring).

    ``hits`` is the boolean user x rank matrix of the recommendation lists (only its first ``k`` columns are
    read); ``n_relevant`` holds the number of test items of each user (all > 0).
    """
    rel = hits[:, :k].astype(np.float64)
    ranks = np.arange(1, rel.shape[1] + 1)
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    n_hits = rel.sum(axis=1)
    ideal = np.minimum(n_relevant, k)
    first_hit = np.where(n_hits > 0, rel.argmax(axis=1) + 1, np.inf)
    return {
        "hr": (n_hits > 0).astype(np.float64),
        "recall": n_hits / n_relevant,
        "precision": n_hits / k,
        "ndcg": (rel * discount[: rel.shape[1]]).sum(axis=1) / np.cumsum(discount)[ideal - 1],
        "map": (rel * rel.cumsum(axis=1) / ranks).sum(axis=1) / ideal,
        "mrr": 1.0 / first_hit,
    }


@dataclass(frozen=True)
class RankingResult:
    """Per-user top-k results of one evaluation.

    Attributes:
        users: ids of the evaluated users (at least one test item), ascending.
        top_items: ``len(users) x max(ks)`` recommended item ids in rank order, ``-1`` for empty slots.
        values: ``values[k][metric]`` is the per-user array aligned with ``users``.
        n_items: catalogue size (denominator of ``coverage``).
    """

    users: np.ndarray
    top_items: np.ndarray
    values: dict[int, dict[str, np.ndarray]]
    n_items: int

    def coverage(self, k: int) -> float:
        """Distinct items recommended at ``k`` to the evaluated users, divided by the number of items."""
        recommended = self.top_items[:, :k]
        return len(np.unique(recommended[recommended >= 0])) / self.n_items

    def summary(self) -> dict[int, dict[str, float]]:
        """``{k: {metric: mean over evaluated users}}`` plus ``coverage``; NaN means when no user was evaluated."""
        return {
            k: {name: float(values.mean()) if len(self.users) else math.nan for name, values in per_k.items()}
            | {"coverage": self.coverage(k)}
            for k, per_k in self.values.items()
        }


def validate_ks(ks: Iterable[int]) -> list[int]:
    """Sorted, de-duplicated list of positive integer cut-offs."""
    ks = list(ks)
    if not ks or any(isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1 for k in ks):
        raise EvaluationInputError(f"ks must be a non-empty list of positive integers, got {ks}")
    return sorted({int(k) for k in ks})


def ranking_result(top_items: np.ndarray, users: np.ndarray, test: sp.csr_matrix, ks: list[int]) -> RankingResult:
    """Per-user metrics at every ``k`` in ``ks`` from top-``max(ks)`` lists of ``users``."""
    hits = hit_matrix(top_items, users, test)
    n_relevant = np.diff(test.indptr)[users]
    values = {k: per_user_values(hits, n_relevant, k) for k in ks}
    return RankingResult(users=users, top_items=top_items, values=values, n_items=test.shape[1])


def per_user_topk_metrics(
    scores: torch.Tensor | np.ndarray,
    test: sp.spmatrix,
    ks: Iterable[int] = (20,),
    exclude: sp.spmatrix | None = None,
) -> RankingResult:
    """Per-user metrics at each ``k`` in ``ks`` from a full n_users x n_items score matrix.

    One top-``max(ks)`` selection serves every ``k``. See the module docstring for the definitions.
    """
    scores = as_score_tensor(scores)
    ks = validate_ks(ks)
    test = as_binary_csr(test, tuple(scores.shape), "test")
    exclude = None if exclude is None else as_binary_csr(exclude, tuple(scores.shape), "exclude")
    users = evaluated_users(test)
    candidate_scores = mask_excluded_(scores[torch.from_numpy(users).to(scores.device)], users, exclude)
    top_items = top_k_items(candidate_scores, ks[-1]).cpu().numpy()
    return ranking_result(top_items, users, test, ks)


def topk_metrics_at(
    scores: torch.Tensor | np.ndarray,
    test: sp.spmatrix,
    ks: Iterable[int],
    exclude: sp.spmatrix | None = None,
) -> dict[int, dict[str, float]]:
    """``{k: {metric: value}}`` for every ``k`` in ``ks`` (keys of :data:`RANKING_METRIC_NAMES` + ``coverage``)."""
    return per_user_topk_metrics(scores, test, ks, exclude).summary()


def topk_metrics(
    scores: torch.Tensor | np.ndarray,
    test: sp.spmatrix,
    k: int = 20,
    exclude: sp.spmatrix | None = None,
) -> dict[str, float]:
    """``hr``, ``recall``, ``precision``, ``ndcg``, ``map``, ``mrr`` and ``coverage`` at ``k``.

    Args:
        scores: n_users x n_items float scores (torch or numpy); higher is better.
        test: binary n_users x n_items sparse matrix of held-out positives.
        k: cut-off of the recommendation list.
        exclude: binary sparse matrix of items never to recommend (usually the training interactions).

    Averages run over users with at least one test item; ties rank the lower item index first; definitions are
    in the module docstring.
    """
    return topk_metrics_at(scores, test, [k], exclude)[k]
