"""Paper 000, entity representation: the tables and verdicts of notebook 01 from
:class:`~xrec_lib.studies.paper000.representation.RepresentationRun` results.

* :func:`figure_table`: ours (mean and std over seeds) beside the paper's value (:mod:`xrec_lib.papers`; NaN where
  the paper reports none) for Fig. 6-8; :func:`curves_table`: the metric@K curves of Fig. 7-8;
  :func:`sampled_table`: the sampled protocol on Amazon Elec->Phone.
* :func:`claim_verdicts` judges the paper's claims (:data:`CLAIMS`) with :func:`xrec_lib.compare.claim_test` (Holm over
  the notebook's claims by :func:`xrec_lib.compare.decide`), per seed
  with >= 5 seeds, else per evaluated user.
"""

from __future__ import annotations

import math
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from xrec_lib import papers
from xrec_lib.compare import claim_test, decide, paired, seed_summary, verdict_table
from xrec_lib.errors import ConfigError, DataError
from xrec_lib.results import ResultsBundle
from xrec_lib.studies.paper000 import figures
from xrec_lib.studies.paper000.representation import CLAIM_K, RepresentationRun

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

    K is the paper's where stated, else :data:`~xrec_lib.studies.paper000.representation.CLAIM_K`.
    """
    if figure not in _FIGURES:
        raise ConfigError(f"unknown figure {figure!r}; choose from {', '.join(_FIGURES)}")
    rows = []
    for metric, paper_k in _FIGURES[figure]:
        k = paper_k or CLAIM_K
        per_seed = run.metrics[run.metrics["k"] == k]
        summary = seed_summary(per_seed[["seed", "model", metric]], by="model")
        for model in summary.index:
            rows.append({"model": model, "metric": metric, "k": k, "ours": summary.loc[model, (metric, "mean")],
                         "ours_std": summary.loc[model, (metric, "std")],
                         "paper": paper_value(figure, metric, model, scenario), "data": run.label})
    return pd.DataFrame(rows)


def curves_table(run: RepresentationRun, metrics: Iterable[str]) -> pd.DataFrame:
    """Mean over seeds of ``metrics`` per (model, k): the curves of Fig. 7 and Fig. 8."""
    columns = list(metrics)
    return run.metrics.groupby(["model", "k"], sort=False)[columns].mean().reset_index().assign(data=run.label)


def sampled_table(run: RepresentationRun) -> pd.DataFrame:
    """Sampled-protocol HR@10 / NDCG@10 per model (mean over seeds)."""
    if run.sampled is None:
        raise DataError(f"{run.label}: no sampled-protocol results")
    return run.sampled.groupby("model", sort=False)[["hr@10", "ndcg@10"]].mean().assign(data=run.label)


# --------------------------------------------------------------------------------------------- verdicts
#: (figure, metric, k, better, worse, scenario): the paper's comparative statements of Fig. 6-8.
CLAIMS: tuple[tuple[str, str, int, str, str, str], ...] = (
    ("Fig. 6(a)", "hr", CLAIM_K, "Siamese GCN", "RGCN", "sparse"),
    ("Fig. 6(a)", "recall", CLAIM_K, "Siamese GCN", "RGCN", "sparse"),
    ("Fig. 6(b)", "hr", CLAIM_K, "Siamese GCN", "RGCN", "sufficient"),
    ("Fig. 7(a)", "ndcg", 20, "Siamese GCN", "RGCN", "sparse"),
    ("Fig. 7(a)", "ndcg", 20, "Siamese GCN", "GCN", "sparse"),
    ("Fig. 7(b)", "map", CLAIM_K, "Siamese GCN", "RGCN", "sparse"),
    ("Fig. 7(b)", "map", CLAIM_K, "Siamese GCN", "GraphSAGE", "sparse"),
    ("Fig. 8(a)", "precision", 15, "Siamese GCN", "RGCN", "sparse"),
    ("Fig. 8(a)", "precision", 15, "Siamese GCN", "GCN", "sparse"),
    ("Fig. 8(b)", "coverage", 20, "Siamese GCN", "RGCN", "sparse"),
    ("Fig. 8(b)", "coverage", 20, "Siamese GCN", "GCN", "sparse"),
)


def claim_verdicts(runs: Mapping[str, RepresentationRun], claims=CLAIMS) -> pd.DataFrame:
    """Verdict per claim: per-seed paired t-test with >= 5 seeds, else per-user Wilcoxon (coverage, a catalogue
    statistic, is paired per seed only). ``runs`` maps scenario names to runs; claims of absent scenarios are
    left out."""
    verdicts = []
    for source, metric, k, better, worse, scenario in claims:
        if scenario not in runs:
            continue
        run = runs[scenario]
        claim = f"{better} beats {worse} on {metric}@{k}, {scenario} scenario ({source}; {run.label})"
        better_values, worse_values, unit = _paired(run, metric, k, better, worse)
        verdicts.append(claim_test(claim, better_values, worse_values, unit=unit))
    return verdict_table(decide(verdicts))


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
def report_amazon(run: RepresentationRun | None, bundle: ResultsBundle) -> pd.DataFrame | None:
    """Add the Amazon Fig. 6 table, the sampled-protocol table and its figure to ``bundle``; returns both tables
    side by side per model (None when the run was skipped for lack of data)."""
    if run is None:
        return None
    full = figure_table(run, "Fig. 6")
    sampled = sampled_table(run)
    bundle.add_table("fig6_hr_recall_amazon_elec_phone", full)
    bundle.add_table("sampled_hr_ndcg_at_10_amazon_elec_phone", sampled)
    bundle.add_figure("sampled_hr_ndcg_at_10_amazon_elec_phone", figures.plot_sampled(sampled))
    wide = full.pivot(index="model", columns="metric", values="ours").add_suffix("@20 (full ranking)")
    return wide.join(sampled.drop(columns="data").add_suffix(" (999 negatives)")).assign(data=run.label)
