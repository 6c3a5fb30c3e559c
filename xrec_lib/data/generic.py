"""The generic interaction format, for bringing one's own data.

A file is CSV (``.csv``, comma separated) or TSV (``.tsv`` / ``.txt``, TAB separated) with a header line naming its
columns, in any order:

* ``user``, ``item`` (required): raw ids, any strings or integers;
* ``timestamp`` (optional): a number (e.g. Unix seconds) or an ISO date / date-time (``2021-03-04``,
  ``2021-03-04T10:00:00``), stored as seconds since 1970;
* ``domain`` (optional): ``source`` / ``target`` (or ``0`` / ``1``);
* ``market`` (optional): any label (a country, a shop), e.g. ``ca`` / ``de``;
* ``rating`` (optional): a number; with ``rating_threshold`` only rows rated at least that much are kept (ratings
  turned into implicit feedback).

Rows repeating a (user, item) pair (within one ``market`` and ``domain``) collapse into the first. An empty or NaN id, an unparseable timestamp or
rating, an unknown domain value, an unknown column, or a row with the wrong number of fields is one
:class:`~xrec_lib.errors.DataError` naming the file and line. Raw ids are mapped to contiguous integers, users and
items separately, in increasing raw-id order (numeric order when every id of the column is an integer), and back
(:attr:`InteractionTable.user_ids`, :attr:`InteractionTable.item_ids`). An optional test file in the same format
may only use ids that occur in the training file.

Example (``my_shop.csv``)::

    user,item,timestamp,market
    AEHPZWFYUBOYLUGIPZ63FPSB6ZBA,B00DQGBYDC,2016-07-03,uk
    u42,B00IMB47TY,2018-01-12,de
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from xrec_lib.data.crossdomain import SOURCE, TARGET
from xrec_lib.data.parsing import require_file
from xrec_lib.errors import DataError

DELIMITERS = {".csv": ",", ".tsv": "\t", ".txt": "\t"}
REQUIRED_COLUMNS = ("user", "item")
OPTIONAL_COLUMNS = ("timestamp", "domain", "market", "rating")
DOMAIN_CODES = {"source": SOURCE, "target": TARGET, str(SOURCE): SOURCE, str(TARGET): TARGET}
MISSING_VALUES = ("", "nan", "na", "null", "none")
_MISSING = sorted({v for base in MISSING_VALUES for v in (base, base.upper(), base.capitalize(), "NaN")})
#: An integer id in its canonical spelling (no sign on zero, no leading zeros, fits int64): "007" stays a string
#: id, so "007" and "7" remain two ids.
_INTEGER = re.compile(r"0|-?[1-9]\d{0,17}")


@dataclass(frozen=True)
class InteractionTable:
    """Interactions with contiguous ids and the raw ids they stand for.

    Attributes:
        train, test: columns ``user``, ``item`` (contiguous int64 ids), plus ``timestamp`` (float64 seconds),
            ``domain`` (SOURCE = 0 / TARGET = 1), ``market`` (str) and ``rating`` (float64) when the file has
            them; ``test`` is ``None`` without a test file.
        user_ids, item_ids: raw id of each contiguous user / item id (``user_ids[k]`` is user k's raw id): int64
            when every raw id of the column is an integer, else strings.
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
        """Binary users x items ``csr_matrix`` of ``"train"`` or ``"test"``."""
        frame = {"train": self.train, "test": self.test}.get(split)
        if frame is None:
            raise DataError(f"no {split!r} interactions: expected 'train', or 'test' with a test file loaded")
        matrix = sp.csr_matrix((np.ones(len(frame), dtype=np.float32), (frame["user"], frame["item"])),
                               shape=(self.n_users, self.n_items))
        matrix.sum_duplicates()
        matrix.data[:] = 1.0
        return matrix


def load_interactions(train_path: Path | str, test_path: Path | str | None = None,
                      rating_threshold: float | None = None) -> InteractionTable:
    """Read a generic-format training file (and optional test file) into an :class:`InteractionTable`
    (module docstring)."""
    train_raw, header = _read(Path(train_path), rating_threshold)
    test_raw = None
    if test_path is not None:
        test_raw, test_header = _read(Path(test_path), rating_threshold)
        if test_header != header:
            raise DataError(f"{test_path}: header {test_header} differs from the training file's {header}")
    return _table(train_raw, test_raw, test_path)


def table_from_frame(train: pd.DataFrame, test: pd.DataFrame | None = None) -> InteractionTable:
    """An :class:`InteractionTable` from already-typed rows (``user``, ``item`` as strings; optional
    ``timestamp`` seconds, ``domain`` codes, ``market`` labels, ``rating``), e.g. rows another reader parsed; ids
    mapped as :func:`load_interactions` maps them, repeated pairs collapsed into the first."""
    missing = [name for name in REQUIRED_COLUMNS if name not in train]
    if missing:
        raise DataError(f"rows lack the column(s) {missing}")
    frames = [f.reset_index(drop=True).assign(user=lambda f: f["user"].astype(str),
                                              item=lambda f: f["item"].astype(str), _line=lambda f: np.arange(len(f)))
              for f in (train, test) if f is not None]
    return _table(frames[0], frames[1] if test is not None else None, "<test rows>")


def _table(train_raw: pd.DataFrame, test_raw: pd.DataFrame | None, test_path) -> InteractionTable:
    user_ids, train_user = _contiguous(train_raw["user"])
    item_ids, train_item = _contiguous(train_raw["item"])
    train = _first_of_each_pair(train_raw.assign(user=train_user, item=train_item))
    test = None
    if test_raw is not None:
        test = _first_of_each_pair(test_raw.assign(user=_known_ids(test_path, test_raw, "user", user_ids),
                                                    item=_known_ids(test_path, test_raw, "item", item_ids)))
    return InteractionTable(train.drop(columns="_line"), None if test is None else test.drop(columns="_line"),
                            user_ids, item_ids)


def _first_of_each_pair(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows repeating a (user, item) pair collapse into the first (on the contiguous integer ids), within one
    market and domain when the rows have those columns (a user buying an item in two markets is two rows)."""
    key = ["user", "item"] + [column for column in ("domain", "market") if column in rows]
    return rows[~rows.duplicated(key, keep="first")].reset_index(drop=True)


def _read(path: Path, rating_threshold: float | None) -> tuple[pd.DataFrame, list[str]]:
    """The file's rows as typed columns plus ``_line`` (the row's index in the file)."""
    delimiter = DELIMITERS.get(path.suffix.lower())
    if delimiter is None:
        raise DataError(f"{path}: unknown extension {path.suffix!r}; use one of {sorted(DELIMITERS)}")
    require_file(path)
    if path.stat().st_size == 0:
        raise DataError(f"{path} is empty")
    try:
        frame = pd.read_csv(path, sep=delimiter, dtype=str, keep_default_na=False, skip_blank_lines=True,
                            skipinitialspace=True, engine="c")
    except pd.errors.ParserError as error:
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(error))
        detail = f"line {found[2]}: expected {found[1]} fields, found {found[3]}" if found else str(error)
        raise DataError(f"{path}, {detail}") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{path} is empty") from None
    header = [str(c).strip() for c in frame.columns]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    unknown = [name for name in header if name not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if missing or unknown or len(set(header)) != len(header):
        raise DataError(f"{path}, line 1: header {header} must name the columns user,item[,timestamp][,domain][,market]"
                        f"[,rating] once each (missing {missing}, unknown {unknown})")
    frame.columns = header
    lines = _Lines(path)  # a row with too few fields reads as empty trailing values
    columns = {"_line": np.arange(len(frame))}
    for name in REQUIRED_COLUMNS:
        values = frame[name]
        _refuse(path, lines, values.isin(_MISSING).to_numpy(), f"{name} id", values)
        columns[name] = values
    if "timestamp" in header:
        columns["timestamp"] = _timestamps(path, lines, frame["timestamp"])
    if "domain" in header:
        codes = frame["domain"].str.strip().str.lower()
        _refuse(path, lines, ~codes.isin(list(DOMAIN_CODES)).to_numpy(), "domain", frame["domain"],
                f"is not one of {sorted(DOMAIN_CODES)}")
        columns["domain"] = codes.map(DOMAIN_CODES).to_numpy(np.int64)
    if "market" in header:
        market = frame["market"]
        _refuse(path, lines, (market == "").to_numpy(), "market", market)
        columns["market"] = market.to_numpy()
    if "rating" in header:
        rating = pd.to_numeric(frame["rating"], errors="coerce")
        _refuse(path, lines, ~np.isfinite(rating.to_numpy(float)), "rating", frame["rating"], "is not a number")
        columns["rating"] = rating.to_numpy(float)
    rows = pd.DataFrame(columns)
    if rating_threshold is not None:
        if "rating" not in header:
            raise DataError(f"{path}: rating_threshold={rating_threshold} needs a 'rating' column")
        rows = rows[rows["rating"] >= rating_threshold]
    rows = rows.reset_index(drop=True)
    if rows.empty:
        raise DataError(f"{path}: no interaction left" + (f" rated >= {rating_threshold}" if rating_threshold
                                                           is not None else ""))
    return rows, header


class _Lines:
    """1-based file line of a data row (blank lines skipped, as the reader does), read only when an error names it."""

    def __init__(self, path: Path):
        self.path, self._numbers = path, None

    def __getitem__(self, row: int) -> int:
        if self._numbers is None:
            with self.path.open("rb") as handle:
                self._numbers = [number for number, line in enumerate(handle, start=1) if line.strip()][1:]
        return self._numbers[int(row)]


def _refuse(path: Path, lines: _Lines, bad: np.ndarray, what: str, values: pd.Series,
            problem: str = "is empty or missing") -> None:
    if bad.any():
        row = int(bad.argmax())
        raise DataError(f"{path}, line {lines[row]}: {what} {values.iloc[row]!r} {problem}")


def _timestamps(path: Path, lines: _Lines, values: pd.Series) -> np.ndarray:
    """Seconds since 1970 of numbers or ISO dates (the first row decides which kind the file holds)."""
    numeric = pd.notna(pd.to_numeric(values.iloc[:1], errors="coerce")).all()
    if numeric:  # a numeric column: every row must be a finite number
        numbers = pd.to_numeric(values, errors="coerce")
        _refuse(path, lines, ~np.isfinite(numbers.to_numpy(float)), "timestamp", values, "is not a finite number")
        return numbers.to_numpy(float)
    dates = pd.to_datetime(values, format="ISO8601", errors="coerce", utc=True)
    bad = dates.isna().to_numpy()
    _refuse(path, lines, bad, "timestamp", values, "is neither a finite number nor an ISO date")
    # (one parse of the whole column: pandas parses repeated date strings once)
    return (dates - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy(float)


def _contiguous(raw: pd.Series | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted unique raw ids, contiguous id of each value): numeric order when every id is an integer."""
    codes, uniques = pd.factorize(raw)
    uniques = np.asarray(uniques, dtype=object)
    if all(_INTEGER.fullmatch(v) for v in uniques):
        uniques = uniques.astype(np.int64)
    else:
        uniques = uniques.astype(str)
    order = np.argsort(uniques, kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return uniques[order], rank[codes]


def _known_ids(path: Path | str, frame: pd.DataFrame, column: str, known: np.ndarray) -> np.ndarray:
    """Contiguous ids of the test file's ``column`` (``known`` sorted); :class:`DataError` at the first unknown."""
    raw = frame[column].to_numpy()
    if known.dtype.kind == "i":
        is_int = np.array([bool(_INTEGER.fullmatch(v)) for v in raw])
        raw = np.where(is_int, raw, "-9223372036854775808").astype(np.int64)
    index = np.minimum(np.searchsorted(known, raw), len(known) - 1)
    unknown = known[index] != raw
    if unknown.any():
        position = int(unknown.argmax())
        row = int(frame["_line"].iloc[position])
        where = f"line {_Lines(Path(path))[row]}" if Path(path).is_file() else f"row {row}"
        raise DataError(f"{path}, {where}: {column} id "
                        f"{frame[column].iloc[position]} does not occur in the training file")
    return index
