"""Paper 000, notebook 02: the paper's statements as claims, tested and decided.

Every statement of :data:`CLAIMS` ("A beats B, C, ... on M") is tested against each method it names, each pair one
claim (:func:`claim_pairs`, :func:`claim_records`: :func:`xrec_lib.compare.claim_test` per seed with two or more
seeds, else per evaluated user; the paper's gap where it gives both values; *not comparable* when both runs are at
chance or when a training run behind either side (:func:`method_runs`) stopped at its cap while still improving;
collapsed seeds flagged, :mod:`xrec_lib.studies.paper000.verdicts`). :func:`notebook_verdicts` decides the
notebook's claims on every data set as one Holm family (:func:`xrec_lib.compare.decide`, called once).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from xrec_lib.compare import claim_test, decide, paired, verdict_table
from xrec_lib.studies.paper000.interaction import ABLATION, END_TO_END_ROW, METHODS, StudyResult
from xrec_lib.studies.paper000.interaction_tables import ROC_METRICS, Column, claim_item, paper_value, per_seed_values
from xrec_lib.studies.paper000.verdicts import ROC_LEVELS, chance_reason, collapsed, lift, unconverged_reason


@dataclass(frozen=True)
class Claim:
    """A statement of the paper: ``better`` beats each of ``versus`` on ``column`` (group: the rows compared)."""

    source: str
    group: str
    better: str
    versus: tuple[str, ...]
    column: Column
    what: str
    note: str = ""

    def pairs(self) -> list[tuple[str, str]]:
        """``(claim text, worse)`` for each compared method (Table 2 rows by their method, without the step)."""
        note = f" ({self.note})" if self.note else ""
        return [(f"{self.source}: {_method(self.better)} beats {_method(worse)} on {self.what}{note}", worse)
                for worse in self.versus]


def _method(row: str) -> str:
    """``"+ BLA: Siamese GCN + BLA"`` -> ``"Siamese GCN + BLA"``; other names unchanged."""
    return row.split(": ", 1)[-1]


_HEADS_BUT_BLA = ("BL", "CNIM", "Gated")
_METHODS_BUT_1 = ("GCN + BL", "GraphSAGE + self-attention", "MF + MLP")
#: The paper's statements (Sec. Results): Fig. 9 compares BLA with the three other mechanisms, Fig. 10(a) names BL
#: and CNIM, Fig. 10(b) "BLA leads", Fig. 11(a) names BL and Gated, Fig. 11(b) all three; Table 2 adds one component
#: per row ("BLA without attention" is the Fig. 9(a) pair, tested once there); Fig. 12-14: Method 1 "achieves the
#: best" / "performs best" / "consistently outperforming comparison methods" / "the highest AUC": against Methods
#: 2-4 (Fig. 14(b)'s long-tail statement is Fig. 12(b)'s test).
CLAIMS = (
    Claim("Fig. 9(a)", "heads", "BLA", _HEADS_BUT_BLA, Column("", "ndcg", paper={"source": "Fig. 9(a)",
                                                                                   "metric": "ndcg"}),
          "NDCG@20", "also Table 2: BLA without attention"),
    Claim("Fig. 9(b)", "heads", "BLA", _HEADS_BUT_BLA, Column("", "map", paper={"source": "Fig. 9(b)",
                                                                                  "metric": "map"}), "MAP@20"),
    Claim("Fig. 10(a)", "heads", "BLA", ("BL", "CNIM"), Column("", "hr", paper={"source": "Fig. 10(a)",
                                                                                  "metric": "hr"}),
          "HR@20 (standard)"),
    Claim("Fig. 10(b)", "heads", "BLA", _HEADS_BUT_BLA, Column("", "hr", scenario="sparse",
                                                               paper={"source": "Fig. 10(b)", "metric": "hr"}),
          "HR@20 (sparse)"),
    Claim("Fig. 11(a)", "heads", "BLA", ("BL", "Gated"), Column("", "recall", paper={"source": "Fig. 11(a)",
                                                                                       "metric": "recall"}),
          "recall@20"),
    Claim("Fig. 11(b)", "heads", "BLA", _HEADS_BUT_BLA, Column("", "tpr_at_fpr_0.2", paper={
        "source": "Fig. 11(b)", "metric": "tpr"}), "TPR at FPR 0.2"),
    Claim("Table 2", "ablation", ABLATION[1][0], (ABLATION[0][0],), Column("", "ndcg"), "NDCG@20",
          "the heterogeneous graph helps"),
    Claim("Table 2", "ablation", ABLATION[2][0], (ABLATION[1][0],), Column("", "ndcg"), "NDCG@20",
          "the Siamese GCN helps"),
    Claim("Table 2", "ablation", ABLATION[3][0], (ABLATION[2][0],), Column("", "ndcg"), "NDCG@20",
          "the BLA head helps"),
    Claim("Fig. 12(a)", "methods", "Siamese GCN + BLA", _METHODS_BUT_1, Column(
        "", "ndcg", slice="high-value users", paper={"source": "Fig. 12(a)", "metric": "ndcg"}),
          "NDCG@20 (high-value users)", "the paper names neither the group nor K"),
    Claim("Fig. 12(b)", "methods", "Siamese GCN + BLA", _METHODS_BUT_1, Column(
        "", "hr", slice="long-tail products", paper={"source": "Fig. 12(b)", "metric": "hr"}),
          "HR@20 (long-tail products)", "also Fig. 14(b)"),
    Claim("Fig. 13(b)", "methods", "Siamese GCN + BLA", _METHODS_BUT_1, Column(
        "", "precision", k=15, slice="high-value users", paper={"source": "Fig. 13(b)", "metric": "precision"}),
          "precision@15 (high-value users)"),
    Claim("Fig. 14(a)", "methods", "Siamese GCN + BLA", _METHODS_BUT_1, Column(
        "", "hr", slice="cold-start users", paper={"source": "Fig. 14(a)", "metric": "hr"}),
          "HR@20 (cold-start users)"),
    Claim("Fig. 14(c)", "methods", "Siamese GCN + BLA", _METHODS_BUT_1, Column("", "auc"), "AUC"),
)


def claim_pairs(claims=CLAIMS) -> list[tuple[str, Claim, str]]:
    """``(claim text, statement, worse)``: every statement against each method it names."""
    return [(text, claim, worse) for claim in claims for text, worse in claim.pairs()]


def claim_records(study: StudyResult, claims=CLAIMS) -> list[dict]:
    """:func:`xrec_lib.compare.claim_test` records of :func:`claim_pairs` on ``study`` (claims about a scenario the
    study lacks are left out), with ``item`` (the paper item the claim names, e.g. ``"fig9"``) and ``data``;
    before the family's correction."""
    scenarios, records = set(study.metrics["scenario"]), []
    for text, claim, worse in claim_pairs(claims):
        if claim.column.scenario in scenarios:
            records.append({**_claim_test(study, text, claim, worse), "item": claim_item(text), "data": study.data})
    return records


def _claim_test(study: StudyResult, text: str, claim: Claim, worse: str) -> dict:
    """One claim: per seed with two or more seeds (ROC metrics always), else per user; the paper's gap; the
    at-chance reason; collapsed seeds."""
    column, sides = claim.column, (claim.better, worse)
    per_seed = {model: per_seed_values(study, claim.group, model, column) for model in sides}
    chance, ideal = _levels(study, column)
    reason = chance_reason(column.metric, {_method(m): float(v.mean()) for m, v in per_seed.items()},
                           float(chance.mean()), float(ideal.mean()))
    if all(v.isna().all() for v in per_seed.values()):
        reason = f"no evaluated user in the {column.slice} slice"
    trained = {run for model in sides for run in method_runs(claim.group, model)}
    reason = reason or unconverged_reason(
        study.fits, lambda labels: labels["scenario"] == column.scenario and labels["model"] in trained)
    gap = paper_value(claim.better, column.paper) - paper_value(worse, column.paper)
    if len(study.seeds) > 1 or column.metric in ROC_METRICS:
        values = pd.concat(per_seed, names=["model", "seed"]).rename("value").reset_index()
        flagged = collapsed({m: lift(v, chance.reindex(v.index), ideal.reindex(v.index)) for m, v in per_seed.items()})
        return claim_test(text, *paired(values, "model", *sides, "value"), unit="seed", paper_gap=gap,
                          not_comparable=reason, collapsed=flagged)
    a, b = (study.per_user[column.scenario, claim.group, model, column.slice, column.k, column.metric]
            for model in sides)
    return claim_test(text, a, b, unit="user", paper_gap=gap, not_comparable=reason)


def method_runs(group: str, label: str) -> set[str]:
    """The training runs (model labels of :attr:`StudyResult.fits`: encoders by name, heads as ``"<encoder> +
    <head>"``, the end-to-end row by its label) whose output a row of ``group`` ranks with."""
    if label == END_TO_END_ROW:
        return {"Siamese GCN", END_TO_END_ROW}
    if group == "heads":
        encoder, head = "Siamese GCN", label
    elif group == "methods":
        encoder, head = METHODS[label]
    elif group == "ablation":
        encoder, head = next((e, h) for variant, e, h in ABLATION if variant == label)
    else:
        return set()
    return {encoder} if head == "dot" else {encoder, f"{encoder} + {head}"}


def _levels(study: StudyResult, column: Column) -> tuple[pd.Series, pd.Series]:
    """Per-seed chance and ideal levels of ``column`` (index: seed)."""
    if column.metric in ROC_METRICS:
        chance, ideal = ROC_LEVELS[column.metric]
        index = pd.Index(study.seeds, name="seed")
        return pd.Series(chance, index=index), pd.Series(ideal, index=index)
    r = study.references
    rows = r[(r["scenario"] == column.scenario) & (r["slice"] == column.slice) & (r["k"] == column.k)
             & (r["metric"] == column.metric)].set_index("seed")
    return rows["chance"], rows["ideal"]


def notebook_verdicts(*studies: StudyResult | None, claims=CLAIMS) -> dict[str, pd.DataFrame]:
    """The verdicts of every study's claims, decided together as the notebook's one Holm family
    (:func:`xrec_lib.compare.decide`); one table per study (by its ``data``), indexed by claim, with ``item`` and
    ``data`` columns. Absent studies (None) are skipped."""
    decided = decide([record for study in studies if study is not None for record in claim_records(study, claims)])
    tables = {}
    for study in (s for s in studies if s is not None):
        mine = [r for r in decided if r["data"] == study.data]
        tables[study.data] = verdict_table(mine).assign(item=[r["item"] for r in mine], data=study.data)
    return tables


def claim_verdicts(study: StudyResult, claims=CLAIMS) -> pd.DataFrame:
    """The verdicts of one study's claims as their own family (:func:`notebook_verdicts` of that study)."""
    return notebook_verdicts(study, claims=claims)[study.data]
