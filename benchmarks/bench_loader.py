"""Loading one's own interaction file at paper 000's size: the generic loader against a bare pandas read.

    .venv/bin/python benchmarks/bench_loader.py [--rows 1245310]

Writes a seeded CSV of ``--rows`` rows (string user and item ids over paper 000's 52,516 users and 65,832 products,
ISO dates, two markets) to a temporary folder, then times, in the same run, ``pandas.read_csv`` of the file alone
(the reference) and :func:`xrec_lib.data.generic.load_interactions` (reading, checking every row, mapping ids,
parsing dates, collapsing repeated pairs). Prints the median of three loads of each and their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from xrec_lib.data.generic import load_interactions


def write_file(path: Path, rows: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "user": np.char.add("U", rng.integers(0, 52_516, rows).astype(str)),
        "item": np.char.add("B0", rng.integers(0, 65_832, rows).astype(str)),
        "timestamp": pd.to_datetime(rng.integers(1.4e9, 1.6e9, rows), unit="s").strftime("%Y-%m-%d"),
        "market": np.where(rng.random(rows) < 0.6, "ca", "de"),
    })
    frame.to_csv(path, index=False)


def median_seconds(function, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_245_310)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "interactions.csv"
        write_file(path, args.rows)
        reference = median_seconds(lambda: pd.read_csv(path, dtype=str))
        ours = median_seconds(lambda: load_interactions(path))
    table = pd.DataFrame({"step": ["pandas.read_csv (reference)", "load_interactions"],
                          "seconds": [reference, ours], "ratio": [1.0, ours / reference]})
    print(f"{args.rows:,} rows")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.2f}"))


if __name__ == "__main__":
    main()
