"""Validated readers for the delimited text files behind every real-data loader.

Every error names the file and, where it applies, the 1-based line number and the offending value:
a missing file raises :class:`MissingDataError`; an empty file, a row with the wrong number of fields, a
non-integer / negative / NaN id or a non-finite number raises :class:`DataError`.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from xrec_lib.errors import DataError, MissingDataError

_INTEGER = re.compile(r"\s*[+-]?[0-9]+\s*")


@dataclass(frozen=True)
class TextTable:
    """The rows of a delimited file as strings, with the 1-based line number of each row (blank lines skipped)."""

    path: Path
    header: list[str] | None
    rows: list[list[str]]
    line_numbers: list[int]

    def column(self, index: int) -> list[str]:
        return [row[index] for row in self.rows]


def require_file(path: Path | str, hint: str = "check the path") -> Path:
    """``path`` as a :class:`Path`; :class:`MissingDataError` (with ``hint``) when it is not a file."""
    path = Path(path)
    if not path.is_file():
        raise MissingDataError(f"{path} does not exist: {hint}")
    return path


def _require_content(path: Path) -> None:
    if path.stat().st_size == 0 or not path.read_bytes().strip():
        raise DataError(f"{path} is empty")


def read_table(path: Path, delimiter: str, has_header: bool, n_fields: int | None = None,
               quoted: bool = False) -> TextTable:
    """Read a delimited file, checking that every row has the same number of fields.

    Args:
        delimiter: field separator (``","`` or ``"\\t"``).
        has_header: the first non-blank line holds the column names.
        n_fields: required number of fields per row; defaults to the header's length (or the first row's).
        quoted: honour CSV double-quoting (titles with commas); otherwise quotes are literal characters.
    """
    path = require_file(path)
    _require_content(path)
    header, rows, lines = None, [], []
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle, delimiter=delimiter, quoting=csv.QUOTE_MINIMAL if quoted else csv.QUOTE_NONE)
            for row in reader:
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue
                if has_header and header is None:
                    header = [name.strip() for name in row]
                    n_fields = n_fields or len(header)
                    continue
                n_fields = n_fields or len(row)
                if len(row) != n_fields:
                    raise DataError(f"{path}, line {reader.line_num}: expected {n_fields} fields, found {len(row)}: "
                                    f"{delimiter.join(row)!r}")
                rows.append(row)
                lines.append(reader.line_num)
    except (UnicodeDecodeError, csv.Error) as error:
        raise DataError(f"{path} is not a readable UTF-8 delimited text file: {error}") from error
    if not rows:
        raise DataError(f"{path} has no data rows")
    return TextTable(path, header, rows, lines)


def read_id_rows(path: Path, names: tuple[str, ...], delimiter: str = "\t") -> np.ndarray:
    """``(rows, len(names))`` int64 array of a header-less file whose fields are all non-negative integers.

    Parsed with pandas' C reader; when that fails or finds a negative value the file is re-read with
    :func:`read_table` / :func:`int_column` to raise the :class:`DataError` naming the first bad line.
    """
    path = require_file(path)
    _require_content(path)
    try:
        rows = pd.read_csv(path, sep=delimiter, header=None, dtype=np.int64, engine="c").to_numpy()
    except (ValueError, OverflowError, pd.errors.ParserError):
        rows = None
    if rows is not None and rows.shape[1] == len(names) and (rows >= 0).all():
        return rows
    table = read_table(path, delimiter, has_header=False, n_fields=len(names))
    return np.column_stack([int_column(table, index, name) for index, name in enumerate(names)])


def int_column(table: TextTable, index: int, name: str, minimum: int | None = 0) -> np.ndarray:
    """Column ``index`` as int64; :class:`DataError` naming the first non-integer (or below ``minimum``) value."""
    values = table.column(index)
    try:
        ids = np.asarray(values, dtype=np.str_).astype(np.int64)
    except (ValueError, OverflowError):
        ids = None
    if ids is not None and (minimum is None or ids.min() >= minimum):
        return ids
    position = _first_bad(values, lambda text: _is_int(text) and (minimum is None or int(text) >= minimum))
    if position is None:
        raise DataError(f"{table.path}: column {name} holds integers outside the 64-bit range")
    expected = "an integer" if minimum is None else f"an integer >= {minimum}"
    raise DataError(f"{table.path}, line {table.line_numbers[position]}: {name} {values[position]!r} is not {expected}")


def float_column(table: TextTable, index: int, name: str) -> np.ndarray:
    """Column ``index`` as float64; :class:`DataError` naming the first non-numeric or non-finite value."""
    values = table.column(index)
    try:
        numbers = np.asarray(values, dtype=np.str_).astype(np.float64)
    except ValueError:
        numbers = None
    if numbers is not None and np.isfinite(numbers).all():
        return numbers
    position = _first_bad(values, _is_finite_number)
    raise DataError(f"{table.path}, line {table.line_numbers[position]}: {name} {values[position]!r} "
                    f"is not a finite number")


def read_id_lists(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse a one-line-per-user file ``user item item ...`` (whitespace separated, non-negative integer ids).

    Returns ``(user, item, position)`` flattened to one entry per (user, item) pair, where ``position`` is the
    item's 0-based place in its line. A line with a user and no items contributes nothing.
    """
    path = require_file(path)
    _require_content(path)
    users, tokens, lengths = [], [], []
    for line_number, line in enumerate(_text_lines(path), start=1):
        fields = line.split()
        if not fields:
            continue
        if not all(_is_non_negative_int(field) for field in fields):
            bad = next(field for field in fields if not _is_non_negative_int(field))
            raise DataError(f"{path}, line {line_number}: id {bad!r} is not a non-negative integer")
        users.append(fields[0])
        tokens.extend(fields[1:])
        lengths.append(len(fields) - 1)
    counts = np.asarray(lengths, dtype=np.int64)
    user = np.repeat(np.asarray(users, dtype=np.int64), counts)
    item = np.asarray(tokens, dtype=np.int64)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return user, item, np.arange(len(item), dtype=np.int64) - starts


def _text_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as error:
        raise DataError(f"{path} is not UTF-8 text: {error}") from error


def _first_bad(values: list[str], is_valid: Callable[[str], bool]) -> int | None:
    return next((position for position, text in enumerate(values) if not is_valid(text)), None)


def _is_int(text: str) -> bool:
    return _INTEGER.fullmatch(text) is not None


def _is_non_negative_int(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _is_finite_number(text: str) -> bool:
    try:
        return bool(np.isfinite(float(text)))
    except ValueError:
        return False
