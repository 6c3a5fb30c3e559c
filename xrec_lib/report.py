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
import math
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
from xrec_lib.results import LEARNING_CURVES

MANIFEST_NAME = "run_manifest.json"
USABLE = ("ok", "cached", "results only")
MAX_ROWS = 200  # rows of a table shown on the page; the linked CSV holds them all
FOLDED_ROWS = 30  # longer tables are folded behind their caption
ITEM_BADGES = {"produced": "produced", "failed": "failed", "missing": "not produced"}


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
    status: str  # "produced", "failed" or "missing"
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


def _number(value: Any, digits: int = 4) -> str:
    """A value for reading: floats to ``digits`` decimals (significant digits below 0.001), None/NaN as a dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}g}" if abs(value) < 1e-3 and value else f"{value:.{digits}f}"
    return str(value)


def _display_cell(text: str) -> str:
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
    return _number(value)


def _csv_table(reports_dir: Path, notebook: str, name: str) -> Table:
    """A bundle table as written by the notebook (first :data:`MAX_ROWS` rows), linked to its CSV file."""
    relative = f"{notebook}/tables/{name}.csv"
    with (reports_dir / relative).open(newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = (rows[0], rows[1:]) if rows else (["(empty table)"], [])
    caption = name if len(body) <= MAX_ROWS else f"{name} (first {MAX_ROWS} of {len(body)} rows)"
    return Table(header, [[_display_cell(cell) for cell in row] for row in body[:MAX_ROWS]], caption,
                 collapsed=len(body) > FOLDED_ROWS, link=relative)


def _verdict_table(verdicts: list[dict[str, Any]], caption: str,
                   unconverged: dict[str, list[str]] | None = None) -> Table:
    header = ["claim", "verdict", "mean diff [95% CI]", "effect d_z", "paper's gap", "p (two-sided)",
              "p (Holm)", "test", "pairs", "flags"]
    rows = [[v["claim"], Badge(v["verdict"]), _interval(v), _number(v.get("effect_dz")), _number(v.get("paper_gap")),
             _number(v.get("p_value")), _holm(v), v.get("test") or "–", _pairs(v),
             _flags(v, _unconverged_in(v["claim"], unconverged or {}))] for v in verdicts]
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
        return _number(mean)
    return f"{_number(mean)} [{_number(low)}, {_number(high)}]"


def _holm(verdict: dict[str, Any]) -> str:
    adjusted, family = verdict.get("p_adjusted"), verdict.get("family_size")
    return "–" if adjusted is None else f"{_number(adjusted)} (of {family})" if family else _number(adjusted)


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


def _datasets_text(state: NotebookState, tables: list[Table]) -> str:
    """The data an item used: the ``data``/``dataset`` column of its tables, else the notebook's datasets."""
    labels: list[str] = []
    for table in tables:
        for column in ("data", "dataset"):
            if column in table.header:
                index = table.header.index(column)
                labels += [row[index] for row in table.rows if len(row) > index]
    return ", ".join(dict.fromkeys(labels)) if labels else _notebook_datasets(state)


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
    blocks: list[Block] = [
        Heading(3, f"{item.label} — {item.title}", item.anchor),
        Para(["Status: ", Badge(ITEM_BADGES[outcome.status]), f" ({outcome.reason})" if outcome.reason else "",
              f" · notebook {item.notebook} · files {item.prefix}*"]),
    ]
    if outcome.status == "produced":
        base = state.name
        tables = [_csv_table(reports_dir, base, name) for name in outcome.tables]
        blocks.append(Para([f"Data: {_datasets_text(state, tables)}"]))
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
    a study's own addition (``family`` "our addition") is counted apart, as "<paper> (our addition)"."""
    items = items_of(notebook)
    paper = next((item.paper for item in items if item_verdicts(item, [verdict])), None)
    if paper is None:
        papers_of_notebook = {item.paper for item in items}
        paper = papers_of_notebook.pop() if len(papers_of_notebook) == 1 else "unassigned"
    return f"{paper} (our addition)" if verdict.get("family") == "our addition" else paper


def _wall_time(state: NotebookState) -> str:
    run_time = (state.run or {}).get("wall_time_s")
    bundle_time = (state.results or {}).get("wall_time_s") if state.usable else None
    if state.status == "cached" and bundle_time is not None:
        return f"cached (computed in {bundle_time:.1f} s)"
    value = run_time if run_time is not None else bundle_time
    return f"{value:.1f} s" if value is not None else "–"


def paper_blocks(outcomes: list[ItemOutcome], states: dict[str, NotebookState], reports_dir: Path) -> list[Block]:
    """One heading per paper, then its items' sections."""
    blocks: list[Block] = []
    for paper in dict.fromkeys(o.item.paper for o in outcomes):
        blocks.append(Heading(2, f"Paper {paper}: {PAPERS[paper]}", f"paper-{paper}"))
        for outcome in (o for o in outcomes if o.item.paper == paper):
            blocks += item_blocks(outcome, states[outcome.item.notebook], reports_dir)
    return blocks


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
    rows = [[model, ", ".join(f"{k} = {_number(v, 4) if isinstance(v, float) else v}" for k, v in values.items())]
            for model, values in (tuning.get("models") or {}).items()]
    return Table(["model", "chosen values"], rows, caption, collapsed=len(rows) > FOLDED_ROWS)


def _unclaimed_outputs(state: NotebookState, reports_dir: Path) -> list[Block]:
    """Figures and tables of a notebook that no registry item owns (data summaries, training curves)."""
    registry = items_of(state.name)
    figures = [Figure(f"{state.name}/figures/{name}.png", name,
                      _existing(reports_dir, f"{state.name}/figures/{name}.svg"))
               for name in _bundle_files(reports_dir, state, "figures", "png")
               if not any(item.owns(name) for item in registry)]
    tables = [_csv_table(reports_dir, state.name, name) for name in _bundle_files(reports_dir, state, "tables", "csv")
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
    rows = [[name, Badge(state.status), _wall_time(state),
             ", ".join(map(str, state.results.get("seeds", []))) if state.usable else "–",
             ((state.run or {}).get("input_hash") or "–")[:12], _notebook_link(state, reports_dir) or "–"]
            for name, state in states.items()]
    return [Heading(2, "Run manifest", "manifest"),
            Table(["", "value"], [[name, str(value)] for name, value in facts], "environment"),
            Table(["notebook", "status", "wall time", "seeds", "input hash", "notebook file"], rows, "notebooks")]


def report_blocks(reports_dir: Path) -> list[Block]:
    """The whole report as renderer-neutral blocks."""
    manifest, states = load_states(reports_dir)
    outcomes = [resolve_item(item, states[item.notebook], reports_dir) for item in ITEMS]
    profile = manifest.get("profile") or ", ".join(dict.fromkeys(
        str(s.results.get("config", {}).get("profile")) for s in states.values() if s.usable)) or "not recorded"
    contents = [Link(f"Paper {paper}", f"#paper-{paper}") for paper in dict.fromkeys(i.paper for i in ITEMS)]
    blocks: list[Block] = [
        Heading(1, "xrec: reproduction of three recommendation papers", "top"),
        Para([f"Profile: {profile}. Our values sit beside the papers' values (the \"paper\" columns and black "
              "markers); every claim is judged by a two-sided paired test (per seed, or per user with a single "
              "seed), Holm-corrected over the paper's claims tested in the same notebook (xrec_lib.compare.decide). "
              "Contents: ", *_joined(contents + [Link("Notebooks", "#notebooks"),
                                                        Link("Run manifest", "#manifest")])]),
    ]
    blocks += summary_blocks(states, outcomes)
    blocks += paper_blocks(outcomes, states, reports_dir)
    blocks.append(Heading(2, "Notebooks", "notebooks"))
    for state in states.values():
        blocks += notebook_blocks(state, reports_dir)
    return blocks + manifest_blocks(manifest, states, reports_dir)


def _joined(parts: list) -> list:
    joined: list = []
    for index, part in enumerate(parts):
        joined += [part] if index == 0 else [" · ", part]
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
