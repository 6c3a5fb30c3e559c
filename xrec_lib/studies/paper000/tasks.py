"""Paper 000, stage 2: the target-domain task of notebook 02, the ranking methods on it, its business-scenario
slices and ROC pairs.

* **Recommendation task** (:class:`TargetTask`): the target (B2C) domain. Items are the target-domain products;
  test positives are the target-domain test interactions; training interactions are excluded from every list.
  Source-domain data reach the target task only through the embeddings.
* **Slices** (:class:`Slices`, Fig. 12-14): *high-value potential users* = the top ``high_value_share`` (20 %) of
  users by number of target-domain training interactions (ties: lower id first); *long-tail products* = target
  products outside the ``ceil(0.2 * n)`` most popular by training users
  (:func:`xrec_lib.evaluate.long_tail_item_mask`), scored against the long-tail test items only (users without one
  are left out); *cold start* = users with at most ``cold_start_max`` training interactions over both domains
  (:func:`xrec_lib.evaluate.cold_start_user_mask`).
* **Methods** (:class:`Method`): frozen embeddings and an interaction head, ranking the target products by the
  two-stage path of :mod:`xrec_lib.serving` (``C`` products retrieved by inner product, reranked by the head), or
  every product by inner product for the ``dot`` head.
* **ROC pairs** (:func:`roc_pairs`, Fig. 11(b), 14(c)): every target test pair (label 1) and as many uniform target
  products the user never interacted with (label 0, :func:`xrec_lib.training.negatives.sample_negatives`).
* **Validation** (:meth:`TargetTask.holdout`): the same task with a seeded share of the target training pairs held
  out as its test set (:func:`xrec_lib.training.encoders.split_validation`); heads fit on the rest and stop early on
  the held-out pairs.
* **Reference levels** (:func:`reference_rows`): every metric of every slice under a random and a perfect ranking
  of the task (:func:`xrec_lib.studies.paper000.verdicts.reference_results`), for the verdicts' at-chance rule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp
import torch

from xrec_lib.data.crossdomain import TARGET, CrossDomainDataset
from xrec_lib.data.synthetic_crossdomain import generate_crossdomain
from xrec_lib.evaluate import cold_start_user_mask, evaluate_embeddings, evaluate_full_ranking, long_tail_item_mask
from xrec_lib.metrics import RankingResult, as_binary_csr, ranking_result
from xrec_lib.models.interaction import InteractionHead
from xrec_lib.serving import two_stage_scores
from xrec_lib.studies.paper000.representation import scaled_synthetic_config
from xrec_lib.studies.paper000.verdicts import reference_results
from xrec_lib.training.encoders import split_validation
from xrec_lib.training.negatives import sample_negatives

RANKING_METRICS = ("hr", "recall", "precision", "ndcg", "map")


def binary(matrix: sp.spmatrix) -> sp.csr_matrix:
    """``matrix`` as a binary CSR matrix of the same shape."""
    return as_binary_csr(matrix, matrix.shape, "interactions")


@dataclass
class TargetTask:
    """The target-domain recommendation task of one data set (module docstring)."""

    dataset: CrossDomainDataset
    train_all: sp.csr_matrix
    items: np.ndarray
    train: sp.csr_matrix
    test: sp.csr_matrix

    @classmethod
    def from_dataset(cls, dataset: CrossDomainDataset) -> "TargetTask":
        items = np.flatnonzero(dataset.product_domain == TARGET)
        train_all = binary(dataset.interaction_matrix("train"))
        return cls(dataset, train_all, items, binary(train_all[:, items]),
                   binary(dataset.interaction_matrix("test")[:, items]))

    def holdout(self, fraction: float, seed: int) -> "TargetTask":
        """The validation task: ``train`` = the fitting part, ``test`` = a seeded ``fraction`` of the target
        training pairs (module docstring)."""
        fitting, valid = split_validation(self.train, fraction, seed)
        return replace(self, train=binary(fitting), test=binary(valid))


@dataclass(frozen=True)
class Method:
    """A ranking method on the target task: frozen embeddings (items = target products) and a head."""

    name: str
    user_emb: torch.Tensor
    item_emb: torch.Tensor
    head: InteractionHead

    def score_pairs(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Head logits of the given (user, target-product index) pairs."""
        with torch.no_grad():
            return self.head(self.user_emb[users], self.item_emb[items]).cpu().numpy()

    def rank(self, task: TargetTask, ks, n_candidates: int, test: sp.csr_matrix | None = None) -> RankingResult:
        """Full-ranking result: two-stage (retrieve ``C``, rerank) for a trained head, every item for ``dot``."""
        test = task.test if test is None else test
        if self.head.spec["name"] == "dot":
            return evaluate_embeddings(self.user_emb, self.item_emb, test, task.train, ks, chunk_size=512)
        head = self.head.eval()

        def score_users(users: torch.Tensor) -> torch.Tensor:
            return two_stage_scores(head, self.user_emb, self.item_emb, users, n_candidates, task.train)

        return evaluate_full_ranking(score_users, test, task.train, ks, chunk_size=256)


def synthetic_dataset(synthetic_scale: float, scenario: str, seed: int) -> CrossDomainDataset:
    """Paper-shaped synthetic data: the paper preset with every count times ``synthetic_scale`` (``scenario``:
    ``"sufficient"`` = the paper's standard data, or ``"sparse"``)."""
    return generate_crossdomain(scaled_synthetic_config(synthetic_scale, scenario), seed)


def subsample_users(dataset: CrossDomainDataset, max_users: int | None, seed: int) -> CrossDomainDataset:
    """The interactions (train and test) of ``max_users`` seeded random users; ids and catalogue unchanged, the
    sampled-protocol negatives dropped. ``None`` keeps every user."""
    if max_users is None or max_users >= dataset.n_users:
        return dataset
    kept = np.zeros(dataset.n_users, dtype=bool)
    kept[np.random.default_rng(seed).permutation(dataset.n_users)[:max_users]] = True
    return replace(dataset, name=f"{dataset.name} ({max_users} users)",
                   train=dataset.train.select(kept[dataset.train.user]),
                   test=dataset.test.select(kept[dataset.test.user]), sampled_users=None, sampled_negatives=None)


def positive_pairs(interactions: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """``(users, items)`` of the stored entries of ``interactions``."""
    coo = interactions.tocoo()
    return coo.row.astype(np.int64), coo.col.astype(np.int64)


def roc_pairs(task: TargetTask, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(users, items, labels)``: every target test pair (1) and as many uniform never-interacted products (0)."""
    users, items = positive_pairs(task.test)
    negatives = sample_negatives(users, binary(task.train + task.test), np.random.default_rng(seed))
    labels = np.concatenate([np.ones(len(users)), np.zeros(len(users))]).astype(np.int64)
    return np.concatenate([users, users]), np.concatenate([items, negatives]), labels


def high_value_user_mask(train: sp.csr_matrix, share: float) -> np.ndarray:
    """Users in the top ``share`` by target-domain training interactions (ties: lower id first; >= 1 interaction)."""
    counts = np.diff(train.indptr)
    top = np.argsort(-counts, kind="stable")[: math.ceil(share * len(counts))]
    mask = np.zeros(len(counts), dtype=bool)
    mask[top[counts[top] > 0]] = True
    return mask


@dataclass
class Slices:
    """User masks and the long-tail test matrix of one task (module docstring)."""

    high_value: np.ndarray
    cold_start: np.ndarray
    long_tail_test: sp.csr_matrix

    @classmethod
    def of(cls, task: TargetTask, high_value_share: float, cold_start_max: int) -> "Slices":
        tail = long_tail_item_mask(task.train, 0.2)
        return cls(high_value_user_mask(task.train, high_value_share),
                   cold_start_user_mask(task.train_all, cold_start_max),
                   binary(task.test @ sp.diags(tail.astype(np.float32))))

    def values(self, result: RankingResult) -> dict[str, dict[int, dict[str, np.ndarray]]]:
        """Per-user metric arrays ``{slice: {k: {metric: array}}}`` for all, high-value, cold-start, long-tail."""
        out = {"all": result.values}
        for name, mask in (("high-value users", self.high_value), ("cold-start users", self.cold_start)):
            selected = mask[result.users]
            out[name] = {k: {m: v[m][selected] for m in RANKING_METRICS} for k, v in result.values.items()}
        has_tail = np.diff(self.long_tail_test.indptr)[result.users] > 0
        tail = ranking_result(result.top_items[has_tail], result.users[has_tail], self.long_tail_test,
                              list(result.values))
        out["long-tail products"] = tail.values
        return out


def reference_rows(task: TargetTask, slices: "Slices | None", ks, seed: int) -> list[dict]:
    """``{slice, k, metric, chance, ideal}`` of every ranking metric on every slice (``"all"`` only without
    ``slices``): means over the slice's users of a random and of a perfect ranking (module docstring)."""
    random, perfect = reference_results(task.test, task.train, ks, seed,
                                        None if slices is None else slices.long_tail_test)
    levels = [slices.values(r) if slices is not None else {"all": r.values} for r in (random, perfect)]
    return [{"slice": name, "k": k, "metric": metric,
             "chance": float(by_k[k][metric].mean()) if len(by_k[k][metric]) else math.nan,
             "ideal": float(levels[1][name][k][metric].mean()) if len(levels[1][name][k][metric]) else math.nan}
            for name, by_k in levels[0].items() for k in by_k for metric in RANKING_METRICS]
