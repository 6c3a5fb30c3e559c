"""Data-parallel training on CPU: 1 process against 2 gloo processes on the same global batch and seed.

Trains LightGCN (BPR, full-ranking validation every epoch) on the training interactions of the paper-000
generator at smoke scale (``SyntheticCrossDomainConfig.smoke()``, data seed 0) with the command line of
:mod:`xrec_lib.training.distributed`, once in one process and twice under ``torchrun --nproc_per_node=2`` (gloo,
one torch thread per process): with ``--sampling global`` (every rank draws the negatives of the whole global
batch from the shared stream, so both runs train on the same triplets) and ``--sampling rank`` (each rank draws
its part's negatives from its own stream). Every run trains the same number of epochs (patience = epoch cap).
The three runs are repeated ``--repeats`` times in turn and each reports its best speed (the machine may be
shared: the best of the repeats is the least disturbed).

Printed (markdown): steps per second (optimisation steps over the summed per-epoch training seconds of rank 0:
batches, negatives, propagation, backward with the gradient all-reduce, Adam; validation left out), seconds per
epoch with validation, the best validation NDCG@20, and the largest absolute difference of the per-epoch
training loss from the 1-process curve with its tolerance: ``1e-4`` with ``global`` sampling (same triplets; the
curves differ only by the order of floating-point sums), ``0.02`` with ``rank`` sampling (other negatives: the
curves agree up to sampling noise). The exit status is 1 when a difference exceeds its tolerance.

    python benchmarks/bench_ddp.py --epochs 8 --batch-size 2048
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

TOLERANCE = {"global": 1e-4, "rank": 0.02}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(processes: int, sampling: str, args: argparse.Namespace, folder: Path) -> dict:
    """Train once; the results JSON of rank 0."""
    out = folder / f"p{processes}_{sampling}.json"
    train = ["-m", "xrec_lib.training.distributed", "--model", args.model, "--data", args.data,
             "--epochs", str(args.epochs), "--patience", str(args.epochs), "--batch-size", str(args.batch_size),
             "--dim", str(args.dim), "--layers", str(args.layers), "--lr", str(args.lr), "--seed", str(args.seed),
             "--sampling", sampling, "--threads", "1", "--quiet", "--out", str(out)]
    launcher = [] if processes == 1 else ["-m", "torch.distributed.run", f"--nproc_per_node={processes}",
                                          f"--master_port={free_port()}"]
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    command = [sys.executable, *launcher, *train]
    started = time.perf_counter()
    completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=args.timeout)
    if completed.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{completed.stderr[-3000:]}")
    results = json.loads(out.read_text())
    results["process_wall_s"] = time.perf_counter() - started
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="lightgcn")
    parser.add_argument("--data", default="smoke")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=2048, help="global batch")
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--lr", type=float, default=5e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=2, help="rounds of the three runs; the best speed counts")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per run at most")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rounds = [[run(1, "global", args, folder), run(2, "global", args, folder), run(2, "rank", args, folder)]
                  for _ in range(args.repeats)]
    runs = rounds[0]
    for position, result in enumerate(runs):
        repeats = [round_[position] for round_ in rounds]
        result["all_steps_per_s"] = [r["steps_per_s"] for r in repeats]
        result["all_wall_s"] = [r["process_wall_s"] for r in repeats]
        result["steps_per_s"] = max(result["all_steps_per_s"])
        result["seconds_per_epoch"] = min(r["history"][-1]["elapsed_s"] / len(r["history"]) for r in repeats)
        result["same_losses"] = all([row["loss"] for row in r["history"]] == [row["loss"] for row in result["history"]]
                                    for r in repeats)
    single = runs[0]
    reference = np.array([row["loss"] for row in single["history"]])

    command = "python benchmarks/bench_ddp.py " + " ".join(sys.argv[1:])
    print(f"# Data-parallel training on CPU: 1 process against 2 gloo processes\n")
    print(f"`{command.strip()}`, {datetime.date.today().isoformat()}, torch {torch.__version__}, "
          f"Python {platform.python_version()}, {os.cpu_count()} CPU cores, load average before the runs "
          f"{LOAD_BEFORE}, one torch thread per process.\n")
    print(f"{args.model} (dim {args.dim}, {args.layers} layers) on `--data {args.data}` "
          f"({single['n_users']:,} users x {single['n_items']:,} items, {single['n_train']:,} training and "
          f"{single['n_valid']:,} validation interactions), global batch {args.batch_size} "
          f"({single['steps_per_epoch']} steps per epoch), {args.epochs} epochs, seed {args.seed}.\n")
    print(f"Steps/s and s/epoch: best of {args.repeats} rounds.\n")
    print("| processes | sampling | local batch | steps/s | speed-up | s/epoch with validation | "
          "best val NDCG@20 | max abs loss difference to 1 process | tolerance | within |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    failed = False
    for result in runs:
        losses = np.array([row["loss"] for row in result["history"]])
        world = result["world_size"]
        elapsed = result["seconds_per_epoch"]
        if world == 1:
            difference, tolerance, within = "-", "-", "-"
        else:
            gap = float(np.abs(losses - reference).max())
            tol = TOLERANCE[result["sampling"]]
            failed |= not gap <= tol
            difference, tolerance, within = f"{gap:.2e}", f"{tol:g}", "yes" if gap <= tol else "NO"
        print(f"| {world} | {result['sampling'] if world > 1 else '-'} | {args.batch_size // world} | "
              f"{result['steps_per_s']:.1f} | {result['steps_per_s'] / single['steps_per_s']:.2f} | "
              f"{elapsed:.2f} | {result['best_score']:.4f} | {difference} | {tolerance} | {within} |")
    print("\nPer-epoch training loss:\n")
    print("| epoch | " + " | ".join(f"{r['world_size']} proc. {r['sampling'] if r['world_size'] > 1 else ''}".strip()
                                    for r in runs) + " |")
    print("|---" * (len(runs) + 1) + "|")
    for epoch, row in enumerate(single["history"]):
        print(f"| {epoch + 1} | " + " | ".join(f"{r['history'][epoch]['loss']:.6f}" for r in runs) + " |")
    print("\nEvery round, per run (1 process; 2 global; 2 rank): steps/s "
          + "; ".join(", ".join(f"{v:.1f}" for v in r["all_steps_per_s"]) for r in runs)
          + "; wall seconds with interpreter start, imports and data generation "
          + "; ".join(", ".join(f"{v:.0f}" for v in r["all_wall_s"]) for r in runs)
          + ". Same loss curves in every round: " + ("yes" if all(r["same_losses"] for r in runs) else "NO") + ".")
    return 1 if failed else 0


LOAD_BEFORE = "n/a"

if __name__ == "__main__":
    if hasattr(os, "getloadavg"):
        LOAD_BEFORE = " / ".join(f"{value:.1f}" for value in os.getloadavg())
    sys.exit(main())
