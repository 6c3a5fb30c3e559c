"""Experiment runner, head training, tables and figures of notebook 02 (xrec_lib.studies.paper000) on tiny
synthetic data."""

from dataclasses import replace

import matplotlib
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch

from xrec_lib.compare import OUTCOMES
from xrec_lib.config import load_config
from xrec_lib.results import ResultsBundle
from xrec_lib.models.interaction import HEADS
from xrec_lib.studies.paper000 import figures, head_training
from xrec_lib.studies.paper000 import interaction as lib
from xrec_lib.studies.paper000 import interaction_claims as claims
from xrec_lib.studies.paper000 import interaction_tables as tables
from xrec_lib.studies.paper000 import tasks as task_lib
from xrec_lib.training.loop import STOP_REASONS

matplotlib.use("Agg")
SETTINGS = lib.InteractionSettings(synthetic_scale=0.01, dim=8, encoder_epochs=1, encoder_batch_size=4096,
                                   encoder_max_batches=2, head_epochs=2, head_batch_size=512, n_negatives=1,
                                   hidden=16, n_candidates=50, ks=(5, 15, 20), curve_users=200, end_to_end=True,
                                   patience=1)


@pytest.fixture(scope="module")
def study():
    torch.set_num_threads(1)
    scenarios = {scenario: task_lib.TargetTask.from_dataset(task_lib.synthetic_dataset(0.01, generated, 0))
                 for scenario, generated in (("standard", "sufficient"), ("sparse", "sparse"))}
    records = lib.run_seed("synthetic", scenarios, SETTINGS, 0, generated=lib.SCENARIOS)
    return lib.collect_study("synthetic", [records], (0,), SETTINGS, 0.0)


def test_every_figure_table_has_our_values_and_the_papers(study):
    fig9 = tables.figure_table(study, "Fig. 9")
    assert list(fig9.index) == [*lib.HEAD_COMPARISON, *lib.GENERATOR_ROWS]
    assert fig9.loc["BLA", "paper NDCG@20"] == pytest.approx(0.238)
    assert np.isnan(fig9.loc["CNIM", "paper NDCG@20"])  # the paper reports no CNIM value in Fig. 9
    table2 = tables.figure_table(study, "Table 2")
    assert lib.END_TO_END_ROW in table2.index and len(table2) == len(lib.ABLATION) + 1
    assert table2["paper NDCG@20"].notna().sum() == 2
    for figure in ("Fig. 10", "Fig. 11", "Fig. 12", "Fig. 13", "Fig. 14"):
        ours = tables.figure_table(study, figure).filter(like="ours")
        measured = ours.drop(columns=["ours precision@10"], errors="ignore")  # K = 10 is not in SETTINGS.ks
        assert measured.drop(index=list(lib.GENERATOR_ROWS), errors="ignore").map(lambda v: "± –" in v).all().all()
    assert (tables.figure_table(study, "Fig. 13")["ours precision@10"] == "–").all()


def test_the_heads_figures_end_with_the_generators_oracle_and_popularity(study):
    fig10 = tables.figure_table(study, "Fig. 10")
    assert list(fig10.index[-2:]) == list(lib.GENERATOR_ROWS)
    assert fig10.loc[list(lib.GENERATOR_ROWS)].filter(like="paper").isna().all().all()
    hr = fig10["ours HR@20 standard"].str.split(" ± ").str[0].astype(float)
    assert hr["Oracle"] > hr[list(lib.HEAD_COMPARISON)].max()  # the ceiling
    assert (tables.figure_table(study, "Fig. 11").loc["Oracle", "ours AUC"]) == "–"  # no pair scores: no ROC
    assert "Oracle" not in tables.figure_table(study, "Fig. 12").index


def test_metrics_are_probabilities_and_shared_results_agree(study):
    values = study.metrics["value"].dropna()
    assert ((values >= 0) & (values <= 1)).all()
    m = study.metrics[(study.metrics["slice"] == "all") & (study.metrics["k"] == 20)]
    bla_head = m[(m["group"] == "heads") & (m["model"] == "BLA") & (m["scenario"] == "standard")]["value"].to_numpy()
    method_1 = m[(m["group"] == "methods") & (m["model"] == "Siamese GCN + BLA")]["value"].to_numpy()
    np.testing.assert_array_equal(bla_head, method_1)  # Method 1 is the BLA head of Fig. 9-11
    assert set(study.curves["epoch"]) == {1, 2}


def converged(study):
    """``study`` with every training run marked converged (the smoke fixture's runs all stop at their cap)."""
    return replace(study, fits=[(labels, replace(fit, converged=True)) for labels, fit in study.fits])


def test_verdicts_cover_every_claim(study):
    verdicts = claims.claim_verdicts(converged(study))
    assert len(verdicts) == len(claims.claim_pairs())
    assert set(verdicts["verdict"]) <= set(OUTCOMES) and (verdicts["family_size"] == verdicts["family_size"].iloc[0]).all()
    assert (verdicts.loc[verdicts["unit"] == "user", "n_pairs"] > 1).all()
    assert set(verdicts["item"]) == {"fig9", "fig10", "fig11", "fig12", "fig13", "fig14", "table2"}
    roc = verdicts[verdicts.index.str.contains("AUC|TPR")]
    assert (roc["verdict"] == "not comparable").all() and (roc["reason"] == "fewer than 2 pairs").all()  # one seed
    records = tables.verdict_records(verdicts)
    assert records[0]["claim"].startswith("Fig. 9(a)") and records[0]["item"] == "fig9"
    assert {"claim", "verdict", "item", "data"} <= set(records[0])
    assert verdicts.loc["Fig. 9(a): BLA beats BL on NDCG@20 (also Table 2: BLA without attention)",
                        "paper_gap"] == pytest.approx(0.238 - 0.222)


def test_a_claim_resting_on_an_unconverged_run_does_not_count(study):
    """Converged, or it does not count: the claims whose methods were trained by a run that stopped at its cap while
    still improving are not comparable, naming the run; the others are untouched."""
    fits = [(labels, replace(fit, converged=not (labels["model"] == "Siamese GCN + Gated"
                                                 and labels["scenario"] == "standard")))
            for labels, fit in study.fits]
    verdicts = claims.claim_verdicts(replace(study, fits=fits))
    reasons = verdicts["reason"].fillna("")
    hit = reasons.str.startswith("not converged")
    assert hit.any() and (verdicts.loc[hit, "verdict"] == "not comparable").all()
    assert verdicts.index[hit].str.contains("Gated").all()  # only claims naming the Gated head
    assert reasons[hit].str.contains(r"Siamese GCN \+ Gated \(seed 0\)").all()
    assert claims.method_runs("methods", "GCN + BL") == {"GCN", "GCN + BL"}
    assert claims.method_runs("ablation", "baseline: MF + dot product") == {"MF"}


def test_each_claim_once_and_beats_all_against_every_method():
    pairs = claims.claim_pairs()
    texts = [text for text, _, _ in pairs]
    assert len(texts) == len(set(texts))
    compared = {(claim.better, worse, claim.column.metric, claim.column.k, claim.column.slice, claim.column.scenario)
                for _, claim, worse in pairs}
    assert len(compared) == len(pairs)  # no pair of methods is tested twice on the same quantity
    attention = [(claim.group, claim.better, worse) for _, claim, worse in pairs
                 if claim.better.endswith("Siamese GCN + BLA") and worse.endswith("Siamese GCN + BL")]
    assert attention == []  # Table 2's "without attention" row is Fig. 9(a)'s BLA-vs-BL test
    for source in ("Fig. 12(a)", "Fig. 12(b)", "Fig. 13(b)", "Fig. 14(a)", "Fig. 14(c)"):
        versus = {worse for _, claim, worse in pairs if claim.source == source}
        assert versus == set(lib.METHODS) - {"Siamese GCN + BLA"}
    assert {worse for _, claim, worse in pairs if claim.source == "Fig. 9(a)"} == {"BL", "CNIM", "Gated"}


def test_the_notebook_decides_its_claims_as_one_family(study, tmp_path):
    other = replace(study, data="amazon/x (200 users)")
    decided = claims.notebook_verdicts(study, other, None)
    assert list(decided) == ["synthetic", "amazon/x (200 users)"]
    testable = sum((table["verdict"] != "not comparable").sum() for table in decided.values())
    assert all((table["family_size"] == testable).all() for table in decided.values())
    bundle = ResultsBundle(load_config("02_bilinear_attention", "smoke", 0, None, None, str(tmp_path), {}))
    tables.store_verdicts(decided, bundle)
    assert {"synthetic/verdicts", "amazon_x/verdicts"} <= set(bundle.metrics)


def several_seeds(study, n: int, auc: dict[str, list[float]] | None = None):
    """``study`` copied to seeds 0..n-1 (the same values), with the given per-seed AUCs of some methods."""
    roc = pd.concat([study.roc.assign(seed=s) for s in range(n)], ignore_index=True)
    for model, values in (auc or {}).items():
        for seed, value in enumerate(values):
            roc.loc[(roc["model"] == model) & (roc["seed"] == seed), "auc"] = value
    return replace(study, seeds=tuple(range(n)), roc=roc,
                   metrics=pd.concat([study.metrics.assign(seed=s) for s in range(n)], ignore_index=True),
                   references=pd.concat([study.references.assign(seed=s) for s in range(n)], ignore_index=True))


@pytest.mark.filterwarnings("ignore:Precision loss occurred")
def test_runs_at_chance_are_not_comparable(study):
    auc = {"Siamese GCN + BLA": [0.505, 0.51, 0.49], "MF + MLP": [0.5, 0.51, 0.495]}
    verdicts = claims.claim_verdicts(several_seeds(study, 3, auc))
    chance_auc = verdicts.loc["Fig. 14(c): Siamese GCN + BLA beats MF + MLP on AUC"]
    assert chance_auc["verdict"] == "not comparable" and chance_auc["reason"].startswith("both runs at chance on auc")
    ranking = claims.claim_verdicts(replace(study, references=study.references.assign(chance=0.0, ideal=1e3)))
    assert ranking.loc[~ranking.index.str.contains("AUC|TPR"), "reason"].str.startswith("both runs at chance").all()


@pytest.mark.filterwarnings("ignore:Precision loss occurred")
def test_collapsed_seeds_are_flagged_on_auc(study):
    verdicts = claims.claim_verdicts(several_seeds(study, 4, {"MF + MLP": [0.8, 0.81, 0.5, 0.79]}))
    assert verdicts.loc["Fig. 14(c): Siamese GCN + BLA beats MF + MLP on AUC", "collapsed"] == ["2 (MF + MLP)"]
    assert verdicts.loc["Fig. 14(c): Siamese GCN + BLA beats GCN + BL on AUC", "collapsed"] == []


def test_every_fit_is_recorded_with_its_stopping_reason(study, tmp_path):
    stages = [labels["stage"] for labels, _ in study.fits]
    assert stages.count("encoder") == 5 and stages.count("end-to-end") == 1  # Siamese GCN twice, GCN, GraphSAGE, MF
    assert stages.count("head") == 2 * len(lib.HEAD_COMPARISON) + 3  # the dot heads have no parameters
    for _, fit in study.fits:
        assert fit.module is None and fit.stopped_by in STOP_REASONS and "val_ndcg" in fit.history
    bundle = ResultsBundle(load_config("02_bilinear_attention", "smoke", 0, None, None, str(tmp_path), {}))
    tables.record_training(study, bundle)
    assert len(bundle.training) == len(study.fits) and bundle.training[0]["stage"] == "encoder"


def test_table2_per_seed_has_one_row_per_variant_and_seed(study):
    per_seed = tables.table2_per_seed(study).reset_index()  # as ResultsBundle.add_metrics stores it
    assert list(per_seed["model"]) == [variant for variant, _, _ in lib.ABLATION] + [lib.END_TO_END_ROW]
    assert (per_seed["seed"] == 0).all() and (per_seed["data"] == "synthetic").all()
    assert {"ndcg@20", "hr@5", "recall@15", "auc"} <= set(per_seed.columns)
    table2 = tables.figure_table(study, "Table 2")
    assert float(table2.iloc[0]["ours NDCG@20"].split(" ± ")[0]) == pytest.approx(per_seed["ndcg@20"].iloc[0],
                                                                                  abs=5e-5)


@pytest.mark.parametrize("item", ["fig9", "fig10", "fig11", "fig12", "fig13", "fig14"])
def test_figures_have_the_papers_panels(study, item):
    figure = tables.study_figure(study, item)
    assert len(figure.axes) in (2, 3)
    assert f"({study.label})" in figure._suptitle.get_text() and "% scale" in study.label
    assert all(ax.lines or ax.patches for ax in figure.axes)


@pytest.mark.parametrize("item,figure_name", [("fig10", "Fig. 10"), ("fig11", "Fig. 11"), ("fig12", "Fig. 12"),
                                              ("fig13", "Fig. 13"), ("fig14", "Fig. 14")])
def test_figures_show_every_paper_value_of_their_table(study, item, figure_name):
    figure = tables.study_figure(study, item)
    drawn = {round(float(y), 6) for ax in figure.axes for c in ax.collections if len(c.get_offsets()) == 1
             for _, y in c.get_offsets()}  # the single-point scatters: the paper's diamonds
    table = tables.figure_table(study, figure_name).filter(like="paper").stack().dropna()
    for value in table:
        assert round(float(value), 6) in drawn, f"{figure_name}: the paper's {value} is not drawn"


@pytest.mark.parametrize("item", ["fig10", "fig12"])
def test_bar_figures_keep_their_legend_off_the_bars(study, item):
    figure = tables.study_figure(study, item)
    assert all(ax.get_legend() is None for ax in figure.axes) and len(figure.legends) == 1
    labels = [text.get_text() for text in figure.legends[0].get_texts()]
    assert "paper" in labels and len(labels) == len(set(labels))


def test_high_value_mask_takes_the_most_active_share():
    train = sp.csr_matrix(np.array([[1, 1, 1], [0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]]))
    np.testing.assert_array_equal(task_lib.high_value_user_mask(train, 0.4), [True, False, False, True, False])


def test_head_training_and_ranking_are_deterministic():
    torch.set_num_threads(1)
    task = task_lib.TargetTask.from_dataset(task_lib.synthetic_dataset(SETTINGS.synthetic_scale, "sparse", 1))
    generator = torch.Generator().manual_seed(0)
    user_emb = torch.randn(task.train.shape[0], 8, generator=generator)
    item_emb = torch.randn(task.train.shape[1], 8, generator=generator)
    runs, histories = [], []
    for _ in range(2):
        head, fit = head_training.fit_head("BLA", user_emb, item_emb, task.train, SETTINGS, seed=3)
        runs.append(task_lib.Method("BLA", user_emb, item_emb, head).rank(task, [20], 50).summary()[20])
        histories.append(fit.history)
    assert runs[0] == runs[1]
    pd.testing.assert_frame_equal(histories[0].drop(columns=["seconds", "elapsed_s"]),
                                  histories[1].drop(columns=["seconds", "elapsed_s"]))
    assert list(histories[0]["epoch"]) == [1, 2] and fit.stopped_by == "cap"  # no validation: the cap ends it


def test_heads_stop_early_on_validation_and_keep_the_best_epoch():
    torch.set_num_threads(1)
    task, user_emb, item_emb = random_task_embeddings()
    scores = iter([0.1, 0.3, 0.2, 0.25, 0.9, 0.9])

    def validate(head, users, items):
        assert not head.training and users is user_emb
        return {"ndcg": next(scores)}

    settings = replace(SETTINGS, head_epochs=6, patience=2)
    _, fit = head_training.fit_head("BL", user_emb, item_emb, task.train, settings, seed=0, validate=validate)
    assert fit.stopped_by == "patience" and fit.best_epoch == 2 and len(fit.history) == 4
    assert list(fit.history["val_ndcg"]) == [0.1, 0.3, 0.2, 0.25]


def test_validation_task_holds_out_target_training_pairs():
    task = task_lib.TargetTask.from_dataset(task_lib.synthetic_dataset(SETTINGS.synthetic_scale, "sparse", 1))
    fitting = task.holdout(0.1, seed=0)
    assert fitting.train.nnz + fitting.test.nnz == task.train.nnz
    assert fitting.test.nnz == round(0.1 * task.train.nnz)
    assert fitting.train.multiply(fitting.test).nnz == 0 and fitting.items is task.items


def random_task_embeddings(seed: int = 1):
    task = task_lib.TargetTask.from_dataset(task_lib.synthetic_dataset(SETTINGS.synthetic_scale, "sparse", seed))
    generator = torch.Generator().manual_seed(0)
    return (task, torch.randn(task.train.shape[0], 8, generator=generator),
            torch.randn(task.train.shape[1], 8, generator=generator))


def test_head_batches_visit_every_positive_once_with_unobserved_negatives():
    task, user_emb, item_emb = random_task_embeddings()
    objective = head_training.HeadObjective(HEADS.build("BL", 8, SETTINGS.hidden), user_emb, item_emb, task.train,
                                            SETTINGS, seed=5)
    epochs = [[torch.cat(column).numpy() for column in zip(*objective.batches(epoch))] for epoch in (1, 2)]
    interacted = task.train.toarray() > 0
    for users, positives, negatives in epochs:
        assert len(users) == task.train.nnz and negatives.shape == (task.train.nnz, SETTINGS.n_negatives)
        assert interacted[users, positives].all()
        assert not interacted[np.repeat(users, SETTINGS.n_negatives), negatives.ravel()].any()
        assert len(set(zip(users, positives))) == task.train.nnz
    assert not np.array_equal(epochs[0][0], epochs[1][0])  # a new order every epoch
    assert objective.n_batches() == -(-task.train.nnz // SETTINGS.head_batch_size)


def test_head_curve_is_recorded_every_eval_every_epochs():
    torch.set_num_threads(1)
    task, user_emb, item_emb = random_task_embeddings()
    settings = replace(SETTINGS, head_epochs=4, eval_every=2)
    calls = []

    def curve(head):
        calls.append(head.training)
        return {"ndcg": float(len(calls))}

    _, fit = head_training.fit_head("Gated", user_emb, item_emb, task.train, settings, seed=0, curve=curve)
    assert calls == [False, False]  # measured in eval mode after epochs 2 and 4
    assert list(fit.history["ndcg"].isna()) == [True, False, True, False]
    dot, none = head_training.fit_head("dot", user_emb, item_emb, task.train, settings, seed=0, curve=curve)
    assert not list(dot.parameters()) and none is None and len(calls) == 2


def test_end_to_end_training_is_deterministic_and_moves_the_encoder():
    torch.set_num_threads(1)
    task = task_lib.TargetTask.from_dataset(task_lib.synthetic_dataset(SETTINGS.synthetic_scale, "sparse", 2))
    trained = []
    for _ in range(2):
        encoder, _ = lib.train_with_holdout("Siamese GCN", task.dataset, SETTINGS.encoder_settings(), 0)
        before = encoder.embedding.weight.detach().clone()
        encoder, head, fit = head_training.fit_end_to_end(encoder, "BLA", task.train, task.items, SETTINGS, seed=0)
        assert not torch.equal(before, encoder.embedding.weight) and not head.training and not encoder.training
        assert fit.stopped_by == "cap" and len(fit.history) == SETTINGS.head_epochs
        trained.append([p.detach().clone() for p in (*encoder.parameters(), *head.parameters())])
    assert all(torch.equal(a, b) for a, b in zip(*trained))


def test_interaction_settings_read_the_amazon_block(tmp_path):
    config = load_config("02_bilinear_attention", "smoke", 0, None, None, str(tmp_path), {})
    synthetic = lib.InteractionSettings.from_config(config)
    amazon = lib.InteractionSettings.from_config(config, "amazon")
    assert synthetic.ks == (5, 10, 15, 20, 30) and synthetic.encoder_max_batches is None
    assert (amazon.encoder_epochs, amazon.encoder_max_batches, amazon.max_users, amazon.n_seeds) == (1, 2, 200, 1)
    assert amazon.encoder_settings().max_batches == 2 and amazon.dim == synthetic.dim
    assert synthetic.encoder_settings().patience == synthetic.patience  # one patience for encoders and heads


def test_fig13_precision_at_15_shows_the_values_the_text_states():
    _, methods, columns = tables._fig_columns("Fig. 13")
    (at_15,) = [column for column in columns if column.label == "precision@15"]
    expected = {"Siamese GCN + BLA": 0.074, "GCN + BL": 0.068, "GraphSAGE + self-attention": 0.063,
                "MF + MLP": 0.059}
    assert set(methods) == set(expected)
    assert {model: tables.paper_value(model, at_15.paper) for model in methods} == pytest.approx(expected)
    (at_20,) = [column for column in columns if column.label == "precision@20"]
    assert tables.paper_value("GCN + BL", at_20.paper) == pytest.approx(0.069)


def test_fig12a_paper_column_and_panel_say_the_paper_names_neither_group_nor_k():
    _, methods, columns = tables._fig_columns("Fig. 12")
    (ndcg,) = [column for column in columns if column.paper and column.paper["source"] == "Fig. 12(a)"]
    assert ndcg.paper_label and "not stated" in ndcg.paper_label and "@20" not in ndcg.paper_label
    (claim,) = [claim for claim in claims.CLAIMS if claim.source == "Fig. 12(a)"]
    assert all("neither the group nor K" in text for text, _ in claim.pairs())
    metrics = pd.DataFrame([{"group": "methods", "model": model, "scenario": "standard", "slice": slice_name,
                             "k": 20, "metric": metric, "value": 0.1, "seed": 0}
                            for model in methods for slice_name in ("high-value users", "long-tail products")
                            for metric in ("ndcg", "hr")])
    figure = figures.business_scenarios(metrics, "synthetic", methods)
    title = figure.axes[0].get_title()
    assert "NDCG@20 on high-value users" in title and "neither the group nor K" in title
