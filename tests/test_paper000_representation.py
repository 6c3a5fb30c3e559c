"""Paper 000 representation runner end to end on tiny synthetic data, tables, verdicts, embedding cache, figures."""

import dataclasses
import math

import matplotlib
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch

from xrec_lib.compare import OUTCOMES
from xrec_lib.config import load_config
from xrec_lib.data.crossdomain import TARGET
from xrec_lib.data.synthetic_crossdomain import generate_crossdomain
from xrec_lib.errors import ConfigError
from xrec_lib.models import GCN, GraphData, SiameseGCN
from xrec_lib.models.encoders import ENCODERS
from xrec_lib.studies.paper000.figures import plot_fig6, plot_learning_curves, plot_metric_curves
from xrec_lib.studies.paper000.representation import (MODELS, RepresentationSettings, load_siamese_embeddings,
                                                      run_representation, scaled_synthetic_config,
                                                      store_siamese_embeddings)
from xrec_lib.studies.paper000.representation_tables import (BASELINES, STATEMENTS, alignment_ablation,
                                                             claim_verdicts, claims, curves_table, figure_table,
                                                             paper_gap, paper_value)
from xrec_lib.studies.paper000.verdicts import at_chance, chance_reason, collapsed, lift, reference_results
from xrec_lib.training.encoders import EncoderTrainConfig, embeddings, train_encoder
from xrec_lib.training.loop import STOP_REASONS

matplotlib.use("Agg")
torch.set_num_threads(1)
SETTINGS = RepresentationSettings(dim=8, n_layers=1, lightgcn_layers=1, epochs=2, batch_size=2048, lr=0.01)


@pytest.fixture(scope="module")
def tiny():
    dataset = generate_crossdomain(scaled_synthetic_config(0.01, "sparse"), seed=0)
    return dataset, run_representation(dataset, SETTINGS, seeds=[0], label="synthetic, sparse", ks=(5, 15, 20))


def test_runner_evaluates_every_model_at_every_k(tiny):
    dataset, run = tiny
    assert dataset.synthetic and dataset.n_users == round(52_516 * 0.01)
    assert set(run.metrics["model"]) == set(MODELS) and sorted(run.metrics["k"].unique()) == [5, 15, 20]
    assert run.metrics[["hr", "ndcg", "coverage"]].apply(lambda c: c.between(0, 1)).all().all()
    assert set(run.per_user["k"]) == {15, 20}
    assert {"loss", "val_ndcg", "best", "model", "seed"} <= set(run.history.columns)
    assert run.history.groupby("model")["best"].sum().eq(1).all()
    user_emb, item_emb = run.embeddings[("Siamese GCN", 0)]
    assert user_emb.shape == (dataset.n_users, 8) and item_emb.shape == (dataset.n_products, 8)


def test_evaluation_is_on_the_target_domain(tiny):
    """Only users with a target-domain test interaction are scored, and the chance levels are those of ranking the
    target products (a random list of 20 of them)."""
    dataset, run = tiny
    target_users = np.unique(dataset.test.user[dataset.test.domain == TARGET])
    users = run.per_user.loc[run.per_user["model"] == "MF", "user"].unique()
    assert set(users) == set(target_users) and len(target_users) < len(np.unique(dataset.test.user))
    n_target = int((dataset.product_domain == TARGET).sum())
    chance = run.references.set_index(["k", "metric"])["chance"]
    assert chance[(20, "recall")] == pytest.approx(20 / n_target, rel=0.3)
    assert (run.references["ideal"] > run.references["chance"]).all()


def test_every_fit_is_kept_with_its_stopping_reason(tiny):
    _, run = tiny
    assert [labels["model"] for labels, _ in run.fits] == list(MODELS)
    for labels, fit in run.fits:
        assert fit.module is None and fit.stopped_by in STOP_REASONS and labels["seed"] == 0
        assert "val_ndcg" in fit.history and fit.summary()["epochs"] == len(fit.history)


def test_every_encoder_trains_with_the_same_loss_and_budget():
    for profile in ("smoke", "paper"):
        config = load_config("01_siamese_gcn", profile, 0, None, None, None, {})
        settings = RepresentationSettings.from_config(config)
        assert settings.loss == "bpr" and settings.train_config(3).loss == "bpr"
        assert settings.train_config(0).loop().patience == settings.patience


def test_each_seed_draws_its_own_data():
    drawn = []

    def draw(seed):
        drawn.append(seed)
        return generate_crossdomain(scaled_synthetic_config(0.01, "sparse"), seed=seed)

    run = run_representation(draw, dataclasses.replace(SETTINGS, epochs=1), seeds=[0, 1], label="synthetic",
                             models=["MF"], ks=(20,))
    assert drawn == [0, 1] and run.metrics["seed"].tolist() == [0, 1]
    chance = run.references[run.references["metric"] == "hr"].set_index("seed")["chance"]
    assert chance[0] != chance[1]  # different test sets


def test_tables_carry_paper_values_beside_ours(tiny):
    _, run = tiny
    fig6 = figure_table(run, "Fig. 6", scenario=1)
    siamese_hr = fig6[(fig6["model"] == "Siamese GCN") & (fig6["metric"] == "hr")]
    assert siamese_hr["paper"].notna().all() and siamese_hr["data"].iloc[0] == "synthetic, sparse"
    assert fig6.loc[fig6["model"] == "MF", "paper"].isna().all()
    assert figure_table(run, "Fig. 6", scenario=2)["paper"].notna().sum() == 2  # Fig. 6(b): HR of Siamese GCN, RGCN
    with pytest.raises(ConfigError):
        figure_table(run, "Fig. 99")
    curves = curves_table(run, ["ndcg", "map"])
    assert len(curves) == len(MODELS) * 3


def test_fig8_coverage_table_shows_rgcns_value_derived_from_the_stated_gap():
    assert paper_value("Fig. 8", "coverage", "RGCN") == pytest.approx(0.172)
    assert paper_value("Fig. 8", "coverage", "Siamese GCN") == pytest.approx(0.188)
    assert paper_gap("Fig. 8(b)", "coverage", "Siamese GCN", "RGCN") == pytest.approx(0.016)


def converged(run):
    """``run`` with every training run marked converged (the fixture's runs stop at their 2-epoch cap)."""
    return dataclasses.replace(run, fits=[(labels, dataclasses.replace(fit, converged=True))
                                          for labels, fit in run.fits])


def test_a_claim_on_an_unconverged_run_does_not_count(tiny):
    _, run = tiny
    fits = [(labels, dataclasses.replace(fit, converged=labels["model"] != "RGCN")) for labels, fit in run.fits]
    above_chance = run.references.assign(chance=0.0, ideal=1e-6)  # no claim is at chance
    verdicts = claim_verdicts({"sparse": dataclasses.replace(run, fits=fits, references=above_chance)})
    rgcn = verdicts.index.str.contains("beats RGCN")
    assert (verdicts.loc[rgcn, "verdict"] == "not comparable").all()
    assert verdicts.loc[rgcn, "reason"].str.startswith("not converged").all()
    assert verdicts.loc[rgcn, "reason"].str.contains(r"RGCN \(seed 0\)").all()
    assert not verdicts.loc[~rgcn, "reason"].fillna("").str.startswith("not converged").any()


def test_verdicts_are_per_user_with_one_seed(tiny):
    _, run = tiny
    verdicts = claim_verdicts({"sparse": converged(run)})
    assert len(verdicts) == (len(STATEMENTS) - 1) * len(BASELINES)  # the sufficient-scenario statement is left out
    assert set(verdicts["verdict"]) <= set(OUTCOMES)
    testable = verdicts["verdict"] != "not comparable"
    assert (verdicts["family_size"] == testable.sum()).all()  # one Holm family: every claim of the notebook
    assert (verdicts.loc[~verdicts.index.str.contains("coverage"), "unit"] == "user").all()
    coverage = verdicts[verdicts.index.str.contains("coverage")]
    assert (coverage["verdict"] == "not comparable").all() and (coverage["reason"] == "fewer than 2 pairs").all()
    assert set(verdicts["item"]) == {"fig6", "fig7", "fig8"}
    ablation = verdicts.index.str.contains("GCN + BPR + alignment", regex=False)
    assert ablation.sum() == len(STATEMENTS) - 1  # the alignment ablation pair of every statement
    gap = verdicts.loc[verdicts.index.str.startswith("Siamese GCN beats RGCN on hr@20"), "paper_gap"]
    assert gap.iloc[0] == pytest.approx(0.126 - 0.107)


def test_beats_the_baselines_is_tested_against_every_compared_model():
    pairs = claims()
    assert len(pairs) == len(STATEMENTS) * len(BASELINES)
    assert {worse for *_, worse in pairs} == set(MODELS) - {"Siamese GCN"}


def test_runs_at_chance_are_not_comparable(tiny):
    """Both sides within the chance band of a random ranking: the claim cannot be tested."""
    _, run = tiny
    at_chance = dataclasses.replace(converged(run), references=run.references.assign(chance=0.0, ideal=1e3))
    verdicts = claim_verdicts({"sparse": at_chance})
    ranking = verdicts[~verdicts.index.str.contains("coverage")]
    assert (ranking["verdict"] == "not comparable").all()
    assert ranking["reason"].str.startswith("both runs at chance").all()
    assert (verdicts["family_size"] == 0).all()


@pytest.mark.filterwarnings("ignore:Precision loss occurred")
def test_collapsed_seeds_are_flagged(tiny):
    """Five seeds, one of which left MF at chance while its other seeds are not: flagged beside the verdict."""
    _, run = tiny
    metrics = pd.concat([run.metrics.assign(seed=s) for s in range(5)], ignore_index=True)
    references = pd.concat([run.references.assign(seed=s) for s in range(5)], ignore_index=True)
    chance = references.set_index(["seed", "k", "metric"])["chance"]
    collapsed = (metrics["model"] == "MF") & (metrics["seed"] == 3)
    metrics.loc[collapsed, "hr"] = [chance[(3, k, "hr")] for k in metrics.loc[collapsed, "k"]]
    metrics.loc[(metrics["model"] == "MF") & ~collapsed, "hr"] = 0.9
    five = dataclasses.replace(converged(run), metrics=metrics, references=references)
    verdicts = claim_verdicts({"sparse": five})
    flagged = verdicts.loc[verdicts.index.str.startswith("Siamese GCN beats MF on hr@20"), "collapsed"].iloc[0]
    assert flagged == ["3 (MF)"] and verdicts["unit"].eq("seed").all()


def test_alignment_ablation_pairs_gcn_with_and_without_the_alignment_loss(tiny):
    _, run = tiny
    table = alignment_ablation({"sparse": run})
    assert list(table["variant"]) == ["GCN + BPR", "GCN + BPR + alignment (Siamese GCN)",
                                      "difference (alignment - none)"]
    gcn, siamese = (run.metrics[(run.metrics["k"] == 20) & (run.metrics["model"] == m)]["ndcg"].iloc[0]
                    for m in ("GCN", "Siamese GCN"))
    assert float(table["ndcg@20"].iloc[2]) == pytest.approx(siamese - gcn, abs=1e-4)


def test_embeddings_round_trip_through_the_cache(tiny, tmp_path):
    dataset, run = tiny
    path = store_siamese_embeddings(run, dataset, SETTINGS, 0, cache_dir=str(tmp_path))
    assert path.startswith(str(tmp_path))
    entry = load_siamese_embeddings(dataset, SETTINGS, 0, cache_dir=str(tmp_path))
    assert np.array_equal(entry["user_emb"], run.embeddings[("Siamese GCN", 0)][0])


def test_figures_have_the_papers_panels(tiny):
    _, run = tiny
    fig6 = plot_fig6({"sparse": figure_table(run, "Fig. 6", 1), "sufficient": figure_table(run, "Fig. 6", 2)})
    assert [ax.get_title()[:3] for ax in fig6.axes] == ["(a)", "(b)"]
    fig7 = plot_metric_curves(curves_table(run, ["ndcg", "map"]), ("ndcg", "map"), figure_table(run, "Fig. 7"),
                              "Fig. 7")
    assert len(fig7.axes) == 2 and len(fig7.axes[0].get_lines()) >= len(MODELS)
    assert "synthetic" in fig7.axes[0].get_title()
    assert len(plot_learning_curves(run.history, run.label).axes) == 2


def test_scaled_config_rejects_bad_scale():
    with pytest.raises(ConfigError, match="synthetic_scale"):
        scaled_synthetic_config(1.5, "sparse")


def test_siamese_gcn_without_alignment_trains_exactly_like_gcn(tiny):
    """With the auxiliary loss off, the Siamese GCN is GCN + the same loss: same init, same steps, same vectors
    (so a gap between the two comes from the alignment term, not from scoring or evaluation)."""
    dataset, _ = tiny
    graph, train = GraphData.from_dataset(dataset), dataset.interaction_matrix("train")
    config = EncoderTrainConfig(epochs=2, batch_size=2048, lr=0.01, loss="bpr")
    vectors = []
    for build in (lambda: GCN(graph, 8, 2), lambda: SiameseGCN(graph, 8, 2, views=None)):
        torch.manual_seed(0)
        vectors.append(embeddings(train_encoder(build(), train, None, config).module))
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(*vectors))


def test_amazon_settings_read_the_amazon_block(tmp_path):
    overrides = {"amazon": {"alignment_weight": 0.02}}
    config = load_config("01_siamese_gcn", "paper", 0, None, None, str(tmp_path), overrides)
    settings = RepresentationSettings.from_config(config, "amazon", device=config.device)
    assert settings.alignment_weight == 0.02 and settings.epochs == config["amazon"]["epochs"]
    assert settings.max_batches == config["amazon"]["max_batches"] and settings.dim == config["dim"]
    assert settings.n_seeds == 1 and RepresentationSettings.from_config(config).alignment_weight == 0.1


def test_settings_refuse_a_misspelt_profile_key():
    with pytest.raises(ConfigError, match="unknown parameter"):
        RepresentationSettings.from_config({"dim": 8, "epoch": 2})
    with pytest.raises(ConfigError, match="amazon"):
        RepresentationSettings.from_config({"amazon": {"epoch": 2}}, "amazon")


def test_every_compared_model_is_a_registered_encoder(tiny):
    dataset, _ = tiny
    graph = GraphData.from_dataset(dataset)
    for name in MODELS:
        user_emb, item_emb = ENCODERS.build(name, graph, SETTINGS)()
        assert user_emb.shape == (dataset.n_users, SETTINGS.dim) and item_emb.shape == (dataset.n_products, 8)
    with pytest.raises(ConfigError, match="unknown encoder 'GAT'"):
        ENCODERS.build("GAT", graph, SETTINGS)


def test_reference_levels_are_those_of_a_random_and_a_perfect_ranking():
    rng = np.random.default_rng(0)
    dense = (rng.random((400, 50)) < 0.04).astype(np.float32)
    dense[dense.sum(1) == 0, 0] = 1.0
    random, perfect = (r.summary()[10] for r in reference_results(sp.csr_matrix(dense), None, [10], seed=1))
    assert perfect["hr"] == 1.0 and perfect["ndcg"] == pytest.approx(1.0)
    assert random["recall"] == pytest.approx(10 / 50, abs=0.03)  # a random list of 10 of 50 products
    assert lift(random["ndcg"], random["ndcg"], perfect["ndcg"]) == 0.0
    assert at_chance(0.51, 0.5, 1.0) and not at_chance(0.53, 0.5, 1.0)  # AUC: within 0.02 of 0.5


def test_chance_reason_and_collapsed_flags():
    assert chance_reason("auc", {"A": 0.51, "B": 0.49}, 0.5, 1.0).startswith("both runs at chance on auc")
    assert chance_reason("auc", {"A": 0.7, "B": 0.5}, 0.5, 1.0) is None  # one side above chance: testable
    assert chance_reason("ndcg", {"A": 0.0, "B": 0.0}, math.nan, 1.0) is None
    lifts = {"A": pd.Series([0.5, 0.52, 0.01, 0.49]), "B": pd.Series([0.0, 0.01, 0.02, 0.0])}
    assert collapsed(lifts) == ["2 (A)"]  # B is at chance on every seed: not a collapse, a model at chance
