"""The registry of reported numbers: well-formed values, unique keys, queries, and every value found in its text."""

from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from xrec_lib.papers import (
    DERIVED,
    PAPERS,
    UNITS,
    VALUES,
    PaperQueryError,
    PaperValue,
    PaperValueError,
    as_frame,
    lookup,
    one,
)

SEEDS_DIR = Path(os.environ.get("XREC_SEEDS_DIR", "/work/shared/seeds"))
DATA_DIR = Path(os.environ.get("XREC_DATA_DIR", "/work/shared/data"))
SEED_PAPERS = ("000", "001", "002")
EXTERNAL_FILES = {
    "lightgcn-gowalla": ("gowalla-lightgcn/PROVENANCE.md",),
    "mmsa": ("cmu-mosi/MMSA_result-stat.md", "cmu-mosi/PROVENANCE.md"),
    "self-mm": ("cmu-mosi/PROVENANCE.md",),
    "microlens": ("microlens-50k/PROVENANCE.md",),
    "recbole-ml100k": ("ml-100k-recbole/PROVENANCE.md",),
}
# Values whose text states them in words or as a ratio; the phrase given must appear in the text instead.
STATED_OTHERWISE = {
    ("000", "Sec. Results, text", "train_share"): "split 6:4",
    ("000", "Sec. Results, text", "test_share"): "split 6:4",
    ("001", "Sec. IV.A, text", "runs_averaged"): "the five average experimental results",
    ("002", "Sec. IV.B, text", "gpus"): "eight graphic cards",
}


def _seed_text(paper: str) -> str:
    matches = sorted(SEEDS_DIR.glob(f"{paper}_*.txt"))
    if not matches:
        pytest.skip(f"seed text of paper {paper} not under {SEEDS_DIR} (set XREC_SEEDS_DIR)")
    return matches[0].read_text(encoding="utf-8")


def _external_text(paper: str) -> str:
    paths = [DATA_DIR / name for name in EXTERNAL_FILES[paper]]
    if not all(path.is_file() for path in paths):
        pytest.skip(f"reference files of {paper} not under {DATA_DIR} (set XREC_DATA_DIR)")
    return "\n".join(path.read_text(encoding="utf-8") for path in paths)


def _renderings(value: float) -> set[str]:
    """Ways a source may print ``value``: as is, as a percentage, in milliseconds or in millions, with or
    without thousands separators, at exactly the precision the value carries."""
    texts = set()
    for scale in (1, 100, 1000, 1e-6):
        scaled = value * scale
        for decimals in range(6):
            text = f"{scaled:.{decimals}f}"
            if abs(float(text) - scaled) <= 1e-9 * max(1.0, abs(scaled)):
                texts.add(text)
                if decimals == 0:
                    texts.add(f"{round(scaled):,}")
    return texts


def _printed_in(value: float, text: str) -> bool:
    """Whether ``value`` appears as a whole number of ``text`` (not as part of "12.6" or "747,186")."""
    return any(re.search(rf"(?<![\d.,]){re.escape(r)}(?![.,]?\d)", text) for r in _renderings(value))


def _short_key(value: PaperValue) -> tuple[str, str, str]:
    return value.paper, value.source, value.metric


def test_every_value_is_well_formed() -> None:
    assert len(VALUES) > 400
    for value in VALUES:
        assert value.source.strip() and value.metric.strip(), value
        assert value.paper in PAPERS and value.unit in UNITS, value
        if value.unit == "fraction":
            assert 0.0 <= value.value <= 1.0, value
        if value.unit == "correlation":
            assert -1.0 <= value.value <= 1.0, value


def test_keys_are_unique() -> None:
    duplicated = [key for key, count in Counter(value.key for value in VALUES).items() if count > 1]
    assert duplicated == []


def test_every_paper_and_reference_has_values() -> None:
    counts = Counter(value.paper for value in VALUES)
    assert set(counts) == set(PAPERS)
    assert counts["000"] >= 70 and counts["001"] >= 100 and counts["002"] >= 30


@pytest.mark.parametrize("paper", SEED_PAPERS)
def test_every_value_of_a_paper_is_printed_in_its_text(paper: str) -> None:
    text = _seed_text(paper)
    missing = [
        value for value in lookup(paper=paper)
        if _short_key(value) not in STATED_OTHERWISE and not value.derived and not _printed_in(value.value, text)
    ]
    assert missing == []


def test_rgcn_fig8b_coverage_is_derived_from_the_stated_gap() -> None:
    rgcn = one(paper="000", source="Fig. 8(b)", metric="coverage", model="RGCN", k=20)
    siamese = one(paper="000", source="Fig. 8(b)", metric="coverage", model="Siamese GCN", k=20)
    gap = one(paper="000", source="Fig. 8(b)", metric="coverage_gain", model="Siamese GCN", k=20)
    assert rgcn.value == pytest.approx(0.172) == pytest.approx(siamese.value - gap.value)
    assert rgcn.derived and rgcn.note.startswith(DERIVED) and "1.6 percentage points" in rgcn.note
    assert not siamese.derived and not gap.derived
    assert [value for value in VALUES if value.derived] == [rgcn]


@pytest.mark.parametrize("paper", sorted(EXTERNAL_FILES))
def test_every_reference_value_is_printed_in_its_provenance(paper: str) -> None:
    text = _external_text(paper)
    missing = [value for value in lookup(paper=paper) if not _printed_in(value.value, text)]
    assert missing == []


def test_values_stated_otherwise_exist_and_their_phrases_are_in_the_text() -> None:
    for (paper, source, metric), phrase in STATED_OTHERWISE.items():
        assert len(lookup(paper=paper, source=source, metric=metric)) == 1
        assert phrase in _seed_text(paper)


def test_fraction_rendering_catches_a_mistyped_value() -> None:
    text = _seed_text("000")
    assert _printed_in(0.126, text)
    assert not _printed_in(0.162, text)
    assert not _printed_in(0.186, text)  # "18.6" inside "18.62%" does not count


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (dict(paper="000", source="Fig. 6(a)", metric="hr", model="Siamese GCN"), 0.126),
        (dict(paper="000", source="Fig. 10(b)", metric="accuracy", model="Gated"), 0.012),
        (dict(paper="000", source="Fig. 11(b)", metric="tpr", model="CNIM", fpr=0.2), 0.74),
        (dict(paper="000", metric="ndcg", k=20, variant="full"), 0.1862),
        (dict(paper="000", metric="users"), 52_516),
        (dict(paper="001", source="Table III", metric="acc2", model="Proposed"), 0.884),
        (dict(paper="001", source="Table IV", metric="corr", model="Self-MM"), 0.77),
        (dict(paper="001", metric="unimodal_label_vision", sample=4), 0.0001),
        (dict(paper="002", source="Table 1", metric="inference_time", model="GConv-Transform"), 0.109),
        (dict(paper="002", source="Table 1", metric="complexity", model="Attention"), 327_000_000),
        (dict(paper="002", metric="accuracy", n_layers=16), 0.793),
        (dict(paper="mmsa", metric="mae", model="Self-MM", dataset="CMU-MOSI"), 0.708),
        (dict(paper="lightgcn-gowalla", source="kuandeng/LightGCN README, via gowalla-lightgcn/PROVENANCE.md",
              metric="recall", k=20), 0.18236),
    ],
)
def test_spot_values(query: dict, expected: float) -> None:
    assert one(**query).value == pytest.approx(expected, rel=1e-12)


def test_dataset_statistics_are_consistent() -> None:
    split = {metric: one(paper="000", metric=metric).value
             for metric in ("interactions", "train_interactions", "test_interactions", "train_share")}
    assert split["train_interactions"] + split["test_interactions"] == split["interactions"]
    assert split["train_interactions"] / split["interactions"] == pytest.approx(split["train_share"], abs=1e-4)
    assert one(paper="002", metric="train_share").value + one(paper="002", metric="test_share").value == 1.0


def test_one_raises_when_the_query_is_ambiguous() -> None:
    with pytest.raises(PaperQueryError, match="2 recorded values match"):
        one(paper="001", metric="mae", model="Proposed", dataset="CMU-MOSI")  # Tables I and III disagree


def test_one_raises_when_nothing_matches() -> None:
    with pytest.raises(PaperQueryError, match="no recorded value matches"):
        one(paper="002", metric="hr")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (dict(paper="003"), "paper='003'"),
        (dict(metric="ndgc"), "did you mean"),
        (dict(model="SiameseGCN"), "did you mean"),
        (dict(scenarioo=1), "setting key='scenarioo'"),
    ],
)
def test_lookup_rejects_names_it_does_not_hold(query: dict, message: str) -> None:
    with pytest.raises(PaperQueryError, match=re.escape(message)):
        lookup(**query)


def test_lookup_filters_on_setting() -> None:
    scenario_2 = lookup(paper="000", metric="hr", scenario=2)
    assert {value.source for value in scenario_2} == {"Fig. 6(b)", "Fig. 10(b)"}
    assert all(value.setting["scenario"] == 2 for value in scenario_2)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (dict(value=12.6), "outside [0, 1]"),
        (dict(unit="percent"), "unknown unit"),
        (dict(paper="999"), "unknown paper id"),
        (dict(source=" "), "non-empty"),
        (dict(k=0), "positive int"),
        (dict(setting={"paper": "x"}), "clash"),
        (dict(setting={"scenario": [1]}), "str, int, float or bool"),
    ],
)
def test_paper_value_rejects_bad_input(changes: dict, message: str) -> None:
    fields = dict(paper="000", source="Fig. 6(a)", metric="hr", value=0.126, unit="fraction", setting={},
                  model="Siamese GCN", k=None)
    with pytest.raises(PaperValueError, match=re.escape(message)):
        PaperValue(**{**fields, **changes})


def test_paper_value_keeps_its_own_setting() -> None:
    setting = {"scenario": 1}
    value = PaperValue("000", "Fig. 6(a)", "hr", 0.126, "fraction", setting, "Siamese GCN", None)
    setting["scenario"] = 2
    assert value.setting == {"scenario": 1}


def test_as_frame_places_the_paper_column_beside_setting_columns() -> None:
    frame = as_frame(paper="002", source="Table 3")
    assert list(frame.columns) == ["paper_id", "source", "model", "metric", "k", "n_layers", "unit", "paper",
                                   "note"]
    assert frame["n_layers"].tolist() == [12, 16, 22]
    assert frame["paper"].tolist() == pytest.approx([0.746, 0.793, 0.831])
    assert frame["k"].isna().all() and str(frame["k"].dtype) == "Int64"


def test_as_frame_of_a_mixed_query_leaves_missing_settings_empty() -> None:
    frame = as_frame(paper="000", metric="hr")
    assert {"scenario", "use_case", "mean_user_interactions"} <= set(frame.columns)
    assert len(frame) == len(lookup(paper="000", metric="hr"))
    assert frame["scenario"].isna().sum() == len(frame) - len(lookup(paper="000", metric="hr", scenario=1)) - len(
        lookup(paper="000", metric="hr", scenario=2))
    assert isinstance(as_frame(paper="001", metric="hr"), pd.DataFrame) and as_frame(paper="001", metric="hr").empty
