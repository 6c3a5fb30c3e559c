"""The committed report shows the papers' numbers: every value of the reference module (:mod:`xrec_lib.papers`)
that belongs to an item a notebook reproduces appears in one of that item's tables in ``reports/``.

A value counts as shown when a number in one of the item's CSV tables equals it as stored (a fraction), in percent,
or in milliseconds (times are stored in seconds); a paper's stated gain (``*_gain``) may instead appear as the
"paper's gap" of a verdict in the notebook's verdict tables. Notebooks whose bundle is absent are skipped.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from xrec_lib import papers
from xrec_lib.report_items import ITEMS, item_ids

REPORTS = Path(__file__).resolve().parents[1] / "reports"
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e-?\d+)?")


def numbers_in(paths: list[Path]) -> list[float]:
    found = []
    for path in paths:
        with path.open(newline="") as handle:
            for row in csv.reader(handle):
                found += [float(token) for cell in row for token in NUMBER.findall(cell)]
    return found


def shown(value: float, numbers: list[float]) -> bool:
    candidates = (value, value * 100, value * 1000)
    return any(abs(n - c) <= 1e-6 * max(1.0, abs(c)) for n in numbers for c in candidates)


REPRODUCED = [item for item in ITEMS if item.kind == "reproduced"]


@pytest.mark.parametrize("item", REPRODUCED, ids=[f"{i.paper}-{i.prefix}" for i in REPRODUCED])
def test_every_paper_value_of_a_reproduced_item_is_in_its_tables(item):
    folder = REPORTS / item.notebook / "tables"
    if not folder.is_dir():
        pytest.skip(f"{item.notebook} has no bundle in reports/")
    tables = [path for path in sorted(folder.glob("*.csv")) if item.owns(path.stem)]
    assert tables, f"{item.label} ({item.notebook}): no table named {item.prefix}*"
    numbers = numbers_in(tables)
    verdict_numbers = numbers_in(sorted(folder.glob("verdicts*.csv")))
    missing = [f"{v.source} {v.model} {v.metric}@{v.k} = {v.value}" for v in papers.VALUES
               if v.paper == item.paper and item.prefix in item_ids(v.source)
               and not shown(v.value, numbers)
               and not (v.metric.endswith("_gain") and shown(v.value, verdict_numbers))]
    assert not missing, f"{item.label}: paper values absent from {[t.name for t in tables]}: {missing}"
