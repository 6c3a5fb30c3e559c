"""Peak memory and wall time of one full-scale training epoch of each paper-000 encoder, on this machine.

Data: the paper-000 synthetic generator at the paper's counts (``synthetic_scale`` 1.0 of the ``full`` profile of
notebook 01: 52,516 users, 65,832 products and their suppliers and sellers; ``--scenario`` sparse or sufficient),
drawn once and cached (:func:`xrec_lib.data.synthetic_crossdomain.generate_crossdomain_cached`). Training: the
``full`` profile's settings of notebook 01 with an epoch cap of 1, through the notebook's own path
(:func:`xrec_lib.studies.paper000.representation.train_with_holdout`: validation split, one epoch of BPR over every
training interaction, the target-domain validation ranking, the switch to the full training graph). Each encoder
runs in a fresh process, so its peak resident memory (``ru_maxrss``) is its own: the data, the graph, the model,
Adam's state, one epoch and the validation. Prints one table (and ``--out`` writes it as Markdown).

    python benchmarks/bench_full_scale_memory.py --threads 1 [--models GCN MF] [--out benchmarks/results/...md]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pandas as pd
import torch

from xrec_lib.config import load_config
from xrec_lib.data.synthetic_crossdomain import generate_crossdomain_cached
from xrec_lib.studies.paper000.representation import MODELS, scaled_synthetic_config, train_with_holdout
from xrec_lib.studies.paper000.settings import RepresentationSettings

NOTEBOOK = "01_siamese_gcn"
LIMIT_GB = 8.0


def peak_rss_gb() -> float:
    """Peak resident memory of this process so far (Linux: ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def settings(threads: int) -> RepresentationSettings:
    """The ``full`` profile's encoder settings of notebook 01, capped at one epoch."""
    config = load_config(NOTEBOOK, "full", overrides={"epochs": 1}, threads=threads, device="cpu")
    return RepresentationSettings.from_config(config, device="cpu")


def dataset(scenario: str, scale: float):
    return generate_crossdomain_cached(scaled_synthetic_config(scale, scenario), seed=0)


def worker(model: str, scenario: str, scale: float, threads: int) -> dict:
    """One epoch of ``model`` in this process; its time, steps and peak memory."""
    torch.set_num_threads(threads)
    data = dataset(scenario, scale)
    after_data = peak_rss_gb()
    started = time.perf_counter()
    _, fit = train_with_holdout(model, data, settings(threads), seed=0)
    return {"model": model, "epoch_s": round(time.perf_counter() - started, 1),
            "epochs": len(fit.history), "data_gb": round(after_data, 2), "peak_gb": round(peak_rss_gb(), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=list(MODELS))
    parser.add_argument("--scenario", default="sufficient", choices=("sparse", "sufficient"))
    parser.add_argument("--scale", type=float, default=1.0, help="data scale (1.0: the paper's counts)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None, help="also write the table as Markdown here")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.scenario, args.scale, args.threads)))
        return
    started = time.perf_counter()
    data = dataset(args.scenario, args.scale)
    draw_s = time.perf_counter() - started
    n_train = len(data.train)
    rows = []
    for model in args.models:
        done = subprocess.run([sys.executable, __file__, "--worker", model, "--scenario", args.scenario,
                               "--scale", str(args.scale), "--threads", str(args.threads)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            rows.append({"model": model, "epoch_s": None, "epochs": None, "data_gb": None, "peak_gb": None,
                         "error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.returncode})
            continue
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    table["within 8 GB"] = table["peak_gb"].map(lambda v: "yes" if v is not None and v <= LIMIT_GB else "no")
    header = (f"{date.today()}, torch {torch.__version__}, CPU, {args.threads} thread(s); synthetic paper-000 data, "
              f"scenario {args.scenario}, scale {args.scale:g} ({data.n_users:,} users, {data.n_products:,} "
              f"products, {n_train:,} training interactions; drawn or read from the cache in {draw_s:.0f} s); "
              f"one epoch with notebook 01's `full` settings")
    print(header)
    print(table.to_string(index=False))
    if args.out:
        command = "python benchmarks/bench_full_scale_memory.py " + " ".join(sys.argv[1:])
        args.out.write_text(f"# One full-scale epoch per paper-000 encoder: peak memory\n\n{header}.\n\n"
                            f"`{command}`\n\n{table.to_markdown(index=False)}\n")


if __name__ == "__main__":
    main()
