"""The two-stage recommender of paper 000: offline embeddings, online retrieval + interaction-head reranking.

Paper 000 splits recommendation into an offline stage (Siamese GCN entity representations, Eq. 5) and an online
stage (the BLA interaction head, Eq. 6-11). Scoring every product with the head costs one MLP pass per product,
so serving (and the full-ranking evaluation of heads) runs two steps per user ``u``:

1. **Retrieval**: exact maximum inner product search, ``C`` products with the largest ``e_u^T e_p`` among the
   products not excluded (one matrix-vector product + ``torch.topk``; :data:`DEFAULT_CANDIDATES` by default).
2. **Reranking**: the head's logit ``s(e_u, e_p)`` for those ``C`` candidates; the top ``k`` by that logit are the
   recommendation (ties: lower product id first).

A product outside the ``C`` retrieved ones is never recommended, so the two-stage list can differ from the list
of the head applied to every product; ``benchmarks/bench_serving.py`` measures that difference and the latency.

:class:`TwoStageRecommender` is the serving object. Users without an embedding (ids ``>= n_users``: sign-ups after
the offline run) get the *cold-start fallback*: products ranked by training popularity (number of training users),
within the user's market when one is given and the catalogue has product markets, flagged ``cold_start=True``.
"""

from __future__ import annotations

import json
import numbers
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import torch

from xrec_lib.errors import DataError
from xrec_lib.models.interaction import HEADS, InteractionHead

DEFAULT_CANDIDATES = 200
MANIFEST = "manifest.json"
FORMAT_VERSION = 1


class ServingInputError(DataError):
    """A request or a saved recommender is invalid: the message names the field and what to do."""


@dataclass(frozen=True)
class Recommendation:
    """The answer to one request.

    Attributes:
        user_id: the requested user.
        items: product ids, best first (at most ``k``; fewer when the catalogue minus seen items is smaller).
        scores: head logits of ``items`` (two-stage) or their popularity counts (cold start).
        cold_start: True when the user has no embedding and the popularity fallback answered.
    """

    user_id: int
    items: np.ndarray
    scores: np.ndarray
    cold_start: bool


def retrieve_and_rerank(head: InteractionHead, user_emb: torch.Tensor, item_emb: torch.Tensor,
                        users: torch.Tensor, n_candidates: int = DEFAULT_CANDIDATES,
                        exclude: sp.csr_matrix | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Retrieval + reranking for a batch of users: ``(candidates, logits)``, both ``(len(users), C')``.

    ``candidates`` are the ``C' = min(n_candidates, n_items)`` products with the largest inner product among those
    not in ``exclude`` (rows indexed by user id); ``logits`` are the head's logits of those pairs, ``-inf`` where a
    user has fewer than ``C'`` products left after exclusion.
    """
    users = users.to(user_emb.device)
    with torch.no_grad():
        inner = user_emb[users] @ item_emb.T
        if exclude is not None:
            _mask_rows_(inner, exclude[users.cpu().numpy()])
        inner_top, candidates = torch.topk(inner, min(n_candidates, item_emb.shape[0]), dim=1)
        n_users, width = candidates.shape
        user_rows = user_emb[users].repeat_interleave(width, dim=0)
        logits = head(user_rows, item_emb[candidates.flatten()]).view(n_users, width)
        return candidates, logits.masked_fill(torch.isinf(inner_top), -torch.inf)


def two_stage_scores(head: InteractionHead, user_emb: torch.Tensor, item_emb: torch.Tensor,
                     users: torch.Tensor, n_candidates: int = DEFAULT_CANDIDATES,
                     exclude: sp.csr_matrix | None = None) -> torch.Tensor:
    """``(len(users), n_items)`` scores: head logits on each user's retrieved candidates
    (:func:`retrieve_and_rerank`), ``-inf`` elsewhere; the ``score_users`` of
    :func:`xrec_lib.evaluate.evaluate_full_ranking` for a head.
    """
    candidates, logits = retrieve_and_rerank(head, user_emb, item_emb, users, n_candidates, exclude)
    scores = torch.full((len(users), item_emb.shape[0]), -torch.inf, dtype=logits.dtype, device=logits.device)
    return scores.scatter_(1, candidates, logits)


def full_head_scores(head: InteractionHead, user_emb: torch.Tensor, item_emb: torch.Tensor,
                     users: torch.Tensor) -> torch.Tensor:
    """``(len(users), n_items)`` head logits of every product (the reference the two-stage path approximates)."""
    n_items = item_emb.shape[0]
    with torch.no_grad():
        rows = user_emb[users.to(user_emb.device)].repeat_interleave(n_items, dim=0)
        return head(rows, item_emb.repeat(len(users), 1)).view(len(users), n_items)


class TwoStageRecommender:
    """Serves top-``k`` lists from saved embeddings and a trained interaction head (module docstring).

    Args:
        user_emb, item_emb: ``(n_users, d)`` and ``(n_items, d)`` offline embeddings.
        head: the trained interaction head (put in eval mode; its weights are not changed).
        n_candidates: ``C``, products retrieved by inner product before reranking.
        seen: optional binary ``n_users x n_items`` matrix of products never to recommend to a user (training).
        popularity: ``(n_items,)`` popularity counts for the cold-start fallback; defaults to ``seen``'s column
            sums, or zeros (then the fallback lists products by id).
        item_market: optional ``(n_items,)`` market id of each product, for market-local cold-start lists.
    """

    def __init__(self, user_emb: torch.Tensor, item_emb: torch.Tensor, head: InteractionHead,
                 n_candidates: int = DEFAULT_CANDIDATES, seen: sp.spmatrix | None = None,
                 popularity: np.ndarray | None = None, item_market: np.ndarray | None = None):
        if user_emb.dim() != 2 or item_emb.dim() != 2 or user_emb.shape[1] != item_emb.shape[1] != head.dim:
            raise ServingInputError(f"embeddings {tuple(user_emb.shape)} / {tuple(item_emb.shape)} do not match "
                                    f"each other or the head's dimension {head.dim}")
        if int(n_candidates) < 1:
            raise ServingInputError(f"n_candidates must be a positive integer, got {n_candidates}")
        self.user_emb, self.item_emb = user_emb.detach(), item_emb.detach()
        self.head = head.eval()
        self.n_candidates = int(n_candidates)
        self.seen = None if seen is None else _binary_csr(seen, (self.n_users, self.n_items))
        if popularity is None:
            popularity = (np.asarray(self.seen.sum(axis=0)).ravel() if self.seen is not None
                          else np.zeros(self.n_items))
        self.popularity = _vector(popularity, self.n_items, "popularity").astype(np.float64)
        self.item_market = None if item_market is None else _vector(item_market, self.n_items, "item_market")

    @property
    def n_users(self) -> int:
        return self.user_emb.shape[0]

    @property
    def n_items(self) -> int:
        return self.item_emb.shape[0]

    def recommend(self, user_id: int, k: int = 20, market: int | None = None) -> Recommendation:
        """Top-``k`` products for ``user_id``.

        Retrieval takes ``max(C, k)`` candidates, so ``k`` larger than the number of recommendable products
        returns all of them (the catalogue minus the user's seen products), ranked by the head. Ids ``>= n_users`` get the popularity fallback in ``market`` (all markets
        when ``market`` is None), flagged ``cold_start=True``. Negative or non-integer ids and ``k < 1`` raise
        :class:`ServingInputError`.
        """
        user_id, k = _non_negative_int(user_id, "user_id"), _non_negative_int(k, "k")
        if k < 1:
            raise ServingInputError("k must be at least 1")
        if user_id >= self.n_users:
            return self._cold_start(user_id, k, market)
        candidates, logits = retrieve_and_rerank(self.head, self.user_emb, self.item_emb, torch.tensor([user_id]),
                                                 max(self.n_candidates, k), self.seen)
        return self._ranked(user_id, candidates[0].cpu().numpy(), logits[0].cpu().numpy(), k, cold_start=False)

    def _cold_start(self, user_id: int, k: int, market: int | None) -> Recommendation:
        scores = self.popularity.copy()
        if market is not None and self.item_market is not None:
            if not np.any(self.item_market == market):
                raise ServingInputError(f"market {market!r} has no products; known markets: "
                                        f"{sorted(np.unique(self.item_market).tolist())}")
            scores[self.item_market != market] = -np.inf
        return self._ranked(user_id, np.arange(self.n_items), scores, k, cold_start=True)

    @staticmethod
    def _ranked(user_id: int, items: np.ndarray, scores: np.ndarray, k: int, cold_start: bool) -> Recommendation:
        """The ``k`` finite-scored ``items`` with the highest scores, ties broken by the lower product id."""
        order = np.lexsort((items, -scores))
        order = order[np.isfinite(scores[order])][:k]
        return Recommendation(user_id=user_id, items=items[order], scores=scores[order], cold_start=cold_start)

    def save(self, directory: str | Path) -> Path:
        """Write ``manifest.json`` (head spec, sizes, ``C``), embeddings and vectors (``.npy``), the head's
        ``state_dict`` (``head.pt``) and the seen matrix (``seen.npz``) into ``directory``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        np.save(directory / "user_emb.npy", self.user_emb.cpu().numpy())
        np.save(directory / "item_emb.npy", self.item_emb.cpu().numpy())
        np.save(directory / "popularity.npy", self.popularity)
        torch.save(self.head.state_dict(), directory / "head.pt")
        if self.seen is not None:
            sp.save_npz(directory / "seen.npz", self.seen)
        if self.item_market is not None:
            np.save(directory / "item_market.npy", self.item_market)
        manifest = {"format_version": FORMAT_VERSION, "head": self.head.spec, "n_candidates": self.n_candidates,
                    "n_users": self.n_users, "n_items": self.n_items, "has_seen": self.seen is not None,
                    "has_item_market": self.item_market is not None}
        (directory / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        return directory

    @classmethod
    def load(cls, directory: str | Path, device: str = "cpu") -> "TwoStageRecommender":
        """Rebuild a recommender written by :meth:`save` (onto ``device``)."""
        directory = Path(directory)
        if not (directory / MANIFEST).is_file():
            raise FileNotFoundError(f"{directory} holds no {MANIFEST}; save a recommender there first")
        manifest = json.loads((directory / MANIFEST).read_text())
        if manifest.get("format_version") != FORMAT_VERSION:
            raise ServingInputError(f"{directory / MANIFEST}: format_version {manifest.get('format_version')!r}, "
                                    f"this code reads {FORMAT_VERSION}")
        head = HEADS.build(**manifest["head"]).to(device)
        head.load_state_dict(torch.load(directory / "head.pt", map_location=device, weights_only=True))
        return cls(
            torch.from_numpy(np.load(directory / "user_emb.npy")).to(device),
            torch.from_numpy(np.load(directory / "item_emb.npy")).to(device),
            head,
            n_candidates=manifest["n_candidates"],
            seen=sp.load_npz(directory / "seen.npz") if manifest["has_seen"] else None,
            popularity=np.load(directory / "popularity.npy"),
            item_market=np.load(directory / "item_market.npy") if manifest["has_item_market"] else None,
        )


def _mask_rows_(scores: torch.Tensor, rows: sp.csr_matrix) -> None:
    """Set ``scores[r, j] = -inf`` for the stored entries ``(r, j)`` of ``rows``."""
    row_index = np.repeat(np.arange(rows.shape[0]), np.diff(rows.indptr))
    index = (torch.from_numpy(row_index).to(scores.device),
             torch.from_numpy(rows.indices.astype(np.int64)).to(scores.device))
    scores.index_put_(index, torch.tensor(-torch.inf, dtype=scores.dtype, device=scores.device))


def _non_negative_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ServingInputError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    if value < 0:
        raise ServingInputError(f"{name} must be non-negative, got {value}")
    return int(value)


def _binary_csr(matrix: sp.spmatrix, shape: tuple[int, int]) -> sp.csr_matrix:
    if not sp.issparse(matrix) or matrix.shape != shape:
        raise ServingInputError(f"seen must be a scipy.sparse n_users x n_items matrix of shape {shape}, got "
                                f"{getattr(matrix, 'shape', type(matrix).__name__)}")
    csr = sp.csr_matrix(matrix, dtype=np.float32)
    csr.sum_duplicates()
    csr.data[:] = 1.0
    return csr


def _vector(values: np.ndarray, n: int, name: str) -> np.ndarray:
    values = np.asarray(values)
    if values.shape != (n,):
        raise ServingInputError(f"{name} must have one entry per product ({n}), got shape {values.shape}")
    return values
