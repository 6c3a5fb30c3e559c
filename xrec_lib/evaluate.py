"""Evaluation protocols: chunked full ranking, sampled ranking, AUC, and cold-start / long-tail slices.

Full ranking scores every item for every evaluated user (users with at least one test item), sets the excluded
items to ``-inf`` and keeps the deterministic top-``max(ks)`` list of each user; the metric definitions live in
:mod:`xrec_lib.metrics`. The sampled protocol (1 held-out positive + N negatives per user) is opt-in and kept for
comparison with papers that report it; its candidate sampling is a separate, seeded step so the same candidates
can be reused across models.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from sklearn.metrics import roc_auc_score, roc_curve

from xrec_lib.metrics import (
    RANKING_METRIC_NAMES,
    EvaluationInputError,
    RankingResult,
    as_binary_csr,
    evaluated_users,
    hit_matrix,
    mask_excluded_,
    ranking_result,
    top_k_items,
    validate_ks,
)

ScoreUsers = Callable[[torch.Tensor], torch.Tensor]
ScoreCandidates = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _check_positive(value: int, name: str) -> None:
    if int(value) < 1:
        raise EvaluationInputError(f"{name} must be a positive integer, got {value}")


# --------------------------------------------------------------------------------------------- full ranking
def evaluate_full_ranking(
    score_users: ScoreUsers,
    test: sp.spmatrix,
    exclude: sp.spmatrix | None = None,
    ks: Iterable[int] = (20,),
    chunk_size: int = 1024,
) -> RankingResult:
    """Full-ranking top-k evaluation, ``chunk_size`` users at a time.

    Args:
        score_users: maps a CPU ``LongTensor`` of user ids to their ``len(users) x n_items`` scores (any device).
            The returned tensor is overwritten in place (excluded items set to ``-inf``).
        test: binary n_users x n_items sparse matrix of held-out positives; its shape defines the problem size.
        exclude: binary sparse matrix of items never recommended (usually the training interactions).
        ks: cut-offs; one top-``max(ks)`` selection serves all of them.
        chunk_size: users scored at once; it bounds memory and does not change the results.

    Returns:
        Per-user metrics of the users with at least one test item (:class:`xrec_lib.metrics.RankingResult`).
    """
    ks = validate_ks(ks)
    _check_positive(chunk_size, "chunk_size")
    test = as_binary_csr(test, test.shape, "test")
    exclude = None if exclude is None else as_binary_csr(exclude, test.shape, "exclude")
    users = evaluated_users(test)
    top_lists = [np.empty((0, ks[-1]), dtype=np.int64)]
    with torch.no_grad():
        for start in range(0, len(users), chunk_size):
            chunk_users = users[start : start + chunk_size]
            scores = score_users(torch.from_numpy(chunk_users))
            if tuple(scores.shape) != (len(chunk_users), test.shape[1]):
                raise EvaluationInputError(
                    f"score_users returned shape {tuple(scores.shape)} for {len(chunk_users)} users; "
                    f"expected ({len(chunk_users)}, {test.shape[1]}) (one score per item)"
                )
            if not scores.is_floating_point():
                scores = scores.double()
            mask_excluded_(scores, chunk_users, exclude)
            top_lists.append(top_k_items(scores, ks[-1]).cpu().numpy())
    return ranking_result(np.concatenate(top_lists), users, test, ks)


def evaluate_embeddings(
    user_emb: torch.Tensor,
    item_emb: torch.Tensor,
    test: sp.spmatrix,
    exclude: sp.spmatrix | None = None,
    ks: Iterable[int] = (20,),
    chunk_size: int = 1024,
) -> RankingResult:
    """:func:`evaluate_full_ranking` with scores ``user_emb @ item_emb.T`` written chunk by chunk into one buffer.

    Runs on the device of the embeddings (CPU or CUDA).
    """
    _check_embeddings(user_emb, item_emb, test.shape)
    _check_positive(chunk_size, "chunk_size")
    buffer = torch.empty(chunk_size, item_emb.shape[0], dtype=item_emb.dtype, device=item_emb.device)
    item_emb_t = item_emb.detach().T

    def score_users(users: torch.Tensor) -> torch.Tensor:
        return torch.mm(user_emb[users.to(user_emb.device)], item_emb_t, out=buffer[: len(users)])

    return evaluate_full_ranking(score_users, test, exclude, ks, chunk_size)


def _check_embeddings(user_emb: torch.Tensor, item_emb: torch.Tensor, shape: tuple[int, int]) -> None:
    if user_emb.dim() != 2 or item_emb.dim() != 2 or user_emb.shape[1] != item_emb.shape[1]:
        raise EvaluationInputError(
            f"embeddings must be n_users x d and n_items x d, got {tuple(user_emb.shape)} and {tuple(item_emb.shape)}"
        )
    if (user_emb.shape[0], item_emb.shape[0]) != tuple(shape):
        raise EvaluationInputError(
            f"embeddings describe {user_emb.shape[0]} users x {item_emb.shape[0]} items "
            f"but the interaction matrices are {shape[0]} x {shape[1]}"
        )
    if user_emb.device != item_emb.device or user_emb.dtype != item_emb.dtype:
        raise EvaluationInputError("user_emb and item_emb must share device and dtype")


# ------------------------------------------------------------------------------------------ sampled protocol
@dataclass(frozen=True)
class SampledCandidates:
    """Fixed candidates of the sampled protocol: row ``r`` ranks ``positives[r]`` against ``negatives[r]``.

    Attributes:
        users: evaluated user ids (users with at least one test item), ascending.
        positives: one held-out test item per user.
        negatives: ``len(users) x n_negatives`` distinct items the user never interacted with (train or test).
    """

    users: np.ndarray
    positives: np.ndarray
    negatives: np.ndarray

    def items(self) -> np.ndarray:
        """``len(users) x (1 + n_negatives)`` candidate matrix, the positive in column 0."""
        return np.column_stack([self.positives, self.negatives])


def sample_candidates(
    test: sp.spmatrix, train: sp.spmatrix, n_negatives: int = 99, seed: int = 0
) -> SampledCandidates:
    """Seeded candidates: 1 held-out positive + ``n_negatives`` uniform negatives per user with a test item.

    The positive is the user's test item, or one drawn uniformly from them when there are several. Negatives are
    drawn uniformly without replacement (Floyd's algorithm) among the items absent from both ``train`` and ``test``
    of that user.
    """
    _check_positive(n_negatives, "n_negatives")
    test = as_binary_csr(test, test.shape, "test")
    interacted = as_binary_csr((as_binary_csr(train, test.shape, "train") + test) > 0, test.shape, "train + test")
    rng = np.random.default_rng(seed)
    users = evaluated_users(test)
    n_test = np.diff(test.indptr)[users]
    positives = test.indices[test.indptr[users] + (rng.random(len(users)) * n_test).astype(np.int64)]
    n_free = test.shape[1] - np.diff(interacted.indptr)[users]
    if len(users) and n_free.min() < n_negatives:
        raise EvaluationInputError(
            f"user {users[n_free.argmin()]} has only {n_free.min()} non-interacted items, fewer than "
            f"n_negatives={n_negatives}; lower n_negatives"
        )
    free_positions = _floyd_sample(n_free, n_negatives, rng)
    negatives = _nth_free_item(interacted[users], free_positions)
    return SampledCandidates(users=users, positives=positives.astype(np.int64), negatives=negatives)


def _floyd_sample(population: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Row ``r``: ``n`` distinct uniform integers in ``[0, population[r])`` (Floyd's algorithm, vectorised)."""
    chosen = np.empty((len(population), n), dtype=np.int64)
    for i in range(n):
        upper = population - n + i
        draw = (rng.random(len(population)) * (upper + 1)).astype(np.int64)
        taken = (chosen[:, :i] == draw[:, None]).any(axis=1)
        chosen[:, i] = np.where(taken, upper, draw)
    return chosen


def _nth_free_item(interacted: sp.csr_matrix, positions: np.ndarray) -> np.ndarray:
    """Map row-wise 0-based positions among the non-interacted items to item ids.

    With a row's interacted items sorted as ``a_0 < a_1 < ...`` and ``b_j = a_j - j``, the ``p``-th free item is
    ``p + #{j : b_j <= p}``.
    """
    n_items = interacted.shape[1]
    rows = np.repeat(np.arange(interacted.shape[0]), np.diff(interacted.indptr))
    shifted = interacted.indices - (np.arange(interacted.nnz) - interacted.indptr[rows])
    keys = rows.astype(np.int64) * n_items + shifted
    queries = np.arange(len(positions), dtype=np.int64)[:, None] * n_items + positions
    n_before = np.searchsorted(keys, queries, side="right") - interacted.indptr[:-1, None]
    return positions + n_before


def embedding_candidate_scorer(user_emb: torch.Tensor, item_emb: torch.Tensor) -> ScoreCandidates:
    """Dot-product scorer ``(users, items) -> (user_emb[users] * item_emb[items]).sum(-1)`` for sampled ranking."""

    def score(users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        users, items = users.to(user_emb.device), items.to(item_emb.device)
        return torch.einsum("ud,ucd->uc", user_emb[users], item_emb[items])

    return score


def sampled_positive_ranks(
    score_candidates: ScoreCandidates, candidates: SampledCandidates, chunk_size: int = 4096
) -> np.ndarray:
    """0-based rank of each user's positive among its candidates.

    Rank = negatives scoring higher + negatives scoring equal with a lower item index (the tie rule of full
    ranking). ``score_candidates(users, items)`` maps ``U`` user ids and a ``U x C`` item matrix to ``U x C`` scores.
    """
    _check_positive(chunk_size, "chunk_size")
    items = candidates.items()
    ranks = [np.empty(0, dtype=np.int64)]
    with torch.no_grad():
        for start in range(0, len(candidates.users), chunk_size):
            chunk_items = torch.from_numpy(items[start : start + chunk_size])
            scores = score_candidates(torch.from_numpy(candidates.users[start : start + chunk_size]), chunk_items)
            if torch.isnan(scores).any():
                raise EvaluationInputError("candidate scores contain NaN; check the model")
            scores = scores.cpu()
            positive, negative = scores[:, :1], scores[:, 1:]
            ahead = (negative > positive) | ((negative == positive) & (chunk_items[:, 1:] < chunk_items[:, :1]))
            ranks.append(ahead.sum(dim=1).numpy())
    return np.concatenate(ranks)


def evaluate_sampled(
    score_candidates: ScoreCandidates,
    candidates: SampledCandidates,
    ks: Iterable[int] = (10,),
    chunk_size: int = 4096,
) -> dict[int, dict[str, float]]:
    """Sampled-protocol ``HR@k`` (positive ranked within the top ``k``) and ``NDCG@k`` (``1 / log2(rank + 2)``
    for a 0-based rank below ``k``, else 0), averaged over the candidate users."""
    ranks = sampled_positive_ranks(score_candidates, candidates, chunk_size)
    return {
        k: {
            "hr": float(np.mean(ranks < k)) if len(ranks) else math.nan,
            "ndcg": float(np.mean(np.where(ranks < k, 1.0 / np.log2(ranks + 2), 0.0))) if len(ranks) else math.nan,
        }
        for k in validate_ks(ks)
    }


# ----------------------------------------------------------------------------------------------------- AUC
def _labels_and_scores(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    labels, scores = np.asarray(labels).ravel(), np.asarray(scores, dtype=np.float64).ravel()
    if labels.shape != scores.shape:
        raise EvaluationInputError(f"labels ({labels.size}) and scores ({scores.size}) differ in length")
    if not np.isin(labels, (0, 1)).all():
        raise EvaluationInputError("labels must be binary (0 or 1)")
    if np.isnan(scores).any():
        raise EvaluationInputError("scores contain NaN; check the model")
    return labels.astype(np.int64), scores


def global_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve over all (user, item) pairs pooled (sklearn ``roc_auc_score``)."""
    labels, scores = _labels_and_scores(labels, scores)
    if labels.min() == labels.max():
        raise EvaluationInputError("AUC needs both positive and negative labels")
    return float(roc_auc_score(labels, scores))


def per_user_auc(labels: np.ndarray, scores: np.ndarray, users: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """AUC of each user with both classes (Mann-Whitney statistic; tied scores count one half).

    Returns the user ids (ascending) and their AUC values; users with a single class are left out.
    """
    labels, scores = _labels_and_scores(labels, scores)
    frame = pd.DataFrame({"user": np.asarray(users).ravel(), "label": labels, "score": scores})
    rank = frame.groupby("user")["score"].rank(method="average")
    grouped = frame.assign(positive_rank=rank * frame["label"]).groupby("user")
    n_pos, n_all = grouped["label"].sum(), grouped.size()
    n_neg = n_all - n_pos
    auc = (grouped["positive_rank"].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    both = (n_pos > 0) & (n_neg > 0)
    return auc.index[both].to_numpy(), auc[both].to_numpy(dtype=np.float64)


def mean_per_user_auc(labels: np.ndarray, scores: np.ndarray, users: np.ndarray) -> float:
    """GAUC-style unweighted mean of :func:`per_user_auc` over users with both classes."""
    _, values = per_user_auc(labels, scores, users)
    if not len(values):
        raise EvaluationInputError("no user has both positive and negative labels")
    return float(values.mean())


def roc_points(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(fpr, tpr, thresholds) of the pooled ROC curve (sklearn ``roc_curve``), for figures."""
    return roc_curve(*_labels_and_scores(labels, scores))


def tpr_at_fpr(labels: np.ndarray, scores: np.ndarray, max_fpr: float) -> float:
    """Highest TPR reached by a score threshold whose FPR is at most ``max_fpr`` (step ROC, no interpolation)."""
    if not 0.0 <= max_fpr <= 1.0:
        raise EvaluationInputError(f"max_fpr must lie in [0, 1], got {max_fpr}")
    fpr, tpr, _ = roc_points(labels, scores)
    return float(tpr[fpr <= max_fpr].max())


# -------------------------------------------------------------------------------------------------- slices
def cold_start_user_mask(train: sp.spmatrix, max_train_interactions: int) -> np.ndarray:
    """Boolean user mask: users with at most ``max_train_interactions`` training interactions (zero included)."""
    if max_train_interactions < 0:
        raise EvaluationInputError(f"max_train_interactions must be >= 0, got {max_train_interactions}")
    train = as_binary_csr(train, train.shape, "train")
    return np.diff(train.indptr) <= max_train_interactions


def long_tail_item_mask(train: sp.spmatrix, head_fraction: float = 0.2) -> np.ndarray:
    """Boolean item mask of the long tail: items outside the ``ceil(head_fraction * n_items)`` most popular.

    Popularity is the number of training users of an item; equal popularity ranks the lower item index first.
    """
    if not 0.0 <= head_fraction <= 1.0:
        raise EvaluationInputError(f"head_fraction must lie in [0, 1], got {head_fraction}")
    train = as_binary_csr(train, train.shape, "train")
    popularity = np.bincount(train.indices, minlength=train.shape[1])
    head = np.argsort(-popularity, kind="stable")[: math.ceil(head_fraction * train.shape[1])]
    mask = np.ones(train.shape[1], dtype=bool)
    mask[head] = False
    return mask


def user_slice_metrics(result: RankingResult, user_mask: np.ndarray) -> dict[int, dict[str, float]]:
    """``{k: {metric: mean, "n_users": count}}`` over the evaluated users selected by ``user_mask`` (n_users,).

    Ranking metrics only (coverage is a catalogue statistic); means are NaN for an empty slice.
    """
    selected = np.asarray(user_mask, dtype=bool)[result.users]
    return {
        k: {
            name: float(values[name][selected].mean()) if selected.any() else math.nan
            for name in RANKING_METRIC_NAMES
        }
        | {"n_users": int(selected.sum())}
        for k, values in result.values.items()
    }


def long_tail_metrics(
    result: RankingResult, test: sp.spmatrix, long_tail_mask: np.ndarray
) -> dict[int, dict[str, float]]:
    """Hit rate and recall restricted to long-tail test items, for each ``k`` of ``result``.

    Over the evaluated users with at least one long-tail test item ``L_u``: ``hr`` = 1 if a top-``k`` item is in
    ``L_u``; ``recall`` = top-``k`` items in ``L_u`` / ``|L_u|``. ``n_users`` counts those users.
    """
    long_tail_mask = np.asarray(long_tail_mask, dtype=bool)
    if long_tail_mask.shape != (result.n_items,):
        raise EvaluationInputError(f"long_tail_mask must have one entry per item ({result.n_items})")
    test = as_binary_csr(test, (test.shape[0], result.n_items), "test")
    tail_test = as_binary_csr(test @ sp.diags(long_tail_mask.astype(np.int64), dtype=np.int64), test.shape, "long-tail test")
    n_tail = np.diff(tail_test.indptr)[result.users]
    hits = hit_matrix(result.top_items, result.users, tail_test)[n_tail > 0]
    n_tail = n_tail[n_tail > 0]
    return {
        k: {
            "hr": float(hits[:, :k].any(axis=1).mean()) if len(n_tail) else math.nan,
            "recall": float((hits[:, :k].sum(axis=1) / n_tail).mean()) if len(n_tail) else math.nan,
            "n_users": int(len(n_tail)),
        }
        for k in result.values
    }
