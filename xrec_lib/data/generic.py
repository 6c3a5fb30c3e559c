"""The generic interaction format, for bringing one's own data.

A file is CSV (``.csv``, comma separated) or TSV (``.tsv`` / ``.txt``, TAB separated) with a header line naming
its columns: ``user`` and ``item`` (required, integer raw ids), then optionally ``timestamp`` (a finite number)
and ``domain`` (``source`` / ``target`` or ``0`` / ``1``), in any order. Raw ids are mapped to contiguous
integers in increasing raw-id order, users and items separately. An optional test file in the same format may
only use ids that occur in the training file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from xrec_lib.data.crossdomain import SOURCE, TARGET
from xrec_lib.data.parsing import TextTable, float_column, int_column, read_table
from xrec_lib.errors import DataError

DELIMITERS = {".csv": ",", ".tsv": "\t", ".txt": "\t"}
REQUIRED_COLUMNS = ("user", "item")
OPTIONAL_COLUMNS = ("timestamp", "domain")
DOMAIN_CODES = {"source": SOURCE, "target": TARGET, str(SOURCE): SOURCE, str(TARGET): TARGET}


@dataclass(frozen=True)
class InteractionTable:
    """Interactions with contiguous ids and the raw ids they stand for.

    Attributes:
        train, test: columns ``user``, ``item`` (contiguous int64 ids), plus ``timestamp`` (float64) and
            ``domain`` (SOURCE = 0 / TARGET = 1) when the file has them; ``test`` is ``None`` without a test file.
        user_ids, item_ids: raw id of each contiguous user / item id (``user_ids[k]`` is user k's raw id).
    """

    train: pd.DataFrame
    test: pd.DataFrame | None
    user_ids: np.ndarray
    item_ids: np.ndarray

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    def matrix(self, split: str = "train") -> sp.csr_matrix:
        """Binary users x items ``csr_matrix`` of ``"train"`` or ``"test"`` (repeated pairs count once)."""
        frame = {"train": self.train, "test": self.test}.get(split)
        if frame is None:
            raise DataError(f"no {split!r} interactions: expected 'train', or 'test' with a test file loaded")
        matrix = sp.csr_matrix((np.ones(len(frame), dtype=np.float32), (frame["user"], frame["item"])),
                               shape=(self.n_users, self.n_items))
        matrix.sum_duplicates()
        matrix.data[:] = 1.0
        return matrix


def load_interactions(train_path: Path | str, test_path: Path | str | None = None) -> InteractionTable:
    """Read a generic-format training file (and optional test file) into an :class:`InteractionTable`.

    Raises :class:`DataError` for an unknown extension, a missing/unknown header column, a malformed row, a
    non-integer id, a non-finite timestamp, an unknown domain value, or a test id absent from training.
    """
    train_table = _read(Path(train_path))
    raw_train = _columns(train_table)
    user_ids, train_user = np.unique(raw_train["user"], return_inverse=True)
    item_ids, train_item = np.unique(raw_train["item"], return_inverse=True)
    train = pd.DataFrame({**raw_train, "user": train_user, "item": train_item})
    test = None
    if test_path is not None:
        test_table = _read(Path(test_path))
        if test_table.header != train_table.header:
            raise DataError(f"{test_path}: header {test_table.header} differs from the training file's "
                            f"{train_table.header}")
        raw_test = _columns(test_table)
        test = pd.DataFrame({**raw_test, "user": _known_ids(test_table, raw_test["user"], user_ids, "user"),
                             "item": _known_ids(test_table, raw_test["item"], item_ids, "item")})
    return InteractionTable(train, test, user_ids, item_ids)


def _read(path: Path) -> TextTable:
    delimiter = DELIMITERS.get(path.suffix.lower())
    if delimiter is None:
        raise DataError(f"{path}: unknown extension {path.suffix!r}; use one of {sorted(DELIMITERS)}")
    table = read_table(path, delimiter=delimiter, has_header=True)
    missing = [name for name in REQUIRED_COLUMNS if name not in table.header]
    unknown = [name for name in table.header if name not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if missing or unknown or len(set(table.header)) != len(table.header):
        raise DataError(f"{path}: header {table.header} must name the columns user,item[,timestamp][,domain] "
                        f"once each (missing {missing}, unknown {unknown})")
    return table


def _columns(table: TextTable) -> dict[str, np.ndarray]:
    position = {name: index for index, name in enumerate(table.header)}
    columns = {name: int_column(table, position[name], f"{name} id", minimum=None) for name in REQUIRED_COLUMNS}
    if "timestamp" in position:
        columns["timestamp"] = float_column(table, position["timestamp"], "timestamp")
    if "domain" in position:
        columns["domain"] = _domains(table, position["domain"])
    return columns


def _domains(table: TextTable, index: int) -> np.ndarray:
    values = [value.strip().lower() for value in table.column(index)]
    for line, value in zip(table.line_numbers, values):
        if value not in DOMAIN_CODES:
            raise DataError(f"{table.path}, line {line}: domain {value!r} is not one of {sorted(DOMAIN_CODES)}")
    return np.asarray([DOMAIN_CODES[value] for value in values], dtype=np.int64)


def _known_ids(table: TextTable, raw: np.ndarray, known: np.ndarray, kind: str) -> np.ndarray:
    """Contiguous ids of ``raw`` (``known`` is sorted); :class:`DataError` at the first id not in ``known``."""
    index = np.minimum(np.searchsorted(known, raw), len(known) - 1)
    unknown = known[index] != raw
    if unknown.any():
        position = int(unknown.argmax())
        raise DataError(f"{table.path}, line {table.line_numbers[position]}: {kind} id {raw[position]} does not "
                        f"occur in the training file")
    return index
