"""Figures of notebook 04 (paper 002): accuracy against inference time (Table 1), accuracy against depth N
(Table 3), and the learning curves behind every table. The paper prints tables only; these figures show the
same numbers, ours beside the paper's."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from xrec_lib import papers  # noqa: E402


def plot_accuracy_vs_time(per_seed: pd.DataFrame, data_label: str) -> plt.Figure:
    """(a) our mean accuracy against median inference time of a batch of 96 (log scale), one point per model;
    (b) the paper's Table 1 accuracy against its reported time."""
    means = per_seed.groupby("model", sort=False)[["accuracy", "inference_ms"]].mean()
    paper = pd.DataFrame({
        "accuracy": {v.model: v.value for v in papers.lookup(paper="002", source="Table 1", metric="accuracy")},
        "inference_ms": {v.model: 1000 * v.value for v in papers.lookup(paper="002", source="Table 1",
                                                                         metric="inference_time")},
    })
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, frame, title in ((axes[0], means, f"(a) ours ({data_label})"), (axes[1], paper, "(b) paper, Table 1")):
        sns.scatterplot(x=frame["inference_ms"], y=frame["accuracy"], hue=frame.index, ax=ax, s=60, legend=False)
        for model, row in frame.iterrows():
            ax.annotate(model, (row["inference_ms"], row["accuracy"]), fontsize=8, xytext=(4, 3),
                        textcoords="offset points")
        ax.set(xscale="log", xlabel="inference time, batch of 96 (ms)", ylabel="accuracy", title=title)
    figure.suptitle(f"Table 1 as a figure: accuracy vs. inference time ({data_label})")
    figure.tight_layout()
    return figure


def plot_depth(depth: pd.DataFrame, data_label: str) -> plt.Figure:
    """Accuracy (mean ± std over seeds) against the number N of GConv-Transform layers, with the paper's
    Table 3 points."""
    figure, ax = plt.subplots(figsize=(6, 4))
    sns.lineplot(data=depth, x="n_layers", y="accuracy", errorbar="sd", marker="o", ax=ax, label="ours")
    paper = papers.lookup(paper="002", source="Table 3", metric="accuracy")
    ax.plot([v.setting["n_layers"] for v in paper], [v.value for v in paper], "s--", label="paper, Table 3")
    ax.set(xlabel="N (GConv-Transform layers)", ylabel="accuracy", title=f"Table 3: influence of N ({data_label})")
    ax.legend()
    figure.tight_layout()
    return figure


def plot_learning_curves(curves: pd.DataFrame, title: str, by: str = "model") -> plt.Figure:
    """(a) training loss and (b) validation accuracy against the epoch, one line per (``by``, seed) of
    :meth:`xrec_lib.studies.paper002.protocol.Runs.curves`; a dot marks the epoch early stopping kept."""
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    names = list(dict.fromkeys(curves[by]))
    colours = dict(zip(names, sns.color_palette("tab10", max(len(names), 1))))
    for (name, _), run in curves.groupby([by, "seed"], sort=False):
        first_seed = run["seed"].iloc[0] == curves[curves[by] == name]["seed"].iloc[0]
        label = (name if by == "model" else f"{by}={name}") if first_seed else None
        axes[0].plot(run["epoch"], run["loss"], color=colours[name], lw=1, label=label)
        axes[1].plot(run["epoch"], run["val_accuracy"], color=colours[name], lw=1, label=label)
        best = run[run["best"]]
        axes[1].scatter(best["epoch"], best["val_accuracy"], color=colours[name], s=18, zorder=3)
    axes[0].set(xlabel="epoch", ylabel="training loss (cross-entropy)", title="(a) training loss")
    axes[1].set(xlabel="epoch", ylabel="validation accuracy", title="(b) validation accuracy (dot: epoch kept)")
    for ax in axes:
        ax.xaxis.get_major_locator().set_params(integer=True)
    if names:
        axes[1].legend(fontsize=7, ncol=2)
    figure.suptitle(title)
    figure.tight_layout()
    return figure
