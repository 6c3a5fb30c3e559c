"""Paper-002 study on tiny synthetic data: examples, training objective and stopping rule, metrics, tables,
verdicts, determinism."""

import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from xrec_lib.compare import holm
from xrec_lib.data.synthetic_shopping import BUY, N_CATEGORIES, generate_shopping, split_behaviours
from xrec_lib.config import load_config, profile_defaults, seed_everything
from xrec_lib.errors import ConfigError
from xrec_lib.models.baselines_002 import MODELS
from xrec_lib.models.gconv_transform import NodeInput
from xrec_lib.results import ResultsBundle
from xrec_lib.studies.paper002 import figures, protocol, tables, task as paper_task, training
from xrec_lib.studies.paper002.measures import classification_metrics
from xrec_lib.studies.paper002.settings import ABLATIONS, MODEL_NAMES, Paper002Settings

TINY = {"scale": 0.001, "max_train_positives": 400, "max_epochs": 2, "patience": 1, "rank_users": 15,
        "timing_repeats": 2, "svm_max_examples": 200, "history_len": 6, "depth": {"values": [1, 2], "seeds": 2},
        "hidden": 16, "baseline_hidden": 16, "id_dim": 4, "n_negatives": 20, "lr_grid": [0.003, 0.03]}
REAL_DATA = Path("/work/shared/data")


@pytest.fixture(scope="module", autouse=True)
def untuned():
    """These tests exercise the learning-rate grid: the committed tuned values are set aside."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(training, "load_tuned", lambda notebook: {})
        yield


@pytest.fixture(scope="module")
def cfg(tmp_path_factory):
    return load_config("04_gconv_transform", "smoke", seed=0, n_seeds=2, data_dir=None,
                       reports_dir=tmp_path_factory.mktemp("reports"), overrides=TINY, threads=1)


@pytest.fixture(scope="module")
def settings(cfg):
    return Paper002Settings.from_config(cfg)


@pytest.fixture(scope="module")
def tasks(cfg, settings):
    return paper_task.synthetic_tasks(settings, cfg.seeds)


@pytest.fixture(scope="module")
def table1_runs(settings, tasks):
    return protocol.run_table1(settings, tasks, "cpu")


@pytest.fixture(scope="module")
def table1(table1_runs):
    return table1_runs.rows


@pytest.fixture(scope="module")
def ablation_runs(settings, tasks):
    return protocol.run_ablation(settings, tasks, "cpu")


@pytest.fixture(scope="module")
def depth_runs(settings, tasks, table1_runs):
    return protocol.run_depth(settings, tasks, "cpu", table1_runs)


def test_task_is_the_next_category_of_c_classes_and_histories_precede_the_target(tasks):
    task = tasks[0]
    assert task.n_classes == N_CATEGORIES == 50 and task.chance == pytest.approx(1 / 50)
    assert task.target == "category" and "C = 50" in task.task_label
    assert len(task.train) == TINY["max_train_positives"]  # one example per training buy
    for examples in (task.train, task.validation, task.test):
        assert examples.labels.dtype == torch.int64
        assert examples.labels.min() >= 0 and examples.labels.max() < task.n_classes
        assert examples.items.shape[1] == task.max_nodes == TINY["history_len"] + 1
        assert (examples.behaviours[:, 0] == 0).all() and (examples.items[:, 0] == task.n_items).all()  # query node
    statistics = paper_task.task_statistics(tasks)
    assert (statistics["classes"] == 50).all() and (statistics["chance"] == 0.02).all()
    history = task.history
    users, times = np.array([0, 0]), np.array([-1.0, 2.0])
    early, late = history.examples(users, times, np.array([1, 1]), np.zeros(2)).lengths.tolist()
    assert early == 1  # nothing before the first behaviour
    assert late == 1 + min(TINY["history_len"], int((history.keys < 1.0).sum()))


def test_history_never_contains_the_example_itself():
    frame = pd.DataFrame({"user": [0, 0, 0], "item": [1, 2, 3], "behaviour": [0, 3, 0], "time": [0.1, 0.2, 0.3]})
    index = paper_task.HistoryIndex(frame, 1, 4, 5, (0.1, 0.3))
    example = index.examples(np.array([0]), np.array([0.2]), np.array([2]), np.ones(1))
    assert example.lengths.item() == 2 and example.items[0, :2].tolist() == [2, 1]


def test_labels_are_the_categories_of_the_bought_products(tasks):
    task = tasks[0]
    log = generate_shopping(TINY["scale"], 0)
    split = split_behaviours(log.behaviours, 0)
    buys = split.test[split.test["behaviour"] == BUY]
    np.testing.assert_array_equal(task.test.labels.numpy(), log.item_category[buys["item"].to_numpy()])


@pytest.fixture(scope="module")
def binary_task():
    """A log without product categories: the binary fallback (MicroLens-50k's case)."""
    log = dataclasses.replace(generate_shopping(TINY["scale"], 0), item_category=None, n_categories=0)
    return paper_task.build_task(log, TINY["history_len"], 0, 200)


def test_without_categories_the_task_is_balanced_binary(binary_task):
    assert binary_task.n_classes == 2 and binary_task.chance == 0.5 and binary_task.target == "buy"
    for examples in (binary_task.train, binary_task.validation, binary_task.test):
        assert examples.labels.float().mean().item() == pytest.approx(0.5)


def test_each_negative_shares_its_positive_history(binary_task):
    task = binary_task
    n = len(task.train) // 2
    assert task.train.labels[:n].eq(1).all() and task.train.labels[n:].eq(0).all()
    assert torch.equal(task.train.items[:n, 1:], task.train.items[n:, 1:])  # same user and time: same history
    assert torch.equal(task.train.lengths[:n], task.train.lengths[n:])


def test_settings_nested_blocks_and_checks(cfg, settings):
    assert settings.depth.values == (1, 2) and settings.depth.seeds == 2
    assert settings.real.models == ("Graph", "Attention", "GConv-Transform") and settings.real.max_users == 200
    assert settings.lr_grid == (0.003, 0.03)
    with pytest.raises(ConfigError, match="real.models"):
        Paper002Settings.from_config(cfg, real={**dataclasses.asdict(settings.real), "models": ["LightGCN"]})
    with pytest.raises(ConfigError, match="unknown parameter"):
        Paper002Settings.from_config(cfg, depth={"values": [1], "epochs": 1, "seeds": 1, "depht": 2})


def test_table1_rows_and_summary(table1):
    assert set(table1["model"]) == set(MODEL_NAMES)
    assert len(table1) == 2 * len(MODEL_NAMES)
    assert table1[["accuracy", "auc", "hr@10", "ndcg@10"]].apply(lambda c: c.between(0, 1)).all().all()
    assert (table1["classes"] == 50).all() and np.allclose(table1["chance"], 0.02)
    assert (table1["inference_ms"] > 0).all() and (table1["params"] > 0).all()
    summary = tables.table1_summary(table1)
    assert summary.loc["GConv-Transform", "paper accuracy"] == pytest.approx(0.831)
    assert summary.loc["Attention", "paper inference_ms"] == pytest.approx(4654)
    assert "±" in summary.loc["DNN", "accuracy"] and summary.loc["SVM", "chance"] == pytest.approx(0.02)


def test_learning_rate_is_selected_on_validation_and_shared_across_seeds(settings, tasks, table1):
    neural = table1[table1["model"] != "SVM"].groupby("model")["lr"]
    assert (neural.nunique() == 1).all() and neural.first().isin(TINY["lr_grid"]).all()
    validation = [classification_metrics(training.fit_model("DNN", tasks[0], settings, 0, "cpu", lr).scorer,
                                         tasks[0].validation, "cpu")["accuracy"] for lr in TINY["lr_grid"]]
    best = TINY["lr_grid"][int(np.argmax(validation))]
    chosen, grid = training.fit_with_lr_selection("DNN", tasks[0], settings, 0, "cpu")
    assert chosen.lr == best and [f.lr for f in grid] == list(TINY["lr_grid"])
    assert chosen.validation_score == pytest.approx(max(validation))
    assert neural.first()["DNN"] == best
    assert "lr" in tables.table1_summary(table1).columns
    with pytest.raises(ValueError, match="lr_grid"):
        training.fit_with_lr_selection("DNN", tasks[0], dataclasses.replace(settings, lr_grid=[]), 0, "cpu")


def test_models_learn_something_on_synthetic_data(table1):
    means = table1.groupby("model")[["accuracy", "auc"]].mean()
    assert means["accuracy"].max() > 2 * (1 / N_CATEGORIES) and means["auc"].max() > 0.55


def test_every_model_outputs_c_logits(settings, tasks, table1_runs):
    task = tasks[0]
    batch = task.test.batch(slice(0, 5))
    for run in table1_runs.fits:
        assert run.fit.module.eval()(batch).shape == (5, task.n_classes)
    svm = training.fit_model("SVM", task, settings, 0, "cpu", math.nan).scorer
    assert svm(batch).shape == (5, task.n_classes)


def test_class_metrics_on_constructed_scores():
    from xrec_lib.studies.paper002.measures import class_ranking_metrics, macro_auc
    scores = np.array([[3.0, 2.0, 1.0], [1.0, 3.0, 2.0], [1.0, 2.0, 3.0], [3.0, 1.0, 2.0]])
    labels = np.array([0, 2, 2, 1])  # ranks 0, 1, 0, 2
    ranked = class_ranking_metrics(scores, labels, k=2)
    assert ranked["hr@2"] == pytest.approx(0.75)
    assert ranked["ndcg@2"] == pytest.approx((1 + 1 / np.log2(3) + 1) / 4)
    assert macro_auc(labels, np.eye(3)[labels]) == pytest.approx(1.0)  # each class scored highest on its own
    assert macro_auc(np.array([0, 1, 0, 1]), np.zeros((4, 2))) == pytest.approx(0.5)  # constant scores


def test_ablation_depth_and_verdicts(table1, ablation_runs, depth_runs):
    ablation, depth = ablation_runs.rows, depth_runs.rows
    assert set(ablation["model"]) == set(ABLATIONS)
    table2 = tables.table2_summary(ablation, table1)
    assert table2.loc["without Chebyshev convolution", "paper accuracy"] == pytest.approx(0.446)
    assert np.isnan(table2.loc["without attention", "paper accuracy"])  # the paper prints no such row
    assert "hr@10" not in depth.columns  # Table 3 reports accuracy only: no ranking pass for the deep stacks
    table3 = tables.table3_summary(depth)
    assert list(table3.index) == ["N=1", "N=2", "N=12", "N=16", "N=22"]  # the paper's N as rows of their own
    assert table3.loc["N=22", "paper accuracy"] == pytest.approx(0.831)
    assert table3.loc["N=22", "accuracy"] != table3.loc["N=22", "accuracy"]  # not run here: NaN
    assert table3.loc["N=2", "params"] > table3.loc["N=1", "params"]
    assert {"epochs", "stopped by", "converged"} <= set(table3.columns)
    verdicts = tables.verdicts(table1, ablation, depth)
    assert {v["verdict"] for v in verdicts} <= {"replicated", "contradicted", "inconclusive", "not comparable"}
    assert all(v["n_pairs"] == 2 and v["unit"] == "seed" and v["item"] in ("Table 1", "Table 2", "Table 3")
               for v in verdicts)
    assert len({v["claim"] for v in verdicts}) == len(verdicts)  # each claim once
    figure = figures.plot_depth(depth, "synthetic")
    assert "synthetic" in figure.axes[0].get_title() and len(figure.axes[0].lines) >= 2


def test_accuracy_figure(table1):
    figure = figures.plot_accuracy_vs_time(table1, "synthetic")
    assert len(figure.axes) == 2 and figure.axes[0].get_xscale() == "log"
    assert "(a)" in figure.axes[0].get_title() and "(b)" in figure.axes[1].get_title()


def test_same_seed_same_numbers(settings, tasks):
    settings = dataclasses.replace(settings, max_epochs=1)
    first, _ = protocol.fit_and_measure("GConv-Transform", tasks[0], settings, 0, "cpu")
    second, _ = protocol.fit_and_measure("GConv-Transform", tasks[0], settings, 0, "cpu")
    for key in ("accuracy", "auc", "hr@10", "params", "lr", "epochs", "stopped_by"):
        assert first[key] == second[key]


def _train_dnn(settings, task, epochs: int, seed: int = 0, patience: int = 100):
    seed_everything(seed)
    settings = dataclasses.replace(settings, max_epochs=epochs, patience=patience)
    model = MODELS.build("DNN", NodeInput(task.item_features, settings.id_dim), task.max_nodes, settings,
                         task.n_classes)
    return training.train_classifier(model, task, settings, 0.03, seed, "cpu")


def test_objective_same_seed_same_history(settings, tasks):
    first, second = (_train_dnn(settings, tasks[0], epochs=3) for _ in range(2))
    columns = ["epoch", "loss", "val_accuracy", "val_auc"]
    pd.testing.assert_frame_equal(first.history[columns], second.history[columns])
    assert first.history["loss"].notna().all() and len(first.history) == 3
    assert first.stopped_by == "cap"  # a patience longer than the cap: the cap ends the fit


def test_early_stopping_follows_validation_accuracy(settings, tasks):
    result = _train_dnn(settings, tasks[0], epochs=30, patience=2)
    accuracies = result.history["val_accuracy"].to_numpy()
    assert result.stopped_by == "patience" and result.converged
    assert len(accuracies) == result.best_epoch + 2 < 30  # two epochs without a gain after the best one
    assert (accuracies[result.best_epoch:] <= accuracies[result.best_epoch - 1]).all()


def test_one_stopping_rule_for_every_model(settings):
    configs = {training.loop_config(settings, lr, "cpu", desc=name)
               for name in MODEL_NAMES for lr in settings.lr_grid}
    assert {(c.max_epochs, c.patience, c.monitor, c.mode, c.schedule, c.min_delta) for c in configs} == \
        {(settings.max_epochs, settings.patience, "accuracy", "max", "constant", 0.0)}


def test_objective_keeps_the_epoch_with_the_best_validation_accuracy(settings, tasks):
    result = _train_dnn(settings, tasks[0], epochs=4)
    accuracies = result.history["val_accuracy"].to_numpy()
    assert result.best_epoch == int(np.argmax(accuracies)) + 1  # the first best on ties
    assert result.best_score == accuracies.max()
    restored = classification_metrics(result.module, tasks[0].validation, "cpu")["accuracy"]
    assert restored == pytest.approx(accuracies.max())


def test_objective_batches_follow_its_own_generator(settings, tasks):
    task = tasks[0]
    objective = training.SubgraphObjective(torch.nn.Linear(1, 1), task.train, task.validation, 96, 5, "cpu")
    torch.manual_seed(123)  # the global generator plays no part in the order of the examples
    first = [labels for _, labels in objective.batches(1)]
    expected = torch.randperm(len(task.train), generator=torch.Generator().manual_seed(5)).split(96)
    assert objective.n_batches() == len(first) == len(expected)
    assert all(torch.equal(labels, task.train.labels[index]) for labels, index in zip(first, expected))


def test_real_section_notes_when_data_absent(cfg, settings):
    cfg = dataclasses.replace(cfg, data_dir=None)
    bundle = ResultsBundle(cfg)
    rows, summary = protocol.report_real(cfg, settings, bundle)
    assert rows.empty and summary.empty
    assert bundle.notes == ["real data not present: make data"]


def test_unknown_model_and_dataset(tasks):
    with pytest.raises(ValueError, match="unknown model"):
        MODELS.build("LightGCN", NodeInput(tasks[0].item_features, 4), tasks[0].max_nodes, None)
    with pytest.raises(ValueError, match="unknown real dataset"):
        paper_task.real_log(REAL_DATA, "Taobao", 10, 0)


@pytest.mark.skipif(not (REAL_DATA / "ml-100k-recbole").is_dir(), reason="real data not present")
def test_ml100k_log_and_task():
    log = paper_task.real_log(REAL_DATA, "ML-100k", max_users=60, seed=0)
    assert not log.synthetic and log.n_users == 60
    assert log.item_features.shape == (log.n_items, 19 + 1)
    assert log.n_categories == 19 and len(log.category_names) == 19  # the genres: the class is the first listed
    np.testing.assert_array_equal(log.item_features[np.arange(log.n_items), log.item_category], 1.0)
    task = paper_task.build_task(log, history_len=5, seed=0, max_train_positives=100)
    assert len(task.train) == 100 and task.n_classes == 19 and task.train.labels.max() < 19
    assert "C = 19" in task.task_label and torch.isfinite(task.item_features).all()


def test_study_functions_return_every_fit_with_its_stopping_reason(settings, table1_runs, ablation_runs):
    neural = [m for m in MODEL_NAMES if m != "SVM"]
    n_seeds, n_rates = 2, len(TINY["lr_grid"])
    for runs, models in ((table1_runs, neural), (ablation_runs, list(ABLATIONS))):
        assert len(runs.fits) == len(models) * (n_rates + n_seeds - 1)  # the grid on the first seed, then one fit
        for run in runs.fits:
            assert run.fit.stopped_by in ("patience", "cap", "time") and len(run.fit.history) <= settings.max_epochs
            assert {"model", "seed", "lr", "selected"} <= set(run.labels)
        assert sum(run.labels["selected"] for run in runs.fits) == len(models) * n_seeds
    rows = table1_runs.rows.set_index(["model", "seed"])
    assert rows.loc["SVM", "stopped_by"].isna().all()  # fitted by scikit-learn, outside the loop
    for run in table1_runs.fits:
        if run.labels["selected"]:
            row = rows.loc[(run.labels["model"], run.labels["seed"])]
            assert (row["stopped_by"], row["epochs"], row["lr"]) == \
                (run.fit.stopped_by, len(run.fit.history), run.labels["lr"])
    summary = tables.table1_summary(table1_runs.rows)
    assert summary.loc["SVM", "converged"] == "–" and summary.loc["DNN", "converged"].endswith("/2")


def test_fits_are_recorded_in_the_bundle(cfg, table1_runs):
    bundle = ResultsBundle(cfg)
    table1_runs.record(bundle, data="synthetic", table="Table 1")
    assert len(bundle.training) == len(table1_runs.fits)
    entry = bundle.training[0]
    assert entry["data"] == "synthetic" and entry["table"] == "Table 1" and entry["model"] == "DNN"
    assert entry["stopped_by"] in ("patience", "cap") and {"epoch", "loss", "val_accuracy"} <= set(entry["history"][0])


def test_depth_sweep_reuses_table1_for_its_depth_and_trains_under_the_same_rule(settings, table1, depth_runs):
    depth = depth_runs.rows.set_index(["n_layers", "seed"])
    ours = table1[table1["model"] == "GConv-Transform"].set_index("seed")
    for seed in ours.index:
        assert depth.loc[(settings.n_layers, seed), "accuracy"] == ours.loc[seed, "accuracy"]
    assert {run.labels["n_layers"] for run in depth_runs.fits} == {1}  # N = 2 is recorded once, under Table 1
    assert {run.labels["n_layers"] for run in depth_runs.shared} == {2}
    assert all(len(run.fit.history) <= settings.max_epochs for run in depth_runs.fits)
    curves = depth_runs.curves("n_layers")
    assert set(curves["n_layers"]) == {"1", "2"} and curves["best"].groupby(curves["seed"]).sum().gt(0).all()


def test_learning_curve_figure(table1_runs):
    curves = table1_runs.curves()
    assert set(curves["model"]) == set(MODEL_NAMES) - {"SVM"}
    figure = figures.plot_learning_curves(curves, "Table 1 learning curves (synthetic)")
    assert len(figure.axes) == 2 and "(b)" in figure.axes[1].get_title()


def _rows(values: dict, seeds=(0, 1, 2, 3)) -> pd.DataFrame:
    """Per-seed rows of models whose accuracy and AUC are ``values[model]`` plus a small seed-dependent wiggle."""
    return pd.DataFrame([{"model": model, "seed": seed, "accuracy": value + 0.003 * seed * (i + 1),
                          "auc": value + 0.004 * seed * (i + 1)}
                         for i, (model, value) in enumerate(values.items()) for seed in seeds])


def test_a_run_at_chance_gives_not_comparable():
    at_chance = _rows({"GConv-Transform": 0.505, "Graph": 0.49})
    record = tables.accuracy_claim("Table 1 on MicroLens-50k: x", "Table 1", at_chance, "model", "GConv-Transform",
                                   "Graph", 0.1)
    assert "at chance" in record["reason"]
    learned = _rows({"GConv-Transform": 0.62, "Graph": 0.49})
    assert tables.accuracy_claim("y", "Table 1", learned, "model", "GConv-Transform", "Graph", 0.1)["reason"] is None
    decided = {v["claim"]: v for v in tables.decide([record])}
    assert decided["Table 1 on MicroLens-50k: x"]["verdict"] == "not comparable"


def test_the_at_chance_rule_uses_one_over_c():
    rows = _rows({"GConv-Transform": 0.03, "Graph": 0.025}).assign(auc=0.7)
    assert tables.at_chance(rows.assign(chance=0.02), "model", "Graph")  # within 0.02 of 1/50
    assert not tables.at_chance(rows.assign(chance=0.5), "model", "Graph")
    assert tables.at_chance(rows, "model", "Graph")  # no chance column: the synthetic task's 1/50
    record = tables.accuracy_claim("v", "Table 1", rows.assign(chance=0.02), "model", "GConv-Transform", "Graph", None)
    assert "1/C = 0.02" in record["reason"]


def test_calibrated_default_is_the_logged_value_and_reaches_the_svm_target():
    from xrec_lib.data import synthetic_shopping
    log = (Path(__file__).parents[1] / "benchmarks/results/calibrate_synthetic_002.md").read_text()
    chosen = float(log.split("**Chosen:** `noise_share = ")[1].split("`")[0])
    assert synthetic_shopping.NOISE_SHARE == chosen


def test_more_noise_purchases_lower_the_svm_accuracy(settings):
    accuracy = []
    for noise in (0.0, 0.9):
        log = generate_shopping(TINY["scale"], 1, noise_share=noise)
        task = paper_task.build_task(log, TINY["history_len"], 1, 1000)
        svm = training.fit_svm(task, 1000, 1)
        accuracy.append(float((svm(task.validation.batch(slice(None))).argmax(1) == task.validation.labels)
                              .float().mean()))
    assert accuracy[1] < accuracy[0] - 0.05


def test_a_single_seed_gives_not_comparable():
    record = tables.accuracy_claim("z", "Table 1", _rows({"A": 0.8, "B": 0.7}, seeds=(0,)), "model", "A", "B", None)
    assert record["reason"].startswith("a single seed")


def test_collapsed_seeds_are_flagged():
    rows = _rows({"GConv-Transform": 0.8, "Graph": 0.7}, seeds=(0, 1, 2, 3, 4))
    rows.loc[(rows["model"] == "Graph") & (rows["seed"] == 3), ["accuracy", "auc"]] = [0.5, 0.49]
    record = tables.accuracy_claim("w", "Table 1", rows, "model", "GConv-Transform", "Graph", None)
    assert record["collapsed"] == ["Graph seed 3"] and record["reason"] is None


def test_speed_claims_pair_one_measurement_per_seed(table1):
    record = tables.speed_claim(table1, "Attention")
    assert record["n_pairs"] == 2 and record["unit"] == "seed"
    ours = table1[table1["model"] == "GConv-Transform"]["inference_ms"].to_numpy()
    theirs = table1[table1["model"] == "Attention"]["inference_ms"].to_numpy()
    assert record["mean_diff"] == pytest.approx((theirs - ours).mean())
    assert record["paper_gap"] == pytest.approx(4654 - 109)


def test_decide_runs_once_over_the_whole_family(table1, ablation_runs, depth_runs):
    real = pd.concat([_rows({"Graph": 0.49, "Attention": 0.5, "GConv-Transform": 0.505}, seeds=(0, 1))
                      .assign(dataset="MicroLens-50k"),
                      _rows({"Graph": 0.55, "Attention": 0.6, "GConv-Transform": 0.62}, seeds=(0, 1))
                      .assign(dataset="ML-100k")], ignore_index=True)
    records = tables.claim_records(table1, ablation_runs.rows, depth_runs.rows, real)
    verdicts = tables.verdicts(table1, ablation_runs.rows, depth_runs.rows, real)
    assert [v["claim"] for v in verdicts] == [r["claim"] for r in records]
    testable = [r for r in records if r["reason"] is None]
    assert all(v["family_size"] == len(testable) for v in verdicts)  # one family: synthetic and real claims
    adjusted = holm([r["p_value"] for r in testable])
    assert [v["p_adjusted"] for v in verdicts if v["reason"] is None] == pytest.approx(list(adjusted))
    micro = [v for v in verdicts if "MicroLens-50k" in v["claim"]]
    assert len(micro) == 2 and all(v["verdict"] == "not comparable" for v in micro)
    others = {c for c in MODEL_NAMES if c != "GConv-Transform"}
    beats = {v["claim"].rsplit(" ", 1)[-1] for v in verdicts if v["claim"].startswith("Table 1: GConv-Transform is")}
    assert beats == others  # "most accurate" is tested against every compared method
    cheb = next(v for v in verdicts if v["claim"].startswith("Table 2: removing the Chebyshev"))
    assert cheb["paper_gap"] == pytest.approx(0.743 - 0.446)
    table = tables.verdict_table(verdicts)
    assert table.index.is_unique and not math.isnan(table["family_size"].iloc[0])


@pytest.mark.skipif(not (REAL_DATA / "ml-100k-recbole").is_dir(), reason="real data not present")
def test_real_section_trains_under_the_same_rule_on_its_seeds(cfg, settings):
    cfg = dataclasses.replace(cfg, data_dir=REAL_DATA)
    real = dataclasses.replace(settings.real, datasets=("ML-100k",), models=("Graph", "GConv-Transform"),
                               max_users=60, seeds=1)
    bundle = ResultsBundle(cfg)
    rows, summary = protocol.report_real(cfg, dataclasses.replace(settings, real=real), bundle)
    assert set(rows["seed"]) == {0} and set(rows["model"]) == {"Graph", "GConv-Transform"}
    assert {"epochs", "stopped by", "converged"} <= set(summary.columns)
    assert len(bundle.training) == 2 * len(TINY["lr_grid"])
    assert all(t["data"] == "real" and t["dataset"] == "ML-100k" and len(t["history"]) <= settings.max_epochs
               for t in bundle.training)
    assert "table1_learning_curves_ML-100k" in bundle.summary()["figures"]


def test_tuned_values_replace_the_grid_and_the_search_is_equal(tmp_path, monkeypatch):
    from xrec_lib import tuning
    from xrec_lib.studies.paper002 import training
    from xrec_lib.studies.paper002.tuning import TUNED_MODELS, tuning_problem

    settings = Paper002Settings.from_config(profile_defaults("04_gconv_transform", "smoke"))
    monkeypatch.setattr(training, "load_tuned", lambda notebook: {"DNN": {"lr": 0.002, "weight_decay": 1e-5,
                                                                         "dropout": 0.2}})
    tuned = training.tuned_settings("DNN", settings)
    assert tuned.lr_grid == (0.002,) and tuned.weight_decay == 1e-5 and tuned.dropout == 0.2
    assert training.tuned_settings("CNN", settings) == settings
    assert training.loop_config(tuned, 0.002, "cpu").weight_decay == 1e-5
    problem = tuning.TuningProblem({name: tuning.search_space(dropout=True) for name in TUNED_MODELS},
                                   lambda model, values: 0.0)
    tuning.check_equal_budget(problem.spaces)
    assert "04_gconv_transform" in tuning.PROBLEMS and callable(tuning_problem)


def _summary_rows(models, n_seeds=2):
    return pd.DataFrame([{"model": model, "seed": seed, "accuracy": 0.6, "auc": 0.6, "hr@10": 0.1, "ndcg@10": 0.1,
                          "inference_ms": 1.0, "params": 10, "lr": 0.01}
                         for model in models for seed in range(n_seeds)])


def test_the_papers_ours_row_is_labelled_with_its_n_beside_ours():
    assert tables.paper_depth() == 22
    table1 = _summary_rows(MODEL_NAMES)
    summary1 = tables.table1_summary(table1, n_layers=2)
    assert summary1.loc["GConv-Transform", "paper accuracy"] == pytest.approx(0.831)
    assert summary1.loc["GConv-Transform", "paper note"] == "paper: N = 22; ours: N = 2"
    assert summary1.loc["DNN", "paper note"] == ""
    recorded = tables.table1_summary(table1.assign(n_layers=3))
    assert recorded.loc["GConv-Transform", "paper note"] == "paper: N = 22; ours: N = 3"
    assert "ours: not recorded" in tables.table1_summary(table1).loc["GConv-Transform", "paper note"]
    summary2 = tables.table2_summary(_summary_rows(ABLATIONS), table1, n_layers=2)
    assert summary2.loc["GConv-Transform", "paper note"] == "paper: N = 22; ours: N = 2"
    assert summary2.loc["without graph convolution", "paper note"] == ""
