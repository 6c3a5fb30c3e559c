import json

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pytest

from xrec_lib.errors import DataError
from xrec_lib.studies.ablations import study as ablations
from xrec_lib.studies.ablations.figures import ablation_panels


def write_bundle(reports, notebook, metrics):
    folder = reports / notebook
    folder.mkdir(parents=True)
    (folder / "results.json").write_text(json.dumps({"metrics": metrics}))


def rows(study, effects, n_seeds=5, extra=None):
    """Per-seed rows: variant value = base + effect + small seed noise (deterministic)."""
    rng = np.random.default_rng(0)
    return [{study.row: name, "seed": seed, study.metric: 0.5 + effect + 0.001 * rng.standard_normal(), **(extra or {})}
            for name, effect in effects.items() for seed in range(n_seeds)]


@pytest.fixture
def reports(tmp_path):
    s000, s001, s002, s002n = ablations.STUDIES
    chain = [name for name, _, _ in ablations.TABLE2_000]
    write_bundle(tmp_path, s000.notebook, {"table2/synthetic": rows(s000, {
        chain[0]: 0.0, chain[1]: 0.05, chain[2]: 0.10, chain[3]: 0.15, chain[4]: 0.20})})  # BL beats BLA here
    full, *variants = ablations.ABLATIONS_001
    write_bundle(tmp_path, s001.notebook, {"fig8/synthetic-mosi": rows(s001, {full: -0.1, **{v: 0.0 for v in variants}})})
    write_bundle(tmp_path, s002.notebook, {
        "table1/synthetic": rows(s002, {ablations.GCT: 0.1, "DNN": 0.3}),
        "table2/synthetic": rows(s002, {v: 0.0 for v in ablations.ABLATIONS_002}),
        "table3/synthetic": rows(s002n, {1: 0.0, 2: 0.02, 4: 0.01})})
    return tmp_path


def test_verdicts_follow_the_paired_differences(reports):
    tables, verdicts, missing = ablations.run_all(reports)
    assert missing == []
    by_claim = verdicts["verdict"].to_dict()
    assert by_claim["Table 2: attention helps (BLA beats BL)"] == "contradicted"
    assert by_claim["Table 2: + BLA: Siamese GCN + BLA beats + Siamese GCN: Siamese GCN + dot product"] == "replicated"
    assert all(v == "replicated" for c, v in by_claim.items() if c.startswith("Fig. 8"))  # lower MAE is better
    assert by_claim["Table 3: n_layers=2 beats n_layers=1"] == "replicated"
    assert by_claim["Table 3: n_layers=4 beats n_layers=2"] == "contradicted"
    assert set(verdicts.loc[verdicts["paper"] == "002", "family_size"]) == {5}  # Holm over paper 002's claims
    assert set(verdicts["n_pairs"]) == {5}


def test_tables_hold_only_the_ablation_rows_with_paper_values(reports):
    tables, _, _ = ablations.run_all(reports)
    table = tables["table2_paper002"]
    assert "DNN" not in table.index and table.loc[ablations.GCT, "seeds"] == 5
    assert table.loc["without graph convolution", "paper accuracy"] == pytest.approx(0.743)
    assert np.isnan(table.loc["without attention", "paper accuracy"])
    figure = ablation_panels(tables, {})
    assert len(figure.axes) == len(tables)


def test_a_missing_bundle_is_reported_and_a_broken_one_named(tmp_path, reports):
    _, _, missing = ablations.run_all(tmp_path / "empty")
    assert len(missing) == len(ablations.STUDIES) and "run notebook" in missing[0]
    (reports / "02_bilinear_attention" / "results.json").write_text(json.dumps({"metrics": {}}))
    with pytest.raises(DataError, match="no metrics table2/synthetic"):
        ablations.load_rows(reports, ablations.STUDIES[0])


def test_sweep_table_shows_the_papers_depths_as_rows_of_their_own(reports):
    tables, _, _ = ablations.run_all(reports)
    table = tables["table3_paper002"]
    assert list(table.index) == [1, 2, 4, 12, 16, 22]
    assert table.loc[22, "paper accuracy"] == pytest.approx(0.831) and np.isnan(table.loc[22, "ours accuracy (mean)"])
    assert np.isnan(table.loc[2, "paper accuracy"]) and table.loc[12, "seeds"] == 0


def test_sweep_table_sets_the_papers_value_beside_our_run_at_the_same_depth(tmp_path):
    study = ablations.STUDIES[3]
    write_bundle(tmp_path, study.notebook, {"table3/synthetic": rows(study, {2: 0.0, 12: 0.01, 16: 0.02, 22: 0.03})})
    table = ablations.summary_table(ablations.load_rows(tmp_path, study), study)
    assert list(table.index) == [2, 12, 16, 22] and (table["seeds"] == 5).all()
    assert table["paper accuracy"].loc[[12, 16, 22]].tolist() == pytest.approx([0.746, 0.793, 0.831])
    assert np.isnan(table.loc[2, "paper accuracy"])
