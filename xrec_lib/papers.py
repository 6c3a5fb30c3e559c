"""Every number the three studied papers report, and the published reference numbers of the datasets.

Each number is one :class:`PaperValue`; :data:`VALUES` holds them all, grouped below by paper and by figure or
table in the paper's own order. Query them with :func:`lookup` (all matches), :func:`one` (exactly one match)
and :func:`as_frame` (a DataFrame whose ``paper`` column sits beside the "ours" columns of a report).

Papers and references (:data:`PAPERS`)
    ``"000"``  Siamese GCN + bilinear attention (BLA) for cross-lingual cross-border e-commerce recommendation.
    ``"001"``  Hu, multimodal fusion Transformer (LGT + soft mapping + SLGM) and BERT + xDeepFM short-video
               recommender.
    ``"002"``  Liu, "Fast Recommender System Combining Global and Local Information" (GConv-Transform).
    External references carry their own id (``"lightgcn-gowalla"``, ``"mmsa"``, ``"self-mm"``, ``"microlens"``,
    ``"recbole-ml100k"``); their ``source`` names the document the number was read from.

Conventions
    ``source``   where the number is printed: ``"Fig. 6(a)"``, ``"Table III"``, ``"Abstract"``,
                 ``"Sec. Results, text"``. A number printed in several places is recorded once, at its figure or
                 table, and ``note`` names the restatements; restatements that disagree are recorded separately.
    ``metric``   lower-case name: ``hr``, ``recall`` (the paper's "RR", recall rate), ``ndcg``, ``map``,
                 ``precision``, ``coverage``, ``accuracy``, ``tpr``, ``mrr``, ``mae``, ``corr``, ``acc2``,
                 ``acc7``, ``f1``, ``inference_time``, ``complexity``; dataset statistics use ``users``,
                 ``interactions``, ``train_share`` and similar. ``*_gain`` is a difference the paper states
                 (``setting["relative_to"]`` names the other side), ``*_relative_gain`` a ratio minus one.
    ``value``    a percentage is stored as a fraction (12.6 % -> 0.126), milliseconds as seconds, "23.4M" as
                 23_400_000. :data:`UNITS` defines every ``unit``.
    ``model``    the paper's name for the model; ``None`` for dataset statistics and hyper-parameters. The
                 proposed models are ``"Siamese GCN + BLA"`` (000, its "Method 1"), ``"Proposed"`` (001, the
                 tables' "Ours") and ``"GConv-Transform"`` (002). 000's Methods 2-4 are named by their parts.
    ``k``        the cut-off K of a top-K metric when the paper states it, else ``None``.
    ``setting``  everything else that identifies the number: ``scenario`` (000's data Scenario 1/2),
                 ``use_case`` (000's business scenarios), ``epoch``, ``fpr``, ``variant`` (ablations),
                 ``dataset``, ``n_layers``, ``alignment``, ``split``, ``relative_to``.
    ``note``     ambiguities and contradictions of the source text, lower bounds ("more than") and
                 approximations ("nearly", "~"), stated as found.
    derived      a number the paper does not print but fixes by arithmetic on numbers it prints (RGCN's
                 Fig. 8(b) coverage from the Siamese GCN's value and the stated gap) is recorded at the source of
                 those numbers with a ``note`` that starts with :data:`DERIVED` and gives the computation;
                 :attr:`PaperValue.derived` tells it from a printed number.

Numbers that the papers quote from cited work (e.g. 000's related-work hit-rate gains) are not results of the
papers and are left out. Tables whose bodies are absent from the paper text (000 Table 1, the body of 000 Table 2)
contribute only the numbers the text states.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from xrec_lib.errors import XrecError

SettingValue = str | int | float | bool

UNITS: Mapping[str, str] = {
    "fraction": "a proportion in [0, 1]; percentages are divided by 100, percentage points likewise",
    "label": "units of the sentiment label scale of CMU-MOSI/MOSEI ([-3, 3]): MAE and label values",
    "correlation": "Pearson correlation coefficient in [-1, 1]",
    "count": "a number of things (users, interactions, runs, GPUs, examples per batch)",
    "seconds": "wall-clock time in seconds",
    "params": "number of model parameters",
    "dim": "length of a vector",
    "GB": "memory in gigabytes",
}

PAPERS: Mapping[str, str] = {
    "000": "Siamese GCN + bilinear attention two-stage cross-lingual recommender for cross-border e-commerce",
    "001": "Y. Hu, Design and Research of Cross-Border E-Commerce Short Video Recommendation System Based on "
    "Multi-Modal Fusion Transformer Model",
    "002": "X. Liu, Fast Recommender System Combining Global and Local Information",
    "lightgcn-gowalla": "LightGCN on the NGCF/LightGCN Gowalla split: kuandeng/LightGCN and "
    "gusye1234/LightGCN-PyTorch READMEs, He et al. SIGIR 2020 (data/gowalla-lightgcn/PROVENANCE.md)",
    "mmsa": "thuiar/MMSA results/result-stat.md, regression tables (data/cmu-mosi/MMSA_result-stat.md)",
    "self-mm": "Self-MM (Yu et al., AAAI 2021) headline values as listed by a benchmark aggregator "
    "(data/cmu-mosi/PROVENANCE.md)",
    "microlens": "MicroLens (Ni et al., arXiv:2309.15379): official baseline table (MicroLens-100K) and "
    "MicroLens-50K statistics (data/microlens-50k/PROVENANCE.md)",
    "recbole-ml100k": "RecBole README, BPRMF on MovieLens-100K (data/ml-100k-recbole/PROVENANCE.md)",
}

#: Start of the ``note`` of a value computed from printed numbers rather than printed itself.
DERIVED = "derived: "

_FRAME_COLUMNS = ("paper_id", "source", "model", "metric", "k", "unit", "paper", "note")


class PaperValueError(XrecError, ValueError):
    """A :class:`PaperValue` is malformed: unknown paper id or unit, empty source, fraction outside [0, 1]."""


class PaperQueryError(XrecError, ValueError):
    """A query of the registry names something it does not hold, or matches other than exactly one value."""


@dataclass(frozen=True)
class PaperValue:
    """One reported number and everything needed to find it again in its source.

    Two values with the same :attr:`key` would be indistinguishable to :func:`one`; the registry holds none.
    """

    paper: str
    source: str
    metric: str
    value: float
    unit: str
    setting: Mapping[str, SettingValue] = field(hash=False)
    model: str | None
    k: int | None
    note: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "setting", dict(self.setting))
        where = f"{self.paper} {self.source!r} {self.metric!r}"
        if self.paper not in PAPERS:
            raise PaperValueError(f"{where}: unknown paper id {self.paper!r}; add it to PAPERS first")
        if not self.source.strip() or not self.metric.strip():
            raise PaperValueError(f"{where}: source and metric must be non-empty")
        if self.unit not in UNITS:
            raise PaperValueError(f"{where}: unknown unit {self.unit!r}; use one of {sorted(UNITS)}")
        if self.unit == "fraction" and not 0.0 <= self.value <= 1.0:
            raise PaperValueError(f"{where}: fraction {self.value} lies outside [0, 1]; divide percentages by 100")
        if self.k is not None and (isinstance(self.k, bool) or not isinstance(self.k, int) or self.k < 1):
            raise PaperValueError(f"{where}: k must be a positive int or None, got {self.k!r}")
        clashes = set(self.setting) & set(_FRAME_COLUMNS)
        if clashes:
            raise PaperValueError(f"{where}: setting keys {sorted(clashes)} clash with PaperValue fields")
        for name, item in self.setting.items():
            if not isinstance(item, SettingValue):
                raise PaperValueError(f"{where}: setting {name!r} must be str, int, float or bool, got {item!r}")

    @property
    def derived(self) -> bool:
        """Whether the paper does not print this number but fixes it by arithmetic on numbers it prints."""
        return self.note.startswith(DERIVED)

    @property
    def key(self) -> tuple:
        """Everything that identifies the number: paper, source, metric, model, k and the sorted setting."""
        return self.paper, self.source, self.metric, self.model, self.k, tuple(sorted(self.setting.items()))


def _v(
    paper: str,
    source: str,
    metric: str,
    value: float,
    unit: str,
    model: str | None = None,
    k: int | None = None,
    note: str = "",
    **setting: SettingValue,
) -> PaperValue:
    """Build one value; ``setting`` comes as keyword arguments."""
    return PaperValue(paper, source, metric, value, unit, setting, model, k, note)


Notes = str | Mapping[str | tuple[str, str], str]


def _note_for(notes: Notes, model: str | None, metric: str) -> str:
    """A plain string applies to every cell; a mapping is keyed by ``(model, metric)``, model, or metric."""
    if isinstance(notes, str):
        return notes
    return notes.get((model, metric), notes.get(model, notes.get(metric, "")))


def _table(
    paper: str,
    source: str,
    columns: Sequence[tuple[str, str, float]],
    rows: Mapping[str, Sequence[float]],
    k: int | None = None,
    notes: Notes = "",
    **setting: SettingValue,
) -> tuple[PaperValue, ...]:
    """A table in its printed layout: ``columns`` are ``(metric, unit, factor)``, printed cell x factor = value."""
    return tuple(
        _v(paper, source, metric, round(cell * factor, 10), unit, model, k, _note_for(notes, model, metric),
           **setting)
        for model, cells in rows.items()
        for (metric, unit, factor), cell in zip(columns, cells, strict=True)
    )


def _pc(
    paper: str,
    source: str,
    metric: str,
    percents: Mapping[str, float],
    k: int | None = None,
    notes: Notes = "",
    **setting: SettingValue,
) -> tuple[PaperValue, ...]:
    """One fraction per model from percentages as printed (``{"RGCN": 10.7}`` -> 0.107)."""
    rows = {model: (percent,) for model, percent in percents.items()}
    return _table(paper, source, ((metric, "fraction", 0.01),), rows, k, notes, **setting)


def _counts(paper: str, source: str, counts: Mapping[str, float], note: str = "") -> tuple[PaperValue, ...]:
    """Dataset statistics and hyper-parameters counted in units of things (metric name -> count)."""
    return tuple(_v(paper, source, metric, count, "count", note=note) for metric, count in counts.items())


# ----------------------------------------------------------------------------------------------------------------
# 000: Siamese GCN + bilinear attention (BLA)
# ----------------------------------------------------------------------------------------------------------------
_SGCN, _RGCN, _GCN, _SAGE = "Siamese GCN", "RGCN", "GCN", "GraphSAGE"
_BLA, _BL, _CNIM, _GATED = "BLA", "BL", "CNIM", "Gated"
_METHOD_1 = "Siamese GCN + BLA"
_METHOD_2 = "GCN + BL"
_METHOD_3 = "GraphSAGE + self-attention"
_METHOD_4 = "MF + MLP"
_SCENARIO_NOTE = (
    "Sec. Results calls Scenario 1 'sparse' and Scenario 2 'sufficient' data at Fig. 6, but 'standard "
    "(Scenario 1)' and 'sparse (Scenario 2)' at Fig. 10"
)
_FIG6A_NOTES = {_SGCN: _SCENARIO_NOTE + "; also in Summary", _RGCN: _SCENARIO_NOTE}
_FIG10_NOTE = _SCENARIO_NOTE + "; 'accuracy' is not defined for ranking and probably means precision@K"
_FIG13_NOTE = "text says 'accuracy'; the caption of Fig. 13 says precision"

_PAPER_000: tuple[PaperValue, ...] = (
    # Sec. Results, dataset: Alibaba International (B2B source) -> AliExpress (B2C target), random 6:4 split
    *_counts(
        "000",
        "Sec. Results, text",
        {
            "users": 52_516,
            "products": 65_832,
            "suppliers": 5_128,
            "interactions": 1_245_310,
            "train_interactions": 747_186,
            "test_interactions": 498_124,
        },
    ),
    _v("000", "Sec. Results, text", "train_share", 0.6, "fraction", note="stated as the split ratio 6:4"),
    _v("000", "Sec. Results, text", "test_share", 0.4, "fraction", note="stated as the split ratio 6:4"),
    # Fig. 6: HR and recall rate (RR) of the entity encoders; K not stated
    *_pc("000", "Fig. 6(a)", "hr", {_SGCN: 12.6, _RGCN: 10.7}, notes=_FIG6A_NOTES, scenario=1),
    *_pc("000", "Fig. 6(a)", "recall", {_SGCN: 8.9, _RGCN: 7.5}, notes=_FIG6A_NOTES, scenario=1),
    *_pc("000", "Fig. 6(b)", "hr", {_SGCN: 20.6, _RGCN: 19.5}, notes=_SCENARIO_NOTE, scenario=2),
    # Fig. 7: NDCG and MAP against the recommendation list length
    *_pc("000", "Fig. 7(a)", "ndcg", {_SGCN: 7.8, _RGCN: 6.9, _GCN: 6.4}, k=20),
    *_pc("000", "Fig. 7(b)", "map", {_SGCN: 4.4, _RGCN: 3.7, _SAGE: 3.2},
         notes="K not stated for Fig. 7(b); Fig. 7(a) is quoted at K = 20"),
    _v("000", "Abstract", "ndcg", 0.078, "fraction", _SGCN, 30,
       note="lower bound ('stable at more than 7.8%') at list length 30; Fig. 7(a) text gives 7.8% at K = 20"),
    _v("000", "Abstract", "ndcg_relative_gain", 0.20, "fraction", _SGCN, 30,
       note="lower bound ('more than 20% higher than other models'); at K = 20 Fig. 7(a) gives 7.8% against "
       "RGCN's 6.9%, 13% higher", relative_to="other models"),
    # Fig. 8: precision and coverage against the recommendation list length
    *_pc("000", "Fig. 8(a)", "precision", {_SGCN: 4.5, _RGCN: 3.9, _GCN: 3.2}, k=15,
         notes="text says 'accuracy'; the caption of Fig. 8 says precision"),
    *_pc("000", "Fig. 8(b)", "coverage", {_SGCN: 18.8, _GCN: 14.3}, k=20),
    _v("000", "Fig. 8(b)", "coverage_gain", 0.016, "fraction", _SGCN, 20,
       note="percentage points over RGCN, so RGCN coverage@20 is 17.2% (recorded as a derived value)",
       relative_to=_RGCN),
    _v("000", "Fig. 8(b)", "coverage", round(0.188 - 0.016, 10), "fraction", _RGCN, 20,
       note=DERIVED + "not printed; the Siamese GCN's 18.8% minus the stated gap of 1.6 percentage points "
       "('exceeding the RGCN model by 1.6 percentage points')"),
    # Fig. 9: interaction layers during training, at the 100th epoch ("round"); K not stated
    *_pc("000", "Fig. 9(a)", "ndcg", {_BLA: 23.8, _BL: 22.2}, notes={_BLA: "also in Discussion and Summary"},
         epoch=100),
    *_pc("000", "Fig. 9(b)", "map", {_BLA: 12.7, _BL: 10.8}, notes={
        _BLA: "epoch 100 stated in the Abstract; also in Discussion and Summary",
        _BL: "epoch 100 stated in the Abstract"}, epoch=100),
    _v("000", "Abstract", "map_gain", 0.019, "fraction", _BLA,
       note="percentage points; Sec. Results calls it 'nearly 2 percentage point'", epoch=100, relative_to=_BL),
    # Fig. 10: HR and "accuracy" of the interaction layers in two data scenarios; K not stated
    *_pc("000", "Fig. 10(a)", "hr", {_BLA: 28.9, _BL: 27.4, _CNIM: 26.2}, notes=_SCENARIO_NOTE, scenario=1),
    *_pc("000", "Fig. 10(a)", "accuracy", {_BLA: 3.4, _BL: 3.1, _CNIM: 3.0}, notes=_FIG10_NOTE, scenario=1),
    *_pc("000", "Fig. 10(b)", "hr", {_BLA: 30.5, _GATED: 24.9}, notes=_SCENARIO_NOTE, scenario=2),
    *_pc("000", "Fig. 10(b)", "accuracy", {_BLA: 2.6, _GATED: 1.2}, notes=_FIG10_NOTE, scenario=2),
    # Fig. 11: recall rate at K = 20 and the ROC curve at a false positive rate of 0.2
    *_pc("000", "Fig. 11(a)", "recall", {_BLA: 15.5, _BL: 14.5, _GATED: 12.5}, k=20),
    _v("000", "Fig. 11(b)", "tpr", 0.95, "fraction", _BLA, note="approximate ('~0.95')", fpr=0.2),
    *(_v("000", "Fig. 11(b)", "tpr", tpr, "fraction", model, fpr=0.2)
      for model, tpr in {_BL: 0.85, _CNIM: 0.74, _GATED: 0.63}.items()),
    # Table 2 (ablation; its body is not in the text): NDCG@20 from baseline to the full method
    _v("000", "Table 2, Summary text", "ndcg", 0.1433, "fraction", _METHOD_1, 20,
       note="baseline without the heterogeneous graph, Siamese GCN and BLA", variant="baseline"),
    _v("000", "Table 2, Results text", "ndcg", 0.1862, "fraction", _METHOD_1, 20,
       note="also in Summary", variant="full"),
    _v("000", "Discussion, text", "ndcg_drop", 0.01, "fraction", _METHOD_1, 20,
       note="approximate ('nearly 1 percentage point') drop of NDCG@20 from the full method",
       variant="without attention"),
    # Fig. 12: the four cross-domain methods in business scenarios; K not stated
    *_pc("000", "Fig. 12(a)", "ndcg", {_METHOD_1: 16.8, _METHOD_2: 15.1, _METHOD_3: 13.9, _METHOD_4: 11.8},
         notes="business scenario of Fig. 12(a) not stated"),
    *_pc("000", "Fig. 12(b)", "hr", {_METHOD_1: 46.5, _METHOD_2: 45.1, _METHOD_4: 42.3},
         notes={_METHOD_1: "scenario from the Abstract ('increasing the sales rate of long-tail products, the "
                "hit rate ... reached 46.5%')"},
         use_case="long-tail products"),
    # Fig. 13: precision of the four methods against the recommendation list length
    *_pc("000", "Fig. 13(a)", "precision", {_METHOD_1: 7.4, _METHOD_2: 6.9, _METHOD_4: 5.8}, k=20,
         notes=_FIG13_NOTE),
    *_pc("000", "Fig. 13(b)", "precision", {_METHOD_1: 12.5, _METHOD_2: 11.8, _METHOD_3: 10.8, _METHOD_4: 9.5},
         k=15, notes={_METHOD_1: _FIG13_NOTE + "; also in Summary ('12.5% accuracy')", "precision": _FIG13_NOTE},
         use_case="high-value potential users"),
    *_pc("000", "Fig. 13, text", "precision", {_METHOD_1: 7.4, _METHOD_2: 6.8, _METHOD_3: 6.3, _METHOD_4: 5.9},
         k=15, notes=_FIG13_NOTE + "; panel not stated, probably Fig. 13(a)"),
    # Fig. 14(a): cold start, users with 4 interactions on average; K not stated
    *_pc("000", "Fig. 14(a)", "hr", {_METHOD_1: 13.8, _METHOD_2: 11.0}, use_case="cold start",
         mean_user_interactions=4),
)

# ----------------------------------------------------------------------------------------------------------------
# 001: multimodal fusion Transformer (LGT + soft mapping + SLGM), BERT + xDeepFM
# ----------------------------------------------------------------------------------------------------------------
_MOSI, _MOSEI = "CMU-MOSI", "CMU-MOSEI"
_PROPOSED_001 = "Proposed"
_MAE_F1 = (("mae", "label", 1.0), ("f1", "fraction", 0.01))
_MAE_CORR_ACC_F1 = (
    ("mae", "label", 1.0),
    ("corr", "correlation", 1.0),
    ("acc7", "fraction", 0.01),
    ("acc2", "fraction", 0.01),
    ("f1", "fraction", 0.01),
)
_ACC2_NOTE = "Acc-2/F1 variant (with or without zero labels) not stated"

_PAPER_001: tuple[PaperValue, ...] = (
    _v("001", "Abstract", "accuracy", 0.9876, "fraction", _PROPOSED_001,
       note="dataset and task not stated ('classic datasets in the field of multimodal analysis'); no table "
       "reports it; restated in Summary as the deployed system's accuracy"),
    _v("001", "Abstract", "f1", 0.9789, "fraction", _PROPOSED_001,
       note="dataset and task not stated; no table reports it; restated in Summary"),
    _v("001", "Sec. II.C.3, text", "bert_sentence_dim", 768, "dim", "BERT"),
    _v("001", "Sec. IV.A, text", "runs_averaged", 5, "count",
       note="'the five average experimental results' of Tables I and II"),
    _v("001", "Sec. IV.A, text", "sampled_test_examples", 4_000, "count",
       note="lower bound ('more than 4,000 samples ... from the test set') behind the binary-classification "
       "curves of Fig. 6; the MOSI test split has 686 segments in MMSA", dataset=_MOSI),
    # Tables I-II (MAE, F1); Tables III-IV repeat them with more columns and partly different numbers
    *_table("001", "Table I", _MAE_F1, {
        "MFN": (0.95, 78.1),
        "RAVEN": (0.92, 76.6),
        "MCTN": (0.91, 79.1),
        "MulT": (0.87, 82.8),
        "MISA": (0.78, 83.6),
        "Self-MM": (0.71, 86.0),
        _PROPOSED_001: (0.81, 82.9),
    }, notes={_PROPOSED_001: "contradicts Table III (MAE 0.69, F1 88.4)"}, dataset=_MOSI),
    *_table("001", "Table II", _MAE_F1, {
        "MFN": (0.71, 77.0),
        "RAVEN": (0.61, 79.5),
        "MCTN": (0.61, 80.6),
        "MulT": (0.58, 82.3),
        "MISA": (0.55, 85.3),
        "Self-MM": (0.53, 85.3),
        _PROPOSED_001: (0.59, 82.2),
    }, notes={("MISA", "mae"): "contradicts Table IV (0.56)",
              _PROPOSED_001: "contradicts Table IV (MAE 0.51, F1 85.9)"}, dataset=_MOSEI),
    *_table("001", "Table III", _MAE_CORR_ACC_F1, {
        "MFN": (0.95, 0.66, 36.2, 78.1, 78.1),
        "RAVEN": (0.92, 0.69, 33.2, 78.0, 76.6),
        "MCTN": (0.91, 0.68, 35.6, 79.3, 79.1),
        "MulT": (0.87, 0.70, 40.0, 83.0, 82.8),
        "MISA": (0.78, 0.76, 42.3, 83.4, 83.6),
        "Self-MM": (0.71, 0.80, 46.7, 86.0, 86.0),
        _PROPOSED_001: (0.69, 0.81, 47.1, 88.4, 88.4),
    }, notes={"acc2": _ACC2_NOTE, "f1": _ACC2_NOTE}, dataset=_MOSI),
    *_table("001", "Table IV", _MAE_CORR_ACC_F1, {
        "MFN": (0.71, 0.54, 45.0, 76.9, 77.0),
        "RAVEN": (0.61, 0.66, 50.0, 79.1, 79.5),
        "MCTN": (0.61, 0.67, 49.6, 79.8, 80.6),
        "MulT": (0.58, 0.70, 51.8, 82.5, 82.3),
        "MISA": (0.56, 0.76, 52.2, 85.5, 85.3),
        "Self-MM": (0.53, 0.77, 52.4, 85.2, 85.3),
        _PROPOSED_001: (0.51, 0.74, 53.9, 86.2, 85.9),
    }, notes={"acc2": _ACC2_NOTE, "f1": _ACC2_NOTE}, dataset=_MOSEI),
    # Table V: human multimodal label (MOSI-M) and the SLGM-generated unimodal labels of five MOSI samples
    *(
        value
        for sample, (human, text, audio, vision) in enumerate((
            (2.2, 1.1925, 0.3874, 0.8557),
            (2.4, 1.7874, 0.0639, 1.1984),
            (-1.8, -1.5281, -0.9052, -1.3683),
            (-0.2, -0.0327, 0.0874, 0.0001),
            (0.6, 0.8281, 0.0052, -0.0856),
        ), start=1)
        for value in (
            _v("001", "Table V", "multimodal_label", human, "label", dataset=_MOSI, sample=sample),
            _v("001", "Table V", "unimodal_label_text", text, "label", "SLGM", dataset=_MOSI, sample=sample),
            _v("001", "Table V", "unimodal_label_audio", audio, "label", "SLGM", dataset=_MOSI, sample=sample),
            _v("001", "Table V", "unimodal_label_vision", vision, "label", "SLGM", dataset=_MOSI, sample=sample),
        )
    ),
)

# ----------------------------------------------------------------------------------------------------------------
# 002: GConv-Transform
# ----------------------------------------------------------------------------------------------------------------
_GCT = "GConv-Transform"
_ACC_TIME_COMPLEXITY = (("accuracy", "fraction", 0.01), ("inference_time", "seconds", 0.001),
                        ("complexity", "params", 1e6))
_ACCURACY_NOTE = "'accuracy' is not defined in the paper"
_TIME_NOTE = "column 'Times' in ms; per request or per batch not stated"

_PAPER_002: tuple[PaperValue, ...] = (
    # Sec. IV.A-B: dataset and training set-up
    _v("002", "Sec. IV.A, text", "behaviours", 18_000_000, "count",
       note="'18 million consumer behaviors' of a consumer website, years 2012 and 2018-2022"),
    _v("002", "Sec. IV.A, text", "train_share", 0.9, "fraction", note="random 9:1 split"),
    _v("002", "Sec. IV.A, text", "test_share", 0.1, "fraction", note="random 9:1 split"),
    _v("002", "Sec. IV.A, text", "validation_share_of_train", 0.2, "fraction",
       note="20% of the training 90% are used for validation"),
    *_counts("002", "Sec. IV.B, text", {"batch_size": 96}),
    _v("002", "Sec. IV.B, text", "gpus", 8, "count", note="'eight graphic cards', 'GTX3090'"),
    _v("002", "Sec. IV.B, text", "gpu_memory", 24, "GB", note="'24 GPU memory', unit not stated"),
    # Table 1: accuracy, time ("Times") and "complexity" ("M" suffix, read as parameters)
    *_table("002", "Table 1", _ACC_TIME_COMPLEXITY, {
        "SVM": (14.6, 1.2, 0.2),
        "DNN": (44.3, 232, 44.8),
        "CNN": (46.2, 123, 42.3),
        "DenseNet": (78.9, 1048, 123.2),
        "DenseCNN": (81.2, 542, 87.9),
        "Graph": (64.2, 45, 74.2),
        "Attention": (52.3, 4654, 327.0),
        _GCT: (83.1, 109, 23.4),
    }, notes={
        "accuracy": _ACCURACY_NOTE,
        "inference_time": _TIME_NOTE,
        "complexity": "column 'complexity', values suffixed 'M', read as parameters",
        (_GCT, "accuracy"): _ACCURACY_NOTE + "; 'Ours'; also in the Abstract and Table 3 (N = 22)",
        (_GCT, "inference_time"): _TIME_NOTE + "; 'Ours'; also in the Abstract ('inference speed of only 109ms')",
    }),
    # Table 2: ablation
    _v("002", "Table 2", "accuracy", 0.446, "fraction", _GCT,
       note=_ACCURACY_NOTE + "; the text says attention has the greater impact, which no row isolates",
       variant="without Chebyshev convolution"),
    _v("002", "Table 2", "accuracy", 0.743, "fraction", _GCT, note=_ACCURACY_NOTE, variant="without graph"),
    # Table 3: number N of stacked GConv-Transform layers
    *(_v("002", "Table 3", "accuracy", round(percent / 100, 10), "fraction", _GCT, note=_ACCURACY_NOTE,
         n_layers=n) for n, percent in ((12, 74.6), (16, 79.3), (22, 83.1))),
)

# ----------------------------------------------------------------------------------------------------------------
# External references
# ----------------------------------------------------------------------------------------------------------------
_GOWALLA_PROVENANCE = "gowalla-lightgcn/PROVENANCE.md"
_RECALL_NDCG_PRECISION = (("recall", "fraction", 1.0), ("ndcg", "fraction", 1.0), ("precision", "fraction", 1.0))


_LIGHTGCN_GOWALLA: tuple[PaperValue, ...] = (
    *_counts("lightgcn-gowalla", "kuandeng/LightGCN README log, via " + _GOWALLA_PROVENANCE, {
        "users": 29_858, "items": 40_981, "interactions": 1_027_370, "train_interactions": 810_128,
        "test_interactions": 217_242,
    }),
    _v("lightgcn-gowalla", "kuandeng/LightGCN README log, via " + _GOWALLA_PROVENANCE, "density", 0.00084,
       "fraction", note="logged as 'sparsity'"),
    *_table("lightgcn-gowalla", "kuandeng/LightGCN README, via " + _GOWALLA_PROVENANCE, _RECALL_NDCG_PRECISION,
            {"LightGCN": (0.18236, 0.15539, 0.05607)}, 20, "official TensorFlow code, 'Best Iter' of the log",
            dataset="gowalla", n_layers=3),
    *(
        value
        for n_layers, cells in ((1, (0.1687, 0.1417, 0.05106)), (2, (0.1786, 0.1524, 0.05456)),
                                (3, (0.1824, 0.1547, 0.05589)), (4, (0.1825, 0.1537, 0.05576)))
        for value in _table("lightgcn-gowalla", "gusye1234/LightGCN-PyTorch README, via " + _GOWALLA_PROVENANCE,
                            _RECALL_NDCG_PRECISION, {"LightGCN": cells}, 20, "seed 2020, 1000 epochs",
                            dataset="gowalla", n_layers=n_layers)
    ),
    *_table("lightgcn-gowalla", "He et al. SIGIR 2020, via " + _GOWALLA_PROVENANCE, _RECALL_NDCG_PRECISION[:2],
            {"LightGCN": (0.1830, 0.1554), "NGCF": (0.1570, 0.1327)}, 20,
            "quoted from memory in the provenance file (as 'Table 3'), not checked against the paper",
            dataset="gowalla"),
)

_MMSA_SOURCE = "thuiar/MMSA results/result-stat.md, Regression"
_MMSA_COLUMNS = (
    ("acc2_has0", "fraction", 0.01),
    ("f1_has0", "fraction", 0.01),
    ("acc2_non0", "fraction", 0.01),
    ("f1_non0", "fraction", 0.01),
    ("acc5", "fraction", 0.01),
    ("acc7", "fraction", 0.01),
    ("mae", "label", 0.01),
    ("corr", "correlation", 0.01),
)
_MMSA_NOTE = "MAE and Corr printed x100; has0: negative vs non-negative, non0: negative vs positive without zeros"


def _mmsa(dataset: str, rows: Sequence[tuple[str, str, Sequence[float]]]) -> tuple[PaperValue, ...]:
    """One MMSA regression table: rows of (model, data setting, the eight printed cells)."""
    return tuple(
        value
        for model, alignment, cells in rows
        for value in _table("mmsa", f"{_MMSA_SOURCE}, {dataset.removeprefix('CMU-')}", _MMSA_COLUMNS,
                            {model: cells}, notes=_MMSA_NOTE, dataset=dataset, alignment=alignment)
    )


_MMSA: tuple[PaperValue, ...] = (
    *_mmsa(_MOSI, (
        ("EF-LSTM", "Aligned", (77.38, 77.35, 78.48, 78.51, 40.15, 35.39, 94.88, 66.9)),
        ("LF-DNN", "Unaligned", (77.52, 77.46, 78.63, 78.63, 38.05, 34.52, 95.48, 65.84)),
        ("TFN", "Unaligned", (77.99, 77.95, 79.08, 79.11, 39.39, 34.46, 94.73, 67.33)),
        ("LMF", "Unaligned", (77.9, 77.8, 79.18, 79.15, 38.13, 33.82, 95.04, 65.1)),
        ("MFN", "Aligned", (77.67, 77.63, 78.87, 78.90, 40.47, 35.83, 92.68, 67.02)),
        ("Graph-MFN", "Aligned", (77.14, 77.08, 78.35, 78.35, 38.63, 34.64, 95.57, 64.86)),
        ("MulT", "Unaligned", (79.71, 79.63, 80.98, 80.95, 42.68, 36.91, 87.99, 70.22)),
        ("MISA", "Unaligned", (81.84, 81.82, 83.54, 83.58, 47.08, 41.37, 77.65, 77.81)),
        ("Self-MM", "Unaligned", (83.44, 83.36, 85.46, 85.43, 53.47, 46.67, 70.80, 79.63)),
        ("TETFN", "Aligned", (83.24, 83.13, 85.37, 85.33, 53.64, 45.77, 70.84, 79.84)),
        ("CENet", "Unaligned", (83.53, 83.49, 85.21, 85.22, 50.87, 44.90, 72.54, 79.53)),
    )),
    *_mmsa(_MOSEI, (
        ("EF-LSTM", "Aligned", (77.84, 78.34, 80.79, 80.67, 51.16, 50.01, 60.05, 68.25)),
        ("LF-DNN", "Unaligned", (80.60, 80.85, 82.74, 82.52, 51.97, 50.83, 58.02, 70.87)),
        ("TFN", "Unaligned", (78.50, 78.96, 81.89, 81.74, 53.10, 51.60, 57.26, 71.41)),
        ("LMF", "Unaligned", (80.54, 80.94, 83.48, 83.36, 52.99, 51.59, 57.57, 71.69)),
        ("MFN", "Aligned", (78.94, 79.55, 82.86, 82.85, 52.76, 51.34, 57.33, 71.82)),
        ("Graph-MFN", "Aligned", (81.28, 81.48, 83.48, 83.23, 52.69, 51.37, 57.45, 71.33)),
        ("MulT", "Unaligned", (81.15, 81.56, 84.63, 84.52, 54.18, 52.84, 55.93, 73.31)),
        ("MISA", "Unaligned", (80.67, 81.12, 84.67, 84.66, 53.63, 52.05, 55.75, 75.15)),
        ("Self-MM", "Unaligned", (83.76, 83.82, 85.15, 84.90, 55.53, 53.87, 53.09, 76.49)),
        ("TETFN", "Aligned", (84.12, 84.35, 86.21, 86.11, 55.78, 53.90, 53.73, 76.96)),
        ("CENet", "Unaligned", (83.52, 83.85, 86.38, 86.32, 56.15, 54.26, 52.59, 77.75)),
    )),
    *_counts("mmsa", "cmu-mosi/PROVENANCE.md", {"train_segments": 1_284, "valid_segments": 229,
                                                  "test_segments": 686},
             note="MMSA's CMU-MOSI split"),
)

_SELF_MM_SOURCE = "benchmark aggregator listing, via cmu-mosi/PROVENANCE.md"
_SELF_MM_NOTE = "not checked against the Self-MM paper's table"
_SELF_MM: tuple[PaperValue, ...] = (
    _v("self-mm", _SELF_MM_SOURCE, "f1", 0.8595, "fraction", "Self-MM", note=_SELF_MM_NOTE, dataset=_MOSI),
    _v("self-mm", _SELF_MM_SOURCE, "mae", 0.712, "label", "Self-MM", note=_SELF_MM_NOTE, dataset=_MOSI),
    _v("self-mm", _SELF_MM_SOURCE, "f1", 0.852, "fraction", "Self-MM", note=_SELF_MM_NOTE, dataset=_MOSEI),
    _v("self-mm", _SELF_MM_SOURCE, "mae", 0.53, "label", "Self-MM",
       note=_SELF_MM_NOTE + "; listed as both 0.529 and 0.53", dataset=_MOSEI),
)

_MICROLENS_SOURCE = "westlake-repl/MicroLens Results/baseline_evaluation.png, via microlens-50k/PROVENANCE.md"
_HR_NDCG = (("hr", "fraction", 1.0), ("ndcg", "fraction", 1.0))
_MICROLENS_ROWS = {
    "DSSM": ((0.0394, 0.0193), (0.0654, 0.0258)),
    "LightGCN": ((0.0372, 0.0177), (0.0618, 0.0239)),
    "DeepFM": ((0.0350, 0.0170), (0.0571, 0.0225)),
    "SASRec": ((0.0909, 0.0517), (0.1278, 0.0610)),
    "SASRec_V": ((0.0948, 0.0515), (0.1364, 0.0619)),
}
_MICROLENS: tuple[PaperValue, ...] = (
    *(
        value
        for k, column in ((10, 0), (20, 1))
        for value in _table("microlens", _MICROLENS_SOURCE, _HR_NDCG,
                            {model: cells[column] for model, cells in _MICROLENS_ROWS.items()}, k,
                            {"SASRec_V": "end-to-end video encoder"}, dataset="MicroLens-100K")
    ),
    *(
        _v("microlens", "microlens-50k/PROVENANCE.md (official MicroLens-50K statistics)", metric, count, "count",
           dataset="MicroLens-50K")
        for metric, count in (("users", 50_000), ("items", 19_220), ("interactions", 359_708))
    ),
)

_RECBOLE_SOURCE = "RUCAIBox/RecBole README, via ml-100k-recbole/PROVENANCE.md"
_RECBOLE_NOTE = "default config: per-user random 8:1:1 split, full ranking"
_RECBOLE_ML100K: tuple[PaperValue, ...] = (
    *(
        _v("recbole-ml100k", _RECBOLE_SOURCE, metric, value, "fraction", "BPRMF", 10, _RECBOLE_NOTE,
           dataset="ml-100k", split="test")
        for metric, value in (("recall", 0.2368), ("mrr", 0.4519), ("ndcg", 0.2768), ("hr", 0.7614),
                              ("precision", 0.1901))
    ),
    *(
        _v("recbole-ml100k", _RECBOLE_SOURCE, metric, value, "fraction", "BPRMF", 10, _RECBOLE_NOTE,
           dataset="ml-100k", split="valid")
        for metric, value in (("recall", 0.2169), ("ndcg", 0.2350))
    ),
)

VALUES: tuple[PaperValue, ...] = (
    *_PAPER_000,
    *_PAPER_001,
    *_PAPER_002,
    *_LIGHTGCN_GOWALLA,
    *_MMSA,
    *_SELF_MM,
    *_MICROLENS,
    *_RECBOLE_ML100K,
)


# ----------------------------------------------------------------------------------------------------------------
# Queries
# ----------------------------------------------------------------------------------------------------------------
def _check_known(name: str, wanted: object, known: set) -> None:
    """Raise :class:`PaperQueryError` when ``wanted`` names nothing the registry holds."""
    if wanted is not None and wanted not in known:
        close = difflib.get_close_matches(str(wanted), [str(item) for item in known], n=3)
        hint = f"; did you mean {close}?" if close else f"; known: {sorted(map(str, known))}"
        raise PaperQueryError(f"no recorded value has {name}={wanted!r}{hint}")


def _describe(query: Mapping[str, object]) -> str:
    """``name=value`` pairs of the criteria that are set, for error messages."""
    return ", ".join(f"{name}={value!r}" for name, value in query.items() if value is not None) or "(everything)"


def lookup(
    paper: str | None = None,
    source: str | None = None,
    metric: str | None = None,
    model: str | None = None,
    k: int | None = None,
    **setting: SettingValue,
) -> list[PaperValue]:
    """All values matching every given criterion, in registry order; ``None`` matches anything.

    A keyword in ``setting`` matches values whose setting holds that key with an equal value. A criterion that no
    recorded value has (a misspelt metric, an unknown setting key) raises :class:`PaperQueryError`; a valid
    combination that matches nothing returns an empty list.
    """
    _check_known("paper", paper, set(PAPERS))
    for name, wanted in (("source", source), ("metric", metric), ("model", model), ("k", k)):
        _check_known(name, wanted, {getattr(value, name) for value in VALUES})
    setting_keys = {key for value in VALUES for key in value.setting}
    for key in setting:
        _check_known("setting key", key, setting_keys)
    wanted_fields = {"paper": paper, "source": source, "metric": metric, "model": model, "k": k}
    return [
        value
        for value in VALUES
        if all(want is None or getattr(value, name) == want for name, want in wanted_fields.items())
        and all(key in value.setting and value.setting[key] == want for key, want in setting.items())
    ]


def one(
    paper: str | None = None,
    source: str | None = None,
    metric: str | None = None,
    model: str | None = None,
    k: int | None = None,
    **setting: SettingValue,
) -> PaperValue:
    """The single value matching the query of :func:`lookup`; :class:`PaperQueryError` if none or several match."""
    matches = lookup(paper, source, metric, model, k, **setting)
    query = _describe({"paper": paper, "source": source, "metric": metric, "model": model, "k": k, **setting})
    if not matches:
        raise PaperQueryError(f"no recorded value matches {query}")
    if len(matches) > 1:
        listed = "\n  ".join(_describe(dict(zip(("paper", "source", "metric", "model", "k"), m.key[:5]),
                                            **m.setting)) for m in matches[:10])
        raise PaperQueryError(f"{len(matches)} recorded values match {query}; narrow the query, e.g. by source "
                              f"or setting:\n  {listed}")
    return matches[0]


def as_frame(
    paper: str | None = None,
    source: str | None = None,
    metric: str | None = None,
    model: str | None = None,
    k: int | None = None,
    **setting: SettingValue,
) -> pd.DataFrame:
    """The values matching the query of :func:`lookup` as one row each.

    Columns: ``paper_id``, ``source``, ``model``, ``metric``, ``k`` (nullable Int64), one column per setting key
    present in the matches (missing entries are NA), ``unit``, ``paper`` (the reported value) and ``note``.
    """
    matches = lookup(paper, source, metric, model, k, **setting)
    setting_columns = sorted({key for value in matches for key in value.setting})
    records = [
        {"paper_id": v.paper, "source": v.source, "model": v.model, "metric": v.metric, "k": v.k,
         **v.setting, "unit": v.unit, "paper": v.value, "note": v.note}
        for v in matches
    ]
    columns = [*_FRAME_COLUMNS[:5], *setting_columns, *_FRAME_COLUMNS[5:]]
    frame = pd.DataFrame.from_records(records, columns=columns).astype({"k": "Int64", "paper": "float64"})
    frame[setting_columns] = frame[setting_columns].convert_dtypes()
    return frame


def value(
    paper: str | None = None,
    source: str | None = None,
    metric: str | None = None,
    model: str | None = None,
    k: int | None = None,
    source_prefix: str | None = None,
    **setting: SettingValue,
) -> float:
    """The one paper value matching the query of :func:`lookup` (with ``source_prefix``: among the sources that
    start with it), or NaN where the paper reports none. Several matches raise :class:`PaperQueryError`: a table
    never shows a value picked at random."""
    matches = [v for v in lookup(paper, source, metric, model, k, **setting)
               if source_prefix is None or v.source.startswith(source_prefix)]
    if len(matches) > 1:
        query = _describe({"paper": paper, "source": source or source_prefix, "metric": metric, "model": model,
                           "k": k, **setting})
        raise PaperQueryError(f"{len(matches)} recorded values match {query}; narrow the query")
    return matches[0].value if matches else float("nan")

