"""Generation time and peak memory of the paper-000 synthetic generator, per preset and scenario.

Run: ``.venv/bin/python benchmarks/bench_generator.py [--repeats 3] [--presets smoke paper]``.
Time is wall-clock seconds of :func:`generate_crossdomain` (median over repeats); peak memory is the largest
traced allocation (``tracemalloc``, which sees numpy's buffers) during one call, in MiB, beside the dataset's
own array size. Numbers depend on the machine and on other load; the table prints the thread settings.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
import tracemalloc

import numpy as np
import pandas as pd

from xrec_lib.data.synthetic_crossdomain import SCENARIOS, SyntheticCrossDomainConfig, generate_crossdomain

MIB = 2**20


def dataset_mib(dataset) -> float:
    arrays = [dataset.product_domain, dataset.user_market, dataset.product_market, dataset.supplier_of_product,
              dataset.seller_product, dataset.seller_supplier]
    for split in (dataset.train, dataset.test):
        arrays += [split.user, split.product, split.domain]
    return sum(array.nbytes for array in arrays) / MIB


def measure(config: SyntheticCrossDomainConfig, repeats: int, seed: int = 0) -> dict:
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        generate_crossdomain(config, seed)
        seconds.append(time.perf_counter() - start)
    tracemalloc.start()
    dataset = generate_crossdomain(config, seed)
    peak = tracemalloc.get_traced_memory()[1] / MIB
    tracemalloc.stop()
    return {"preset": config.preset, "scenario": config.scenario, "users": config.n_users,
            "products": config.n_products, "interactions": config.n_interactions,
            "seconds (median)": round(statistics.median(seconds), 3), "repeats": repeats,
            "peak MiB (traced)": round(peak, 1), "dataset MiB": round(dataset_mib(dataset), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--presets", nargs="+", default=["smoke", "paper"], choices=["smoke", "paper"])
    args = parser.parse_args()
    rows = [measure(getattr(SyntheticCrossDomainConfig, preset)(scenario), args.repeats)
            for preset in args.presets for scenario in SCENARIOS]
    print(f"# synthetic-000 generator on {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"numpy {np.__version__}, OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
