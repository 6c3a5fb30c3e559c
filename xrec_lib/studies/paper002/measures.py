"""What Table 1 measures of a fitted model (a *scorer*: subgraph batch -> ``B x C`` logits or decision values).

* ``accuracy`` = top-1 accuracy: share of examples whose highest-scoring class is the label (chance 1/C);
* ``auc`` = macro one-vs-rest ROC AUC of the softmax probabilities over the classes present in the examples
  (chance 0.5; for C = 2 the ROC AUC of the binary task);
* ``hr@10`` / ``ndcg@10``: on the next-category task, the rank of the true category among the C class scores
  (HR@10 = top-10 accuracy, NDCG@10 = ``1 / log2(rank + 2)`` within the top 10; chance HR@10 = 10/C); on the binary
  fallback, the sampled ranking protocol of :mod:`xrec_lib.evaluate` (per evaluated user one held-out test buy
  against 99 uniformly drawn products the user never touched, scored by ``logit_buy - logit_no_buy`` with the
  user's history before that buy);
* inference time (Table 1 "Times") = the median wall time of scoring one batch of 96 test examples (the paper's
  batch size), measured in this process.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from torch import nn

from xrec_lib.errors import DataError
from xrec_lib.evaluate import evaluate_sampled, global_auc, sample_candidates
from xrec_lib.models.gconv_transform import SubgraphBatch
from xrec_lib.studies.paper002.task import CATEGORY_TARGET, ExampleSet, Task

TIMING_BATCH = 96
Scorer = Callable[[SubgraphBatch], torch.Tensor]


def score_examples(scorer: Scorer, examples: ExampleSet, device: str, batch_size: int = 1024) -> np.ndarray:
    """``n x C`` scores (logits / decision values) of every example, in order."""
    if isinstance(scorer, nn.Module):
        scorer.eval()
    with torch.no_grad():
        return torch.cat([scorer(examples.batch(slice(i, i + batch_size)).to(device)).cpu()
                          for i in range(0, len(examples), batch_size)]).numpy()


def macro_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Macro one-vs-rest ROC AUC of the softmax of ``scores`` over the classes with both positive and negative
    examples (NaN when none has)."""
    probabilities = torch.softmax(torch.from_numpy(scores).double(), dim=1).numpy()
    values = [global_auc(labels == k, probabilities[:, k]) for k in np.unique(labels)
              if 0 < (labels == k).sum() < len(labels)]
    return float(np.mean(values)) if values else float("nan")


def classification_metrics(scorer: Scorer, examples: ExampleSet, device: str) -> dict[str, float]:
    """Top-1 accuracy and macro one-vs-rest ROC AUC (module docstring)."""
    scores, labels = score_examples(scorer, examples, device), examples.labels.numpy()
    return {"accuracy": float((scores.argmax(1) == labels).mean()), "auc": macro_auc(labels, scores)}


def class_ranking_metrics(scores: np.ndarray, labels: np.ndarray, k: int = 10) -> dict[str, float]:
    """HR@k and NDCG@k of the true class among the ``C`` class scores (ties count against the label)."""
    rank = (scores > scores[np.arange(len(labels)), labels][:, None]).sum(1)
    hit = rank < k
    return {f"hr@{k}": float(hit.mean()), f"ndcg@{k}": float(np.where(hit, 1 / np.log2(rank + 2), 0.0).mean())}


def ranking_metrics(scorer: Scorer, task: Task, n_users: int, n_negatives: int, seed: int,
                    device: str) -> dict[str, float]:
    """HR@10 / NDCG@10 (module docstring): of the true category among the classes on the next-category task; on the
    binary fallback, sampled over up to ``n_users`` users with a test buy and >= ``n_negatives`` untouched
    products."""
    if task.target == CATEGORY_TARGET:
        return class_ranking_metrics(score_examples(scorer, task.test, device), task.test.labels.numpy())
    free = task.n_items - np.diff(task.interacted.indptr)
    targets = task.test_targets[free[task.test_targets["user"]] >= n_negatives]
    if targets.empty:
        raise DataError(f"{task.name}: no test user has {n_negatives} untouched products; lower n_negatives")
    users = np.sort(np.random.default_rng(seed).choice(targets["user"].unique(),
                                                       min(n_users, targets["user"].nunique()), replace=False))
    chosen = targets[targets["user"].isin(users)]
    test = sp.csr_matrix((np.ones(len(chosen)), (chosen["user"], chosen["item"])), shape=task.interacted.shape)
    candidates = sample_candidates(test, task.interacted, n_negatives, seed)
    first_time = chosen.set_index(["user", "item"])["time"]

    def score(users_t: torch.Tensor, items_t: torch.Tensor) -> torch.Tensor:
        u, items = users_t.numpy(), items_t.numpy()
        times = first_time.reindex(pd.MultiIndex.from_arrays([u, items[:, 0]])).to_numpy()
        examples = task.history.examples(np.repeat(u, items.shape[1]), np.repeat(times, items.shape[1]),
                                         items.ravel(), np.zeros(items.size))
        scores = score_examples(scorer, examples, device)
        return torch.from_numpy(scores[:, 1] - scores[:, 0]).reshape(items.shape)

    result = evaluate_sampled(score, candidates, ks=(10,), chunk_size=256)[10]
    return {"hr@10": result["hr"], "ndcg@10": result["ndcg"]}


def inference_ms(scorer: Scorer, examples: ExampleSet, device: str, repeats: int) -> float:
    """Median wall time (ms) of scoring the first 96 examples, after one warm-up call."""
    batch = examples.batch(slice(0, TIMING_BATCH)).to(device)
    timings = []
    with torch.no_grad():
        scorer(batch)
        for _ in range(repeats):
            start = time.perf_counter()
            scorer(batch)
            if device == "cuda":
                torch.cuda.synchronize()
            timings.append(1000 * (time.perf_counter() - start))
    return float(np.median(timings))
