"""Time one training epoch of our graph encoders beside a plain PyG LightGCN on ``edge_index``.

Graph: paper 000's training scale, 52,516 users x 65,832 products with 747,186 distinct random training
interactions (user-product graph). Ours: :func:`xrec_lib.training.encoders.train_encoder` (CSR propagation, one
propagation per step) for LightGCN and the Siamese GCN; reference: ``torch_geometric.nn.models.LightGCN`` on
``edge_index`` with its ``recommendation_loss`` (BPR), same batch size, same uniform negatives, Adam, trained by
the same loop (:func:`xrec_lib.training.loop.fit`). ``--batches N`` times N steps of
each (once-per-epoch work excluded on both sides) and extrapolates to a full epoch
(``ceil(747,186 / batch_size)`` steps). Prints a table with absolute times,
the ratio to the reference and the peak resident memory of the process after each model.

    python benchmarks/bench_encoder_epoch.py --batches 5 --batch-size 8192 --threads 2
"""

from __future__ import annotations

import argparse
import math
import resource
import time

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from torch_geometric.nn.models import LightGCN as PygLightGCN

from xrec_lib.models import GraphData, LightGCN, SiameseGCN
from xrec_lib.training import LoopConfig, Objective, fit
from xrec_lib.training.encoders import EncoderTrainConfig, train_encoder
from xrec_lib.training.negatives import interaction_keys, sample_negatives

N_USERS, N_ITEMS, N_TRAIN = 52_516, 65_832, 747_186


def random_interactions(seed: int) -> sp.csr_matrix:
    """``N_TRAIN`` distinct uniform user-item pairs."""
    rng = np.random.default_rng(seed)
    keys = np.unique(rng.integers(0, N_USERS * N_ITEMS, int(N_TRAIN * 1.01)))
    keys = rng.permutation(keys)[:N_TRAIN]
    return sp.csr_matrix((np.ones(N_TRAIN, np.float32), (keys // N_ITEMS, keys % N_ITEMS)), shape=(N_USERS, N_ITEMS))


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def time_fit(model, train: sp.csr_matrix, batches: int, batch_size: int) -> float:
    """Wall seconds of one :func:`train_encoder` epoch of ``batches`` steps."""
    started = time.perf_counter()
    train_encoder(model, train, None, EncoderTrainConfig(epochs=1, batch_size=batch_size, max_batches=batches))
    return time.perf_counter() - started


def time_ours(model, train: sp.csr_matrix, batches: int, batch_size: int) -> float:
    """Seconds per step of :func:`train_encoder`: ``(T(1 + batches) - T(1)) / batches`` after a warm-up call, so
    the once-per-epoch work (batch order, negative-sampling keys, best-state copy) is left out as for the
    reference."""
    time_fit(model, train, 1, batch_size)
    return (time_fit(model, train, 1 + batches, batch_size) - time_fit(model, train, 1, batch_size)) / batches


class ReferenceObjective(Objective):
    """PyG LightGCN on edge_index (BPR via ``recommendation_loss``): ``steps`` random batches with uniform
    negatives; the wall time of each step (batch drawing, forward, backward, Adam) is kept in ``times``."""

    def __init__(self, train: sp.csr_matrix, steps: int, batch_size: int, dim: int, layers: int):
        coo = train.tocoo()
        self.train, self.steps, self.batch_size, self.rows = train, steps, batch_size, coo.row
        self.users, self.items = coo.row.astype(np.int64), coo.col.astype(np.int64) + N_USERS
        self.edge_index = torch.from_numpy(np.stack([np.concatenate([self.users, self.items]),
                                                     np.concatenate([self.items, self.users])]))
        self.module = PygLightGCN(N_USERS + N_ITEMS, dim, layers)
        self.rng, self.keys = np.random.default_rng(0), interaction_keys(train)
        self.times: list[float] = []

    def batches(self, epoch: int):
        for _ in range(self.steps):
            self.started = time.perf_counter()
            batch = self.rng.integers(0, self.train.nnz, self.batch_size)
            negatives = sample_negatives(self.rows[batch], self.train, self.rng, keys=self.keys) + N_USERS
            yield torch.from_numpy(np.stack([self.users[batch], self.items[batch], negatives]))

    def loss(self, label_index: torch.Tensor) -> torch.Tensor:
        out = self.module(self.edge_index, torch.cat([label_index[[0, 1]], label_index[[0, 2]]], 1))
        positive, negative = out.chunk(2)
        return self.module.recommendation_loss(positive, negative, node_id=label_index.flatten().unique(),
                                               lambda_reg=1e-4)

    def after_step(self, batch) -> None:
        self.times.append(time.perf_counter() - self.started)


def time_reference(train: sp.csr_matrix, batches: int, batch_size: int, dim: int, layers: int) -> float:
    """Seconds per step of PyG LightGCN on edge_index (:class:`ReferenceObjective`), one warm-up step."""
    objective = ReferenceObjective(train, batches + 1, batch_size, dim, layers)
    fit(objective, LoopConfig(max_epochs=1, lr=5e-3))
    return float(np.mean(objective.times[1:]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=5, help="timed steps per model (then extrapolated)")
    parser.add_argument("--batch-size", type=int, default=8192)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    train = random_interactions(0)
    graph = GraphData.from_interactions(train)
    steps = math.ceil(N_TRAIN / args.batch_size)
    rows = []
    reference = time_reference(train, args.batches, args.batch_size, args.dim, 3)
    rows.append(("PyG LightGCN, edge_index (reference)", reference, peak_rss_gb()))
    for name, model in (("ours: LightGCN, CSR, 3 layers", LightGCN(graph, args.dim, 3)),
                        ("ours: Siamese GCN, CSR, 2 layers", SiameseGCN(graph, args.dim, 2))):
        rows.append((name, time_ours(model, train, args.batches, args.batch_size), peak_rss_gb()))
    table = pd.DataFrame(rows, columns=["model", "s_per_step", "peak_rss_gb"])
    table["epoch_s (extrapolated)"] = table["s_per_step"] * steps
    table["ratio_to_reference"] = table["s_per_step"] / reference
    print(f"{N_USERS} users x {N_ITEMS} items, {N_TRAIN} training interactions, batch {args.batch_size} "
          f"({steps} steps per epoch), {args.threads} threads, {args.batches} timed steps each")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
