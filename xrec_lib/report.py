"""The reviewers' report: ``reports/index.html`` and its Markdown twin ``reports/index.md``.

``python -m xrec_lib.report --reports-dir reports`` (run by ``make reproduce`` after :mod:`xrec_lib.runner`) reads
``run_manifest.json`` and every ``<notebook>/results.json`` and writes one page with

* a summary: per paper, the number of verdicts of each kind (replicated / contradicted / inconclusive / not
  comparable, :func:`xrec_lib.compare.decide`) and, per notebook, its run status, wall time and items produced;
* one section per paper figure or table of :data:`xrec_lib.report_items.ITEMS`: our figures and tables (which
  carry the paper's values in their "paper" columns), the data used, the verdicts on the claims about the item,
  and whether it was produced (or why not: notebook not run, failed, or the item's files absent);
* per notebook: notes, datasets, outputs that belong to no registry item, verdicts that name no item;
* the run manifest: profile, git revision, library versions, hardware, seeds, wall times, executed notebooks.

A failed notebook's items are marked failed and show nothing from an earlier run; verdicts are counted only from
notebooks whose results belong to the recorded run. Links are relative, so the folder can be moved or served
as it is. Both files are written atomically.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from xrec_lib.compare import OUTCOMES
from xrec_lib.errors import DataError
from xrec_lib.papers import PAPERS
from xrec_lib.report_items import ITEMS, NOTEBOOKS, ReportItem, item_ids, items_of
from xrec_lib.report_render import Badge, Block, Figure, Heading, Link, Para, Table, to_html, to_markdown
from xrec_lib.report_tables import number, shaped_table
from xrec_lib.results import LEARNING_CURVES

MANIFEST_NAME = "run_manifest.json"
USABLE = ("ok", "cached", "results only")
MAX_ROWS = 200  # rows of a table shown on the page; the linked CSV holds them all
FOLDED_ROWS = 30  # longer tables are folded behind their caption
ITEM_BADGES = {"produced": "produced", "failed": "failed", "missing": "not produced",
               "not reproducible": "not reproducible", "restated": "restated"}
#: Words in a table's or figure's file name that tell which data it uses (matched without punctuation or case).
DATA_WORDS = ("synthetic", "xmarket", "amazon", "gowalla", "ml100k", "movielens", "microlens", "mosei", "mosi")


@dataclass
class NotebookState:
    """What the reports folder holds about one notebook: its manifest entry and its results bundle."""

    name: str
    run: dict[str, Any] | None
    results: dict[str, Any] | None

    @property
    def status(self) -> str:
        """``ok``/``cached`` (manifest), ``failed``, ``results only`` (bundle without manifest entry),
        ``no results`` (run recorded, bundle absent) or ``not run``."""
        if self.run is not None:
            recorded = self.run.get("status", "unknown")
            return "no results" if recorded in ("ok", "cached") and self.results is None else recorded
        return "results only" if self.results is not None else "not run"

    @property
    def usable(self) -> bool:
        return self.status in USABLE

    def verdicts(self) -> list[dict[str, Any]]:
        """The notebook's verdict dicts (metrics key ``verdicts`` or ``<anything>/verdicts``)."""
        if not self.usable:
            return []
        found = []
        for key, values in self.results.get("metrics", {}).items():
            if key == "verdicts" or key.endswith("/verdicts"):
                found.extend(_checked_verdicts(self.name, key, values))
        return found


@dataclass
class ItemOutcome:
    """An item's reproduction: its bundle files and verdicts, or why it was not produced."""

    item: ReportItem
    status: str  # "produced", "failed", "missing", "not reproducible" or "restated" (keys of ITEM_BADGES)
    reason: str = ""
    tables: list[str] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)
    verdicts: list[dict[str, Any]] = field(default_factory=list)


def _checked_verdicts(notebook: str, key: str, values: Any) -> list[dict[str, Any]]:
    if not isinstance(values, list) or not all(isinstance(v, dict) for v in values):
        raise DataError(f"{notebook}/results.json: metrics[{key!r}] must be a list of verdict dicts "
                        "(xrec_lib.compare.decide output)")
    for verdict in values:
        if verdict.get("verdict") not in OUTCOMES or "claim" not in verdict:
            raise DataError(f"{notebook}/results.json: metrics[{key!r}] holds {verdict!r}; each verdict needs a "
                            f"'claim' and a 'verdict' in {OUTCOMES}")
    return values


def _read_json(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        content = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise DataError(f"{path} is not valid JSON ({error}); re-run the notebook or delete the file") from error
    if not isinstance(content, dict):
        raise DataError(f"{path} must hold a JSON object")
    return content


def load_states(reports_dir: Path) -> tuple[dict[str, Any], dict[str, NotebookState]]:
    """The run manifest (``{}`` when absent) and every notebook known to the registry, manifest or folder."""
    manifest = _read_json(reports_dir / MANIFEST_NAME) or {}
    runs = manifest.get("notebooks", {})
    on_disk = {path.parent.name for path in reports_dir.glob("*/results.json")}
    names = list(NOTEBOOKS) + sorted((set(runs) | on_disk) - set(NOTEBOOKS))
    return manifest, {name: NotebookState(name, runs.get(name), _read_json(reports_dir / name / "results.json"))
                      for name in names}


def _bundle_files(reports_dir: Path, state: NotebookState, kind: str, suffix: str) -> list[str]:
    """Names listed in results.json under ``kind`` whose ``<kind>/<name>.<suffix>`` file exists."""
    folder = reports_dir / state.name / kind
    return [name for name in state.results.get(kind, []) if (folder / f"{name}.{suffix}").is_file()]


def item_verdicts(item: ReportItem, verdicts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Verdicts about ``item``: by their ``item`` key when they carry one, else by the items their claim names."""
    return [v for v in verdicts if item.prefix in item_ids(str(v["item"]) if v.get("item") else v["claim"])]


def resolve_item(item: ReportItem, state: NotebookState, reports_dir: Path) -> ItemOutcome:
    """Find ``item`` in its notebook's bundle, or say why it is not there."""
    if not item.produced_by_us:
        return ItemOutcome(item, item.kind, item.reason)
    if state.status == "failed":
        error = (state.run or {}).get("error") or "no error message recorded"
        return ItemOutcome(item, "failed", f"notebook {state.name} failed: {error}")
    if not state.usable:
        return ItemOutcome(item, "missing", f"notebook {state.name}: {state.status}")
    tables = [n for n in _bundle_files(reports_dir, state, "tables", "csv") if item.owns(n)]
    figures = [n for n in _bundle_files(reports_dir, state, "figures", "png") if item.owns(n)]
    verdicts = item_verdicts(item, state.verdicts())
    if not tables and not figures:
        return ItemOutcome(item, "missing", f"no table or figure named {item.prefix}* in {state.name}",
                           verdicts=verdicts)
    return ItemOutcome(item, "produced", "", tables, figures, verdicts)


def _verdict_counts(verdicts: list[dict[str, Any]]) -> dict[str, int]:
    return {outcome: sum(v["verdict"] == outcome for v in verdicts) for outcome in OUTCOMES}


def _single_seed(state: NotebookState) -> bool:
    """Whether the notebook ran one seed only: its standard deviations are then not measured, not zero."""
    return len((state.results or {}).get("seeds") or []) == 1


def _csv_table(reports_dir: Path, notebook: str, name: str, single_seed: bool = False) -> Table:
    """A bundle table (first :data:`MAX_ROWS` rows of its shaped form, :func:`shaped_table`), linked to its CSV."""
    relative = f"{notebook}/tables/{name}.csv"
    with (reports_dir / relative).open(newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = (rows[0], rows[1:]) if rows else (["(empty table)"], [])
    header, body, reshaped = shaped_table(header, body, single_seed)
    caption = name + (" (one row per model, one column per metric: ours ± std (paper); the CSV holds the long "
                      "form)" if reshaped else "")
    if len(body) > MAX_ROWS:
        caption = f"{caption} (first {MAX_ROWS} of {len(body)} rows)"
    return Table(header, body[:MAX_ROWS], caption, collapsed=len(body) > FOLDED_ROWS, link=relative)


def _verdict_table(verdicts: list[dict[str, Any]], caption: str,
                   unconverged: dict[str, list[str]] | None = None) -> Table:
    """One row per claim; a ``data`` column beside the claim when the verdicts record their data set (the same
    claim is then tested on several data sets)."""
    with_data = any(v.get("data") for v in verdicts)
    header = ["claim", *(["data"] if with_data else []), "verdict", "mean diff [95% CI]", "effect d_z",
              "paper's gap", "p (two-sided)", "p (Holm)", "test", "pairs", "flags"]
    rows = [[v["claim"], *([v.get("data") or "–"] if with_data else []), Badge(v["verdict"]), _interval(v),
             number(v.get("effect_dz")), number(v.get("paper_gap")), number(v.get("p_value")), _holm(v),
             v.get("test") or "–", _pairs(v), _flags(v, _unconverged_in(v["claim"], unconverged or {}))]
            for v in verdicts]
    return Table(header, rows, caption)


def unconverged_runs(state: NotebookState) -> dict[str, list[str]]:
    """Every trained model of the notebook -> its runs (data, seed, ...) that hit their epoch cap or time budget
    while still improving (``results.json`` ``training``: ``converged`` false); empty for a model whose runs all
    converged."""
    found: dict[str, list[str]] = {}
    for run in (state.results or {}).get("training") or []:
        runs = found.setdefault(str(run.get("model", "–")), [])
        if not run.get("converged", True):
            runs.append(", ".join(f"{k} {v}" for k, v in run.items() if k in ("data", "scenario", "section", "seed")))
    return found


def _unconverged_in(claim: str, unconverged: dict[str, list[str]]) -> list[str]:
    """The unconverged models a claim names: whole-word match of the model's name in the claim's text, after the
    names of other models that contain it are taken out ("GCN" is not named by "Siamese GCN")."""
    import re

    named = []
    for model, runs in unconverged.items():
        text = claim
        for other in sorted(unconverged, key=len, reverse=True):
            if other != model and model in other:
                text = text.replace(other, " ")
        if runs and re.search(rf"(?<![\w-]){re.escape(model)}(?![\w-])", text):
            named.append(f"{model} ({'; '.join(runs)})")
    return named


def _interval(verdict: dict[str, Any]) -> str:
    """``"0.0123 [0.0040, 0.0210]"``; the mean alone when no interval was computed."""
    mean, low, high = (verdict.get(key) for key in ("mean_diff", "ci_low", "ci_high"))
    if low is None or high is None:
        return number(mean)
    return f"{number(mean)} [{number(low)}, {number(high)}]"


def _holm(verdict: dict[str, Any]) -> str:
    adjusted, family = verdict.get("p_adjusted"), verdict.get("family_size")
    return "–" if adjusted is None else f"{number(adjusted)} (of {family})" if family else number(adjusted)


def _flags(verdict: dict[str, Any], unconverged: Sequence[str] = ()) -> str:
    """Why a claim is not comparable, the seeds whose runs collapsed, and the runs of the models it names that hit
    their cap while still improving."""
    flags = [verdict["reason"]] if verdict.get("reason") else []
    if verdict.get("collapsed"):
        flags.append(f"collapsed seed(s): {', '.join(map(str, verdict['collapsed']))}")
    if unconverged:
        flags.append(f"not converged (cap hit while improving): {', '.join(unconverged)}")
    return "; ".join(flags) or "–"


def _pairs(verdict: dict[str, Any]) -> str:
    """``"5 seeds"``, ``"1 seed"``, ``"812 users"``."""
    count, unit = verdict.get("n_pairs"), verdict.get("unit")
    if count is None:
        return "–"
    return f"{count} {unit}{'' if count == 1 else 's'}" if unit else str(count)


def _data_words(text: str) -> set[str]:
    """The :data:`DATA_WORDS` in a name: ``"table1_synthetic_mosi"`` -> ``{"synthetic", "mosi"}``."""
    flat = "".join(character for character in text.lower() if character.isalnum())
    words = {word for word in DATA_WORDS if word in flat}
    return {word for word in words if not any(word != other and word in other and other in words
                                                for other in DATA_WORDS)}


def item_data(state: NotebookState, tables: list[Table], names: Sequence[str]) -> str:
    """The data an item uses, and only that: the ``data``/``dataset`` column of its tables; for a table or figure
    without one, the notebook's datasets whose names carry the same data words as its file name (``synthetic``,
    ``amazon``, ``mosi``, ...). Rows of the papers' own values (data ``paper (...)``) do not count."""
    labels: list[str] = []
    by_column = set()
    for table in tables:
        for column in ("data", "dataset"):
            if column in table.header:
                index = table.header.index(column)
                labels += [row[index] for row in table.rows if len(row) > index
                           and isinstance(row[index], str) and not row[index].startswith("paper")]
                by_column.add(table.link)
    entries = (state.results or {}).get("datasets", [])
    for name in names:
        if any(link and link.endswith(f"/{name}.csv") for link in by_column):
            continue
        words = _data_words(name)
        if not words or any(words <= _data_words(label) for label in labels):
            continue  # no data words, or data that the tables' columns already name
        matching = [_dataset_label(entry) for entry in entries if _data_words(str(entry.get("name"))) == words]
        labels += matching or sorted(words)
    return ", ".join(dict.fromkeys(label for label in labels if label)) or "not stated by its tables"


def _notebook_datasets(state: NotebookState) -> str:
    entries = (state.results or {}).get("datasets", [])
    if not entries:
        return "not recorded"
    return ", ".join(_dataset_label(entry) for entry in entries)


def _dataset_label(entry: dict[str, Any]) -> str:
    """``name (synthetic)`` or ``name (real)``, without repeating a kind the name already states."""
    name, kind = str(entry.get("name")), "synthetic" if entry.get("synthetic") else "real"
    return name if kind in name.lower() else f"{name} ({kind})"


def item_blocks(outcome: ItemOutcome, state: NotebookState, reports_dir: Path) -> list[Block]:
    """The report section of one item."""
    item = outcome.item
    where = f" · notebook {item.notebook} · files {item.prefix}*" if item.produced_by_us else ""
    blocks: list[Block] = [
        Heading(3, f"{item.label} — {item.title}", item.anchor),
        Para(["Status: ", Badge(ITEM_BADGES[outcome.status]), f" ({outcome.reason})" if outcome.reason else "",
              *([" · ", Badge("our addition"), " (not a result of the paper; counted apart)"]
                if item.kind == "our addition" else []), where]),
    ]
    if outcome.status == "produced":
        base = state.name
        tables = [_csv_table(reports_dir, base, name, _single_seed(state)) for name in outcome.tables]
        blocks.append(Para([f"Data: {item_data(state, tables, [*outcome.tables, *outcome.figures])}"]))
        blocks += [Figure(f"{base}/figures/{name}.png", f"{item.label} ({name})",
                          _existing(reports_dir, f"{base}/figures/{name}.svg")) for name in outcome.figures]
        blocks += tables
    if outcome.verdicts:
        blocks.append(_verdict_table(outcome.verdicts, f"verdicts on {item.label}", unconverged_runs(state)))
        curves = _existing(reports_dir, f"{state.name}/figures/{LEARNING_CURVES}.png")
        if curves:
            blocks.append(Para(["Training behind these verdicts: ", Link("learning curves", curves), " and ",
                                Link("how every run stopped", f"#nb-{state.name}"), "."]))
    elif outcome.status == "produced":
        blocks.append(Para(["No verdict names this item."]))
    return blocks


def _existing(reports_dir: Path, relative: str) -> str | None:
    return relative if (reports_dir / relative).is_file() else None


def summary_blocks(states: dict[str, NotebookState], outcomes: list[ItemOutcome]) -> list[Block]:
    """Verdict counts over all usable notebooks and one status row per notebook."""
    by_paper: dict[str, list[dict[str, Any]]] = {}
    for state in states.values():
        for verdict in state.verdicts():
            by_paper.setdefault(_paper_of(state.name, verdict), []).append(verdict)
    paper_rows = [[f"paper {paper}", *map(str, _verdict_counts(found).values()), str(len(found))]
                  for paper, found in sorted(by_paper.items())]
    everything = [v for found in by_paper.values() for v in found]
    paper_rows.append(["all", *map(str, _verdict_counts(everything).values()), str(len(everything))])
    blocks: list[Block] = [Heading(2, "Summary", "summary"),
                           Para(["Verdict rule: a claim is replicated when the paired difference has the paper's "
                                 "direction and is significant after Holm's correction over the claims of the "
                                 "paper tested in the same notebook (alpha 0.05); contradicted when significant "
                                 "in the opposite direction; inconclusive otherwise (the interval shows what "
                                 "effect could have been missed); not comparable when the data cannot test it. A study's own "
                                 "additions (claims marked \"our addition\") form a family of their own and are "
                                 "counted apart."]),
                           Table(["paper", *OUTCOMES, "total"], paper_rows,
                                 "verdicts on the papers' claims (notebooks that ran successfully)")]
    rows = []
    for name, state in states.items():
        mine = [o for o in outcomes if o.item.notebook == name]
        per_notebook = _verdict_counts(state.verdicts())
        rows.append([Link(name, f"#nb-{name}"), Badge(state.status), _wall_time(state),
                     f"{sum(o.status == 'produced' for o in mine)} / {len(mine)}",
                     *map(str, per_notebook.values())])
    blocks.append(Table(["notebook", "status", "wall time", "items produced", *OUTCOMES], rows, "notebooks"))
    return blocks


def _paper_of(notebook: str, verdict: dict[str, Any]) -> str:
    """The paper a verdict is about: that of the registry item it names, else the notebook's only paper; a claim of
    a study's own addition (``family`` "our addition", or about an item of kind "our addition") is counted apart,
    as "<paper> (our addition)"."""
    items = items_of(notebook)
    named = next((item for item in items if item_verdicts(item, [verdict])), None)
    paper = named.paper if named else None
    if paper is None:
        papers_of_notebook = {item.paper for item in items}
        paper = papers_of_notebook.pop() if len(papers_of_notebook) == 1 else "unassigned"
    ours = verdict.get("family") == "our addition" or (named is not None and named.kind == "our addition")
    return f"{paper} (our addition)" if ours else paper


def _wall_time(state: NotebookState) -> str:
    run_time = (state.run or {}).get("wall_time_s")
    bundle_time = (state.results or {}).get("wall_time_s") if state.usable else None
    if state.status == "cached" and bundle_time is not None:
        return f"cached (computed in {bundle_time:.1f} s)"
    value = run_time if run_time is not None else bundle_time
    return f"{value:.1f} s" if value is not None else "–"


def _cpu_time(state: NotebookState) -> str:
    """The kernel's CPU time (``results.json`` ``cpu_time_s``): the notebook's cost on a machine shared with other
    jobs, where the wall time counts them too; a dash for bundles that predate the record."""
    value = (state.results or {}).get("cpu_time_s") if state.usable else None
    return f"{value / 60:.1f} min" if value is not None else "–"


def _revision(state: NotebookState) -> str:
    """The git revision (12 characters, ``+dirty`` kept) the notebook's results came from."""
    revision = ((state.results or {}).get("environment") or {}).get("git_revision") if state.usable else None
    if not revision:
        return "–"
    commit, _, dirty = revision.partition("+")
    return commit[:12] + (f"+{dirty}" if dirty else "")


def _coverage_status(outcome: ItemOutcome, by_prefix: dict[tuple[str, str], ItemOutcome]) -> list:
    """The coverage table's status cell: a badge, and for a restatement the status of each item it repeats."""
    if outcome.status != "restated":
        return [Badge(ITEM_BADGES[outcome.status])]
    parts: list = [Badge("restated"), " in "]
    for index, prefix in enumerate(outcome.item.see):
        target = by_prefix[(outcome.item.paper, prefix)]
        parts += ([", "] if index else []) + [Link(target.item.label, f"#{target.item.anchor}"),
                                              f" ({ITEM_BADGES[target.status]})"]
    return parts


def coverage_blocks(outcomes: list[ItemOutcome]) -> list[Block]:
    """Every figure, table and headline number of the three papers with its status: produced (or failed, not
    produced), restated elsewhere, or not reproducible and why; the study's additions are marked and left out of
    the counts."""
    by_prefix = {(o.item.paper, o.item.prefix): o for o in outcomes}
    rows = []
    for outcome in outcomes:
        item = outcome.item
        status = _coverage_status(outcome, by_prefix)
        if item.kind == "our addition":
            status += [" ", Badge("our addition")]
        why = outcome.reason if outcome.status in ("not reproducible", "restated", "failed", "missing") else (
            f"notebook {item.notebook}" if item.produced_by_us else "")
        if item.kind == "our addition":
            why = f"{why}; not a result of the paper, left out of the counts" if why else "left out of the counts"
        rows.append([f"paper {item.paper}", Link(item.label, f"#{item.anchor}"), item.title, status, why])
    papers = [o for o in outcomes if o.item.kind != "our addition"]
    counts = {status: sum(o.status == status for o in papers) for status in ITEM_BADGES}
    ours = sum(o.item.kind == "our addition" for o in outcomes)
    text = (f"{len(papers)} results of the papers: {counts['produced']} produced, {counts['restated']} restated "
            f"from other items, {counts['not reproducible']} not reproducible, "
            f"{counts['failed'] + counts['missing']} not produced in this run (failed or missing); "
            f"{ours} of our own addition{'' if ours == 1 else 's'} besides.")
    return [Heading(2, "Coverage", "coverage"),
            Para(["Every figure, table and headline number the three papers report, in the papers' order. ", text]),
            Table(["paper", "item", "what it shows", "status", "why / where"], rows, "coverage of the papers' results")]


def limitations_blocks(outcomes: list[ItemOutcome], states: dict[str, NotebookState]) -> list[Block]:
    """What could not be tested and why, from the registry and the verdicts: the items that cannot be reproduced,
    those that were not produced in this run, and per paper the claims that were not comparable, by reason."""
    blocks: list[Block] = [Heading(2, "Limitations", "limitations")]
    unreproducible = [o for o in outcomes if o.status == "not reproducible"]
    if unreproducible:
        blocks.append(Para([f"{len(unreproducible)} results of the papers cannot be reproduced:"]))
        by_reason: dict[str, list[ItemOutcome]] = {}
        for outcome in unreproducible:
            by_reason.setdefault(outcome.reason, []).append(outcome)
        rows = [[_joined([Link(f"{o.item.paper} {o.item.label}", f"#{o.item.anchor}") for o in found], ", "), reason]
                for reason, found in by_reason.items()]
        blocks.append(Table(["items", "why not reproducible"], rows, "results that cannot be reproduced"))
    unproduced = [o for o in outcomes if o.status in ("failed", "missing")]
    if unproduced:
        blocks.append(Table(["item", "status", "why"],
                            [[Link(f"{o.item.paper} {o.item.label}", f"#{o.item.anchor}"),
                              Badge(ITEM_BADGES[o.status]), o.reason] for o in unproduced],
                            "results not produced in this run"))
    reasons: dict[str, dict[str, int]] = {}
    for state in states.values():
        for verdict in state.verdicts():
            if verdict["verdict"] == "not comparable":
                paper = _paper_of(state.name, verdict)
                reason = _reason_kind(verdict.get("reason"))
                reasons.setdefault(paper, {})[reason] = reasons.get(paper, {}).get(reason, 0) + 1
    if reasons:
        rows = [[f"paper {paper}", str(sum(found.values())),
                 "; ".join(f"{reason} ({count})" for reason, count in sorted(found.items(), key=lambda x: -x[1]))]
                for paper, found in sorted(reasons.items())]
        blocks.append(Table(["paper", "not comparable", "reasons (claims)"], rows,
                            "claims the data could not test (verdict not comparable)"))
    if len(blocks) == 1:
        blocks.append(Para(["Every result of the papers was produced and every claim could be tested."]))
    return blocks


def _reason_kind(reason: Any) -> str:
    """A not-comparable reason without its particulars: ``"both runs at chance on ndcg (BLA 0, BL 0; ...)"`` ->
    ``"both runs at chance on ndcg"``."""
    text = str(reason or "no reason recorded").strip()
    return text.split(" (", 1)[0].strip() or text


def paper_blocks(outcomes: list[ItemOutcome], states: dict[str, NotebookState], reports_dir: Path) -> list[Block]:
    """One heading per paper, then its items' sections."""
    blocks: list[Block] = []
    for paper in dict.fromkeys(o.item.paper for o in outcomes):
        blocks.append(Heading(2, f"Paper {paper}: {PAPERS[paper]}", f"paper-{paper}"))
        for outcome in (o for o in outcomes if o.item.paper == paper):
            blocks += item_blocks(outcome, _state_of(outcome.item, states), reports_dir)
    return blocks


def _state_of(item: ReportItem, states: dict[str, NotebookState]) -> NotebookState:
    """The notebook state of an item; an empty one for an item no notebook produces."""
    return states.get(item.notebook) or NotebookState(item.notebook, None, None)


def notebook_blocks(state: NotebookState, reports_dir: Path) -> list[Block]:
    """A notebook's status, notes, datasets, outputs outside the registry and verdicts that name no item."""
    title = NOTEBOOKS.get(state.name, "not in the report's registry")
    blocks: list[Block] = [Heading(3, f"{state.name} — {title}", f"nb-{state.name}"),
                           Para(["Status: ", Badge(state.status), *_run_links(state, reports_dir)])]
    if state.status == "failed":
        blocks.append(Para([f"Error: {(state.run or {}).get('error') or 'not recorded'}"]))
        if state.results is not None:
            blocks.append(Para([f"Results of an earlier run remain in {state.name}/ and are not shown."]))
    if not state.usable:
        return blocks
    blocks.append(Para([f"Data: {_notebook_datasets(state)}"]))
    blocks += [Para([f"Note: {note}"]) for note in state.results.get("notes", [])]
    blocks += _unclaimed_outputs(state, reports_dir)
    training = _training_table(state)
    if training is not None:
        blocks.append(training)
    tuning = _tuning_table(state)
    if tuning is not None:
        blocks.append(tuning)
    registry = items_of(state.name)
    others = [v for v in state.verdicts() if not any(item_verdicts(item, [v]) for item in registry)]
    if others:
        blocks.append(_verdict_table(others, "verdicts that name no registry item", unconverged_runs(state)))
    return blocks


def _training_table(state: NotebookState) -> Table | None:
    """How the notebook's training runs ended (``results.json`` ``training``), one row per model: runs, stopped by
    patience / the epoch cap / the time budget, converged, and the median of the epochs run; so a reader sees
    whether a verdict rests on runs that hit their cap while still improving."""
    runs = state.results.get("training") or []
    if not runs:
        return None
    by_model: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        by_model.setdefault(str(run.get("model", "–")), []).append(run)
    rows = []
    for model, found in by_model.items():
        epochs = sorted(int(r.get("epochs", 0)) for r in found)
        rows.append([model, str(len(found)), *(str(sum(r.get("stopped_by") == reason for r in found))
                                               for reason in ("patience", "cap", "time")),
                     str(sum(bool(r.get("converged")) for r in found)), str(epochs[len(epochs) // 2])])
    return Table(["model", "runs", "stopped by patience", "stopped by the cap", "stopped by time", "converged",
                  "median epochs"], rows, "training runs (every fit of the notebook, results.json: training)",
                 collapsed=len(rows) > FOLDED_ROWS)


def _tuning_table(state: NotebookState) -> Table | None:
    """The equal-budget search the notebook's models were trained with (``results.json`` ``tuning``): the budget
    and each model's chosen values; None when the notebook was not tuned (every model then has the profile's)."""
    tuning = state.results.get("tuning")
    if not tuning:
        return None
    budget = tuning.get("budget") or {}
    caption = (f"tuned settings ({budget.get('trials_per_model', '?')} {budget.get('sampler', '')} trials per model "
               f"on the {budget.get('data', 'validation split')}, {budget.get('metric', 'validation score')}, "
               f"profile {budget.get('profile', '?')}"
               + (f", overrides {budget['overrides']}" if budget.get("overrides") else "")
               + (f", {budget['minutes']} min" if budget.get("minutes") is not None else "") + ")")
    rows = [[model, ", ".join(f"{k} = {number(v, 4) if isinstance(v, float) else v}" for k, v in values.items())]
            for model, values in (tuning.get("models") or {}).items()]
    return Table(["model", "chosen values"], rows, caption, collapsed=len(rows) > FOLDED_ROWS)


def _unclaimed_outputs(state: NotebookState, reports_dir: Path) -> list[Block]:
    """Figures and tables of a notebook that no registry item owns (data summaries, training curves)."""
    registry = items_of(state.name)
    figures = [Figure(f"{state.name}/figures/{name}.png", name,
                      _existing(reports_dir, f"{state.name}/figures/{name}.svg"))
               for name in _bundle_files(reports_dir, state, "figures", "png")
               if not any(item.owns(name) for item in registry)]
    tables = [_csv_table(reports_dir, state.name, name, _single_seed(state))
              for name in _bundle_files(reports_dir, state, "tables", "csv")
              if not any(item.owns(name) for item in registry)]
    return [*figures, *tables]


def _notebook_link(state: NotebookState, reports_dir: Path) -> Link | None:
    """Link to the executed (or failed) notebook copy the runner kept, when it exists."""
    executed = (state.run or {}).get("executed")
    if not executed or not (reports_dir / executed).is_file():
        return None
    return Link(executed, executed)


def _run_links(state: NotebookState, reports_dir: Path) -> list:
    link = _notebook_link(state, reports_dir)
    label = "failed notebook: " if state.status == "failed" else "executed notebook: "
    return [" · ", label, link] if link else []


def manifest_blocks(manifest: dict[str, Any], states: dict[str, NotebookState], reports_dir: Path) -> list[Block]:
    """Profile, git revision, versions, hardware, and per notebook seeds, wall time and input hash."""
    environment = manifest.get("environment") or next(
        (s.results.get("environment", {}) for s in states.values() if s.usable), {})
    packages = environment.get("packages", {})
    facts = [("profile", manifest.get("profile", "not recorded")),
             ("git revision", manifest.get("git_revision") or environment.get("git_revision") or "not recorded"),
             ("python", environment.get("python")), ("platform", environment.get("platform")),
             ("processor", environment.get("processor")), ("CPU cores", environment.get("cpu_count")),
             ("threads", environment.get("threads")), ("CUDA device", environment.get("cuda") or "none"),
             *((name, version or "not installed") for name, version in packages.items())]
    rows = [[name, Badge(state.status), _wall_time(state), _cpu_time(state),
             ", ".join(map(str, state.results.get("seeds", []))) if state.usable else "–",
             _revision(state), ((state.run or {}).get("input_hash") or "–")[:12],
             _notebook_link(state, reports_dir) or "–"]
            for name, state in states.items()]
    return [Heading(2, "Run manifest", "manifest"),
            Table(["", "value"], [[name, str(value)] for name, value in facts], "environment"),
            Table(["notebook", "status", "wall time", "CPU time", "seeds", "git revision", "input hash",
                   "notebook file"], rows, "notebooks (each notebook's revision is the commit its results came from)")]


def report_blocks(reports_dir: Path) -> list[Block]:
    """The whole report as renderer-neutral blocks."""
    manifest, states = load_states(reports_dir)
    outcomes = [resolve_item(item, _state_of(item, states), reports_dir) for item in ITEMS]
    profile = manifest.get("profile") or ", ".join(dict.fromkeys(
        str(s.results.get("config", {}).get("profile")) for s in states.values() if s.usable)) or "not recorded"
    contents = [Link(f"Paper {paper}", f"#paper-{paper}") for paper in dict.fromkeys(i.paper for i in ITEMS)]
    blocks: list[Block] = [
        Heading(1, "xrec: reproduction of three recommendation papers", "top"),
        Para([f"Profile: {profile}. Our values sit beside the papers' values (the \"paper\" columns and black "
              "markers); every claim is judged by a two-sided paired test (per seed, or per user with a single "
              "seed), Holm-corrected over the paper's claims tested in the same notebook (xrec_lib.compare.decide). "
              "Contents: ", *_joined([Link("Coverage", "#coverage"), Link("Limitations", "#limitations")]
                                     + contents + [Link("Notebooks", "#notebooks"),
                                                        Link("Run manifest", "#manifest")])]),
    ]
    blocks += summary_blocks(states, outcomes)
    blocks += coverage_blocks(outcomes)
    blocks += limitations_blocks(outcomes, states)
    blocks += paper_blocks(outcomes, states, reports_dir)
    blocks.append(Heading(2, "Notebooks", "notebooks"))
    for state in states.values():
        blocks += notebook_blocks(state, reports_dir)
    return blocks + manifest_blocks(manifest, states, reports_dir)


def _joined(parts: list, separator: str = " · ") -> list:
    joined: list = []
    for index, part in enumerate(parts):
        joined += [part] if index == 0 else [separator, part]
    return joined


def _write_atomically(path: Path, text: str) -> None:
    handle, partial = tempfile.mkstemp(prefix=f".partial-{path.name}-", dir=path.parent)
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(text)
    os.chmod(partial, 0o644)
    os.replace(partial, path)


def build_report(reports_dir: Path | str) -> Path:
    """Write ``index.html`` and ``index.md`` into ``reports_dir``; returns the path of ``index.html``."""
    reports_dir = Path(reports_dir)
    if not reports_dir.is_dir():
        raise FileNotFoundError(f"reports folder {reports_dir} does not exist; run `make reproduce` first")
    blocks = report_blocks(reports_dir)
    _write_atomically(reports_dir / "index.md", to_markdown(blocks))
    _write_atomically(reports_dir / "index.html", to_html(blocks, "xrec reproduction report"))
    return reports_dir / "index.html"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports-dir", type=Path, default=Path("reports"))
    args = parser.parse_args(argv)
    try:
        path = build_report(args.reports_dir)
    except (FileNotFoundError, DataError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"report: {path} (and {path.with_suffix('.md').name})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
