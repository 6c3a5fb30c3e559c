"""Paper 002's tables (ours, mean ± std over seeds, beside the paper's values) and the verdicts on its claims.

The claims of the paper tested here form one family (:func:`claim_records`), decided once by
:func:`xrec_lib.compare.decide` (Holm over the family; replicated / contradicted / inconclusive / not comparable):

* Table 1: GConv-Transform is more accurate than each of the seven baselines (the "most accurate" claim, tested
  against every compared method), and infers a batch of 96 faster than each baseline the paper times slower
  (DNN, CNN, DenseNet, DenseCNN, Attention); on the real data, more accurate than each real-data model;
* Table 2: the full model is more accurate than each ablation variant; removing the Chebyshev convolution hurts
  more than removing the graph convolution (0.446 vs 0.743); removing attention hurts more than removing the
  graph convolution (Sec. IV.E text; no printed row isolates attention);
* Table 3: accuracy rises with N (each N against the next smaller one of the sweep).

Every test pairs the two sides per seed (paired t-test over seeds; the inference time is one median measurement
per model and seed). A claim is *not comparable* when both sides' runs are at chance (mean accuracy within
:data:`CHANCE_TOLERANCE` of the task's chance accuracy 1/C, from the rows' ``chance`` column, :data:`CHANCE`
= 1/50 for the synthetic next-category task when the rows lack it; or mean AUC within :data:`CHANCE_TOLERANCE` of
0.5) or when the run has a single seed. Seeds whose run
collapsed to chance while the model's other seeds did not are flagged (:func:`xrec_lib.compare.collapsed_seeds`).
``paper_gap`` is the paper's own difference of the two sides where it prints both values.
"""

from __future__ import annotations

import math

import pandas as pd

from xrec_lib import papers
from xrec_lib.data.synthetic_shopping import N_CATEGORIES
from xrec_lib.compare import OUTCOMES, claim_test, collapsed_seeds, decide, format_mean_std, paired, seed_summary
from xrec_lib.studies.paper002.settings import ABLATIONS, MODEL_NAMES, OURS

METRICS = ["accuracy", "auc", "hr@10", "ndcg@10", "inference_ms", "params"]
PAPER_VARIANTS = {"without Chebyshev convolution": "without Chebyshev convolution",
                  "without graph convolution": "without graph"}  # our Table-2 row -> the paper's variant name
FASTER_THAN = ("DNN", "CNN", "DenseNet", "DenseCNN", "Attention")  # Table 1: GConv-Transform's time is below these
CHANCE = 1 / N_CATEGORIES  # accuracy of a uniform guess on the synthetic next-category task (C = 50)
AUC_CHANCE = 0.5  # AUC of a guess, whatever C
CHANCE_TOLERANCE = 0.02
VERDICT_COLUMNS = ["item", "verdict", "mean_diff", "ci_low", "ci_high", "effect_dz", "paper_gap", "p_value",
                   "p_adjusted", "family_size", "n_pairs", "unit", "test", "collapsed", "reason"]


def _paper(metric: str, model: str, source: str = "Table 1", factor: float = 1.0, **setting) -> float:
    return papers.value(paper="002", source=source, metric=metric, model=model, **setting) * factor


def _first_per_group(frame: pd.DataFrame, by, column: str) -> pd.Series:
    return frame.groupby(by, sort=False)[column].first()


def stopping_summary(per_seed: pd.DataFrame, by="model") -> pd.DataFrame:
    """Per group: mean epochs trained, the stopping reasons (e.g. ``"patience 4, cap 1"``) and how many of the
    measured fits converged (``"4/5"``); ``"–"`` for a model fitted outside the loop (the SVM)."""
    rows = {}
    for key, group in per_seed.groupby(by, sort=False):
        fitted = group.dropna(subset=["stopped_by"]) if "stopped_by" in group else group.iloc[:0]
        if fitted.empty:
            rows[key] = {"epochs": "–", "stopped by": "–", "converged": "–"}
            continue
        reasons = fitted["stopped_by"].value_counts()
        rows[key] = {"epochs": f"{fitted['epochs'].astype(float).mean():.1f}",
                     "stopped by": ", ".join(f"{reason} {count}" for reason, count in reasons.items()),
                     "converged": f"{int(fitted['converged'].astype(bool).sum())}/{len(fitted)}"}
    index = (pd.MultiIndex.from_tuples(list(rows), names=list(by)) if isinstance(by, (list, tuple))
             else pd.Index(list(rows), name=by))
    return pd.DataFrame(list(rows.values()), index=index)


def paper_depth() -> int:
    """The number N of layers of the paper's own GConv-Transform ("Ours" of Table 1): the N of Table 3 whose
    accuracy is Table 1's."""
    ours = _paper("accuracy", OURS)
    (n_layers,) = [v.setting["n_layers"] for v in papers.lookup(paper="002", source="Table 3", metric="accuracy",
                                                                  model=OURS) if math.isclose(v.value, ours)]
    return int(n_layers)


def depth_note(n_layers: int | None) -> str:
    """What sits beside the paper's "Ours" values: ``"paper: N = 22; ours: N = 2"`` (ours ``"not recorded"``
    when ``n_layers`` is None)."""
    ours = "not recorded" if n_layers is None else f"N = {int(n_layers)}"
    return f"paper: N = {paper_depth()}; ours: {ours}"


def _ours_depth(per_seed: pd.DataFrame, n_layers: int | None) -> int | None:
    """Our GConv-Transform's N: ``n_layers`` when given, else the ``n_layers`` column of its rows if recorded."""
    if n_layers is not None or "n_layers" not in per_seed:
        return n_layers
    recorded = per_seed.loc[per_seed["model"] == OURS, "n_layers"].dropna().unique()
    return int(recorded[0]) if len(recorded) == 1 else None


def _paper_notes(table: pd.DataFrame, n_layers: int | None) -> list[str]:
    return [depth_note(n_layers) if model == OURS else "" for model in table.index]


def table1_summary(per_seed: pd.DataFrame, n_layers: int | None = None) -> pd.DataFrame:
    """Mean ± std per model, the chance accuracy 1/C of the task (when the rows record it), the selected learning
    rate, how the fits stopped, and the paper's accuracy, time
    (ms) and complexity (parameters) beside ours. The paper's "Ours" row is its N = 22 model: column
    ``paper note`` gives its N beside ours (``n_layers``, else the rows' ``n_layers`` column; :func:`depth_note`)."""
    table = format_mean_std(seed_summary(per_seed[["model", *METRICS]]), digits=4)
    table["params"] = _first_per_group(per_seed, "model", "params").astype(int)
    if "chance" in per_seed:
        table["chance"] = _first_per_group(per_seed, "model", "chance")
    table["lr"] = _first_per_group(per_seed, "model", "lr")
    table = table.join(stopping_summary(per_seed))
    table["paper accuracy"] = [_paper("accuracy", m) for m in table.index]
    table["paper inference_ms"] = [_paper("inference_time", m, factor=1000) for m in table.index]
    table["paper params"] = [_paper("complexity", m) for m in table.index]
    table["paper note"] = _paper_notes(table, _ours_depth(per_seed, n_layers))
    return table


def table2_summary(ablation: pd.DataFrame, table1: pd.DataFrame, n_layers: int | None = None) -> pd.DataFrame:
    """Full model and its ablations (mean ± std), how the fits stopped, with the paper's Table 2 accuracy where it
    reports one (the full model's is Table 1's N = 22 value: column ``paper note``, as in :func:`table1_summary`)."""
    rows = _with_full_model(ablation, table1)
    table = format_mean_std(seed_summary(rows[["model", "accuracy", "auc", "hr@10", "ndcg@10"]]))
    table["params"] = _first_per_group(rows, "model", "params").astype(int)
    table["lr"] = _first_per_group(rows, "model", "lr")
    table = table.join(stopping_summary(rows))
    table["paper accuracy"] = [_paper_table2(m) for m in table.index]
    table["paper note"] = _paper_notes(table, _ours_depth(table1, n_layers))
    return table


def table3_summary(depth: pd.DataFrame) -> pd.DataFrame:
    """Accuracy (mean ± std) per N, how the fits stopped, with the paper's Table 3 accuracy; the N the paper prints
    and this run did not train (12, 16, 22 in the paper profile) are rows of their own with the paper's value
    only."""
    by_n = depth.assign(N=depth["n_layers"].map("N={}".format))
    table = format_mean_std(seed_summary(by_n[["N", "accuracy", "auc", "inference_ms"]], by="N"))
    table["params"] = _first_per_group(by_n, "N", "params").astype(int)
    table["lr"] = _first_per_group(by_n, "N", "lr")
    table = table.join(stopping_summary(by_n, "N"))
    printed = sorted(int(v.setting["n_layers"]) for v in papers.lookup(paper="002", source="Table 3"))
    table = table.reindex([*table.index, *(f"N={n}" for n in printed if f"N={n}" not in table.index)])
    table["paper accuracy"] = [_paper_table3(int(n[2:])) for n in table.index]
    return table


def real_summary(real: pd.DataFrame) -> pd.DataFrame:
    """Mean ± std per (dataset, model), parameter counts as integers, the task (next category, or the binary
    fallback) with its chance accuracy, how the fits stopped."""
    table = format_mean_std(seed_summary(real[["dataset", "model", *METRICS[:-1]]], by=["dataset", "model"]))
    table["params"] = _first_per_group(real, ["dataset", "model"], "params").astype(int)
    for column in ("task", "chance"):
        if column in real:
            table[column] = _first_per_group(real, ["dataset", "model"], column)
    return table.join(stopping_summary(real, ["dataset", "model"]))


def chance_levels(rows: pd.DataFrame) -> dict[str, float]:
    """The chance level of each metric for ``rows``: accuracy 1/C (the ``chance`` column, else :data:`CHANCE`),
    AUC 0.5."""
    accuracy = float(rows["chance"].iloc[0]) if "chance" in rows and len(rows) else CHANCE
    return {"accuracy": accuracy, "auc": AUC_CHANCE}


# ------------------------------------------------------------------------------------------------ verdicts
def at_chance(per_seed: pd.DataFrame, by: str, name: object) -> bool:
    """Whether the rows of ``by == name`` are at chance: mean accuracy within :data:`CHANCE_TOLERANCE` of 1/C or
    mean AUC within :data:`CHANCE_TOLERANCE` of 0.5 (:func:`chance_levels`)."""
    rows = per_seed[per_seed[by] == name]
    levels = chance_levels(rows)
    return any(abs(rows[metric].mean() - levels[metric]) <= CHANCE_TOLERANCE for metric in ("accuracy", "auc")
               if metric in rows)


def collapsed(per_seed: pd.DataFrame, by: str, names: tuple) -> list[str]:
    """``"<name> seed <s>"`` (``"<by>=<name> seed <s>"`` unless ``by`` is ``"model"``) for every seed of each of
    ``names`` whose accuracy or AUC collapsed to chance while the median seed's did not
    (:func:`xrec_lib.compare.collapsed_seeds`)."""
    flags = []
    for name in names:
        rows = per_seed[per_seed[by] == name].set_index("seed")
        levels = chance_levels(rows)
        seeds = {seed for metric in ("accuracy", "auc") if metric in rows
                 for seed in collapsed_seeds(rows[metric], levels[metric], CHANCE_TOLERANCE)}
        shown = name if by == "model" else f"{by}={name}"
        flags.extend(f"{shown} seed {seed}" for seed in sorted(seeds))
    return flags


def accuracy_claim(claim: str, item: str, per_seed: pd.DataFrame, by: str, better: object, worse: object,
                   paper_gap: float | None) -> dict:
    """The paired test of "``better`` is more accurate than ``worse``" over seeds (module docstring)."""
    a, b = paired(per_seed, by, better, worse, "accuracy")
    reasons = []
    if at_chance(per_seed, by, better) and at_chance(per_seed, by, worse):
        chance = chance_levels(per_seed[per_seed[by] == better])["accuracy"]
        reasons.append(f"both sides at chance (accuracy within {CHANCE_TOLERANCE} of 1/C = {chance:.3g} or AUC "
                       f"within {CHANCE_TOLERANCE} of {AUC_CHANCE})")
    if len(a) < 2:
        reasons.append("a single seed: the per-seed paired test needs at least 2")
    record = claim_test(claim, a, b, unit="seed", paper_gap=paper_gap, not_comparable="; ".join(reasons) or None,
                        collapsed=collapsed(per_seed, by, (better, worse)))
    return {**record, "item": item}


def speed_claim(table1: pd.DataFrame, other: str) -> dict:
    """"GConv-Transform infers a batch of 96 faster than ``other``": the per-seed median times, paired over seeds
    (difference = ``other``'s time - ours, in ms)."""
    ours, theirs = paired(table1, "model", OURS, other, "inference_ms")
    gap = _paper("inference_time", other, factor=1000) - _paper("inference_time", OURS, factor=1000)
    reason = "a single seed: the per-seed paired test needs at least 2" if len(ours) < 2 else None
    record = claim_test(f"Table 1: {OURS} infers a batch of 96 faster than {other}", -ours, -theirs, unit="seed",
                        paper_gap=gap, not_comparable=reason)
    return {**record, "item": "Table 1"}


def claim_records(table1: pd.DataFrame, ablation: pd.DataFrame, depth: pd.DataFrame,
                  real: pd.DataFrame | None = None) -> list[dict]:
    """Every claim of the paper this notebook tests (module docstring), before the family's correction."""
    gap = _paper_gap
    records = [accuracy_claim(f"Table 1: {OURS} is more accurate than {other}", "Table 1", table1, "model", OURS,
                              other, gap(_paper("accuracy", OURS), _paper("accuracy", other)))
               for other in MODEL_NAMES if other != OURS]
    records += [speed_claim(table1, other) for other in FASTER_THAN]
    both = _with_full_model(ablation, table1)
    records += [accuracy_claim(f"Table 2: the full model is more accurate than {variant}", "Table 2", both, "model",
                               OURS, variant, gap(_paper("accuracy", OURS), _paper_table2(variant)))
                for variant in ABLATIONS]
    cheb, graph, attention = ABLATIONS
    records.append(accuracy_claim("Table 2: removing the Chebyshev convolution hurts more than removing the graph "
                                  "convolution", "Table 2", both, "model", graph, cheb,
                                  gap(_paper_table2(graph), _paper_table2(cheb))))
    records.append(accuracy_claim("Table 2 (Sec. IV.E text): removing attention hurts more than removing the graph "
                                  "convolution", "Table 2", both, "model", graph, attention, None))
    depths = sorted(depth["n_layers"].unique())
    records += [accuracy_claim(f"Table 3: N={deep} is more accurate than N={shallow}", "Table 3", depth, "n_layers",
                               deep, shallow, gap(_paper_table3(deep), _paper_table3(shallow)))
                for shallow, deep in zip(depths, depths[1:])]
    if real is not None and not real.empty:
        for dataset, rows in real.groupby("dataset", sort=False):
            records += [accuracy_claim(f"Table 1 on {dataset}: {OURS} is more accurate than {other}", "Table 1",
                                       rows, "model", OURS, other,
                                       gap(_paper("accuracy", OURS), _paper("accuracy", other)))
                        for other in rows["model"].unique() if other != OURS and OURS in set(rows["model"])]
    return records


def verdicts(table1: pd.DataFrame, ablation: pd.DataFrame, depth: pd.DataFrame,
             real: pd.DataFrame | None = None) -> list[dict]:
    """The notebook's verdicts: :func:`claim_records` decided as one family by :func:`xrec_lib.compare.decide`."""
    return decide(claim_records(table1, ablation, depth, real))


def verdict_table(records: list[dict]) -> pd.DataFrame:
    """Verdicts as a table indexed by claim (collapsed seeds joined into one string)."""
    table = pd.DataFrame(records).set_index("claim").reindex(columns=VERDICT_COLUMNS)
    table["collapsed"] = table["collapsed"].map(lambda seeds: ", ".join(seeds) if isinstance(seeds, list) else "")
    return table


def verdict_counts(records: list[dict]) -> pd.Series:
    """How many verdicts of each kind."""
    kinds = pd.Series([r["verdict"] for r in records], dtype=object)
    return kinds.value_counts().reindex(list(OUTCOMES), fill_value=0)


def _paper_gap(better: float, worse: float) -> float | None:
    return None if math.isnan(better) or math.isnan(worse) else better - worse


def _paper_table2(model: str) -> float:
    """The paper's accuracy of the full model (Table 1) or of an ablation variant it prints (Table 2); NaN for the
    variants it does not print."""
    if model == OURS:
        return _paper("accuracy", OURS)
    return _paper("accuracy", OURS, "Table 2", variant=PAPER_VARIANTS[model]) if model in PAPER_VARIANTS \
        else math.nan


def _paper_table3(n_layers: int) -> float:
    """The paper's Table 3 accuracy at ``n_layers`` (NaN for an N it does not print)."""
    return _paper("accuracy", OURS, "Table 3", n_layers=int(n_layers))


def _with_full_model(ablation: pd.DataFrame, table1: pd.DataFrame) -> pd.DataFrame:
    """The full model's Table-1 rows followed by the ablation rows."""
    return pd.concat([table1[table1["model"] == OURS], ablation], ignore_index=True)
