"""Figures of paper 000's entity-representation comparison (Fig. 6-8) and the training curves.

Our values are bars or lines; the paper's values (from :mod:`xrec_lib.papers`, via the tables of
:mod:`xrec_lib.experiments.seed000_representation`) are black markers where the paper reports them.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns


def plot_fig6(tables: dict[str, pd.DataFrame]) -> plt.Figure:
    """Fig. 6: HR and recall per model, one panel per scenario ((a) sparse, (b) sufficient).

    ``tables`` maps a scenario name to :func:`~xrec_lib.experiments.seed000_representation.figure_table`
    output for ``"Fig. 6"``.
    """
    fig, axes = plt.subplots(1, len(tables), figsize=(5.5 * len(tables), 4), squeeze=False)
    for ax, (letter, (scenario, table)) in zip(axes[0], zip("abcd", tables.items())):
        sns.barplot(data=table, x="model", y="ours", hue="metric", ax=ax)
        _paper_markers(ax, table, "model", "metric")
        ax.set(title=f"({letter}) {scenario} ({table['data'].iloc[0]})", xlabel="", ylabel="value at K = 20")
        ax.tick_params(axis="x", rotation=30)
    fig.suptitle("Fig. 6: HR and recall (paper values as black markers)")
    fig.tight_layout()
    return fig


def _paper_markers(ax: plt.Axes, table: pd.DataFrame, x: str, hue: str) -> None:
    """Black diamonds at the paper's values on a seaborn grouped bar plot."""
    models = list(dict.fromkeys(table[x]))
    hues = list(dict.fromkeys(table[hue]))
    width = 0.8 / len(hues)
    for _, row in table.dropna(subset=["paper"]).iterrows():
        position = models.index(row[x]) - 0.4 + width * (hues.index(row[hue]) + 0.5)
        ax.scatter(position, row["paper"], marker="D", color="black", zorder=5, s=25,
                   label="paper" if "paper" not in ax.get_legend_handles_labels()[1] else None)
    ax.legend(fontsize=8)


def plot_metric_curves(curves: pd.DataFrame, metrics: tuple[str, str], paper: pd.DataFrame,
                       figure: str) -> plt.Figure:
    """Two panels of metric@K against K, one line per model ((a) ``metrics[0]``, (b) ``metrics[1]``).

    ``curves`` is :func:`~xrec_lib.experiments.seed000_representation.curves_table` output; ``paper`` the
    figure table whose ``paper`` column holds the reported points (drawn at their K).
    """
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, letter, metric in zip(axes, "ab", metrics):
        sns.lineplot(data=curves, x="k", y=metric, hue="model", marker="o", ax=ax)
        reported = paper[(paper["metric"] == metric)].dropna(subset=["paper"])
        for _, row in reported.iterrows():
            ax.scatter(row["k"], row["paper"], marker="D", color="black", zorder=5, s=25)
            ax.annotate(row["model"], (row["k"], row["paper"]), fontsize=7, xytext=(4, 2), textcoords="offset points")
        ax.set(title=f"({letter}) {metric}@K ({curves['data'].iloc[0]})", xlabel="K (list length)", ylabel=metric)
        ax.legend(fontsize=8)
    fig.suptitle(f"{figure} (paper values as black diamonds)")
    fig.tight_layout()
    return fig


def plot_learning_curves(history: pd.DataFrame, label: str) -> plt.Figure:
    """(a) training loss per epoch; (b) validation NDCG@20 per epoch; one line per model (mean over seeds)."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    sns.lineplot(data=history, x="epoch", y="loss", hue="model", ax=axes[0])
    sns.lineplot(data=history.dropna(subset=["val_ndcg"]), x="epoch", y="val_ndcg", hue="model", ax=axes[1])
    axes[0].set(title=f"(a) training loss ({label})", yscale="log")
    axes[1].set(title=f"(b) validation NDCG@20 ({label})")
    for ax in axes:
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_sampled(table: pd.DataFrame) -> plt.Figure:
    """HR@10 and NDCG@10 of the sampled protocol (1 positive vs 999 negatives) per model."""
    long = table.reset_index().melt(id_vars=["model", "data"], value_vars=["hr@10", "ndcg@10"], var_name="metric")
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    sns.barplot(data=long, x="model", y="value", hue="metric", ax=ax)
    ax.set(title=f"Sampled protocol, 999 negatives ({table['data'].iloc[0]})", xlabel="")
    ax.tick_params(axis="x", rotation=30)
    fig.tight_layout()
    return fig
