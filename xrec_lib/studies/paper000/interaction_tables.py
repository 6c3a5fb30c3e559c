"""Paper 000, stage 2: tables, verdicts and figures of notebook 02 from
:class:`~xrec_lib.studies.paper000.interaction.StudyResult` results.

* :func:`figure_table`: ours (mean ± std over seeds) beside the paper's value (:mod:`xrec_lib.papers`; NaN where the
  paper reports none) for Fig. 9-14 and Table 2; ``K`` is 20 wherever the paper does not state it.
* Verdicts: the claims live in :mod:`xrec_lib.studies.paper000.interaction_claims`; :func:`store_verdicts` puts
  them into the bundle (metrics ``<tag>/verdicts``, tables ``verdicts_<tag>``).
* :func:`table2_per_seed`: one row per (Table 2 row, seed) with every ranking metric at every ``K``, for
  aggregating ablations across notebooks; :func:`record_training`: every fit of a study into the bundle.
* :func:`study_figure`: the study's figure of a paper item (:mod:`xrec_lib.studies.paper000.figures`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import matplotlib.pyplot as plt
import pandas as pd

from xrec_lib import papers
from xrec_lib.errors import ConfigError
from xrec_lib.report_items import item_ids
from xrec_lib.studies.paper000 import figures
from xrec_lib.studies.paper000.interaction import (ABLATION, END_TO_END_ROW, GENERATOR_GROUP, GENERATOR_ROWS,
                                                HEAD_COMPARISON, METHODS, StudyResult)

CLAIM_K = 20
ROC_METRICS = ("auc", "tpr_at_fpr_0.2")
#: The paper's precision of Methods 1-4 over all users per K: K = 20 is read off Fig. 13(a), K = 15 is stated in
#: the text of Fig. 13 (:mod:`xrec_lib.papers` source ``"Fig. 13, text"``, panel not named).
FIG13_ALL_USERS = {20: {"source": "Fig. 13(a)", "metric": "precision", "k": 20},
                   15: {"source": "Fig. 13, text", "metric": "precision", "k": 15}}


@dataclass(frozen=True)
class Column:
    """One compared quantity: our ``metric`` at ``k`` on ``slice`` (ROC metrics ignore k and slice), and the
    query of the paper's value (:func:`xrec_lib.papers.value` keywords; model added per row); ``paper_label``
    names the paper's column where the paper's quantity differs from ours (default: ``label``)."""

    label: str
    metric: str
    k: int = CLAIM_K
    slice: str = "all"
    scenario: str = "standard"
    paper: dict | None = None
    paper_label: str | None = None


def per_seed_values(study: StudyResult, group: str, model: str, column: Column) -> pd.Series:
    """Our per-seed values of ``column`` for one model (index: seed)."""
    if column.metric in ROC_METRICS:
        rows = study.roc[(study.roc["group"] == group) & (study.roc["model"] == model)
                         & (study.roc["scenario"] == column.scenario)]
        return rows.set_index("seed")[column.metric]
    m = study.metrics
    rows = m[(m["group"] == group) & (m["model"] == model) & (m["scenario"] == column.scenario)
             & (m["slice"] == column.slice) & (m["k"] == column.k) & (m["metric"] == column.metric)]
    return rows.set_index("seed")["value"]


def paper_value(model: str, query: dict | None) -> float:
    """The paper's value for ``model`` under ``query``, NaN when the paper reports none."""
    return math.nan if query is None else papers.value(paper="000", model=model, **query)


def comparison_table(study: StudyResult, group: str, models, columns: list[Column],
                     paper_models: dict | None = None, with_paper: bool = True) -> pd.DataFrame:
    """Rows = models; per column ``ours`` (mean ± std over seeds; a dash (–) for the std of one seed, a dash alone
    where the model has no value, e.g. the generator's oracle has no ROC) and ``paper`` (NaN: not reported, or
    ``with_paper`` False)."""
    table = {}
    for column in columns:
        ours, paper = [], []
        for model in models:
            values = per_seed_values(study, group, model, column).dropna()
            std = f"{values.std(ddof=1):.4f}" if len(values) > 1 else "–"
            ours.append(f"{values.mean():.4f} ± {std}" if len(values) else "–")
            paper.append(paper_value((paper_models or {}).get(model, model), column.paper) if with_paper
                         else math.nan)
        table[f"ours {column.label}"], table[f"paper {column.paper_label or column.label}"] = ours, paper
    return pd.DataFrame(table, index=pd.Index(list(models), name="model"))


def _fig_columns(figure: str) -> tuple[str, tuple, list[Column]]:
    """(group, models, columns) of each reproduced figure/table."""
    methods = tuple(METHODS)
    specs = {
        "Fig. 9": ("heads", HEAD_COMPARISON, [
            Column("NDCG@20", "ndcg", paper={"source": "Fig. 9(a)", "metric": "ndcg"}),
            Column("MAP@20", "map", paper={"source": "Fig. 9(b)", "metric": "map"})]),
        "Fig. 10": ("heads", HEAD_COMPARISON, [
            Column("HR@20 standard", "hr", paper={"source": "Fig. 10(a)", "metric": "hr"}),
            Column("precision@20 standard", "precision", paper={"source": "Fig. 10(a)", "metric": "accuracy"}),
            Column("HR@20 sparse", "hr", scenario="sparse", paper={"source": "Fig. 10(b)", "metric": "hr"}),
            Column("precision@20 sparse", "precision", scenario="sparse",
                   paper={"source": "Fig. 10(b)", "metric": "accuracy"})]),
        "Fig. 11": ("heads", HEAD_COMPARISON, [
            Column("recall@20", "recall", paper={"source": "Fig. 11(a)", "metric": "recall"}),
            Column("TPR at FPR 0.2", "tpr_at_fpr_0.2", paper={"source": "Fig. 11(b)", "metric": "tpr"}),
            Column("AUC", "auc")]),
        "Table 2": ("ablation", tuple(v for v, _, _ in ABLATION), [Column("NDCG@20", "ndcg")]),
        "Fig. 12": ("methods", methods, [
            Column("NDCG@20 high-value users", "ndcg", slice="high-value users",
                   paper={"source": "Fig. 12(a)", "metric": "ndcg"},
                   paper_label="NDCG, Fig. 12(a) (group and K not stated)"),
            Column("HR@20 high-value users", "hr", slice="high-value users"),
            Column("NDCG@20 long-tail products", "ndcg", slice="long-tail products"),
            Column("HR@20 long-tail products", "hr", slice="long-tail products",
                   paper={"source": "Fig. 12(b)", "metric": "hr"})]),
        "Fig. 13": ("methods", methods, [
            *(Column(f"precision@{k}", "precision", k=k, paper=FIG13_ALL_USERS.get(k)) for k in (10, 15, 20)),
            Column("precision@15 high-value users", "precision", k=15, slice="high-value users",
                   paper={"source": "Fig. 13(b)", "metric": "precision"})]),
        "Fig. 14": ("methods", methods, [
            Column("HR@20 cold-start users", "hr", slice="cold-start users",
                   paper={"source": "Fig. 14(a)", "metric": "hr"}),
            Column("HR@20 long-tail products", "hr", slice="long-tail products"),
            Column("AUC", "auc")]),
    }
    if figure not in specs:
        raise ConfigError(f"unknown figure {figure!r}; choose one of {', '.join(specs)}")
    return specs[figure]


def figure_table(study: StudyResult, figure: str) -> pd.DataFrame:
    """Ours (mean ± std over seeds) beside the paper for ``figure`` (``"Fig. 9"`` ... ``"Fig. 14"``, ``"Table 2"``).

    Table 2 puts the paper's baseline (14.33 %) and full-method (18.62 %) NDCG@20 beside the first and fourth row;
    ``K`` is 20 wherever the paper does not state it. On synthetic data the heads' figures (9-11) end with the
    generator's oracle (the ceiling) and training popularity (:data:`GENERATOR_ROWS`).
    """
    group, models, columns = _fig_columns(figure)
    if figure == "Table 2" and (study.roc["model"] == END_TO_END_ROW).any():
        models = (*models, END_TO_END_ROW)
    table = comparison_table(study, group, models, columns)
    if group == "heads" and (study.metrics["group"] == GENERATOR_GROUP).any():
        table = pd.concat([table, comparison_table(study, GENERATOR_GROUP, GENERATOR_ROWS, columns,
                                                   with_paper=False)])
    if figure == "Table 2":
        paper = {ABLATION[0][0]: "baseline", ABLATION[3][0]: "full"}
        table["paper NDCG@20"] = [paper_value("Siamese GCN + BLA", {"metric": "ndcg", "k": 20, "variant": paper[m]})
                                  if m in paper else math.nan for m in table.index]
    return table


def claim_item(claim: str) -> str:
    """The paper item a claim of :func:`claim_pairs` names: ``"Fig. 9(a): ..."`` -> ``"fig9"``."""
    (item,) = item_ids(claim.split(":")[0])
    return item


def verdict_records(verdicts: pd.DataFrame) -> list[dict]:
    """The rows of a verdict table as the verdict dicts the report reads (``claim``, ``verdict``, ``item``,
    ``data``, test statistics)."""
    return verdicts.reset_index().to_dict(orient="records")


def data_tag(data: str) -> str:
    """The name part of a study's tables and metrics: ``"synthetic"``, or a real data set's name up to the first
    space (``/`` -> ``_``, ``->`` -> ``-``)."""
    return data.split(" ")[0].replace("/", "_").replace("->", "-")


def store_verdicts(verdicts: dict[str, pd.DataFrame], bundle) -> None:
    """Each study's verdicts as table ``verdicts_<tag>`` and metrics ``<tag>/verdicts`` (:func:`data_tag`)."""
    for data, table in verdicts.items():
        bundle.add_table(f"verdicts_{data_tag(data)}", table)
        bundle.add_metrics(f"{data_tag(data)}/verdicts", verdict_records(table))


def record_training(study: StudyResult | None, bundle) -> None:
    """Every fit of ``study`` (encoders, heads, end-to-end) into ``bundle`` (``add_training``)."""
    for labels, result in (study.fits if study is not None else ()):
        bundle.add_training(result, **labels)


def table2_per_seed(study: StudyResult) -> pd.DataFrame:
    """Table 2 per seed, indexed by (``model``: the row's name, ``seed``), columns ``data``, ``<metric>@<k>`` for
    every ranking metric and ``K`` of the study (all users, standard scenario) and ``auc``."""
    m = study.metrics
    rows = m[(m["group"] == "ablation") & (m["slice"] == "all") & (m["scenario"] == "standard")]
    wide = rows.assign(column=rows["metric"] + "@" + rows["k"].astype(str)).pivot_table(
        index=["model", "seed"], columns="column", values="value", sort=False)
    roc = study.roc[study.roc["group"] == "ablation"].set_index(["model", "seed"])["auc"]
    return wide.join(roc).assign(data=study.data)[["data", *wide.columns, "auc"]]


def curves_table(study: StudyResult) -> pd.DataFrame:
    """Fig. 9 per-epoch NDCG@20 and MAP@20 (mean and std over seeds) of each head."""
    return study.curves.groupby(["model", "epoch"], sort=False)[["ndcg", "map"]].agg(["mean", "std"])


REAL_DATA_FIGURES = ("Fig. 9", "Fig. 11", "Table 2", "Fig. 12", "Fig. 14")


def real_data_report(study: StudyResult | None, bundle) -> dict[str, pd.DataFrame]:
    """Add a real-data study's tables (``fig9_<tag>`` ... ``table2_<tag>``, with the paper's values), Table 2 per
    seed (metrics ``table2/<tag>``), figures and training runs to ``bundle``, where ``<tag>`` is
    :func:`data_tag`; notes ``"real data not present: make data"`` and returns ``{}`` when ``study`` is None. Its
    verdicts are decided with the notebook's other claims (:func:`notebook_verdicts`)."""
    if study is None:
        bundle.note_real_data_absent()
        return {}
    tag = data_tag(study.data)
    bundle.add_dataset(study.data, synthetic=False, seeds=list(study.seeds))
    bundle.add_metrics(f"02/{study.data}/metrics", study.metrics)
    bundle.add_metrics(f"table2/{tag}", table2_per_seed(study))
    record_training(study, bundle)
    tables = {f"{claim_item(name)}_{tag}": figure_table(study, name) for name in REAL_DATA_FIGURES}
    for name, table in tables.items():
        bundle.add_table(name, table)
    for item in ("fig9", "fig11", "fig12", "fig14"):
        bundle.add_figure(f"{item}_{tag}", study_figure(study, item))
    return tables


#: Fig. 9's values at the paper's 100th epoch: ``{metric: {head: fraction}}``.
FIG9_PAPER = {metric: {v.model: v.value for v in papers.lookup(paper="000", source=source, metric=metric)}
              for metric, source in (("ndcg", "Fig. 9(a)"), ("map", "Fig. 9(b)"))}


def paper_points(figure: str) -> pd.DataFrame:
    """The paper's values of ``figure`` (``"Fig. 10"`` ...) that its table shows, one row per (model, column):
    ``model``, ``metric``, ``scenario``, ``slice``, ``k``, ``paper`` (the figures draw them beside ours)."""
    _, models, columns = _fig_columns(figure)
    rows = [{"model": model, "metric": c.metric, "scenario": c.scenario, "slice": c.slice, "k": c.k,
             "paper": paper_value(model, c.paper)} for c in columns for model in models]
    return pd.DataFrame(rows).dropna(subset=["paper"]).reset_index(drop=True)


def study_figure(study: StudyResult, item: str) -> plt.Figure:
    """The figure of paper item ``item`` (``"fig9"`` ... ``"fig14"``) drawn from ``study``'s data, with the
    paper's values (:func:`paper_points`, Fig. 9: :data:`FIG9_PAPER`)."""
    heads, methods = HEAD_COMPARISON, tuple(METHODS)
    draw = {
        "fig9": lambda: figures.training_curves(study.curves, study.label, heads, paper=FIG9_PAPER),
        "fig10": lambda: figures.scenario_bars(study.metrics, study.label, heads, paper=paper_points("Fig. 10")),
        "fig11": lambda: figures.recall_and_roc(study.metrics, study.roc_curves, study.label, heads,
                                                paper=paper_points("Fig. 11")),
        "fig12": lambda: figures.business_scenarios(study.metrics, study.label, methods,
                                                    paper=paper_points("Fig. 12")),
        "fig13": lambda: figures.precision_by_length(study.metrics, study.label, methods,
                                                     paper=paper_points("Fig. 13")),
        "fig14": lambda: figures.robustness(study.metrics, study.roc_curves, study.label, methods,
                                            paper=paper_points("Fig. 14")),
    }
    if item not in draw:
        raise ConfigError(f"no figure for {item!r}; choose one of {', '.join(draw)}")
    return draw[item]()
