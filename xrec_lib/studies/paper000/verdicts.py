"""Paper 000: what the verdicts of notebooks 01 and 02 share: chance and perfect reference levels of every metric,
the at-chance rule and the collapsed-seed flags.

* **Reference levels** (:func:`reference_results`): every ranking metric of a seeded uniformly random ranking
  (*chance*) and of a perfect ranking (the test items first, *ideal*), computed by the same full-ranking code
  (:func:`xrec_lib.evaluate.evaluate_full_ranking`: same items, same excluded training items, same cut-offs) as
  the methods. ROC metrics have fixed levels (:data:`ROC_LEVELS`): AUC 0.5 / 1, TPR at FPR 0.2 0.2 / 1.
* **Lift** (:func:`lift`): ``(value - chance) / (ideal - chance)``: 0 for a random ranking, 1 for a perfect one.
* **At chance**: ``|lift| <= CHANCE_TOLERANCE`` (0.04, so an AUC within 0.02 of 0.5). A claim whose two sides are
  both at chance cannot be tested by these runs (:func:`chance_reason`: *not comparable*, with the values); a seed
  whose lift is at chance while the median seed's is not is flagged as collapsed (:func:`collapsed`, with
  :func:`xrec_lib.compare.collapsed_seeds`), never silently averaged.
* **Converged, or it does not count** (:func:`unconverged_reason`): a claim whose values come from a training run
  that stopped at its epoch cap (or time budget) while still improving is *not comparable*, with the runs named:
  its two sides were not both trained to their best.
"""

from __future__ import annotations

import math
from typing import Iterable, Mapping

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

from xrec_lib.compare import collapsed_seeds
from xrec_lib.evaluate import evaluate_full_ranking
from xrec_lib.metrics import RankingResult

CHANCE_TOLERANCE = 0.04
#: The reason a claim resting on an unconverged run is not comparable (followed by the runs).
UNCONVERGED = "not converged: stopped at the epoch cap while still improving"
#: metric -> (chance, ideal) of the ROC metrics of paper 000's Fig. 11(b) and 14(c).
ROC_LEVELS = {"auc": (0.5, 1.0), "tpr_at_fpr_0.2": (0.2, 1.0)}


def reference_results(test: sp.spmatrix, exclude: sp.spmatrix | None, ks: Iterable[int], seed: int,
                      first: sp.spmatrix | None = None) -> tuple[RankingResult, RankingResult]:
    """``(random, perfect)`` full-ranking results on ``test`` (module docstring). The random scores are uniform
    draws of a generator seeded with ``seed``; the perfect ranking puts the test items first, and among them the
    items of ``first`` (e.g. the long-tail test items, so that a slice has its own perfect ranking)."""
    test = sp.csr_matrix(test, dtype=np.float32)
    perfect = test if first is None else test + sp.csr_matrix(first, dtype=np.float32)
    generator = torch.Generator().manual_seed(int(seed))

    def random_scores(users: torch.Tensor) -> torch.Tensor:
        return torch.rand(len(users), test.shape[1], generator=generator)

    def perfect_scores(users: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(perfect[users.numpy()].toarray())

    return (evaluate_full_ranking(random_scores, test, exclude, ks),
            evaluate_full_ranking(perfect_scores, test, exclude, ks))


def lift(value: float | np.ndarray | pd.Series, chance: float | np.ndarray | pd.Series,
         ideal: float | np.ndarray | pd.Series):
    """``(value - chance) / (ideal - chance)`` (NaN where the ideal does not exceed chance)."""
    span = np.asarray(ideal, dtype=float) - np.asarray(chance, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(span > 0, (np.asarray(value, dtype=float) - np.asarray(chance, dtype=float)) / span, np.nan)
    return pd.Series(out, index=value.index) if isinstance(value, pd.Series) else (
        float(out) if np.ndim(out) == 0 else out)


def at_chance(value: float, chance: float, ideal: float) -> bool:
    """Whether ``value`` lies within :data:`CHANCE_TOLERANCE` (in lift) of chance."""
    return bool(abs(lift(value, chance, ideal)) <= CHANCE_TOLERANCE)


def chance_reason(metric: str, means: Mapping[str, float], chance: float, ideal: float) -> str | None:
    """The *not comparable* reason when every compared method's mean ``metric`` (``means``: method -> mean) is at
    chance, else None."""
    if math.isnan(chance) or math.isnan(ideal) or not all(at_chance(v, chance, ideal) for v in means.values()):
        return None
    values = ", ".join(f"{name} {value:.4g}" for name, value in means.items())
    return (f"both runs at chance on {metric} ({values}; a random ranking scores {chance:.4g}, a perfect one "
            f"{ideal:.4g}; at chance = within {CHANCE_TOLERANCE:g} of it in lift)")


def collapsed(lifts: Mapping[str, pd.Series]) -> list[str]:
    """``"<seed> (<method>)"`` for every seed at chance while its method's median seed is not (``lifts``: method ->
    per-seed lift, index = seed)."""
    return [f"{seed} ({name})" for name, series in lifts.items()
            for seed in collapsed_seeds(series.dropna(), 0.0, CHANCE_TOLERANCE)]


def unconverged_reason(fits: Iterable[tuple[Mapping, object]], uses) -> str | None:
    """:data:`UNCONVERGED` and the runs, for the fits ``(labels, FitResult)`` that ``uses(labels)`` selects
    (the runs behind a claim's two sides) and that did not converge; None when every selected run converged."""
    runs = [f"{labels.get('model')} (seed {labels.get('seed')})" for labels, fit in fits
            if uses(labels) and not fit.converged]
    return f"{UNCONVERGED}: {', '.join(runs)}" if runs else None
