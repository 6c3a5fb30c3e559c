"""Recall and latency of the two-stage recommender (xrec_lib.serving) of paper 000.

**Recall** (trained model, held-out test interactions): paper-shaped synthetic data (the paper preset with every
count times ``--scale``, standard = "sufficient" scenario, seed 0), a Siamese GCN encoder trained as in notebook 01
and a BLA head trained on its frozen vectors as in notebook 02 (:mod:`xrec_lib.studies.paper000.interaction`).
Recall@20 of the target-domain test interactions (training interactions excluded) is measured on the same seeded
``--eval-users`` test users for

* the two-stage path at each ``C``: the ``C`` products with the largest inner product, reranked by BLA;
* BLA scoring of every target product (the reference the two-stage path approximates);
* the inner product alone (the retrieval stage's own ranking).

``agreement_with_full_BLA`` is ``|two-stage top-20 ∩ full-BLA top-20| / 20`` averaged over those users, so
``recall(full BLA) - recall(two-stage)`` is the recall lost by reranking only the top ``C`` candidates.

**Latency** at paper 000's catalogue (65,832 products, 64 dimensions), one request at a time,
``torch.set_num_threads(1)``: p50 / p99 wall time of ``TwoStageRecommender.recommend(user, 20)`` for each ``C`` and
of BLA on every product followed by ``torch.topk``. The trained head and user vectors are used; the 65,832
product vectors are rows of the trained product vectors drawn with replacement plus Gaussian jitter (the cost
does not depend on the values). Run: ``python benchmarks/bench_serving.py``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

from xrec_lib.evaluate import evaluate_embeddings, evaluate_full_ranking
from xrec_lib.metrics import RankingResult
from xrec_lib.serving import TwoStageRecommender, full_head_scores
from xrec_lib.studies.paper000.head_training import fit_head
from xrec_lib.studies.paper000.interaction import InteractionSettings
from xrec_lib.studies.paper000.representation import train_with_holdout
from xrec_lib.studies.paper000.tasks import Method, TargetTask, binary, synthetic_dataset
from xrec_lib.training.encoders import embeddings

N_PRODUCTS, K = 65_832, 20


def trained_model(settings: InteractionSettings,
                  seed: int) -> tuple[TargetTask, torch.Tensor, torch.Tensor, Method]:
    """Standard-scenario task, Siamese GCN vectors (items = target products) and the BLA head trained on them."""
    task = TargetTask.from_dataset(synthetic_dataset(settings.synthetic_scale, "sufficient", seed))
    encoder, _ = train_with_holdout("Siamese GCN", task.dataset, settings.encoder_settings(), seed)
    user_emb, item_emb = embeddings(encoder)
    item_emb = item_emb[torch.from_numpy(task.items)]
    head, _ = fit_head("BLA", user_emb, item_emb, task.train, settings, seed)
    return task, user_emb, item_emb, Method("BLA", user_emb, item_emb, head)


def test_subset(test: sp.csr_matrix, n_users: int, seed: int) -> sp.csr_matrix:
    """``test`` restricted to ``n_users`` seeded random users that have a test interaction."""
    candidates = np.flatnonzero(np.diff(test.indptr) > 0)
    chosen = np.random.default_rng(seed).permutation(candidates)[:n_users]
    keep = np.zeros(test.shape[0], dtype=np.float32)
    keep[chosen] = 1
    return binary(sp.diags(keep) @ test)


def recall_table(task: TargetTask, bla: Method, candidates: list[int], test: sp.csr_matrix) -> pd.DataFrame:
    """Recall@K on ``test`` and agreement with full-BLA top-K, per ranking path (module docstring)."""
    def score_all(users: torch.Tensor) -> torch.Tensor:
        return full_head_scores(bla.head, bla.user_emb, bla.item_emb, users)

    full = evaluate_full_ranking(score_all, test, task.train, [K], chunk_size=16)
    results = {f"two-stage, C = {c}": bla.rank(task, [K], c, test) for c in candidates}
    results["BLA on every product"] = full
    results["inner product only"] = evaluate_embeddings(bla.user_emb, bla.item_emb, test, task.train, [K])
    return pd.DataFrame([{"path": path, f"recall@{K}": result.summary()[K]["recall"],
                          "agreement_with_full_BLA": agreement(result, full)} for path, result in results.items()]
                        ).set_index("path")


def agreement(result: RankingResult, reference: RankingResult) -> float:
    """Mean over users of ``|top-K ∩ reference top-K| / K`` (both results over the same users)."""
    np.testing.assert_array_equal(result.users, reference.users)
    return float(np.mean([len(set(a[:K]) & set(b[:K])) / K
                          for a, b in zip(result.top_items, reference.top_items)]))


def catalogue_vectors(item_emb: torch.Tensor, seed: int) -> torch.Tensor:
    """``N_PRODUCTS`` rows of ``item_emb`` drawn with replacement, plus Gaussian jitter of 10 % of their scale."""
    generator = torch.Generator().manual_seed(seed)
    rows = item_emb[torch.randint(0, len(item_emb), (N_PRODUCTS,), generator=generator)]
    return rows + 0.1 * rows.std() * torch.randn(rows.shape, generator=generator)


def latency_ms(function, users: list[int]) -> tuple[float, float]:
    """p50 and p99 of single-request wall times in milliseconds (after 5 warm-up calls)."""
    for user in users[:5]:
        function(user)
    times = []
    for user in users:
        start = time.perf_counter()
        function(user)
        times.append((time.perf_counter() - start) * 1e3)
    return float(np.percentile(times, 50)), float(np.percentile(times, 99))


def latency_table(bla: Method, candidates: list[int], n_requests: int, n_full: int, seed: int) -> pd.DataFrame:
    """p50 / p99 latency per path at the full catalogue (module docstring)."""
    item_emb = catalogue_vectors(bla.item_emb, seed)
    users = np.random.default_rng(seed).choice(len(bla.user_emb), n_requests, replace=False).tolist()
    rows = []
    for n_candidates in candidates:
        recommender = TwoStageRecommender(bla.user_emb, item_emb, bla.head, n_candidates=n_candidates)
        rows.append((f"two-stage, C = {n_candidates}", *latency_ms(lambda u: recommender.recommend(u, K), users)))

    def full_top(user: int) -> torch.Tensor:
        return torch.topk(full_head_scores(bla.head, bla.user_emb, item_emb, torch.tensor([user]))[0], K).indices

    rows.append(("BLA on every product", *latency_ms(full_top, users[:n_full])))
    return pd.DataFrame(rows, columns=["path", "p50_ms", "p99_ms"]).set_index("path")


def main() -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.05, help="synthetic data: paper counts times this")
    parser.add_argument("--encoder-epochs", type=int, default=10)
    parser.add_argument("--head-epochs", type=int, default=10)
    parser.add_argument("--eval-users", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--full-requests", type=int, default=20)
    parser.add_argument("--candidates", type=int, nargs="+", default=[100, 200, 500, 1000])
    args = parser.parse_args()
    torch.set_num_threads(1)
    started = time.perf_counter()
    settings = InteractionSettings(synthetic_scale=args.scale, dim=64, encoder_epochs=args.encoder_epochs,
                                   encoder_batch_size=8192, encoder_lr=0.005, head_epochs=args.head_epochs,
                                   head_lr=0.002, n_negatives=4)
    task, _, _, bla = trained_model(settings, seed=0)
    trained = time.perf_counter()
    test = test_subset(task.test, args.eval_users, seed=0)
    recall = recall_table(task, bla, args.candidates, test)
    evaluated = time.perf_counter()
    latency = latency_table(bla, args.candidates, args.requests, args.full_requests, seed=0)
    table = recall.join(latency, how="outer").loc[[*latency.index, "inner product only"]]
    n_test_users = int(np.count_nonzero(np.diff(test.indptr)))
    print(f"recall: synthetic paper preset x {args.scale:g} ({task.train.shape[0]:,} users, {len(task.items):,} "
          f"target products, {task.train.nnz:,} target training interactions), {n_test_users} test users; "
          f"training {trained - started:.0f} s, recall evaluation {evaluated - trained:.0f} s")
    print(f"latency: {N_PRODUCTS:,} products x 64 dims, 1 thread, {args.requests} requests per C "
          f"({args.full_requests} for BLA on every product); {time.perf_counter() - evaluated:.0f} s")
    print(table.to_markdown(floatfmt=".3f"))
    return table


if __name__ == "__main__":
    main()
