"""Experiment runner and tables of notebook 02 (xrec_lib.experiments.seed000_interaction*) on tiny synthetic data."""

import matplotlib
import numpy as np
import pytest
import scipy.sparse as sp
import torch

from xrec_lib.experiments import seed000_interaction as lib
from xrec_lib.experiments import seed000_interaction_tables as tables
from xrec_lib.experiments import seed000_interaction_tasks as task_lib
from xrec_lib.plots import seed000_interaction as plots

matplotlib.use("Agg")
SETTINGS = lib.StudySettings(synthetic_scale=0.01, dim=8, encoder_epochs=1, encoder_batch_size=4096,
                             head_epochs=2, head_batch_size=512, n_negatives=1, hidden=16, n_candidates=50,
                             ks=(5, 15, 20), curve_users=200, end_to_end=True)


@pytest.fixture(scope="module")
def study():
    torch.set_num_threads(1)
    scenarios = {scenario: task_lib.TargetTask.from_dataset(task_lib.synthetic_dataset(0.01, generated, 0))
                 for scenario, generated in (("standard", "sufficient"), ("sparse", "sparse"))}
    records = lib.run_seed("synthetic", scenarios, SETTINGS, 0, (1, 2))
    return lib.collect_study("synthetic", [records], (0,), 0.0)


def test_every_figure_table_has_our_values_and_the_papers(study):
    fig9 = tables.figure_table(study, "Fig. 9")
    assert list(fig9.index) == list(lib.HEAD_COMPARISON)
    assert fig9.loc["BLA", "paper NDCG@20"] == pytest.approx(0.238)
    assert np.isnan(fig9.loc["CNIM", "paper NDCG@20"])  # the paper reports no CNIM value in Fig. 9
    table2 = tables.figure_table(study, "Table 2")
    assert lib.END_TO_END_ROW in table2.index and len(table2) == len(lib.ABLATION) + 1
    assert table2["paper NDCG@20"].notna().sum() == 2
    for figure in ("Fig. 10", "Fig. 11", "Fig. 12", "Fig. 13", "Fig. 14"):
        assert tables.figure_table(study, figure).filter(like="ours").map(lambda v: "±" in v).all().all()


def test_metrics_are_probabilities_and_shared_results_agree(study):
    values = study.metrics["value"].dropna()
    assert ((values >= 0) & (values <= 1)).all()
    m = study.metrics[(study.metrics["slice"] == "all") & (study.metrics["k"] == 20)]
    bla_head = m[(m["group"] == "heads") & (m["model"] == "BLA") & (m["scenario"] == "standard")]["value"].to_numpy()
    method_1 = m[(m["group"] == "methods") & (m["model"] == "Siamese GCN + BLA")]["value"].to_numpy()
    np.testing.assert_array_equal(bla_head, method_1)  # Method 1 is the BLA head of Fig. 9-11
    assert set(study.curves["epoch"]) == {1, 2}


def test_verdicts_cover_every_claim(study):
    verdicts = tables.claim_verdicts(study)
    assert len(verdicts) == len(tables.CLAIMS)
    assert set(verdicts["verdict"]) <= {"replicated", "not replicated", "not comparable"}
    assert (verdicts.loc[verdicts["unit"] == "user", "n_pairs"] > 1).all()
    assert set(verdicts["item"]) == {"fig9", "fig10", "fig11", "fig12", "fig13", "fig14", "table2"}
    records = tables.verdict_records(verdicts)
    assert records[0]["claim"].startswith("Fig. 9(a)") and records[0]["item"] == "fig9"
    assert {"claim", "verdict", "item", "data"} <= set(records[0])


def test_table2_per_seed_has_one_row_per_variant_and_seed(study):
    per_seed = tables.table2_per_seed(study).reset_index()  # as ResultsBundle.add_metrics stores it
    assert list(per_seed["model"]) == [variant for variant, _, _ in lib.ABLATION] + [lib.END_TO_END_ROW]
    assert (per_seed["seed"] == 0).all() and (per_seed["data"] == "synthetic").all()
    assert {"ndcg@20", "hr@5", "recall@15", "auc"} <= set(per_seed.columns)
    table2 = tables.figure_table(study, "Table 2")
    assert float(table2.iloc[0]["ours NDCG@20"].split(" ± ")[0]) == pytest.approx(per_seed["ndcg@20"].iloc[0],
                                                                                  abs=5e-5)


@pytest.mark.parametrize("plot", [plots.training_curves, plots.scenario_bars, plots.recall_and_roc,
                                  plots.business_scenarios, plots.precision_by_length, plots.robustness])
def test_figures_have_the_papers_panels(study, plot):
    figure = plot(study)
    assert len(figure.axes) in (2, 3)
    assert "(synthetic)" in figure._suptitle.get_text()
    assert all(ax.lines or ax.patches for ax in figure.axes)


def test_high_value_mask_takes_the_most_active_share():
    train = sp.csr_matrix(np.array([[1, 1, 1], [0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]]))
    np.testing.assert_array_equal(task_lib.high_value_user_mask(train, 0.4), [True, False, False, True, False])


def test_head_training_and_ranking_are_deterministic():
    torch.set_num_threads(1)
    task = task_lib.TargetTask.from_dataset(task_lib.synthetic_dataset(SETTINGS.synthetic_scale, "sparse", 1))
    generator = torch.Generator().manual_seed(0)
    user_emb = torch.randn(task.train.shape[0], 8, generator=generator)
    item_emb = torch.randn(task.train.shape[1], 8, generator=generator)
    runs = []
    for _ in range(2):
        head = lib.fit_head("BLA", user_emb, item_emb, task, SETTINGS, seed=3)
        runs.append(lib.Method("BLA", user_emb, item_emb, head).rank(task, [20], 50).summary()[20])
    assert runs[0] == runs[1]
