"""Figures of paper 001 (notebook 03): ablation (Fig. 8), per-epoch curves (Fig. 9), recommender comparison (Fig. 2),
validation curves of every trained model."""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator
import pandas as pd
import seaborn as sns


def ablation_figure(per_seed: pd.DataFrame, data_label: str) -> plt.Figure:
    """Fig. 8 layout: (a) MAE and (b) non-zero Acc-2 of the four LGT / soft-mapping variants (bars: seed mean,
    whiskers: standard deviation)."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, (metric, label) in zip(axes, (("mae", "(a) MAE (lower is better)"), ("acc2_non0", "(b) Acc-2 (non-zero)"))):
        sns.barplot(per_seed, x="model", y=metric, errorbar="sd", ax=ax, color="tab:blue")
        ax.set(title=label, xlabel="", ylabel={"mae": "MAE", "acc2_non0": "Acc-2, non-zero"}[metric])
        ax.tick_params(axis="x", rotation=20)
    fig.suptitle(f"Ablation of LGT and soft mapping ({data_label})")
    fig.tight_layout()
    return fig


def epoch_curves(history: pd.DataFrame, data_label: str) -> plt.Figure:
    """Fig. 9 layout: (a) test MAE and (b) test non-zero Acc-2 against the epoch, one line per model (seed mean,
    band: one standard deviation over seeds; the paper prints this figure without numbers)."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, (metric, label, axis) in zip(axes, (("test_mae", "(a) MAE", "test MAE (lower is better)"),
                                                ("test_acc2_non0", "(b) Acc-2 (non-zero)", "test Acc-2, non-zero"))):
        sns.lineplot(history, x="epoch", y=metric, hue="model", errorbar="sd", marker="o", ax=ax)
        ax.set(title=label, ylabel=axis)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.suptitle(f"Results by epoch ({data_label})")
    fig.tight_layout()
    return fig


def recommender_figure(per_seed: pd.DataFrame, data_label: str) -> plt.Figure:
    """(a) HR@10 / NDCG@10 on the sampled candidates and (b) mean per-user AUC of the short-video recommenders and
    the popularity floor (seed mean, whiskers: std; dashed line: chance, AUC 0.5; both axes start at 0, so bar
    lengths compare)."""
    fig, (rank_ax, auc_ax) = plt.subplots(1, 2, figsize=(11, 3.8))
    ranking = per_seed.melt(id_vars=["model", "seed"], value_vars=["hr@10", "ndcg@10"], var_name="metric")
    sns.barplot(ranking, x="metric", y="value", hue="model", errorbar="sd", ax=rank_ax)
    sns.barplot(per_seed, x="model", y="auc", errorbar="sd", ax=auc_ax, color="tab:green")
    auc_ax.axhline(0.5, color="grey", linestyle="--", linewidth=1)
    rank_ax.set(title="(a) sampled ranking (1 positive + sampled negatives)", xlabel="", ylabel="value")
    auc_ax.set(title="(b) mean per-user AUC", xlabel="", ylabel="AUC", ylim=(0, 1))
    auc_ax.tick_params(axis="x", rotation=20)
    rank_ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)  # beside the bars
    fig.suptitle(f"BERT + xDeepFM short-video recommender ({data_label})")
    fig.tight_layout()
    return fig


def training_curves(curves: pd.DataFrame) -> plt.Figure:
    """The monitored validation metric against the epoch, one panel per section (validation MAE of the sentiment
    models, lower is better; validation AUC of the recommenders), one line per model (seed mean): where each
    model stopped and whether it was still improving at its epoch cap (band: one standard deviation over seeds)."""
    sections = list(dict.fromkeys(curves["section"]))
    fig, axes = plt.subplots(1, max(len(sections), 1), figsize=(4.2 * max(len(sections), 1), 3.6), squeeze=False)
    for ax, section in zip(axes[0], sections):
        part = curves[curves["section"] == section]
        sns.lineplot(part, x="epoch", y="value", hue="model", errorbar="sd", marker="o", ax=ax)
        ax.set(title=f"{section} ({part['data'].iloc[0]})", ylabel=f"validation {part['metric'].iloc[0]}")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(fontsize=7)
    fig.suptitle("Validation curves of every trained model (early stopping on these)")
    fig.tight_layout()
    return fig
