"""Paper 001's tables beside ours (Tables I-IV, Table V) and the claim tests behind the verdicts (Tables III-IV,
Fig. 8 and, our addition, Fig. 2's recommender on MicroLens).

Claim tests (:func:`xrec_lib.compare.claim_test`) are made here; :func:`xrec_lib.compare.decide` turns each family
into verdicts (:func:`xrec_lib.studies.paper001.study.decide_families`). Chance levels: a sentiment run is at
chance when its Acc-7 lies within :data:`CHANCE_TOLERANCE` of the majority-class share of the test labels (its
predictions fall in one class, :func:`majority_share`); a recommender run when its mean per-user AUC lies within
:data:`CHANCE_TOLERANCE` of 0.5. A claim whose two sides are both at chance (median seed) is not comparable; a
seed at chance while the model's median seed is not is flagged as collapsed, and so is a model at chance on its
median seed while the other side is not.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from xrec_lib.compare import claim_test, collapsed_seeds, paired, seed_summary
from xrec_lib.errors import DataError
from xrec_lib.models.multimodal import PROPOSED
from xrec_lib.papers import as_frame
from xrec_lib.studies.paper001.multimodal import MultimodalRun, Split

MMSA_MODELS = ("TFN", "MFN", "MulT", "MISA", "Self-MM")
PAPER_ITEMS = {"table1": "Table I", "table2": "Table II", "table3": "Table III", "table4": "Table IV",
               "fig8": "Fig. 8"}
RECOMMENDER = "BERT + xDeepFM"
METRIC_OF_PAPER = {"mae": "mae", "corr": "corr", "acc7": "acc7", "acc2": "acc2_non0", "f1": "f1_non0"}
CHANCE_TOLERANCE = 0.02
AUC_CHANCE = 0.5
TEXT_ONLY = "text-only data cannot test a claim about fusing modalities"
PAPER_FAMILY = "paper 001"
OUR_ADDITION = "our addition"


def comparison_table(per_seed: pd.DataFrame, source: str, dataset: str, mmsa_dataset: str | None) -> pd.DataFrame:
    """A table in the layout of the paper's ``source`` (Table I-IV): the paper's rows (``paper`` column), MMSA's
    published re-runs (``mmsa`` column) and our rows (``mean`` and ``std`` over seeds, ``data`` says which data).

    The paper's Acc-2/F1 are set beside our non-zero Acc-2/F1 (the variant MOSI papers usually print; the paper
    does not say which it used).
    """
    paper = as_frame(paper="001", source=source)
    paper_metrics = list(dict.fromkeys(paper["metric"]))
    rows = [{"model": r.model, "metric": r.metric, "paper": r.paper, "data": "paper (" + r.dataset + ")"}
            for r in paper.itertuples()]
    if mmsa_dataset:
        mmsa = as_frame(paper="mmsa", dataset=mmsa_dataset)
        for r in mmsa[mmsa["model"].isin(MMSA_MODELS)].itertuples():
            ours_metric = [m for m, v in METRIC_OF_PAPER.items() if v == r.metric]
            if ours_metric and ours_metric[0] in paper_metrics:
                rows.append({"model": f"{r.model} (MMSA re-run)", "metric": ours_metric[0], "mmsa": r.paper,
                             "data": f"MMSA ({mmsa_dataset}, {r.alignment})"})
    summary = seed_summary(per_seed.drop(columns=["dataset"]), by="model")
    for model in summary.index:
        for metric in paper_metrics:
            rows.append({"model": f"{model} (ours)", "metric": metric, "data": dataset,
                         "mean": summary.loc[model, (METRIC_OF_PAPER[metric], "mean")],
                         "std": summary.loc[model, (METRIC_OF_PAPER[metric], "std")]})
    long = pd.DataFrame(rows)
    values = [column for column in ("paper", "mmsa", "mean", "std") if column in long]
    table = long.pivot_table(index=["model", "data"], columns="metric", values=values, sort=False)
    return table.swaplevel(axis=1).reindex(columns=paper_metrics, level=0).dropna(axis=1, how="all")


def slgm_label_table(run: MultimodalRun, train_split: Split, n_samples: int = 5) -> pd.DataFrame:
    """Table V: the multimodal label and the SLGM T/A/V labels of ``n_samples`` training samples (spread over the
    label range), next to the paper's five samples (``paper`` rows)."""
    if run.slgm is None:
        raise DataError("this run trained without SLGM: there are no generated labels")
    order = np.argsort(train_split["regression_labels"], kind="stable")
    picks = order[np.linspace(0, len(order) - 1, n_samples).round().astype(int)]
    ours = pd.DataFrame({"sample": [str(train_split["id"][i]) for i in picks],
                         "M": train_split["regression_labels"][picks]}
                        | {f"SLGM-{task}": run.slgm.labels[task][picks].numpy() for task in run.slgm.unimodal_tasks})
    paper = as_frame(paper="001", source="Table V").pivot_table(index="sample", columns="metric", values="paper")
    paper = paper.rename(columns={"multimodal_label": "M", "unimodal_label_text": "SLGM-T",
                                  "unimodal_label_audio": "SLGM-A", "unimodal_label_vision": "SLGM-V"})
    paper.index = [f"paper sample {i}" for i in paper.index]
    table = pd.concat({"paper (CMU-MOSI)": paper, "ours": ours.set_index("sample")}, names=["source", "sample"])
    return table[["M", "SLGM-T", "SLGM-A", "SLGM-V"]]


def majority_share(labels: np.ndarray) -> float:
    """Acc-7 of a model that predicts the most frequent class for every sample: the largest share of the labels
    clipped to [-3, 3] and rounded (the chance level of Acc-7, :mod:`xrec_lib.metrics_regression`)."""
    classes = np.round(np.clip(np.asarray(labels, dtype=float), -3, 3))
    return float(np.unique(classes, return_counts=True)[1].max() / len(classes))


def _at_chance(values: pd.Series, chance: float) -> bool:
    return bool(abs(values.median() - chance) <= CHANCE_TOLERANCE)


def _chance_check(per_seed: pd.DataFrame, metric: str, chance: float, sides: tuple[str, str],
                  label: str) -> tuple[str | None, list[str]]:
    """``(reason, collapsed)`` of a claim between the models ``sides`` judged by ``metric``'s chance level
    ``chance`` (module docstring): the not-comparable reason when both sides sit at chance, and the flags."""
    series = {m: per_seed[per_seed["model"] == m].set_index("seed")[metric] for m in sides}
    at_chance = [m for m in sides if _at_chance(series[m], chance)]
    if len(at_chance) == len(sides):
        return f"both runs at chance ({label} within {CHANCE_TOLERANCE} of {chance:.3f})", []
    flags = [f"{m} seed {seed}" for m in sides for seed in collapsed_seeds(series[m], chance, CHANCE_TOLERANCE)]
    return None, flags + [f"{m} at chance ({label}, median seed)" for m in at_chance]


def sentiment_claims(per_seed: pd.DataFrame, dataset: str, item: str, acc7_chance: float,
                     text_only: bool = False) -> list[dict]:
    """Per-seed paired tests of the paper's claims on ``dataset`` for the paper item ``item`` (``"table3"``,
    ``"fig8"``, ...): the full model (:data:`PROPOSED`, or ``"LGT + SM"`` in the ablation) beats every other model
    present, on MAE (lower is better, compared negated) and non-zero Acc-2. Not comparable: ``text_only`` data
    (the claims are about fusing modalities), both sides at chance (Acc-7 within :data:`CHANCE_TOLERANCE` of
    ``acc7_chance``), fewer than 2 seeds. The paper prints no value for our baselines (Text-only, late fusion, TFN)
    nor for the ablation variants (Fig. 8 is a bar chart without numbers), so no claim has a paper's gap."""
    present = set(per_seed["model"])
    full = PROPOSED if PROPOSED in present else "LGT + SM"
    if full not in present:
        return []
    claims = []
    for other in per_seed["model"].drop_duplicates():
        if other == full:
            continue
        reason, collapsed = _chance_check(per_seed, "acc7", acc7_chance, (full, other), "Acc-7")
        for metric in ("mae", "acc2_non0"):
            better, worse = paired(per_seed, "model", full, other, metric)
            sign = -1 if metric == "mae" else 1
            claims.append(dict(claim_test(f"{PAPER_ITEMS[item]} ({dataset}): {full} beats {other} on {metric}",
                                          sign * better, sign * worse, unit="seed", paper_gap=None,
                                          not_comparable=TEXT_ONLY if text_only else reason, collapsed=collapsed),
                               item=item, family=PAPER_FAMILY))
    return claims


def recommender_claims(per_seed: pd.DataFrame, per_user: pd.DataFrame, data_label: str) -> list[dict]:
    """Fig. 2 claims (our addition: the paper draws the architecture and reports no number), paired over users
    (per-user AUC averaged over seeds, Wilcoxon): BERT + xDeepFM beats each other model. Not comparable when both
    sides' mean AUC sits within :data:`CHANCE_TOLERANCE` of 0.5 (median seed); collapsed seeds flagged."""
    claims = []
    for other in sorted(set(per_user["model"]) - {RECOMMENDER}):
        reason, collapsed = _chance_check(per_seed, "auc", AUC_CHANCE, (RECOMMENDER, other), "AUC")
        better, worse = paired(per_user, "model", RECOMMENDER, other, "auc", unit="user")
        claims.append(dict(claim_test(f"Fig. 2 ({data_label}, {OUR_ADDITION}): {RECOMMENDER} beats {other} on "
                                      f"per-user AUC", better, worse, unit="user", not_comparable=reason,
                                      collapsed=collapsed), item="fig2", family=OUR_ADDITION))
    return claims
