"""Learning curves of a notebook's training runs, drawn from what ``results.json`` records under ``training``.

Every fit of the one training loop is recorded with its labels (``data``, ``model``, ``seed``, ...), its monitored
validation metric (``monitor``) and its per-epoch history (:meth:`xrec_lib.results.ResultsBundle.add_training`).
:func:`curves_frame` turns those records into one row per (run, evaluated epoch); :func:`learning_curves_figure`
draws one panel per group of runs (every label but ``model`` and ``seed``) with one line per model: the mean of the
seeds' validation metric by epoch, the band from the lowest to the highest seed, and a dot at each run's restored
(best) epoch. A curve still rising at its last epoch, or a run whose last epoch is the cap, is visible at a glance.
The results bundle adds this figure to every notebook that trained something (``figures/learning_curves``).
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

#: Labels that vary within one panel (lines and bands) rather than between panels.
LINE_LABELS = ("model", "seed")
SUMMARY_KEYS = ("epochs", "best_epoch", "best_score", "stopped_by", "converged", "monitor", "history")
MAX_PANELS = 24


def _panel(labels: Mapping[str, Any]) -> str:
    return ", ".join(f"{value}" for key, value in labels.items() if key not in LINE_LABELS) or "all runs"


def curves_frame(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per evaluated epoch of every recorded run: ``panel``, ``model``, ``seed``, ``monitor``, ``epoch``,
    ``value`` (the monitored validation metric) and ``best`` (the epoch whose parameters were restored)."""
    rows = []
    for record in records:
        labels = {k: v for k, v in record.items() if k not in SUMMARY_KEYS}
        monitor = record.get("monitor") or "score"
        column = f"val_{monitor}"
        for entry in record.get("history") or []:
            value = entry.get(column)
            if value is None or not np.isfinite(value):
                continue
            rows.append({"panel": _panel(labels), "model": str(labels.get("model", "run")),
                         "seed": labels.get("seed", 0), "monitor": monitor, "epoch": int(entry["epoch"]),
                         "value": float(value), "best": int(entry["epoch"]) == int(record.get("best_epoch", -1))})
    return pd.DataFrame(rows, columns=["panel", "model", "seed", "monitor", "epoch", "value", "best"])


def learning_curves_figure(frame: pd.DataFrame, title: str = "learning curves") -> plt.Figure | None:
    """The figure of :func:`curves_frame`'s rows (module docstring); None when nothing was evaluated. At most
    :data:`MAX_PANELS` panels (the first ones in recording order)."""
    if frame.empty:
        return None
    panels = list(dict.fromkeys(frame["panel"]))[:MAX_PANELS]
    n_cols = min(3, len(panels))
    n_rows = -(-len(panels) // n_cols)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(4.6 * n_cols, 3.2 * n_rows), squeeze=False)
    models = list(dict.fromkeys(frame["model"]))
    colours = dict(zip(models, plt.get_cmap("tab10" if len(models) <= 10 else "tab20").colors))
    for ax, panel in zip(axes.flat, panels):
        rows = frame[frame["panel"] == panel]
        for model, runs in rows.groupby("model", sort=False):
            by_epoch = runs.groupby("epoch")["value"]
            mean, low, high = by_epoch.mean(), by_epoch.min(), by_epoch.max()
            ax.plot(mean.index, mean.values, color=colours[model], label=model, linewidth=1.4)
            if runs["seed"].nunique() > 1:
                ax.fill_between(mean.index, low.values, high.values, color=colours[model], alpha=0.15, linewidth=0)
            best = runs[runs["best"]]
            ax.scatter(best["epoch"], best["value"], color=colours[model], s=14, zorder=3)
        ax.set_title(panel, fontsize=9)
        ax.set_xlabel("epoch")
        ax.set_ylabel(f"validation {rows['monitor'].iloc[0]}")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    handles = [plt.Line2D([], [], color=colours[m], label=m) for m in models]
    fig.legend(handles=handles, loc="upper center", ncol=min(len(models), 6), fontsize=8,
               bbox_to_anchor=(0.5, 1.0 + 0.04 / n_rows), frameon=False)
    fig.suptitle(f"{title} (mean over seeds, band: lowest to highest seed, dot: restored epoch)", fontsize=10,
                 y=1.0 + 0.1 / n_rows)
    fig.tight_layout()
    return fig
