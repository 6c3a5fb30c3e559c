"""Figure of notebook 05: each paper's ablation as bars (mean ± std over seeds) with the paper's value marked."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd


def ablation_panels(tables: dict[str, pd.DataFrame], titles: dict[str, str]) -> plt.Figure:
    """One horizontal-bar panel per study table from :func:`xrec_lib.studies.ablations.study.summary_table`."""
    fig, axes = plt.subplots(len(tables), 1, figsize=(8, 2.2 + 0.45 * sum(len(t) for t in tables.values())),
                             squeeze=False)
    for ax, (name, table) in zip(axes[:, 0], tables.items()):
        mean_col, std_col, paper_col = (next(c for c in table.columns if key in c)
                                        for key in ("(mean)", "(std)", "paper"))
        positions = np.arange(len(table))
        ax.barh(positions, table[mean_col], xerr=table[std_col], color="tab:blue", alpha=0.8, label="ours")
        paper = table[paper_col].astype(float)
        if paper.notna().any():
            ax.scatter(paper, positions, marker="D", color="tab:red", zorder=3, label="paper")
        ax.set_yticks(positions, [str(label) for label in table.index], fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel(mean_col.replace(" (mean)", ""))
        ax.set_title(titles.get(name, name), fontsize=9)
        ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig
