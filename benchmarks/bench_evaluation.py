"""Speed of the chunked full-ranking evaluator next to a plain ``user_emb @ item_emb.T`` of the same shape.

Synthetic data: random 64-d embeddings, a random training mask (about 747k entries at full scale, scaled with the
number of users) and random test items (every user gets at least one, so every user is ranked). Full scale is the
paper-000 graph size, 52,516 users x 65,832 items, top-20.

    python benchmarks/bench_evaluation.py --threads 2              # paper scale
    python benchmarks/bench_evaluation.py --scale 0.1 --threads 1  # quick run

The single product at paper scale needs about 13 GiB for its output; it is skipped when that much memory is not
available, and the ratios then refer to the chunked product.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
import torch

from xrec_lib.evaluate import evaluate_embeddings
from xrec_lib.metrics import mask_excluded_

PAPER_USERS, PAPER_ITEMS, PAPER_TRAIN_ENTRIES = 52_516, 65_832, 747_000
TEST_ENTRIES_PER_USER = 4


def random_interactions(n_users: int, n_items: int, n_entries: int, rng: np.random.Generator) -> sp.csr_matrix:
    """Synthetic binary matrix with about ``n_entries`` random entries and at least one entry per user."""
    users = np.concatenate([np.arange(n_users), rng.integers(0, n_users, max(n_entries - n_users, 0))])
    items = rng.integers(0, n_items, len(users))
    matrix = sp.csr_matrix((np.ones(len(users), dtype=np.int8), (users, items)), shape=(n_users, n_items))
    matrix.data[:] = 1
    return matrix


def available_memory_bytes() -> int:
    with open("/proc/meminfo") as meminfo:
        fields = dict(line.split(":", 1) for line in meminfo)
    return int(fields["MemAvailable"].split()[0]) * 1024


def timed(function: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    output = function()
    return time.perf_counter() - start, output


def chunked_matmul(user_emb: torch.Tensor, item_emb: torch.Tensor, chunk_size: int) -> None:
    """The same product computed chunk by chunk into one reused buffer (no masking, no ranking)."""
    buffer = torch.empty(chunk_size, item_emb.shape[0])
    for start in range(0, user_emb.shape[0], chunk_size):
        chunk = user_emb[start : start + chunk_size]
        torch.mm(chunk, item_emb.T, out=buffer[: len(chunk)])


def chunked_torch_topk(user_emb: torch.Tensor, item_emb: torch.Tensor, train: sp.csr_matrix, k: int,
                       chunk_size: int) -> None:
    """Chunked product + masking + plain ``torch.topk`` over every item (the selection the evaluator avoids)."""
    buffer = torch.empty(chunk_size, item_emb.shape[0])
    for start in range(0, user_emb.shape[0], chunk_size):
        users = np.arange(start, min(start + chunk_size, user_emb.shape[0]))
        scores = torch.mm(user_emb[users], item_emb.T, out=buffer[: len(users)])
        torch.topk(mask_excluded_(scores, users, train), k, dim=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the paper's users and items")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    parser.add_argument("--chunk-size", type=int, default=1024)
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    rng = np.random.default_rng(args.seed)
    n_users, n_items = round(PAPER_USERS * args.scale), round(PAPER_ITEMS * args.scale)
    train = random_interactions(n_users, n_items, round(PAPER_TRAIN_ENTRIES * args.scale), rng)
    test = random_interactions(n_users, n_items, TEST_ENTRIES_PER_USER * n_users, rng)
    generator = torch.Generator().manual_seed(args.seed)
    user_emb = torch.randn(n_users, args.dim, generator=generator)
    item_emb = torch.randn(n_items, args.dim, generator=generator)
    torch.mm(user_emb[:256], item_emb.T)  # warm-up of the BLAS library

    shape = f"{n_users}x{n_items}x{args.dim}"
    print(f"synthetic data: {shape}, train entries {train.nnz:,}, test entries {test.nnz:,}, "
          f"top-{args.k}, threads {args.threads}, chunk size {args.chunk_size}")
    rows = []
    needed = 4 * n_users * n_items
    if available_memory_bytes() > needed + 2 * 1024**3:
        seconds, product = timed(lambda: user_emb @ item_emb.T)
        del product
        rows.append(("matmul user_emb @ item_emb.T (single product)", seconds))
    else:
        print(f"single product skipped: it needs {needed / 1024**3:.1f} GiB and that much memory is not free")
    seconds, _ = timed(lambda: chunked_matmul(user_emb, item_emb, args.chunk_size))
    rows.append(("matmul in chunks into one buffer", seconds))
    seconds, result = timed(lambda: evaluate_embeddings(user_emb, item_emb, test, train, [args.k], args.chunk_size))
    rows.append((f"evaluate_embeddings (mask, top-{args.k}, metrics)", seconds))
    seconds, _ = timed(lambda: chunked_torch_topk(user_emb, item_emb, train, args.k, args.chunk_size))
    rows.append(("chunked matmul + mask + torch.topk only", seconds))

    baseline = rows[0][1]
    print(f"\n{'method':<48} {'shape':<20} {'seconds':>8} {'ratio':>7}")
    for method, seconds in rows:
        print(f"{method:<48} {shape:<20} {seconds:8.2f} {seconds / baseline:7.2f}")
    print(f"\nratio = seconds / '{rows[0][0]}'; recall@{args.k} of the random model: "
          f"{result.summary()[args.k]['recall']:.5f} (chance level {args.k / n_items:.5f})")


if __name__ == "__main__":
    main()
