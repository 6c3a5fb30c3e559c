"""Bundle tables as the report shows them: numbers shortened, pandas' index column dropped, long and two-level
results tables in the papers' wide shape (one row per model, one column per metric, cells "ours ± std (paper
value)"), single-seed spreads as dashes. The CSV files keep the long form."""

from __future__ import annotations

import math
from typing import Any, Sequence

#: Columns of a long results table (one row per model, metric and cut-off) that become the cells of its wide form.
LONG_VALUE_COLUMNS = ("metric", "k", "ours", "ours_std", "paper")


def number(value: Any, digits: int = 4) -> str:
    """A value for reading: floats to ``digits`` decimals (significant digits below 0.001), None/NaN as a dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}g}" if abs(value) < 1e-3 and value else f"{value:.{digits}f}"
    return str(value)


def display_cell(text: str) -> str:
    """A CSV cell for reading: long decimals shortened to 4 places, NaN (not measured or not reported) as a dash;
    integers and words unchanged."""
    try:
        value = float(text)
    except ValueError:
        return text
    if math.isnan(value):
        return "–"
    if text.strip().lstrip("-").isdigit():
        return text
    return number(value)


def drop_index_column(header: list[str], rows: list[list[str]]) -> tuple[list[str], list[list[str]]]:
    """Without pandas' unnamed index column (an empty or ``Unnamed: 0`` first header cell over 0, 1, ... n-1)."""
    if not header or header[0].strip() not in ("", "Unnamed: 0"):
        return header, rows
    if [row[0] if row else "" for row in rows] != [str(number) for number in range(len(rows))]:
        return header, rows
    return header[1:], [row[1:] for row in rows]


def _estimate(mean: str, std: str | None, single_seed: bool, others: Sequence[tuple[str, str]] = ()) -> str:
    """``"0.1235 ± 0.0040 (paper 0.1260)"``: our mean and standard deviation (a dash for it when there is one seed
    or none was recorded), then the other values of the cell (the paper's) in brackets; only those when we have
    no value."""
    found = [(label, display_cell(value)) for label, value in others if value.strip() not in ("", "nan", "NaN")]
    extra = "; ".join(f"{label} {value}" for label, value in found)
    if mean.strip() in ("", "nan", "NaN"):
        return extra or "–"
    spread = "–" if single_seed or std is None or std.strip() in ("", "nan", "NaN") else display_cell(std)
    text = f"{display_cell(mean)} ± {spread}"
    return f"{text} ({extra})" if extra else text


def _metric_label(metric: str, k: str) -> str:
    """``ndcg`` at ``20`` -> ``"ndcg@20"``; the metric alone without a cut-off."""
    k = k.strip()
    if k in ("", "nan", "NaN", "None"):
        return metric
    try:
        k = str(int(float(k)))
    except ValueError:
        pass
    return f"{metric}@{k}"


def long_to_wide(header: list[str], rows: list[list[str]],
                 single_seed: bool = False) -> tuple[list[str], list[list[str]]] | None:
    """A long results table (one row per model, ``metric``, optional ``k``, ``ours``, optional ``ours_std`` and
    ``paper``) in the papers' shape: one row per model (and every other column: data, scenario, ...), one column
    per metric@k, each cell ``"ours ± std (paper value)"``. None when the table is not long."""
    if "metric" not in header or "ours" not in header:
        return None
    at = {name: header.index(name) for name in LONG_VALUE_COLUMNS if name in header}
    keys = [index for index, name in enumerate(header) if name not in LONG_VALUE_COLUMNS]

    def cell(row: list[str], name: str) -> str:
        return row[at[name]] if name in at and at[name] < len(row) else ""

    columns: dict[str, None] = {}
    by_key: dict[tuple[str, ...], dict[str, str]] = {}
    for row in rows:
        column = _metric_label(cell(row, "metric"), cell(row, "k"))
        columns[column] = None
        std = cell(row, "ours_std") if "ours_std" in at else None
        by_key.setdefault(tuple(row[i] if i < len(row) else "" for i in keys), {})[column] = _estimate(
            cell(row, "ours"), std, single_seed, [("paper", cell(row, "paper"))])
    wide_header = [header[i] for i in keys] + list(columns)
    wide_rows = [list(key) + [values.get(column, "–") for column in columns] for key, values in by_key.items()]
    return wide_header, wide_rows


def flatten_two_level(rows: list[list[str]],
                      single_seed: bool = False) -> tuple[list[str], list[list[str]]] | None:
    """A table that pandas wrote with two header rows (``metric`` over ``paper``/``mean``/``std``) and a row of
    index names (``model``, ``data``), as one header: the index columns, then one column per metric with cells
    ``"mean ± std (paper value)"``. None for any other table."""
    if len(rows) < 3 or not rows[0] or rows[0][0] != "metric":
        return None
    top, sub, names = rows[0], rows[1], rows[2]
    width = next((i for i, name in enumerate(top) if i > 0 and name), len(top))
    if not {"mean"} <= set(sub[width:]) or not all(names[:width]):
        return None
    metrics = list(dict.fromkeys(top[width:]))
    wide_rows = []
    for row in rows[3:]:
        values = {(top[i], sub[i]): (row[i] if i < len(row) else "") for i in range(width, len(top))}
        cells = []
        for metric in metrics:
            others = [(label, values[(metric, label)]) for (m, label) in values if m == metric
                      and label not in ("mean", "std")]
            cells.append(_estimate(values.get((metric, "mean"), ""), values.get((metric, "std")), single_seed,
                                   others))
        wide_rows.append(row[:width] + cells)
    return names[:width] + metrics, wide_rows


def _single_seed_cell(text: str) -> str:
    """A cell ``"0.5437 ± 0.0000"`` of a single-seed run as ``"0.5437 ± –"`` (and ``"nan ± ..."`` as a dash)."""
    mean, separator, _ = text.partition(" ± ")
    if not separator:
        return text
    return "–" if mean.strip().lower() == "nan" else f"{mean} ± –"


def shaped_table(header: list[str], rows: list[list[str]],
                 single_seed: bool = False) -> tuple[list[str], list[list[str]], bool]:
    """A bundle CSV (header and rows as read) as the report shows it: pandas' unnamed index dropped, long and
    two-level tables in the papers' wide shape, numbers shortened, single-seed spreads as dashes. The third value
    says whether the shape changed (the CSV then keeps the long form)."""
    reshaped = flatten_two_level([header, *rows], single_seed)
    if reshaped is None:
        header, rows = drop_index_column(header, rows)
        reshaped = long_to_wide(header, rows, single_seed)
    if reshaped is not None:
        return reshaped[0], reshaped[1], True
    cells = [[display_cell(cell) for cell in row] for row in rows]
    if single_seed:
        cells = [[_single_seed_cell(cell) for cell in row] for row in cells]
    return header, cells, False
