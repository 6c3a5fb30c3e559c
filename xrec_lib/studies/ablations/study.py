"""Notebook 05: every ablation of the three papers in one place, with a paired test per "component X helps" claim.

The ablations are trained by the notebooks that reproduce each paper (02: paper 000 Table 2; 03: paper 001
Fig. 8; 04: paper 002 Tables 2 and 3), from the same library code, and stored per seed in their results
bundles. This module reads those per-seed rows back, so no model is trained twice, and puts them side by
side: mean ± std per variant, the paper's value where it prints one, and a verdict per claim paired over seeds
(:func:`xrec_lib.compare.claim_test`, Holm-corrected over each paper's ablation claims by
:func:`xrec_lib.compare.decide`; a single seed is "not comparable"). The notebooks that trained the ablations
test the same claims and the report counts theirs, so these are stored under ``ablations/claims`` (not a
``verdicts`` key): no claim is counted twice. Run notebooks 02-04 first: a missing bundle is reported, not
guessed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from xrec_lib import papers
from xrec_lib.compare import claim_test, decide, verdict_table
from xrec_lib.config import Settings
from xrec_lib.errors import DataError, MissingDataError
from xrec_lib.results import read_metrics
from xrec_lib.studies.paper000.interaction import ABLATION as TABLE2_000
from xrec_lib.models.multimodal import ABLATIONS as ABLATIONS_001
from xrec_lib.studies.paper002 import ABLATIONS as ABLATIONS_002
from xrec_lib.studies.paper002 import OURS as GCT


@dataclass(frozen=True)
class AblationSettings(Settings):
    """Profile values of notebook 05.

    Attributes:
        source_reports_dir: the reports folder whose bundles (of notebooks 02-04) are read; None: this run's.
    """

    source_reports_dir: str | None = None

    def source(self, reports_dir: Path) -> Path:
        return Path(self.source_reports_dir) if self.source_reports_dir else reports_dir


@dataclass(frozen=True)
class Claim:
    """``better`` beats ``worse`` on the study's metric (both are row names of the study)."""

    text: str
    better: str
    worse: str


@dataclass(frozen=True)
class AblationStudy:
    """Where one paper's ablation lives in the results bundles, and the claims it tests.

    Attributes:
        item: paper item id used by the report (e.g. ``"table2"``), ``paper`` the paper id.
        notebook: the notebook whose bundle holds the per-seed rows; ``keys``: metrics keys to concatenate.
        row: the column naming the variant; ``metric``: the column compared; ``higher_is_better``: its direction.
        claims: the paper's "component helps" statements.
        paper_rows: for the variants the paper prints, the :func:`xrec_lib.papers.one` query of its value.
        sweep: the rows are an ordered hyper-parameter (e.g. the number of layers N); the claims are then
            "each larger value beats the next smaller one", built from the values the run holds.
    """

    paper: str
    item: str
    title: str
    notebook: str
    keys: tuple[str, ...]
    row: str
    metric: str
    higher_is_better: bool
    claims: tuple[Claim, ...]
    paper_rows: tuple[tuple[str, dict], ...] = ()
    sweep: bool = False

    def claims_for(self, rows: pd.DataFrame) -> tuple[Claim, ...]:
        if not self.sweep:
            return self.claims
        values = sorted(rows[self.row].unique())
        return tuple(Claim(f"{self.item.replace('table', 'Table ')}: {self.row}={big} beats {self.row}={small}", big, small)
                     for small, big in zip(values, values[1:]))


def _chain_claims(rows: tuple[str, ...], item: str) -> tuple[Claim, ...]:
    return tuple(Claim(f"{item}: {better} beats {worse}", better, worse) for worse, better in zip(rows, rows[1:]))


_000 = tuple(name for name, _, _ in TABLE2_000)
_001_FULL, *_001_VARIANTS = ABLATIONS_001
STUDIES = (
    AblationStudy(
        paper="000", item="table2", title="Paper 000, Table 2: components of the Siamese GCN + BLA recommender",
        notebook="02_bilinear_attention", keys=("table2/synthetic",), row="model", metric="ndcg@20",
        higher_is_better=True,
        paper_rows=((_000[0], {"source": "Table 2, Summary text", "variant": "baseline"}),
                    (_000[3], {"source": "Table 2, Results text", "variant": "full"})),
        claims=_chain_claims(_000[:4], "Table 2") + (Claim("Table 2: attention helps (BLA beats BL)", _000[3], _000[4]),)),
    AblationStudy(
        paper="001", item="fig8", title="Paper 001, Fig. 8: text-guided transformer (LGT) and soft mapping (SM)",
        notebook="03_multimodal_short_video", keys=("fig8/synthetic-mosi",), row="model", metric="mae",
        higher_is_better=False,
        claims=tuple(Claim(f"Fig. 8: the full model ({_001_FULL}) has lower MAE than {variant}", _001_FULL, variant)
                     for variant in _001_VARIANTS)),
    AblationStudy(
        paper="002", item="table2", title="Paper 002, Table 2: components of GConv-Transform",
        notebook="04_gconv_transform", keys=("table1/synthetic", "table2/synthetic"), row="model",
        metric="accuracy", higher_is_better=True,
        paper_rows=((GCT, {"source": "Table 1", "model": GCT, "metric": "accuracy"}),
                    ("without Chebyshev convolution", {"source": "Table 2", "variant": "without Chebyshev convolution"}),
                    ("without graph convolution", {"source": "Table 2", "variant": "without graph"})),
        claims=tuple(Claim(f"Table 2: {GCT} is more accurate than {variant}", GCT, variant)
                     for variant in ABLATIONS_002)),
    AblationStudy(
        paper="002", item="table3", title="Paper 002, Table 3: number N of GConv-Transform layers",
        notebook="04_gconv_transform", keys=("table3/synthetic",), row="n_layers", metric="accuracy",
        higher_is_better=True, claims=(), sweep=True,
        paper_rows=tuple((value.setting["n_layers"], {"source": "Table 3", "n_layers": value.setting["n_layers"]})
                         for value in papers.lookup(paper="002", source="Table 3"))),
)


def load_rows(reports_dir: Path, study: AblationStudy) -> pd.DataFrame:
    """The study's per-seed rows from its notebook's ``results.json`` (rows of other models dropped)."""
    path = Path(reports_dir) / study.notebook / "results.json"
    if not path.is_file():
        raise MissingDataError(f"{path} not found: run notebook {study.notebook} first (make reproduce)")
    metrics = json.loads(path.read_text())["metrics"]
    missing = [key for key in study.keys if key not in metrics]
    if missing:
        raise DataError(f"{path}: no metrics {', '.join(missing)} (known: {', '.join(sorted(metrics))})")
    rows = pd.concat([pd.DataFrame(read_metrics(path.parent, key)) for key in study.keys], ignore_index=True)
    for column in (study.row, "seed", study.metric):
        if column not in rows.columns:
            raise DataError(f"{path}: per-seed rows of {study.item} lack column {column!r}")
    if not study.sweep:
        wanted = {name for claim in study.claims for name in (claim.better, claim.worse)}
        rows = rows[rows[study.row].isin(wanted)]
    return rows[[study.row, "seed", study.metric]].reset_index(drop=True)


def summary_table(rows: pd.DataFrame, study: AblationStudy) -> pd.DataFrame:
    """Mean, std (NaN for a single seed) and number of seeds per variant, with the paper's value when it prints
    one. For a sweep, the settings only the paper ran (e.g. its N = 12, 16, 22) are rows of their own with no value
    of ours, and the settings only we ran have no paper value: nothing is set beside a different setting."""
    grouped = rows.groupby(study.row, sort=False)[study.metric]
    table = pd.DataFrame({f"ours {study.metric} (mean)": grouped.mean(),
                          f"ours {study.metric} (std)": grouped.std(ddof=1),
                          "seeds": grouped.size()})
    if study.sweep:
        paper_only = [name for name, _ in study.paper_rows if name not in table.index]
        table = pd.concat([table, pd.DataFrame(index=pd.Index(paper_only, name=table.index.name))]).sort_index()
        table["seeds"] = table["seeds"].fillna(0).astype(int)
    table[f"paper {study.metric}"] = [_paper_value(study, name) for name in table.index]
    return table


def claim_verdicts(rows: pd.DataFrame, study: AblationStudy) -> list[dict]:
    """One verdict per claim, paired over the seeds both variants share."""
    wide = rows.pivot_table(index="seed", columns=study.row, values=study.metric)
    sign = 1.0 if study.higher_is_better else -1.0
    verdicts = []
    for claim in study.claims_for(rows):
        if claim.better not in wide or claim.worse not in wide:
            verdicts.append({**claim_test(claim.text, [], [], unit="seed"), "item": study.item, "paper": study.paper})
            continue
        pairs = wide[[claim.better, claim.worse]].dropna()
        verdict = claim_test(claim.text, sign * pairs[claim.better], sign * pairs[claim.worse], unit="seed")
        verdicts.append({**verdict, "item": study.item, "paper": study.paper})
    return verdicts


def run_all(reports_dir: Path) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, list[str]]:
    """Summary table per study, all verdicts, and a note for each study whose bundle is missing."""
    tables, verdicts, missing = {}, [], []
    for study in STUDIES:
        try:
            rows = load_rows(reports_dir, study)
        except MissingDataError as error:
            missing.append(str(error))
            continue
        tables[study_name(study)] = summary_table(rows, study)
        verdicts += claim_verdicts(rows, study)
    decided = [v for paper in dict.fromkeys(v["paper"] for v in verdicts)
               for v in decide([v for v in verdicts if v["paper"] == paper])]
    return tables, verdict_table(decided).assign(**_columns(decided, "item", "paper")), missing


def study_name(study: AblationStudy) -> str:
    """Table/figure name of a study, prefixed by its paper item (e.g. ``table2_paper000``)."""
    return f"{study.item}_paper{study.paper}"


def _columns(verdicts: list[dict], *names: str) -> dict[str, list]:
    return {name: [verdict[name] for verdict in verdicts] for name in names}


def _paper_value(study: AblationStudy, variant: str) -> float:
    query = dict(study.paper_rows).get(variant)
    return papers.one(paper=study.paper, **query).value if query else float("nan")
