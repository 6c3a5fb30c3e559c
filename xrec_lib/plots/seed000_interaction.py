"""Figures of notebook 02 (paper 000, Fig. 9-14) in the paper's panel layout; means over seeds.

Every function takes a :class:`xrec_lib.experiments.seed000_interaction.StudyResult` and puts its data label
(``synthetic`` or the real dataset's name) in the figure title.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from xrec_lib.experiments.seed000_interaction import HEAD_COMPARISON, METHODS, StudyResult


def _means(study: StudyResult, group: str, metric: str, slice_name: str = "all",
           scenario: str = "standard") -> pd.DataFrame:
    m = study.metrics
    rows = m[(m["group"] == group) & (m["metric"] == metric) & (m["slice"] == slice_name)
             & (m["scenario"] == scenario)]
    return rows.groupby(["model", "k"], sort=False, as_index=False)["value"].mean()


def _finish(fig: plt.Figure, title: str, study: StudyResult) -> plt.Figure:
    fig.suptitle(f"{title} ({study.data})")
    fig.tight_layout()
    return fig


def training_curves(study: StudyResult) -> plt.Figure:
    """Fig. 9: (a) NDCG@20 and (b) MAP@20 of each head per training epoch (standard scenario)."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    curves = study.curves.groupby(["model", "epoch"], sort=False, as_index=False)[["ndcg", "map"]].mean()
    for ax, metric, panel in zip(axes, ("ndcg", "map"), ("(a) NDCG@20", "(b) MAP@20")):
        sns.lineplot(curves, x="epoch", y=metric, hue="model", hue_order=HEAD_COMPARISON, marker="o", ax=ax)
        ax.set(title=panel, ylabel=metric.upper())
    return _finish(fig, "Fig. 9: interaction mechanisms during training", study)


def scenario_bars(study: StudyResult, k: int = 20) -> plt.Figure:
    """Fig. 10: HR@k and precision@k of each head, (a) standard and (b) sparse scenario."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, scenario, panel in zip(axes, ("standard", "sparse"), ("(a) standard", "(b) sparse")):
        frames = [_means(study, "heads", metric, scenario=scenario).assign(metric=f"{metric}@{k}")
                  for metric in ("hr", "precision")]
        data = pd.concat(frames)
        sns.barplot(data[data["k"] == k], x="metric", y="value", hue="model", hue_order=HEAD_COMPARISON, ax=ax)
        ax.set(title=panel, xlabel="", ylabel="value")
    return _finish(fig, "Fig. 10: interaction mechanisms under standard and sparse data", study)


def recall_and_roc(study: StudyResult, fpr: float = 0.2) -> plt.Figure:
    """Fig. 11: (a) recall@K against K; (b) ROC curves (first seed) with the FPR = ``fpr`` line."""
    fig, (recall_ax, roc_ax) = plt.subplots(1, 2, figsize=(10, 3.8))
    sns.lineplot(_means(study, "heads", "recall"), x="k", y="value", hue="model", hue_order=HEAD_COMPARISON,
                 marker="o", ax=recall_ax)
    recall_ax.set(title="(a) recall@K", xlabel="K (list length)", ylabel="recall")
    _roc_panel(roc_ax, study, "heads", HEAD_COMPARISON, fpr)
    roc_ax.set_title("(b) ROC")
    return _finish(fig, "Fig. 11: recall and ROC of the interaction mechanisms", study)


def _roc_panel(ax: plt.Axes, study: StudyResult, group: str, models, fpr: float) -> None:
    for model in models:
        grid, tpr = study.roc_curves["standard", group, model]
        ax.plot(grid, tpr, label=model)
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":")
    ax.axvline(fpr, color="black", linestyle="--", linewidth=0.8, label=f"FPR = {fpr}")
    ax.set(xlabel="false positive rate", ylabel="true positive rate")
    ax.legend(fontsize=8)


def business_scenarios(study: StudyResult, k: int = 20) -> plt.Figure:
    """Fig. 12: (a) NDCG@k and (b) HR@k of Methods 1-4 for high-value users and long-tail products."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    for ax, metric, panel in zip(axes, ("ndcg", "hr"), ("(a) NDCG", "(b) HR")):
        data = pd.concat([_means(study, "methods", metric, slice_name).assign(scenario=slice_name)
                          for slice_name in ("high-value users", "long-tail products")])
        sns.barplot(data[data["k"] == k], x="scenario", y="value", hue="model", hue_order=list(METHODS), ax=ax)
        ax.set(title=f"{panel}@{k}", xlabel="", ylabel=metric.upper())
    return _finish(fig, "Fig. 12: methods in business scenarios", study)


def precision_by_length(study: StudyResult) -> plt.Figure:
    """Fig. 13: precision@K of Methods 1-4 against K, (a) all users and (b) high-value users."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, slice_name, panel in zip(axes, ("all", "high-value users"), ("(a) all users", "(b) high-value users")):
        sns.lineplot(_means(study, "methods", "precision", slice_name), x="k", y="value", hue="model",
                     hue_order=list(METHODS), marker="o", ax=ax)
        ax.set(title=panel, xlabel="K (list length)", ylabel="precision")
    return _finish(fig, "Fig. 13: precision at different list lengths", study)


def robustness(study: StudyResult, fpr: float = 0.2) -> plt.Figure:
    """Fig. 14: (a) cold-start HR@K, (b) long-tail HR@K, (c) ROC curves (first seed) of Methods 1-4."""
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
    for ax, slice_name, panel in zip(axes, ("cold-start users", "long-tail products"),
                                     ("(a) cold start", "(b) long tail")):
        sns.lineplot(_means(study, "methods", "hr", slice_name), x="k", y="value", hue="model",
                     hue_order=list(METHODS), marker="o", ax=ax)
        ax.set(title=panel, xlabel="K (list length)", ylabel="hit rate")
    _roc_panel(axes[2], study, "methods", list(METHODS), fpr)
    axes[2].set_title("(c) ROC")
    return _finish(fig, "Fig. 14: cold start, long tail and ROC", study)
