"""MicroLens-50K micro-video interactions and titles (Ni et al., arXiv:2309.15379), dataset ``microlens-50k``.

Files (``<data root>/microlens-50k/``):

* ``MicroLens-50k_pairs.tsv``: one line per user, ``user_id<TAB>item item item ...`` (space separated), items
  in chronological order. The release's timestamped ``MicroLens-50k_pairs.csv`` is not part of the data, so
  the order within a user's line is the only time information.
* ``MicroLens-50k_titles.csv``: header ``item,title``; quoted UTF-8 CSV of (machine-translated) video titles.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from xrec_lib.data.manifest import dataset_checksums, dataset_path
from xrec_lib.data.parsing import int_column, read_id_lists, read_table
from xrec_lib.errors import DataError

DATASET = "microlens-50k"
PAIRS_FILE, TITLES_FILE = "MicroLens-50k_pairs.tsv", "MicroLens-50k_titles.csv"


@dataclass(frozen=True)
class MicroLens:
    """MicroLens interactions and item titles with the release's raw ids.

    Attributes:
        pairs: columns ``user``, ``item`` (int) and ``position`` (0-based chronological rank of the item
            within its user's sequence), one row per interaction in file order.
        titles: columns ``item`` (int) and ``title`` (str), one row per item.
        meta: provenance (sha256 of the files read).
    """

    pairs: pd.DataFrame
    titles: pd.DataFrame
    meta: dict = field(default_factory=dict)


def read_pairs(path: Path) -> pd.DataFrame:
    """``user, item, position`` rows of a ``user<TAB>item item ...`` sequence file."""
    user, item, position = read_id_lists(path)
    return pd.DataFrame({"user": user, "item": item, "position": position})


def read_titles(path: Path) -> pd.DataFrame:
    """``item, title`` rows of a quoted CSV with header ``item,title``."""
    table = read_table(path, delimiter=",", has_header=True, quoted=True)
    if table.header != ["item", "title"]:
        raise DataError(f"{path}: header {table.header} differs from the expected ['item', 'title']")
    return pd.DataFrame({"item": int_column(table, 0, "item"), "title": table.column(1)})


def load_microlens_50k(data_dir: Path | str | None = None) -> MicroLens:
    """MicroLens-50K: 50,000 users, 19,220 items, 359,708 interactions, one title per item."""
    pairs_path, titles_path = (dataset_path(DATASET, name, data_dir) for name in (PAIRS_FILE, TITLES_FILE))
    pairs, titles = read_pairs(pairs_path), read_titles(titles_path)
    untitled = ~pairs["item"].isin(titles["item"])
    if untitled.any():
        raise DataError(f"{pairs_path}: item {pairs['item'][untitled].iloc[0]} has no title in {titles_path}")
    return MicroLens(pairs, titles,
                     meta={"dataset": DATASET, "sha256": dataset_checksums(DATASET, [PAIRS_FILE, TITLES_FILE])})
