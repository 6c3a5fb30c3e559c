import json
from html.parser import HTMLParser
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from xrec_lib import report, report_tables  # noqa: E402
from xrec_lib.errors import DataError  # noqa: E402
from xrec_lib.report_items import ITEMS, NOTEBOOKS, item_ids, items_of  # noqa: E402

OK, FAILED = "01_siamese_gcn", "04_gconv_transform"
VERDICTS = [
    {"claim": "Fig. 6(a): Siamese GCN beats RGCN on hr@20 (sparse)", "verdict": "replicated", "mean_diff": 0.012,
     "ci_low": 0.004, "ci_high": 0.021, "effect_dz": 2.5, "paper_gap": 0.019, "p_value": 0.003,
     "p_adjusted": 0.009, "family_size": 3, "test": "paired t-test (two-sided)", "n_pairs": 5, "unit": "seed",
     "collapsed": ["3"], "reason": None},
    {"claim": "Fig. 7(a): Siamese GCN beats GCN on ndcg@20", "verdict": "inconclusive", "mean_diff": -0.001,
     "p_value": 0.71, "p_adjusted": 0.71, "family_size": 3, "test": "paired t-test (two-sided)", "n_pairs": 5,
     "unit": "seed"},
    {"claim": "coverage beats GCN", "item": "Fig. 8", "verdict": "not comparable", "mean_diff": 0.0,
     "p_value": None, "test": None, "n_pairs": 1, "unit": "seed", "reason": "fewer than 2 pairs"},
    {"claim": "Siamese GCN trains faster than RGCN", "verdict": "replicated", "mean_diff": 3.0, "p_value": 0.01,
     "p_adjusted": 0.02, "family_size": 3, "test": "paired t-test (two-sided)", "n_pairs": 5, "unit": "seed"},
]


def _bundle(folder: Path, name: str, tables: dict, figures: list, verdicts: list, notes: list) -> None:
    (folder / name / "tables").mkdir(parents=True)
    (folder / name / "figures").mkdir()
    for table_name, table in tables.items():
        table.to_csv(folder / name / "tables" / f"{table_name}.csv")
        (folder / name / "tables" / f"{table_name}.md").write_text(table.to_markdown())
    for figure_name in figures:
        fig, ax = plt.subplots(figsize=(4, 2.5))
        ax.bar(["Siamese GCN", "RGCN"], [0.12, 0.10])
        ax.set_title(f"{figure_name} (synthetic)")
        for suffix in ("png", "svg"):
            fig.savefig(folder / name / "figures" / f"{figure_name}.{suffix}", dpi=60)
        plt.close(fig)
    results = {"notebook": name, "seeds": [0, 1, 2, 3, 4], "metrics": {"verdicts": verdicts},
               "datasets": [{"name": "cross-border (synthetic)", "synthetic": True, "checksum": None},
                            {"name": "amazon elec->phone", "synthetic": False, "checksum": None}],
               "notes": notes, "tables": sorted(tables), "figures": figures,
               "environment": {"python": "3.11.2"}, "wall_time_s": 41.5,
               "training": [{"model": "RGCN", "seed": seed, "epochs": epochs, "stopped_by": reason,
                             "converged": reason == "patience", "history": []}
                            for seed, (epochs, reason) in enumerate([(12, "patience"), (40, "cap"), (9, "patience")])]}
    (folder / name / "results.json").write_text(json.dumps(results))


def write_fake_reports(folder: Path) -> Path:
    """A reports folder after a run where 01_siamese_gcn succeeded and 04_gconv_transform failed."""
    fig6 = pd.DataFrame({"model": ["Siamese GCN", "RGCN"], "data": ["synthetic", "synthetic"],
                         "ours (hr)": [0.1234567, 0.1011121], "paper (hr)": [0.126, 0.101]}).set_index("model")
    curve = pd.DataFrame({"k": list(range(5, 45)), "ndcg": [0.01 * k for k in range(40)]})
    long = pd.DataFrame({"model": ["GCN", "Siamese GCN"] * 2, "metric": ["ndcg", "ndcg", "map", "map"],
                         "k": [20, 20, 20, 20], "ours": [0.0612345, 0.0801, 0.0301, 0.0452],
                         "ours_std": [0.004, 0.0051, 0.002, 0.003], "paper": [0.064, 0.078, None, 0.044],
                         "data": ["synthetic sparse"] * 4})  # written with pandas' 0..n index column
    _bundle(folder, OK, {"fig6_hr_synthetic": fig6, "fig7_ndcg_curve": curve, "fig7_ndcg_map_long": long,
                         "data_summary": fig6},
            ["fig6_hr_synthetic", "loss_curves"], VERDICTS, ["real data not present: make data"])
    # results left by an earlier successful run of the notebook that failed now
    _bundle(folder, FAILED, {"table1_synthetic": fig6}, [], VERDICTS[:1], [])
    for sub, name in (("executed", OK), ("failed", FAILED)):
        (folder / sub).mkdir(exist_ok=True)
        (folder / sub / f"{name}.ipynb").write_text("{}")
    runs = {OK: {"notebook": OK, "status": "ok", "wall_time_s": 52.3, "input_hash": "ab" * 32,
                 "executed": f"executed/{OK}.ipynb", "error": None},
            FAILED: {"notebook": FAILED, "status": "failed", "wall_time_s": 3.2, "input_hash": "cd" * 32,
                     "executed": f"failed/{FAILED}.ipynb", "error": "ValueError: boom"}}
    manifest = {"profile": "smoke", "git_revision": "0123abcd+dirty", "notebooks": runs,
                "environment": {"python": "3.11.2", "packages": {"torch": "2.13.0"}, "platform": "Linux",
                                "processor": "x86_64", "cpu_count": 2, "threads": 2, "cuda": None}}
    (folder / "run_manifest.json").write_text(json.dumps(manifest))
    return report.build_report(folder)


class _Page(HTMLParser):
    """Text under each element id, every src/href, and the cells of every table."""

    def __init__(self):
        super().__init__()
        self.section, self.text, self.links, self.tables, self.in_cell = "top", {}, [], [], False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.section = attrs["id"]
        self.links += [attrs[key] for key in ("src", "href") if key in attrs]
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self.tables[-1][-1].append("")
            self.in_cell = True

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.in_cell = False

    def handle_data(self, data):
        self.text[self.section] = self.text.get(self.section, "") + data
        if self.in_cell:
            self.tables[-1][-1][-1] += data


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reports")
    index = write_fake_reports(folder)
    page = _Page()
    page.feed(index.read_text())
    return folder, index, page


def test_every_registry_item_has_a_section(built):
    folder, _, page = built
    markdown = (folder / "index.md").read_text()
    for item in ITEMS:
        assert item.label in page.text[item.anchor]
        assert f'<a id="{item.anchor}"></a>' in markdown
    assert {i.paper for i in ITEMS} == {"000", "001", "002"}
    assert sum(i.kind == "reproduced" for i in ITEMS) == 20 and len(ITEMS) == 38


def test_item_status_follows_the_run(built):
    _, _, page = built
    for item in items_of(FAILED):
        assert "failed" in page.text[item.anchor] and "ValueError: boom" in page.text[item.anchor]
        assert "produced" not in page.text[item.anchor].replace("not produced", "")
    assert "Status: produced" in page.text["p000-fig6"]
    assert "Status: not produced" in page.text["p000-fig8"]  # no files, but its verdict is shown
    assert "not comparable" in page.text["p000-fig8"]
    assert "notebook 02_bilinear_attention: not run" in page.text["p000-fig9"]
    assert "real data not present: make data" in page.text[f"nb-{OK}"]
    assert "trains faster" in page.text[f"nb-{OK}"]  # a verdict naming no item stays visible


def test_verdict_counts_exclude_failed_notebooks(built):
    _, _, page = built
    header, counts = page.tables[0][:2]
    assert header == ["paper", "replicated", "contradicted", "inconclusive", "not comparable", "total"]
    assert counts == ["paper 000", "2", "0", "1", "1", "4"]
    assert page.tables[0][-1] == ["all", "2", "0", "1", "1", "4"]


def test_verdict_rows_show_interval_holm_and_flags(built):
    _, _, page = built
    fig6 = page.text["p000-fig6"]
    assert "0.0120 [0.0040, 0.0210]" in fig6 and "0.0090 (of 3)" in fig6 and "collapsed seed(s): 3" in fig6
    assert "fewer than 2 pairs" in page.text["p000-fig8"]


def test_item_tables_and_figures_are_shown(built):
    _, _, page = built
    fig6 = page.text["p000-fig6"]
    assert "0.1235" in fig6 and "0.1260" in fig6 and "synthetic" in fig6
    assert f"{OK}/figures/fig6_hr_synthetic.png" in page.links
    assert "fig7_ndcg_curve (40 rows)" in page.text["p000-fig7"]  # long tables fold away
    assert "loss_curves" in page.text[f"nb-{OK}"] and "data_summary" in page.text[f"nb-{OK}"]


def test_every_link_resolves_to_a_file_in_the_folder(built):
    folder, _, page = built
    files = [link for link in page.links if not link.startswith("#")]
    assert f"executed/{OK}.ipynb" in files and f"failed/{FAILED}.ipynb" in files
    for link in files:
        assert "://" not in link and not link.startswith("/"), link
        assert (folder / link).is_file(), link
    anchors = {link[1:] for link in page.links if link.startswith("#")}
    assert anchors <= set(page.text)


def test_markdown_twin_has_the_same_items_and_links(built):
    folder, _, _ = built
    markdown = (folder / "index.md").read_text()
    assert "| paper 000 | 2 | 0 | 1 | 1 | 4 |" in markdown
    assert f"![Fig. 6 (fig6_hr_synthetic)]({OK}/figures/fig6_hr_synthetic.png)" in markdown
    assert markdown.count("**failed**") >= len(items_of(FAILED))
    assert not list(folder.glob(".partial-*"))


def test_item_references_and_prefixes():
    assert item_ids("Fig. 6(a): A beats B; Table III") == {"fig6", "table3"}
    assert item_ids("Figure 10 and fig1") == {"fig10", "fig1"}
    assert item_ids("Table Very good") == set()
    fig1 = next(i for i in ITEMS if i.prefix == "fig6")
    assert fig1.owns("fig6_hr") and fig1.owns("fig6a") and not fig1.owns("fig60") and not fig1.owns("fig7")
    for notebook in NOTEBOOKS:
        mine = items_of(notebook)
        assert len({i.prefix for i in mine}) == len(mine)
        assert not any(a.owns(b.prefix) for a in mine for b in mine if a is not b)


def test_paper000_item_titles_follow_the_papers_panels():
    titles = {item.label: item.title for item in ITEMS if item.paper == "000"}
    assert "standard (a, Scenario 1)" in titles["Fig. 10"] and "sparse (b, Scenario 2)" in titles["Fig. 10"]
    assert "sufficient" not in titles["Fig. 10"]
    assert "neither the group nor K" in titles["Fig. 12"] and "NDCG@20 on high-value users" in titles["Fig. 12"]


def test_bad_input_gives_one_clear_error(tmp_path, capsys):
    assert report.main(["--reports-dir", str(tmp_path / "absent")]) == 2
    assert "make reproduce" in capsys.readouterr().err
    (tmp_path / OK).mkdir()
    (tmp_path / OK / "results.json").write_text(json.dumps({"metrics": {"verdicts": [{"claim": "x",
                                                                                      "verdict": "maybe"}]}}))
    with pytest.raises(DataError, match="verdict"):
        report.build_report(tmp_path)
    (tmp_path / OK / "results.json").write_text("{not json")
    with pytest.raises(DataError, match="not valid JSON"):
        report.build_report(tmp_path)


def test_empty_folder_gives_a_report_of_missing_items(tmp_path):
    index = report.build_report(tmp_path)
    page = _Page()
    page.feed(index.read_text())
    produced_by_us = [item for item in ITEMS if item.produced_by_us]
    for item in produced_by_us:
        assert "Status: not produced" in page.text[item.anchor] and "not run" in page.text[item.anchor]
    assert "0 produced" in page.text["coverage"]
    assert f"{len(produced_by_us) - 1} not produced in this run" in page.text["coverage"]  # Fig. 2 is ours


def test_long_tables_are_cut_and_linked_to_their_csv(tmp_path, monkeypatch):
    monkeypatch.setattr(report, "MAX_ROWS", 10)
    text = write_fake_reports(tmp_path).read_text()
    assert "fig7_ndcg_curve (first 10 of 40 rows)" in text
    assert f'href="{OK}/tables/fig7_ndcg_curve.csv"' in text


def test_our_additions_are_counted_apart_from_the_paper():
    from xrec_lib.report import _paper_of

    claim = {"claim": "Table III (MicroLens-50k, our addition): BERT + xDeepFM beats DNN", "verdict": "inconclusive"}
    assert _paper_of("03_multimodal_short_video", claim) == "001"
    assert _paper_of("03_multimodal_short_video", {**claim, "family": "our addition"}) == "001 (our addition)"


def test_each_notebook_shows_how_its_training_runs_ended(built):
    _, _, page = built
    text = page.text[f"nb-{OK}"]
    assert "training runs" in text and "stopped by the cap" in text
    header, *rows = next(t for t in page.tables if t and t[0][:2] == ["model", "runs"])
    assert rows[0] == ["RGCN", "3", "2", "1", "0", "2", "12"]


def test_the_tuning_budget_and_chosen_values_are_shown_per_notebook():
    from xrec_lib.report import NotebookState, _tuning_table

    tuning = {"budget": {"trials_per_model": 8, "sampler": "TPE", "profile": "paper", "minutes": 12.5,
                         "metric": "validation NDCG@20", "data": "fitting part of the first data seed"},
              "models": {"GCN": {"lr": 0.0123456, "n_layers": 2}, "MF": {"lr": 0.002}}}
    table = _tuning_table(NotebookState("01_x", {"status": "ok"}, {"tuning": tuning}))
    assert "8 TPE trials per model" in table.caption and "12.5 min" in table.caption
    assert table.rows == [["GCN", "lr = 0.0123, n_layers = 2"], ["MF", "lr = 0.0020"]]
    assert _tuning_table(NotebookState("01_x", {"status": "ok"}, {"tuning": None})) is None


def test_verdicts_naming_a_model_whose_run_hit_its_cap_while_improving_are_flagged():
    from xrec_lib.report import NotebookState, _verdict_table, unconverged_runs

    training = [{"data": "synthetic", "model": "GCN", "seed": 3, "converged": False, "stopped_by": "cap"},
                {"data": "synthetic", "model": "MF", "seed": 0, "converged": True, "stopped_by": "patience"},
                {"data": "synthetic", "model": "Siamese GCN", "seed": 0, "converged": True, "stopped_by": "cap"}]
    unconverged = unconverged_runs(NotebookState("01_x", {"status": "ok"}, {"training": training}))
    assert unconverged == {"GCN": ["data synthetic, seed 3"], "MF": [], "Siamese GCN": []}
    verdict = {"claim": "", "verdict": "replicated", "reason": None, "collapsed": []}
    rows = _verdict_table([{**verdict, "claim": "Siamese GCN beats GCN on ndcg@20"},
                           {**verdict, "claim": "Siamese GCN beats RGCN on ndcg@20"},
                           {**verdict, "claim": "Siamese GCN beats MF on ndcg@20"}], "c", unconverged).rows
    assert "not converged" in rows[0][-1] and "GCN (data synthetic, seed 3)" in rows[0][-1]
    assert rows[1][-1] == "–" and rows[2][-1] == "–"
    assert "data" not in _verdict_table([verdict], "c").header


def test_one_claim_tested_on_several_data_sets_shows_each_data_set():
    from xrec_lib.report import _verdict_table

    verdict = {"claim": "BLA beats BL on HR@20", "verdict": "inconclusive", "reason": None, "collapsed": []}
    table = _verdict_table([{**verdict, "data": "synthetic"}, {**verdict, "data": "XMarket uk->de"}], "c")
    assert table.header[:3] == ["claim", "data", "verdict"]
    assert [row[1] for row in table.rows] == ["synthetic", "XMarket uk->de"]


# ---- coverage, tables in the papers' shape, data per item, limitations ----

SEEDS = Path(__file__).resolve().parents[1] / ".." / "shared" / "seeds"
_ROMAN_NUMBERS = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8, "IX": 9, "X": 10}


def _headings(page):
    return [section for section in page.text if section in ("summary", "coverage", "limitations")
            or section.startswith("paper-")]


def test_coverage_table_follows_the_summary_and_lists_every_item(built):
    _, index, page = built
    assert _headings(page)[:5] == ["summary", "coverage", "limitations", "paper-000", "paper-001"]
    header, *rows = next(t for t in page.tables if t and t[0][:2] == ["paper", "item"])
    assert header == ["paper", "item", "what it shows", "status", "why / where"]
    assert len(rows) == len(ITEMS)
    status = {(row[0], row[1]): (row[3], row[4]) for row in rows}
    for label in ("Fig. 3", "Fig. 4", "Fig. 5", "Fig. 6", "Fig. 7", "Fig. 10", "Abstract"):
        assert status[("paper 001", label)][0] == "not reproducible" and status[("paper 001", label)][1]
    assert "98.76%" in next(row[2] for row in rows if row[:2] == ["paper 001", "Abstract"])
    table1 = status[("paper 000", "Table 1")]
    assert table1[0] == "not reproducible" and "hardware" in table1[1]
    assert status[("paper 000", "Fig. 6")] == ("produced", f"notebook {OK}")
    assert "failed" in status[("paper 002", "Table 1")][0] and "ValueError: boom" in status[("paper 002", "Table 1")][1]
    assert status[("paper 001", "Fig. 2")][0] == "not produced our addition"
    assert status[("paper 002", "Abstract")][0] == "restated in Table 1 (failed)"
    # our addition stays out of the counts of the papers' results
    papers = [item for item in ITEMS if item.kind != "our addition"]
    assert f"{len(papers)} results of the papers: 2 produced" in page.text["coverage"]
    assert "1 of our own addition besides" in page.text["coverage"]


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the papers' texts are not in shared/seeds")
def test_the_registry_lists_every_figure_and_table_of_the_papers():
    import re

    for path in sorted(SEEDS.glob("00[0-2]_*.txt")):
        paper, text = path.name[:3], path.read_text()
        named = {f"fig{n}" for n in re.findall(r"\bFig(?:ure)?\.?\s*(\d+)", text)}
        named |= {f"table{n if n.isdigit() else _ROMAN_NUMBERS[n]}"
                  for n in re.findall(r"\bTABLE\s+(\d+|[IVX]+)\b", text, flags=re.IGNORECASE)}
        registered = {item.prefix for item in ITEMS if item.paper == paper}
        assert named <= registered, (paper, sorted(named - registered))
        assert "abstract" in registered
    for item in ITEMS:
        assert item.produced_by_us or item.reason, item


def test_registry_kinds_are_checked():
    from xrec_lib.report_items import ReportItem

    with pytest.raises(ValueError, match="needs a reason"):
        ReportItem("000", "Fig. 1", "a diagram", "", "fig1", kind="not reproducible")
    with pytest.raises(ValueError, match="notebook"):
        ReportItem("000", "Fig. 1", "a diagram", "01_siamese_gcn", "fig1", kind="not reproducible", reason="x")
    with pytest.raises(ValueError, match="kind"):
        ReportItem("000", "Fig. 1", "a diagram", "01_siamese_gcn", "fig1", kind="maybe")


def test_verdicts_on_an_item_of_our_own_are_counted_apart():
    from xrec_lib.report import _paper_of

    claim = {"claim": "Fig. 2: BERT + xDeepFM beats DNN on hr@10", "verdict": "inconclusive"}
    assert _paper_of("03_multimodal_short_video", claim) == "001 (our addition)"
    assert _paper_of("03_multimodal_short_video", {"claim": "Table III: x", "verdict": "inconclusive"}) == "001"


def test_a_long_table_becomes_one_row_per_model_and_one_column_per_metric():
    header = ["", "model", "metric", "k", "ours", "ours_std", "paper", "data"]
    rows = [["0", "GCN", "ndcg", "20", "0.0612345", "0.004", "0.064", "syn"],
            ["1", "Siamese GCN", "ndcg", "20", "0.0801", "0.0051", "0.078", "syn"],
            ["2", "GCN", "map", "20", "0.0301", "0.002", "", "syn"],
            ["3", "Siamese GCN", "map", "20", "0.0452", "0.003", "0.044", "syn"],
            ["4", "Siamese GCN", "coverage", "", "0.3", "nan", "", "syn"]]
    wide, cells, reshaped = report_tables.shaped_table(header, rows)
    assert reshaped and wide == ["model", "data", "ndcg@20", "map@20", "coverage"]
    assert cells == [["GCN", "syn", "0.0612 ± 0.0040 (paper 0.0640)", "0.0301 ± 0.0020", "–"],
                     ["Siamese GCN", "syn", "0.0801 ± 0.0051 (paper 0.0780)", "0.0452 ± 0.0030 (paper 0.0440)",
                      "0.3000 ± –"]]
    _, single, _ = report_tables.shaped_table(header, rows, single_seed=True)
    assert single[0][2] == "0.0612 ± – (paper 0.0640)"  # one seed: no spread, not 0.0000
    # not a long table: only the unnamed 0..n index goes, and single-seed spreads become dashes
    assert report_tables.long_to_wide(["model", "hr"], [["GCN", "0.1"]]) is None
    plain = report_tables.shaped_table(["", "model", "hr@20"], [["0", "GCN", "0.5437 ± 0.0000"], ["1", "MF", "nan ± 0.0"]],
                                single_seed=True)
    assert plain == (["model", "hr@20"], [["GCN", "0.5437 ± –"], ["MF", "–"]], False)
    named_index = report_tables.shaped_table(["", "hr"], [["sparse", "0.1"]])
    assert named_index[0] == ["", "hr"]  # a first column of labels is kept


def test_a_two_level_header_table_is_flattened():
    rows = [["metric", "", "mae", "mae", "mae", "f1", "f1", "f1"],
            ["", "", "paper", "mean", "std", "paper", "mean", "std"],
            ["model", "data", "", "", "", "", "", ""],
            ["MFN", "paper (CMU-MOSI)", "0.95", "", "", "0.781", "", ""],
            ["Proposed (ours)", "synthetic MOSI", "", "1.16647", "0.0123", "", "0.5616", "0.0"]]
    assert report_tables.shaped_table(rows[0], rows[1:]) == (
        ["model", "data", "mae", "f1"],
        [["MFN", "paper (CMU-MOSI)", "paper 0.9500", "paper 0.7810"],
         ["Proposed (ours)", "synthetic MOSI", "1.1665 ± 0.0123", "0.5616 ± 0.0000"]], True)


def test_long_tables_are_shown_wide_and_linked_to_their_long_csv(built):
    folder, _, page = built
    header, *rows = next(t for t in page.tables if t and t[0][-2:] == ["ndcg@20", "map@20"])
    assert header == ["model", "data", "ndcg@20", "map@20"]  # no unnamed index column
    assert rows == [["GCN", "synthetic sparse", "0.0612 ± 0.0040 (paper 0.0640)", "0.0301 ± 0.0020"],
                    ["Siamese GCN", "synthetic sparse", "0.0801 ± 0.0051 (paper 0.0780)",
                     "0.0452 ± 0.0030 (paper 0.0440)"]]
    assert f"{OK}/tables/fig7_ndcg_map_long.csv" in page.links
    assert len((folder / OK / "tables" / "fig7_ndcg_map_long.csv").read_text().splitlines()) == 5  # CSV stays long


def test_data_line_names_only_the_data_of_the_items_tables(built):
    from xrec_lib.report import NotebookState, Table, item_data

    _, _, page = built
    fig6 = page.text["p000-fig6"]
    assert "Data: synthetic" in fig6 and "amazon" not in fig6  # the notebook's other dataset is not listed
    assert "Data: synthetic sparse" in page.text["p000-fig7"]
    assert "amazon elec->phone" in page.text[f"nb-{OK}"]  # the notebook lists all its data
    state = NotebookState("02_x", {"status": "ok"}, {"datasets": [
        {"name": "synthetic-000 (paper preset)", "synthetic": True}, {"name": "amazon/elec->phone", "synthetic": False},
        {"name": "synthetic MOSI-shaped", "synthetic": True}, {"name": "cmu-mosi", "synthetic": False}]})
    no_column = Table(["model", "hr"], [["BLA", "0.1"]], "fig9_amazon_elec", link="02_x/tables/fig9_amazon_elec.csv")
    assert item_data(state, [no_column], ["fig9_amazon_elec"]) == "amazon/elec->phone (real)"
    assert item_data(state, [], ["fig9_synthetic"]) == "synthetic-000 (paper preset)"
    assert item_data(state, [], ["table3_cmu_mosi_text_only"]) == "cmu-mosi (real)"
    assert item_data(state, [], ["table1_synthetic_mosi"]) == "synthetic MOSI-shaped"
    with_column = Table(["model", "data"], [["A", "paper (CMU-MOSI)"], ["B", "mine"]], "t", link="02_x/tables/t.csv")
    assert item_data(state, [with_column], ["t", "fig9_synthetic"]) == "mine, synthetic-000 (paper preset)"
    synthetic_column = Table(["model", "data"], [["A", "synthetic sparse"]], "t", link="02_x/tables/t.csv")
    # a figure over the same data as the tables' column adds nothing
    assert item_data(state, [synthetic_column], ["t", "fig9_synthetic"]) == "synthetic sparse"


def test_limitations_say_what_could_not_be_tested_and_why(built):
    _, _, page = built
    text = page.text["limitations"]
    assert "cannot be reproduced" in text and "001 Fig. 3" in text and "private" in text
    assert "000 Table 1" in text and "hardware" in text
    assert "002 Table 1" in text and "ValueError: boom" in text  # not produced in this run
    header, *rows = next(t for t in page.tables if t and t[0] == ["paper", "not comparable", "reasons (claims)"])
    assert rows == [["paper 000", "1", "fewer than 2 pairs (1)"]]
    diagrams = next(t for t in page.tables if t and t[0] == ["items", "why not reproducible"])
    assert any("000 Fig. 1" in row[0] and "001 Fig. 1" in row[0] for row in diagrams[1:])


def test_manifest_rows_show_each_notebooks_revision_and_cpu_time():
    from xrec_lib.report import NotebookState, _cpu_time, _revision

    state = NotebookState("01_x", {"status": "ok"}, {"cpu_time_s": 1830.0,
                                                      "environment": {"git_revision": "e3b0192270638dd9ff12+dirty"}})
    assert (_revision(state), _cpu_time(state)) == ("e3b019227063+dirty", "30.5 min")
    assert _cpu_time(NotebookState("01_x", {"status": "ok"}, {"environment": {}})) == "–"
