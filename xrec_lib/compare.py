"""Paper-versus-ours tables, seed summaries and the one verdict rule on the papers' claims.

A *claim* is a sentence of a paper of the form "A beats B on metric M" (e.g. paper 000, Fig. 6: "Siamese GCN
beats RGCN on HR in the sparse scenario"). :func:`claim_test` measures it from paired values of A and B — one
pair per seed (``paper`` profile, >= 5 seeds) or one pair per evaluated user (a single seed) — with a two-sided
paired test (paired t-test over seeds; Wilcoxon signed-rank over users, whose differences are far from normal),
the mean difference with its 95% bootstrap interval, the standardised effect and flags. :func:`decide` then
judges a family of claims (one paper's claims in one notebook) after Holm's correction: replicated,
contradicted, inconclusive or not comparable.
"""

from __future__ import annotations

import math
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from xrec_lib.errors import DataError

def seed_summary(per_seed: pd.DataFrame, by: str | Sequence[str] = "model") -> pd.DataFrame:
    """Mean and standard deviation (ddof=1; NaN for a single seed: there is no spread to show, and tables print a
    dash) of every numeric column, grouped by ``by``."""
    numeric = per_seed.drop(columns=["seed"], errors="ignore").select_dtypes("number").columns
    grouped = per_seed.groupby(by, sort=False)[list(numeric)]
    mean, std = grouped.mean(), grouped.std(ddof=1)
    return pd.concat({"mean": mean, "std": std}, axis=1).swaplevel(axis=1).sort_index(axis=1, level=0,
                                                                                         sort_remaining=False)


def format_mean_std(summary: pd.DataFrame, digits: int = 4) -> pd.DataFrame:
    """Render a :func:`seed_summary` table as ``"mean ± std"`` strings, one column per metric (``"mean ± –"``
    for a single seed)."""
    metrics = dict.fromkeys(summary.columns.get_level_values(0))
    return pd.DataFrame(
        {m: [f"{a:.{digits}f} ± " + ("–" if s != s else f"{s:.{digits}f}")
             for a, s in zip(summary[(m, "mean")], summary[(m, "std")])]
         for m in metrics},
        index=summary.index,
    )


def with_paper(ours: pd.DataFrame, paper: pd.Series | dict, column: str, paper_label: str = "paper") -> pd.DataFrame:
    """Place the paper's values beside our ``column`` (rows matched on the index; missing -> NaN)."""
    table = pd.DataFrame({f"ours ({column})": ours[column]})
    table[f"{paper_label} ({column})"] = pd.Series(paper, dtype=float).reindex(table.index)
    return table


def paired(frame: pd.DataFrame, by: str, better: object, worse: object, metric: str,
           unit: str | Sequence[str] = "seed") -> tuple[np.ndarray, np.ndarray]:
    """Paired values of ``metric`` for the rows whose ``by`` column is ``better`` and ``worse``, one pair per
    ``unit`` (a seed, or e.g. ``("seed", "user")``); units that lack either side are dropped."""
    wide = frame.pivot_table(index=unit, columns=by, values=metric, aggfunc="mean")
    for name in (better, worse):
        if name not in wide.columns:
            raise DataError(f"no {metric!r} values for {by}={name!r} (have {sorted(map(str, wide.columns))})")
    both = wide[[better, worse]].dropna()
    return both[better].to_numpy(), both[worse].to_numpy()


def verdict_table(verdicts: Iterable[dict]) -> pd.DataFrame:
    """Verdicts as a table indexed by claim (the columns of :func:`decide`'s records)."""
    verdicts = list(verdicts)
    columns = [c for c in ("claim", "verdict", "mean_diff", "ci_low", "ci_high", "effect_dz", "paper_gap",
                           "p_value", "p_adjusted", "family_size", "test", "n_pairs", "unit", "collapsed", "reason",
                           "family")
               if c in ("claim", "verdict") or any(c in v for v in verdicts)]
    return pd.DataFrame(list(verdicts), columns=columns).set_index("claim")


# ------------------------------------------------------------------------------------------ the verdict rule
OUTCOMES = ("replicated", "contradicted", "inconclusive", "not comparable")
N_BOOTSTRAP = 2000


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values (family-wise error control), in the input order; NaN stays NaN."""
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full(len(p), np.nan)
    valid = np.flatnonzero(~np.isnan(p))
    order = valid[np.argsort(p[valid], kind="stable")]
    m, running = len(order), 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[index]))
        adjusted[index] = running
    return adjusted


def bootstrap_interval(diff: np.ndarray, seed: int = 0, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of paired differences (resampling pairs; seeded)."""
    if len(diff) < 2:
        return (math.nan, math.nan)
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, len(diff), (N_BOOTSTRAP, len(diff)))].mean(axis=1)
    tail = (1 - level) / 2
    return float(np.quantile(means, tail)), float(np.quantile(means, 1 - tail))


def claim_test(claim: str, better: Iterable[float], worse: Iterable[float], unit: str,
               paper_gap: float | None = None, not_comparable: str | None = None,
               collapsed: Sequence[object] = ()) -> dict:
    """The paired test of "``better`` beats ``worse``" (the paper's direction), before the family's correction.

    Two-sided test of a zero mean difference: paired t-test over seeds, Wilcoxon signed-rank over users (zero
    differences dropped). Also: the mean difference with its 95% bootstrap interval, the standardised effect
    ``d_z`` (mean difference / standard deviation of the differences), the paper's own gap ``paper_gap`` when it
    states one, and ``collapsed`` (the seeds whose runs collapsed, flagged, never silently averaged).
    ``not_comparable`` (a reason) marks a claim this data cannot test; so do fewer than 2 pairs or all-zero
    differences. :func:`decide` turns a family of these into verdicts.
    """
    a, b = np.asarray(list(better), dtype=float), np.asarray(list(worse), dtype=float)
    if a.shape != b.shape:
        raise DataError(f"claim {claim!r}: paired values differ in shape {a.shape} vs {b.shape}")
    if unit not in ("seed", "user"):
        raise DataError(f"claim {claim!r}: unit must be 'seed' or 'user', got {unit!r}")
    if np.isnan(a).any() or np.isnan(b).any():
        raise DataError(f"claim {claim!r}: paired values contain NaN")
    diff = a - b
    low, high = bootstrap_interval(diff)
    spread = float(diff.std(ddof=1)) if len(diff) > 1 else math.nan
    record = {"claim": claim, "mean_diff": float(diff.mean()) if len(diff) else math.nan, "ci_low": low,
              "ci_high": high, "effect_dz": float(diff.mean() / spread) if spread and spread > 0 else math.nan,
              "paper_gap": math.nan if paper_gap is None else float(paper_gap), "n_pairs": int(len(diff)),
              "unit": unit, "test": None, "p_value": math.nan, "collapsed": [str(c) for c in collapsed],
              "reason": not_comparable}
    if not_comparable is None and (len(diff) < 2 or not np.any(diff)):
        record["reason"] = "fewer than 2 pairs" if len(diff) < 2 else "every paired difference is zero"
    if record["reason"] is not None:
        return record
    if unit == "seed":
        test, p_value = "paired t-test (two-sided)", stats.ttest_rel(a, b).pvalue
    else:
        test, p_value = "Wilcoxon signed-rank (two-sided)", stats.wilcoxon(a, b).pvalue
    return {**record, "test": test, "p_value": float(p_value) if np.isfinite(p_value) else 1.0}


def decide(records: Iterable[dict], alpha: float = 0.05) -> list[dict]:
    """Verdicts of one family of claims (one paper's): Holm-adjusted p-values over the testable claims, then

    * ``replicated``: adjusted p < ``alpha`` and the difference in the paper's direction;
    * ``contradicted``: adjusted p < ``alpha`` and the difference in the opposite direction;
    * ``inconclusive``: neither (the interval shows what effect could have been missed);
    * ``not comparable``: the claim carries a reason why this data cannot test it.
    """
    records = [dict(r) for r in records]
    testable = [r for r in records if r.get("reason") is None]
    for record, adjusted in zip(testable, holm([r["p_value"] for r in testable])):
        record["p_adjusted"] = float(adjusted)
        significant = adjusted < alpha
        record["verdict"] = ("replicated" if record["mean_diff"] > 0 else "contradicted") if significant \
            else "inconclusive"
    for record in records:
        if record.get("reason") is not None:
            record.update(p_adjusted=math.nan, verdict="not comparable")
        record["family_size"] = len(testable)
    return records


def collapsed_seeds(per_seed: pd.Series, chance: float, tolerance: float = 0.02) -> list:
    """Seeds (index of ``per_seed``) whose value lies within ``tolerance`` of ``chance`` while the median seed's
    does not: runs that collapsed, to be flagged beside the verdict."""
    values = per_seed.astype(float)
    if abs(values.median() - chance) <= tolerance:
        return []
    return [seed for seed, value in values.items() if abs(value - chance) <= tolerance]
