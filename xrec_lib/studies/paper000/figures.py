"""Figures of paper 000 in the paper's panel layout: functions of DataFrames that return matplotlib figures.

Notebook 01 (entity representation, Fig. 6-8): our values are bars or lines; the paper's values (the ``paper``
column of the figure tables of :mod:`xrec_lib.studies.paper000.representation_tables`) are black markers where the
paper reports them.

Notebook 02 (interaction heads and methods, Fig. 9-14): the long-format metrics of a study (columns ``group``,
``model``, ``scenario``, ``slice``, ``seed``, ``k``, ``metric``, ``value``), its per-epoch ``curves`` (``model``,
``seed``, ``epoch``, ``ndcg``, ``map``) and its ROC curves (``scenario``, ``group``, ``model``, ``fpr``, ``tpr``);
bars and lines are means over seeds with one standard deviation (error bars, bands); metrics of different scales
get their own axes; ``data`` is the data label put in the title, ``models`` the compared heads or methods in legend
order; the paper's values, where it gives them for a panel, are drawn as dashed black lines.
"""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator
import pandas as pd
import seaborn as sns


# ------------------------------------------------------------------------------- notebook 01: Fig. 6-8
def plot_fig6(tables: dict[str, pd.DataFrame]) -> plt.Figure:
    """Fig. 6: HR and recall per model, one panel per scenario ((a) sparse, (b) sufficient); bars: seed mean,
    whiskers: one standard deviation over seeds.

    ``tables`` maps a scenario name to the ``"Fig. 6"`` table of
    :func:`~xrec_lib.studies.paper000.representation_tables.figure_table`.
    """
    fig, axes = plt.subplots(1, len(tables), figsize=(5.5 * len(tables), 4), squeeze=False)
    for ax, (letter, (scenario, table)) in zip(axes[0], zip("abcd", tables.items())):
        sns.barplot(data=table, x="model", y="ours", hue="metric", ax=ax)
        _error_bars(ax, table, "model", "metric")
        _paper_markers(ax, table, "model", "metric")
        ax.set(title=f"({letter}) {scenario} ({table['data'].iloc[0]})", xlabel="", ylabel="value at K = 20")
        ax.tick_params(axis="x", rotation=30)
    fig.suptitle("Fig. 6: HR and recall (paper values as black markers)")
    fig.tight_layout()
    return fig


def _bar_position(models: list, hues: list, model, hue) -> float:
    """The centre of the bar of (``model``, ``hue``) in a seaborn grouped bar plot (width 0.8 per group)."""
    width = 0.8 / len(hues)
    return models.index(model) - 0.4 + width * (hues.index(hue) + 0.5)


def _error_bars(ax: plt.Axes, table: pd.DataFrame, x: str, hue: str) -> None:
    """Whiskers of one standard deviation (``ours_std``) on a seaborn grouped bar plot of ``ours``."""
    models, hues = list(dict.fromkeys(table[x])), list(dict.fromkeys(table[hue]))
    for _, row in table.dropna(subset=["ours_std"]).iterrows():
        ax.errorbar(_bar_position(models, hues, row[x], row[hue]), row["ours"], yerr=row["ours_std"], fmt="none",
                    ecolor="0.25", capsize=2, linewidth=1)


def _paper_markers(ax: plt.Axes, table: pd.DataFrame, x: str, hue: str) -> None:
    """Black diamonds at the paper's values on a seaborn grouped bar plot."""
    models = list(dict.fromkeys(table[x]))
    hues = list(dict.fromkeys(table[hue]))
    for _, row in table.dropna(subset=["paper"]).iterrows():
        ax.scatter(_bar_position(models, hues, row[x], row[hue]), row["paper"], marker="D", color="black", zorder=5, s=25,
                   label="paper" if "paper" not in ax.get_legend_handles_labels()[1] else None)
    ax.legend(fontsize=8)


def plot_metric_curves(curves: pd.DataFrame, metrics: tuple[str, str], paper: pd.DataFrame,
                       figure: str) -> plt.Figure:
    """Two panels of metric@K against K, one line per model ((a) ``metrics[0]``, (b) ``metrics[1]``): seed mean,
    band: one standard deviation over seeds.

    ``curves`` is :func:`~xrec_lib.studies.paper000.representation_tables.curves_table` output (per seed); ``paper``
    the figure table whose ``paper`` column holds the reported points (drawn at their K).
    """
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, letter, metric in zip(axes, "ab", metrics):
        sns.lineplot(data=curves, x="k", y=metric, hue="model", marker="o", errorbar="sd", ax=ax)
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


def plot_sampled(per_seed: pd.DataFrame, negatives: int, data: str) -> plt.Figure:
    """HR@10 and NDCG@10 of the sampled protocol (1 positive vs ``negatives`` sampled negatives) per model: bars
    are seed means, whiskers one standard deviation. ``per_seed``: rows (``model``, ``seed``, ``hr@10``,
    ``ndcg@10``), with a ``pair`` column when several data sets are drawn side by side (one panel per metric)."""
    if "pair" in per_seed:
        fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
        for ax, metric in zip(axes, ("hr@10", "ndcg@10")):
            sns.barplot(data=per_seed, x="pair", y=metric, hue="model", errorbar="sd", ax=ax)
            ax.set(title=metric.upper(), xlabel="market pair (source->target)", ylabel=metric)
            ax.legend(fontsize=7)
        fig.suptitle(f"Sampled protocol, {negatives} negatives ({data})")
    else:
        long = per_seed.melt(id_vars=["model", "seed"], value_vars=["hr@10", "ndcg@10"], var_name="metric")
        fig, ax = plt.subplots(figsize=(6.5, 3.8))
        sns.barplot(data=long, x="model", y="value", hue="metric", errorbar="sd", ax=ax)
        ax.set(title=f"Sampled protocol, {negatives} negatives ({data})", xlabel="", ylabel="value")
        ax.tick_params(axis="x", rotation=30)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------ notebook 02: Fig. 9-14
#: Fig. 12(a): the paper's NDCG names neither the user group nor K; what we measure beside it.
FIG12A_HEADING = "ours: NDCG@{k} on high-value users (the paper names neither the group nor K)"
ERRORBAR = "sd"  # bars and bands: one standard deviation over seeds


def _means(metrics: pd.DataFrame, group: str, metric: str, slice_name: str = "all",
           scenario: str = "standard") -> pd.DataFrame:
    """The per-seed rows of one metric (seaborn draws their mean and :data:`ERRORBAR`)."""
    m = metrics
    rows = m[(m["group"] == group) & (m["metric"] == metric) & (m["slice"] == slice_name)
             & (m["scenario"] == scenario)]
    return rows[["model", "k", "value"]].reset_index(drop=True)


def _paper_lines(ax: plt.Axes, values: dict[str, float], what: str) -> None:
    """The paper's value of each model in ``values`` as a dashed black line labelled ``paper, <what>: <model>``."""
    for model, value in values.items():
        if value == value:  # not NaN
            ax.axhline(value, color="black", linestyle="--", linewidth=0.8)
            ax.annotate(f"paper, {what}: {model} {value:.3f}", (0.02, value), xycoords=("axes fraction", "data"),
                        fontsize=7, va="bottom")


def _paper_points(paper: pd.DataFrame | None, metric: str, **where) -> pd.DataFrame:
    """The paper's reported points of ``metric`` (rows of :func:`~xrec_lib.studies.paper000.interaction_tables.
    paper_points` matching ``where``, e.g. ``slice="all"``); empty when ``paper`` is None."""
    if paper is None or paper.empty:
        return pd.DataFrame(columns=["model", "metric", "scenario", "slice", "k", "paper"])
    rows = paper[paper["metric"] == metric]
    for column, value in where.items():
        rows = rows[rows[column] == value]
    return rows


def _paper_on_bars(ax: plt.Axes, points: pd.DataFrame, x: str, order: Sequence[str],
                   models: Sequence[str]) -> None:
    """Black diamonds at the paper's values on a seaborn bar plot of ``x`` categories ``order`` with one bar per
    model (hue, ``models``)."""
    width = 0.8 / len(models)
    for row in points.itertuples():
        if getattr(row, x) in order and row.model in models:
            position = list(order).index(getattr(row, x)) - 0.4 + width * (list(models).index(row.model) + 0.5)
            ax.scatter(position, row.paper, marker="D", color="black", zorder=5, s=22,
                       label="paper" if "paper" not in ax.get_legend_handles_labels()[1] else None)
    if len(points):
        ax.legend(fontsize=7)


def _paper_on_lines(ax: plt.Axes, points: pd.DataFrame, models: Sequence[str]) -> None:
    """The paper's values at their K as diamonds in each model's line colour, edged black."""
    colours = dict(zip(models, sns.color_palette(n_colors=len(models))))
    for row in points.itertuples():
        if row.model in colours:
            ax.scatter(row.k, row.paper, marker="D", color=colours[row.model], edgecolor="black", zorder=5, s=30,
                       label="paper (◆)" if "paper (◆)" not in ax.get_legend_handles_labels()[1] else None)
    if len(points):
        ax.legend(fontsize=7)


def shared_legend(fig: plt.Figure, axes) -> None:
    """One legend for the whole figure, below the panels, instead of one per panel: it covers no bar, line or
    marker (entries of every panel, each label once)."""
    handles: dict = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, handle)
        if ax.get_legend() is not None:
            ax.get_legend().remove()
    if handles:
        fig.legend(list(handles.values()), list(handles), loc="lower center", ncol=min(len(handles), 6),
                   fontsize=8, frameon=False, bbox_to_anchor=(0.5, -0.02))
        fig.subplots_adjust(bottom=0.22)


def _finish(fig: plt.Figure, title: str, data: str) -> plt.Figure:
    fig.suptitle(f"{title} ({data})")
    fig.tight_layout()
    return fig


def training_curves(curves: pd.DataFrame, data: str, models: Sequence[str],
                    paper: dict[str, dict[str, float]] | None = None) -> plt.Figure:
    """Fig. 9: (a) NDCG@20 and (b) MAP@20 of each head per training epoch (standard scenario); ``paper``:
    ``{metric: {model: value}}`` at the paper's 100th epoch."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, metric, panel in zip(axes, ("ndcg", "map"), ("(a) NDCG@20", "(b) MAP@20")):
        sns.lineplot(curves, x="epoch", y=metric, hue="model", hue_order=list(models), marker="o",
                     errorbar=ERRORBAR, ax=ax)
        _paper_lines(ax, (paper or {}).get(metric, {}), "epoch 100")
        ax.set(title=panel, xlabel="epoch", ylabel=f"{metric.upper()}@20")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return _finish(fig, "Fig. 9: interaction mechanisms during training", data)


def scenario_bars(metrics: pd.DataFrame, data: str, models: Sequence[str], k: int = 20,
                  paper: pd.DataFrame | None = None) -> plt.Figure:
    """Fig. 10: HR@k and precision@k of each head under the standard (paper: (a), scenario 1) and sparse (paper:
    (b), scenario 2) data; one panel per metric (their scales differ), the scenarios side by side in each; the
    paper's values (``paper``) as black diamonds."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    scenarios = ("standard", "sparse")
    for ax, metric, label in zip(axes, ("hr", "precision"), ("hit rate", "precision")):
        values = pd.concat([_means(metrics, "heads", metric, scenario=scenario).assign(scenario=scenario)
                            for scenario in scenarios])
        sns.barplot(values[values["k"] == k], x="scenario", y="value", hue="model", hue_order=list(models),
                    errorbar=ERRORBAR, ax=ax)
        _paper_on_bars(ax, _paper_points(paper, metric, k=k), "scenario", scenarios, models)
        ax.set(title=f"{label}@{k}", xlabel="data", ylabel=f"{label}@{k}")
    _finish(fig, "Fig. 10: interaction mechanisms under standard and sparse data", data)
    shared_legend(fig, axes)
    return fig


def recall_and_roc(metrics: pd.DataFrame, roc_curves: pd.DataFrame, data: str, models: Sequence[str],
                   fpr: float = 0.2, paper: pd.DataFrame | None = None) -> plt.Figure:
    """Fig. 11: (a) recall@K against K; (b) ROC curves (first seed) with the FPR = ``fpr`` line; the paper's
    recall@20 and TPR at FPR ``fpr`` (``paper``) as diamonds in each model's colour."""
    fig, (recall_ax, roc_ax) = plt.subplots(1, 2, figsize=(10, 3.8))
    sns.lineplot(_means(metrics, "heads", "recall"), x="k", y="value", hue="model", hue_order=list(models),
                 marker="o", errorbar=ERRORBAR, ax=recall_ax)
    _paper_on_lines(recall_ax, _paper_points(paper, "recall"), models)
    recall_ax.set(title="(a) recall@K", xlabel="K (list length)", ylabel="recall")
    _roc_panel(roc_ax, roc_curves, "heads", models, fpr)
    _paper_on_lines(roc_ax, _paper_points(paper, "tpr_at_fpr_0.2").assign(k=fpr), models)
    roc_ax.set_title("(b) ROC")
    return _finish(fig, "Fig. 11: recall and ROC of the interaction mechanisms", data)


def _roc_panel(ax: plt.Axes, roc_curves: pd.DataFrame, group: str, models: Sequence[str], fpr: float) -> None:
    for model in models:
        curve = roc_curves[(roc_curves["scenario"] == "standard") & (roc_curves["group"] == group)
                           & (roc_curves["model"] == model)]
        ax.plot(curve["fpr"].to_numpy(), curve["tpr"].to_numpy(), label=model)
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":")
    ax.axvline(fpr, color="black", linestyle="--", linewidth=0.8, label=f"FPR = {fpr}")
    ax.set(xlabel="false positive rate", ylabel="true positive rate")
    ax.legend(fontsize=8)


def business_scenarios(metrics: pd.DataFrame, data: str, models: Sequence[str], k: int = 20,
                       paper: pd.DataFrame | None = None) -> plt.Figure:
    """Fig. 12: (a) NDCG@k of Methods 1-4 on high-value users (the paper's Fig. 12(a) names neither the group nor
    K: :data:`FIG12A_HEADING`) and (b) HR@k on long-tail products (the paper's Fig. 12(b)); each panel also shows
    the other group; the paper's values (``paper``) as black diamonds."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    panels = (f"(a) {FIG12A_HEADING.format(k=k)}", f"(b) HR@{k}, long-tail products")
    slices = ("high-value users", "long-tail products")
    for ax, metric, panel in zip(axes, ("ndcg", "hr"), panels):
        values = pd.concat([_means(metrics, "methods", metric, slice_name).assign(scenario=slice_name)
                            for slice_name in slices])
        sns.barplot(values[values["k"] == k], x="scenario", y="value", hue="model", hue_order=list(models),
                    errorbar=ERRORBAR, ax=ax)
        _paper_on_bars(ax, _paper_points(paper, metric, k=k), "slice", slices, models)
        ax.set_title(panel, fontsize=9)
        ax.set(xlabel="", ylabel=metric.upper())
    _finish(fig, "Fig. 12: methods in business scenarios", data)
    shared_legend(fig, axes)
    return fig


def precision_by_length(metrics: pd.DataFrame, data: str, models: Sequence[str],
                        paper: pd.DataFrame | None = None) -> plt.Figure:
    """Fig. 13: precision@K of Methods 1-4 against K, (a) all users and (b) high-value users; the paper's values
    (``paper``) as diamonds in each model's colour."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, slice_name, panel in zip(axes, ("all", "high-value users"), ("(a) all users", "(b) high-value users")):
        sns.lineplot(_means(metrics, "methods", "precision", slice_name), x="k", y="value", hue="model",
                     hue_order=list(models), marker="o", errorbar=ERRORBAR, ax=ax)
        _paper_on_lines(ax, _paper_points(paper, "precision", slice=slice_name), models)
        ax.set(title=panel, xlabel="K (list length)", ylabel="precision")
    return _finish(fig, "Fig. 13: precision at different list lengths", data)


def robustness(metrics: pd.DataFrame, roc_curves: pd.DataFrame, data: str, models: Sequence[str],
               fpr: float = 0.2, paper: pd.DataFrame | None = None) -> plt.Figure:
    """Fig. 14: (a) cold-start HR@K, (b) long-tail HR@K, (c) ROC curves (first seed) of Methods 1-4; the paper's
    values (``paper``) as diamonds in each model's colour."""
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
    for ax, slice_name, panel in zip(axes, ("cold-start users", "long-tail products"),
                                     ("(a) cold start", "(b) long tail")):
        sns.lineplot(_means(metrics, "methods", "hr", slice_name), x="k", y="value", hue="model",
                     hue_order=list(models), marker="o", errorbar=ERRORBAR, ax=ax)
        _paper_on_lines(ax, _paper_points(paper, "hr", slice=slice_name), models)
        ax.set(title=panel, xlabel="K (list length)", ylabel="hit rate")
    _roc_panel(axes[2], roc_curves, "methods", models, fpr)
    axes[2].set_title("(c) ROC")
    return _finish(fig, "Fig. 14: cold start, long tail and ROC", data)
