"""Paper 000, entity representation: the tables and verdicts of notebook 01 from
:class:`~xrec_lib.studies.paper000.representation.RepresentationRun` results.

* :func:`figure_table`: ours (mean and std over seeds) beside the paper's value (:mod:`xrec_lib.papers`; NaN where
  the paper reports none) for Fig. 6-8; :func:`curves_table`: the metric@K curves of Fig. 7-8;
  :func:`sampled_table`: the sampled protocols of the real data; :func:`alignment_ablation`: GCN + BPR against
  GCN + BPR + alignment (= Siamese GCN).
* :func:`claim_verdicts`: every statement of :data:`STATEMENTS` ("the Siamese GCN beats the baselines on metric M
  in scenario S", Fig. 6-8) is tested against every other compared model, each pair one claim
  (:func:`xrec_lib.compare.claim_test`: per seed with >= 5 seeds, else per evaluated user; the paper's gap where
  it gives both values; *not comparable* when both runs are at chance or a run of either model stopped at its
  epoch cap while still improving; collapsed seeds flagged,
  :mod:`xrec_lib.studies.paper000.verdicts`); the notebook's claims form one Holm family
  (:func:`xrec_lib.compare.decide`, called once).
"""

from __future__ import annotations

import math
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from xrec_lib import papers
from xrec_lib.compare import claim_test, decide, paired, seed_summary, verdict_table
from xrec_lib.errors import ConfigError, DataError
from xrec_lib.report_items import item_ids
from xrec_lib.results import ResultsBundle
from xrec_lib.studies.paper000 import figures
from xrec_lib.studies.paper000.representation import CLAIM_K, SCENARIOS, RepresentationRun
from xrec_lib.studies.paper000.verdicts import chance_reason, collapsed, lift, unconverged_reason

_FIGURES = {  # figure -> (metric, paper K when stated, K we compare at)
    "Fig. 6": [("hr", None), ("recall", None)],
    "Fig. 7": [("ndcg", 20), ("map", None)],
    "Fig. 8": [("precision", 15), ("coverage", 20)],
}


def paper_value(figure: str, metric: str, model: str, scenario: int | None = None) -> float:
    """The paper 000 value of ``model`` in the figure whose source starts with ``figure`` (NaN when not reported).

    Values tied to another data scenario than ``scenario`` are skipped; values tied to none match any scenario.
    """
    matches = [v for v in papers.lookup(paper="000", metric=metric)
               if v.source.startswith(figure) and v.model == model
               and v.setting.get("scenario", scenario) == scenario]
    return matches[0].value if matches else math.nan


def figure_table(run: RepresentationRun, figure: str, scenario: int | None = None) -> pd.DataFrame:
    """Ours (mean and std over seeds) beside the paper's value, one row per (model, metric) of ``figure``.

    K is the paper's where stated, else :data:`~xrec_lib.studies.paper000.representation.CLAIM_K`. On synthetic
    data the generator's oracle (the ceiling) and training popularity follow the models (``run.generator``).
    """
    if figure not in _FIGURES:
        raise ConfigError(f"unknown figure {figure!r}; choose from {', '.join(_FIGURES)}")
    rows = []
    for metric, paper_k in _FIGURES[figure]:
        k = paper_k or CLAIM_K
        per_seed = pd.concat([run.metrics, run.generator], ignore_index=True)
        per_seed = per_seed[per_seed["k"] == k]
        summary = seed_summary(per_seed[["seed", "model", metric]], by="model")
        for model in summary.index:
            rows.append({"model": model, "metric": metric, "k": k, "ours": summary.loc[model, (metric, "mean")],
                         "ours_std": summary.loc[model, (metric, "std")],
                         "paper": paper_value(figure, metric, model, scenario), "data": run.label})
    return pd.DataFrame(rows)


def curves_table(run: RepresentationRun, metrics: Iterable[str]) -> pd.DataFrame:
    """Per-seed ``metrics`` per (seed, model, k): the curves of Fig. 7 and Fig. 8 (the figure draws their mean and
    one standard deviation)."""
    return run.metrics[["seed", "model", "k", *metrics]].assign(data=run.label)


def sampled_table(run: RepresentationRun) -> pd.DataFrame:
    """Sampled-protocol HR@10 / NDCG@10 per model (mean over seeds)."""
    if run.sampled is None:
        raise DataError(f"{run.label}: no sampled-protocol results")
    return run.sampled.groupby("model", sort=False)[["hr@10", "ndcg@10"]].mean().assign(data=run.label)


def alignment_ablation(runs: Mapping[str, RepresentationRun], metrics: Iterable[str] = ("hr", "recall", "ndcg",
                                                                                           "map")) -> pd.DataFrame:
    """The Siamese GCN's alignment loss as an ablation row: "GCN + BPR" (model GCN) and "GCN + BPR + alignment"
    (model Siamese GCN; same architecture, graph, loss, initialisation and batches), mean ± std over seeds of
    ``metrics`` at K = 20 per scenario, and the mean paired difference."""
    rows = []
    for scenario, run in runs.items():
        at_k = run.metrics[run.metrics["k"] == CLAIM_K]
        for label, model in ABLATION_ROWS:
            values = at_k[at_k["model"] == model]
            rows.append({"scenario": scenario, "variant": label, "data": run.label,
                         **{f"{m}@{CLAIM_K}": _mean_std(values[m]) for m in metrics}})
        pairs = {m: paired(at_k, "model", "Siamese GCN", "GCN", m) for m in metrics}
        rows.append({"scenario": scenario, "variant": "difference (alignment - none)", "data": run.label,
                     **{f"{m}@{CLAIM_K}": f"{(a - b).mean():+.4f}" for m, (a, b) in pairs.items()}})
    return pd.DataFrame(rows)


def _mean_std(values: pd.Series) -> str:
    return f"{values.mean():.4f} ± {values.std(ddof=1) if len(values) > 1 else 0.0:.4f}"


# --------------------------------------------------------------------------------------------- verdicts
PROPOSED = "Siamese GCN"
#: The compared models of the "beats the baselines" statements (each one claim per statement).
BASELINES = ("GCN", "GraphSAGE", "RGCN", "LightGCN", "MF")
#: (label, model) of the alignment ablation: the Siamese GCN is GCN + BPR + its alignment loss.
ABLATION_ROWS = (("GCN + BPR", "GCN"), ("GCN + BPR + alignment (Siamese GCN)", "Siamese GCN"))
#: (figure, metric, k, scenario): the paper's statements that the Siamese GCN beats the baselines (Fig. 6-8; the
#: text names some of them per figure, the Discussion and Summary all of GCN, GraphSAGE and RGCN).
STATEMENTS: tuple[tuple[str, str, int, str], ...] = (
    ("Fig. 6(a)", "hr", CLAIM_K, "sparse"),
    ("Fig. 6(a)", "recall", CLAIM_K, "sparse"),
    ("Fig. 6(b)", "hr", CLAIM_K, "sufficient"),
    ("Fig. 7(a)", "ndcg", 20, "sparse"),
    ("Fig. 7(b)", "map", CLAIM_K, "sparse"),
    ("Fig. 8(a)", "precision", 15, "sparse"),
    ("Fig. 8(b)", "coverage", 20, "sparse"),
)


def claims(statements=STATEMENTS, baselines=BASELINES) -> list[tuple[str, str, int, str, str]]:
    """``(figure, metric, k, scenario, baseline)``: every statement against every baseline."""
    return [(*statement, baseline) for statement in statements for baseline in baselines]


def claim_records(runs: Mapping[str, RepresentationRun], statements=STATEMENTS,
                  baselines=BASELINES) -> list[dict]:
    """:func:`xrec_lib.compare.claim_test` records (with ``item``) of every claim of :func:`claims` whose scenario
    ``runs`` holds (``runs``: scenario name -> run), before the family's correction."""
    records = []
    for source, metric, k, scenario, worse in claims(statements, baselines):
        if scenario not in runs:
            continue
        run = runs[scenario]
        records.append({**_claim_test(run, source, metric, k, scenario, worse),
                        "item": claim_item(source)})
    return records


def claim_verdicts(runs: Mapping[str, RepresentationRun], statements=STATEMENTS,
                   baselines=BASELINES, real: Mapping[str, RepresentationRun] | None = None) -> pd.DataFrame:
    """The verdicts of :func:`claim_records`, Holm-corrected as one family (:func:`xrec_lib.compare.decide`),
    as a table indexed by claim with an ``item`` column. ``real``: runs on real cross-market data (e.g.
    :func:`~xrec_lib.studies.paper000.representation.run_xmarket`), whose sparse target market tests the sparse
    scenario's statements; their claims join the same family."""
    records = claim_records(runs, statements, baselines)
    for run in (real or {}).values():
        records += claim_records({"sparse": run}, statements, baselines)
    decided = decide(records)
    return verdict_table(decided).assign(item=[r["item"] for r in decided])


def claim_item(source: str) -> str:
    """The report item of a figure: ``"Fig. 6(a)"`` -> ``"fig6"``."""
    (item,) = item_ids(source)
    return item


def _claim_test(run: RepresentationRun, source: str, metric: str, k: int, scenario: str, worse: str) -> dict:
    """One claim: paired values, the paper's gap, the at-chance reason and the collapsed seeds."""
    better = PROPOSED
    who = "Siamese GCN (GCN + BPR + alignment) beats GCN (GCN + BPR)" if worse == "GCN" else f"{better} beats {worse}"
    claim = f"{who} on {metric}@{k}, {scenario} scenario ({source}; {run.label})"
    better_values, worse_values, unit = _paired(run, metric, k, better, worse)
    reason, flagged = None, []
    if metric != "coverage":  # a catalogue statistic: no chance level
        at_k = run.metrics[run.metrics["k"] == k]
        means = {m: float(at_k.loc[at_k["model"] == m, metric].mean()) for m in (better, worse)}
        ref = run.references[(run.references["k"] == k) & (run.references["metric"] == metric)].set_index("seed")
        reason = chance_reason(metric, means, float(ref["chance"].mean()), float(ref["ideal"].mean()))
        if unit == "seed":
            flagged = collapsed({m: _seed_lift(at_k[at_k["model"] == m].set_index("seed")[metric], ref)
                                 for m in (better, worse)})
    reason = reason or unconverged_reason(run.fits, lambda labels: labels["model"] in (better, worse))
    return claim_test(claim, better_values, worse_values, unit=unit,
                      paper_gap=paper_gap(source, metric, better, worse, SCENARIOS[scenario]),
                      not_comparable=reason, collapsed=flagged)


def _seed_lift(values: pd.Series, references: pd.DataFrame) -> pd.Series:
    """Per-seed lift of ``values`` (index: seed) over the seed's chance and ideal levels."""
    return lift(values, references["chance"].reindex(values.index), references["ideal"].reindex(values.index))


def paper_gap(figure: str, metric: str, better: str, worse: str, scenario: int | None = None) -> float:
    """The paper's ``better`` minus ``worse`` value in ``figure`` (NaN unless the paper gives both; Fig. 8(b)
    gives the Siamese GCN's coverage gain over RGCN directly)."""
    if figure == "Fig. 8(b)" and metric == "coverage" and worse == "RGCN":
        return paper_value(figure, "coverage_gain", better)
    return paper_value(figure, metric, better, scenario) - paper_value(figure, metric, worse, scenario)


def _paired(run: RepresentationRun, metric: str, k: int, better: str,
            worse: str) -> tuple[np.ndarray, np.ndarray, str]:
    """``metric@k`` of ``better`` and ``worse`` paired per seed (>= 5 seeds, or coverage), else per (seed, user)."""
    if run.metrics["seed"].nunique() >= 5 or metric == "coverage":
        frame, unit, kind = run.metrics, "seed", "seed"
    else:
        frame, unit, kind = run.per_user, ["seed", "user"], "user"
    better_values, worse_values = paired(frame[frame["k"] == k], "model", better, worse, metric, unit=unit)
    return better_values, worse_values, kind


# ------------------------------------------------------------------------------------------ real data
def report_xmarket(runs: Mapping[str, RepresentationRun], bundle: ResultsBundle) -> pd.DataFrame | None:
    """Per XMarket pair: the Fig. 6 table (full ranking over the target market, with the paper's values) and the
    FOREC protocol (the last target item against 99 sampled negatives, HR@10 / NDCG@10) into ``bundle``; returns
    both side by side per (pair, model), None when no pair ran."""
    return _report_pairs(runs, bundle, "xmarket", 99, "XMarket Electronics")


def report_amazon(runs: Mapping[str, RepresentationRun], bundle: ResultsBundle) -> pd.DataFrame | None:
    """Per Amazon pair (:func:`~xrec_lib.studies.paper000.representation.run_amazon`): the Fig. 6 table (full
    ranking over the target domain) and the DisenCDR protocol (a held-out target item against 999 sampled
    negatives) into ``bundle``; returns both side by side per (pair, model), None when no pair ran."""
    return _report_pairs(runs, bundle, "amazon", 999, "Amazon cross-domain pairs")


def _report_pairs(runs: Mapping[str, RepresentationRun], bundle: ResultsBundle, kind: str, negatives: int,
                  title: str) -> pd.DataFrame | None:
    if not runs:
        return None
    wide = []
    for pair, run in runs.items():
        name = pair.replace("->", "_")
        full, sampled = figure_table(run, "Fig. 6"), sampled_table(run)
        bundle.add_table(f"fig6_hr_recall_{kind}_{name}", full)
        bundle.add_table(f"sampled_hr_ndcg_at_10_{kind}_{name}", sampled)
        per_model = full.pivot(index="model", columns="metric", values="ours").add_suffix("@20 (full ranking)")
        wide.append(per_model.join(sampled.drop(columns="data").add_suffix(f" ({negatives} negatives)"))
                    .assign(pair=pair).reset_index())
    table = pd.concat(wide, ignore_index=True).set_index(["pair", "model"])
    per_seed = pd.concat([run.sampled.assign(pair=pair) for pair, run in runs.items()], ignore_index=True)
    bundle.add_figure(f"sampled_hr_ndcg_at_10_{kind}", figures.plot_sampled(per_seed, negatives=negatives,
                                                                            data=title))
    return table
