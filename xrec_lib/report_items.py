"""The figures and tables of the three papers that the report follows, and the notebook that reproduces each.

A notebook names every table and figure it stores in its results bundle after the paper item it reproduces:
the name starts with the item's ``prefix`` (``fig6``, ``table2``; Roman table numbers are written in Arabic
digits, so paper 001's Table III is ``table3``), followed by anything that does not start with a digit
(``fig6_hr_synthetic``, ``fig6a``). A verdict belongs to an item when its optional ``"item"`` key names the item,
or else when its claim mentions the item (``"Fig. 6(a): Siamese GCN beats RGCN on HR"``, ``"Table III: ..."``).

The registry lists every figure, table and headline number of the three papers, so that the report's coverage table
accounts for each of them. An item's ``kind`` says what the study does with it:

* ``"reproduced"``: a notebook reproduces it (``notebook`` and ``prefix`` say where);
* ``"our addition"``: a notebook produces it, but the paper reports no result for it (e.g. 001's Fig. 2, an
  architecture drawing that the study benchmarks); its verdicts are counted apart from the paper's;
* ``"not reproducible"``: no notebook can reproduce it; ``reason`` says why (private data, a hardware table, a
  figure that prints no numbers, a number whose dataset is not stated);
* ``"restated"``: headline numbers (an abstract) that repeat numbers of other items, named by ``see``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: The study's notebooks, in run order, with what each covers.
NOTEBOOKS: dict[str, str] = {
    "00_data_prep": "datasets: synthetic generators and real public data",
    "01_siamese_gcn": "paper 000, entity representation: Siamese GCN against GCN, GraphSAGE, RGCN",
    "02_bilinear_attention": "paper 000, interaction layer (BLA), ablation and business scenarios",
    "03_multimodal_short_video": "paper 001, multimodal fusion transformer and BERT + xDeepFM recommender",
    "04_gconv_transform": "paper 002, GConv-Transform against its baselines",
    "05_ablations": "ablations of the three papers side by side",
    "06_your_data": "on demand: paper 000's recommender (Siamese GCN + BLA) on your own cross-domain or cross-market data",
}

#: What the study does with an item (see the module docstring).
KINDS = ("reproduced", "our addition", "not reproducible", "restated")

_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8, "IX": 9, "X": 10}
_NUMBER = r"(\d+(?!\d)|[IVX]+(?![A-Za-z]))"
_REFERENCE = re.compile(rf"\b(?i:(fig)(?:ure|s)?)\.?\s*{_NUMBER}|\b(?i:(table))\s*{_NUMBER}")


@dataclass(frozen=True)
class ReportItem:
    """One figure or table of a paper: where the paper shows it and where the study reproduces it."""

    paper: str  # "000", "001" or "002" (keys of xrec_lib.papers.PAPERS)
    label: str  # the paper's own name: "Fig. 6", "Table III"
    title: str  # one line: what the item shows
    notebook: str  # the notebook whose bundle holds the reproduction ("" when none reproduces it)
    prefix: str  # start of the names of its tables and figures in that bundle (an id when not reproduced)
    kind: str = "reproduced"  # one of KINDS
    reason: str = ""  # why it is not reproducible, or what a restatement repeats
    see: tuple[str, ...] = ()  # prefixes of the same paper's items whose numbers a restatement repeats

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"{self.label}: kind {self.kind!r} is not one of {KINDS}")
        if (self.kind in ("reproduced", "our addition")) != bool(self.notebook):
            raise ValueError(f"{self.label}: a {self.kind!r} item {'needs' if self.notebook == '' else 'has no'} "
                             "notebook")
        if self.kind in ("not reproducible", "restated") and not self.reason:
            raise ValueError(f"{self.label}: a {self.kind!r} item needs a reason")

    @property
    def produced_by_us(self) -> bool:
        """Whether a notebook produces the item (reproduced or our addition)."""
        return bool(self.notebook)

    @property
    def anchor(self) -> str:
        """HTML id of the item's section, unique over the three papers."""
        return f"p{self.paper}-{self.prefix}"

    def owns(self, name: str) -> bool:
        """Whether a bundle table or figure called ``name`` reproduces this item."""
        return re.match(re.escape(self.prefix) + r"(?!\d)", name) is not None


_DIAGRAM = "a diagram of the method; it reports no result"
_NO_NUMBERS = "the paper prints this figure without any number (only its caption; the text states no value)"

ITEMS: tuple[ReportItem, ...] = (
    # ---- paper 000 ----
    ReportItem("000", "Abstract", "Headline numbers: NDCG of the Siamese GCN above 7.8% at list length 30, BLA's "
               "MAP 12.7% at round 100, long-tail hit rate 46.5%", "", "abstract", kind="restated",
               reason="restates Fig. 7(a) (printed there at K = 20; the Abstract says K = 30 and 'more than 20% "
               "higher', which Fig. 7(a)'s 7.8% against RGCN's 6.9% does not bear out), Fig. 9(b) and Fig. 12(b)",
               see=("fig7", "fig9", "fig12")),
    ReportItem("000", "Fig. 1", "Cross-domain scenario: dense source domain, sparse cross-border target domain, "
               "sellers as bridge", "", "fig1", kind="not reproducible", reason=_DIAGRAM),
    ReportItem("000", "Fig. 2", "Heterogeneous graph of the business scenario", "", "fig2",
               kind="not reproducible", reason=_DIAGRAM),
    ReportItem("000", "Fig. 3", "Siamese GCN architecture", "", "fig3", kind="not reproducible", reason=_DIAGRAM),
    ReportItem("000", "Fig. 4", "Bilinear attention (BLA) module", "", "fig4", kind="not reproducible",
               reason=_DIAGRAM),
    ReportItem("000", "Fig. 5", "Overall framework: graph, Siamese GCN, BLA, MLP", "", "fig5",
               kind="not reproducible", reason=_DIAGRAM),
    ReportItem("000", "Table 1", "Experimental environment and key parameters", "", "table1",
               kind="not reproducible",
               reason="a hardware and configuration table, and its body is not in the paper's text; hardware "
               "cannot be reproduced (ours is in the run manifest)"),
    ReportItem("000", "Fig. 6", "HR and recall of Siamese GCN, GCN, GraphSAGE and RGCN in the sparse (a) and "
               "sufficient (b) scenarios", "01_siamese_gcn", "fig6"),
    ReportItem("000", "Fig. 7", "NDCG (a) and MAP (b) of the encoders against the list length K",
               "01_siamese_gcn", "fig7"),
    ReportItem("000", "Fig. 8", "Precision (a) and coverage (b) of the encoders against the list length K",
               "01_siamese_gcn", "fig8"),
    ReportItem("000", "Fig. 9", "NDCG (a) and MAP (b) of the interaction heads BL, CNIM, Gated and BLA over "
               "training epochs", "02_bilinear_attention", "fig9"),
    ReportItem("000", "Fig. 10", "HR and accuracy of the interaction heads in the standard (a, Scenario 1) and "
               "sparse (b, Scenario 2) scenarios", "02_bilinear_attention", "fig10"),
    ReportItem("000", "Fig. 11", "Recall (a) and ROC curves (b) of the interaction heads",
               "02_bilinear_attention", "fig11"),
    ReportItem("000", "Fig. 12", "NDCG (a; ours: NDCG@20 on high-value users, the paper names neither the group "
               "nor K) and long-tail HR (b) of the complete systems, Methods 1-4",
               "02_bilinear_attention", "fig12"),
    ReportItem("000", "Fig. 13", "Precision against K (a) and for high-value potential users (b), Methods 1-4",
               "02_bilinear_attention", "fig13"),
    ReportItem("000", "Fig. 14", "Cold-start HR (a), long-tail recommendation (b) and ROC/AUC (c), Methods 1-4",
               "02_bilinear_attention", "fig14"),
    ReportItem("000", "Table 2", "Ablation: heterogeneous graph, Siamese GCN and BLA added step by step",
               "02_bilinear_attention", "table2"),
    # ---- paper 001 ----
    ReportItem("001", "Abstract", "Headline numbers: accuracy 98.76% and F1 97.89%", "", "abstract",
               kind="not reproducible",
               reason="the dataset and task are not stated ('classic datasets in the field of multimodal "
               "analysis') and no table reports them: the paper's own best are 88.4% Acc-2 and F1 (Table III, "
               "CMU-MOSI) and 86.2% / 85.9% (Table IV, CMU-MOSEI)"),
    ReportItem("001", "Table I", "MAE and F1 on CMU-MOSI against MFN, RAVEN, MCTN, MulT, MISA and Self-MM",
               "03_multimodal_short_video", "table1"),
    ReportItem("001", "Table II", "MAE and F1 on CMU-MOSEI against the same baselines",
               "03_multimodal_short_video", "table2"),
    ReportItem("001", "Table III", "CMU-MOSI: MAE, correlation, Acc-7, Acc-2 and F1 of every model",
               "03_multimodal_short_video", "table3"),
    ReportItem("001", "Table IV", "CMU-MOSEI: MAE, correlation, Acc-7, Acc-2 and F1 of every model",
               "03_multimodal_short_video", "table4"),
    ReportItem("001", "Table V", "Unimodal labels generated by SLGM beside the multimodal label",
               "03_multimodal_short_video", "table5"),
    ReportItem("001", "Fig. 1", "Multimodal transformer with text as the main modality", "", "fig1",
               kind="not reproducible", reason=_DIAGRAM),
    ReportItem("001", "Fig. 2", "BERT + xDeepFM short-video recommender (the paper only draws its architecture; "
               "ours: ranking quality against baselines on MicroLens-50k)", "03_multimodal_short_video", "fig2",
               kind="our addition"),
    ReportItem("001", "Fig. 3", "Interactive dispersion results of implicit features", "", "fig3",
               kind="not reproducible",
               reason=_NO_NUMBERS + ", and its data (the platform's short-video interactions) are private"),
    ReportItem("001", "Fig. 4", "Results of the self-supervised label generation module (SLGM) in different "
               "modalities", "", "fig4", kind="not reproducible",
               reason=_NO_NUMBERS + "; the SLGM labels are compared in Table V"),
    ReportItem("001", "Fig. 5", "MISA and Self-MM in the representation learning stage", "", "fig5",
               kind="not reproducible",
               reason=_NO_NUMBERS + "; it shows internals of two baselines, not the proposed model"),
    ReportItem("001", "Fig. 6", "Performance differences between models (binary-classification curves on more "
               "than 4,000 test samples)", "", "fig6", kind="not reproducible",
               reason=_NO_NUMBERS + "; its sample (more than 4,000 test samples) exceeds the CMU-MOSI test split "
               "(686 segments), so the data behind it cannot be identified"),
    ReportItem("001", "Fig. 7", "Linear layer index results", "", "fig7", kind="not reproducible",
               reason=_NO_NUMBERS + "; the text does not say which index of which linear layer it plots"),
    ReportItem("001", "Fig. 8", "Ablation of the text-guided transformer (LGT) and soft mapping (SM) on CMU-MOSI",
               "03_multimodal_short_video", "fig8"),
    ReportItem("001", "Fig. 9", "Test metrics of the fusion model over training epochs",
               "03_multimodal_short_video", "fig9"),
    ReportItem("001", "Fig. 10", "Verification experiment of the self-supervised label generator", "", "fig10",
               kind="not reproducible", reason=_NO_NUMBERS + "; the SLGM labels are compared in Table V"),
    # ---- paper 002 ----
    ReportItem("002", "Abstract", "Headline numbers: 109 ms inference at 83.1% accuracy", "", "abstract",
               kind="restated", reason="restates GConv-Transform's row of Table 1", see=("table1",)),
    ReportItem("002", "Fig. 1", "Overview of the GConv-Transform pipeline", "", "fig1", kind="not reproducible",
               reason=_DIAGRAM),
    ReportItem("002", "Table 1", "Accuracy, inference time and parameters of GConv-Transform and its seven "
               "baselines", "04_gconv_transform", "table1"),
    ReportItem("002", "Table 2", "Ablation of the GConv-Transform components", "04_gconv_transform", "table2"),
    ReportItem("002", "Table 3", "Influence of the number N of GConv-Transform blocks", "04_gconv_transform",
               "table3"),
)


def item_ids(text: str) -> set[str]:
    """Item prefixes a text refers to: ``"Fig. 6(a): ..."`` -> ``{"fig6"}``, ``"Table III"`` -> ``{"table3"}``."""
    found = set()
    for match in _REFERENCE.finditer(text):
        kind = (match.group(1) or match.group(3)).lower()
        number = match.group(2) or match.group(4)
        if not number.isdigit() and number not in _ROMAN:
            continue
        found.add(f"{kind}{number if number.isdigit() else _ROMAN[number]}")
    return found


def items_of(notebook: str) -> list[ReportItem]:
    """The registry items that ``notebook`` reproduces, in registry order."""
    return [item for item in ITEMS if item.notebook and item.notebook == notebook]


def paper_items(paper: str | None = None) -> list[ReportItem]:
    """The items that are results of the papers (every kind but "our addition"), of one paper or of all."""
    return [item for item in ITEMS if item.kind != "our addition" and paper in (None, item.paper)]
