"""ByteDance (Douyin) ICME 2019 short-video challenge: the 200-row sample shipped with DeepCTR-Torch, dataset
``bytedance-icme2019-sample``.

``byterec_sample.txt`` is TAB separated without header, 12 integer fields per row (names from DeepCTR-Torch's
``examples/run_multitask_learning.py``): ``uid, user_city, item_id, author_id, item_city, channel, finish,
like, music_id, device, time, duration_time``. ``finish`` and ``like`` are the binary targets; the other fields
are anonymised ids (``-1`` marks an unknown city or music). It is a format fixture for the CTR path, too small
for any published comparison.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from xrec_lib.data.manifest import dataset_path
from xrec_lib.data.parsing import int_column, read_table
from xrec_lib.errors import DataError

DATASET = "bytedance-icme2019-sample"
SAMPLE_FILE = "byterec_sample.txt"
COLUMNS = ("uid", "user_city", "item_id", "author_id", "item_city", "channel", "finish", "like", "music_id",
           "device", "time", "duration_time")
TARGETS = ("finish", "like")


def read_byterec(path: Path) -> pd.DataFrame:
    """The 12 integer columns of :data:`COLUMNS`; :class:`DataError` when a target is not 0/1."""
    table = read_table(path, delimiter="\t", has_header=False, n_fields=len(COLUMNS))
    frame = pd.DataFrame({name: int_column(table, index, name, minimum=None) for index, name in enumerate(COLUMNS)})
    for target in TARGETS:
        bad = ~frame[target].isin((0, 1))
        if bad.any():
            position = int(bad.to_numpy().argmax())
            raise DataError(f"{path}, line {table.line_numbers[position]}: {target} "
                            f"{frame[target].iloc[position]} is not 0 or 1")
    return frame


def load_bytedance_sample(data_dir: Path | str | None = None) -> pd.DataFrame:
    """The 200-row ICME 2019 sample as a DataFrame with columns :data:`COLUMNS`."""
    return read_byterec(dataset_path(DATASET, SAMPLE_FILE, data_dir))
