"""Do two reports folders hold the same numbers? (A refactoring must not move any.)

    .venv/bin/python benchmarks/same_results.py REPORTS_A REPORTS_B

Compares, per notebook, the ``metrics`` of ``results.json`` and every table CSV, value by value and exactly,
skipping what measures time (columns or keys naming seconds, milliseconds or wall time, and the verdicts on
speed claims, whose differences are timings). Prints one row per
notebook (values compared, values that differ, the first few differences) and exits 1 when anything differs.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pandas as pd

TIMING_WORDS = ("seconds", "wall", "elapsed", "minutes")


def is_timing(key: str) -> bool:
    key = str(key).lower()
    return key.endswith(("_s", "_ms")) or any(word in key for word in TIMING_WORDS)


def flatten(value, prefix: str = ""):
    """(path, leaf) pairs of a JSON value, timing keys and verdicts about speed skipped."""
    if isinstance(value, dict) and "faster" in str(value.get("claim", "")):
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not is_timing(key):
                yield from flatten(item, f"{prefix}/{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from flatten(item, f"{prefix}[{i}]")
    else:
        yield prefix, value


def same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def compare_notebook(a: Path, b: Path) -> tuple[int, list[str]]:
    count, diffs = 0, []
    left = dict(flatten(json.loads((a / "results.json").read_text())["metrics"]))
    right = dict(flatten(json.loads((b / "results.json").read_text())["metrics"]))
    for key in sorted(set(left) | set(right)):
        count += 1
        if key not in left or key not in right or not same(left[key], right[key]):
            diffs.append(f"metrics{key}: {left.get(key, '<absent>')!r} vs {right.get(key, '<absent>')!r}")
    for table in sorted({p.name for p in (a / "tables").glob("*.csv")} | {p.name for p in (b / "tables").glob("*.csv")}):
        if not (a / "tables" / table).is_file() or not (b / "tables" / table).is_file():
            diffs.append(f"{table}: only in one folder")
            continue
        x, y = (pd.read_csv(folder / "tables" / table) for folder in (a, b))
        keep = [c for c in x.columns if not is_timing(c)]
        if list(x.columns) != list(y.columns) or x.shape != y.shape:
            diffs.append(f"{table}: columns or shape differ")
            continue
        x, y = x[keep], y[keep]
        if "claim" in x.columns:  # verdicts about speed are timings too
            speed = x["claim"].astype(str).str.contains("faster")
            x, y = x[~speed], y[~speed]
        count += x.size
        unequal = ~((x == y) | (x.isna() & y.isna()))
        for row, column in zip(*unequal.to_numpy().nonzero()):
            diffs.append(f"{table}[{row}, {keep[column]}]: {x.iat[row, column]!r} vs {y.iat[row, column]!r}")
    return count, diffs


def main(argv: list[str]) -> int:
    a, b = map(Path, argv)
    rows, failed = [], False
    for folder in sorted(p for p in a.iterdir() if (p / "results.json").is_file()):
        if not (b / folder.name / "results.json").is_file():
            rows.append((folder.name, 0, "missing in B"))
            failed = True
            continue
        count, diffs = compare_notebook(folder, b / folder.name)
        failed |= bool(diffs)
        rows.append((folder.name, count, len(diffs)))
        for line in diffs[:8]:
            print(f"  {folder.name}: {line}")
    print(pd.DataFrame(rows, columns=["notebook", "values compared", "differ"]).to_string(index=False))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
