"""Figures of notebook 00: how the datasets look (popularity long tail, degrees, domain overlap)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import scipy.sparse as sp
import seaborn as sns


def popularity_long_tail(matrices: dict[str, sp.csr_matrix], head_share: float = 0.2) -> plt.Figure:
    """(a) item interaction counts by popularity rank (log-log); (b) cumulative share of interactions.

    ``matrices`` maps a dataset label to its users x items interaction matrix. The dotted line in (b) marks
    the popularity head (``head_share`` of the items); items right of it form the long tail.
    """
    fig, (counts_ax, share_ax) = plt.subplots(1, 2, figsize=(10, 3.8))
    for label, matrix in matrices.items():
        counts = np.sort(np.asarray(matrix.sum(axis=0)).ravel())[::-1]
        counts = counts[counts > 0]
        ranks = np.arange(1, len(counts) + 1)
        counts_ax.loglog(ranks, counts, label=label)
        share_ax.plot(ranks / len(counts), np.cumsum(counts) / counts.sum(), label=label)
    share_ax.axvline(head_share, color="grey", linestyle=":", label=f"top {head_share:.0%} of items")
    counts_ax.set(xlabel="item popularity rank", ylabel="interactions", title="(a) popularity by rank")
    share_ax.set(xlabel="share of items (most popular first)", ylabel="share of interactions",
                 title="(b) cumulative share")
    share_ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def degree_distribution(matrices: dict[str, sp.csr_matrix], cold_start_max: int = 4) -> plt.Figure:
    """Histogram of training interactions per user (log x), with the cold-start threshold marked."""
    rows = []
    for label, matrix in matrices.items():
        degrees = np.diff(matrix.indptr)
        rows.append(pd.DataFrame({"interactions per user": degrees[degrees > 0], "dataset": label}))
    frame = pd.concat(rows, ignore_index=True)
    fig, ax = plt.subplots(figsize=(6, 3.8))
    sns.histplot(frame, x="interactions per user", hue="dataset", log_scale=True, element="step",
                 stat="density", common_norm=False, ax=ax)
    ax.axvline(cold_start_max + 0.5, color="grey", linestyle=":")
    ax.text(cold_start_max + 0.5, ax.get_ylim()[1] * 0.9, f" cold start (≤ {cold_start_max})", fontsize=8)
    ax.set_title("training interactions per user")
    fig.tight_layout()
    return fig


def domain_overlap(overlap: pd.DataFrame) -> plt.Figure:
    """Stacked bars: share of users active in the source domain only, the target only, or both.

    ``overlap`` has one row per dataset and the columns ``source only``, ``target only``, ``both``.
    """
    fig, ax = plt.subplots(figsize=(6, 3.2))
    overlap.plot.barh(stacked=True, ax=ax, color=sns.color_palette("deep", 3))
    ax.set(xlabel="share of users", ylabel="", title="users by domain of their training interactions")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig
