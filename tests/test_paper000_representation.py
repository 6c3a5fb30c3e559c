"""Paper 000 representation runner end to end on tiny synthetic data, tables, verdicts, embedding cache, figures."""

import matplotlib
import numpy as np
import pytest
import torch

from xrec_lib.compare import OUTCOMES
from xrec_lib.config import load_config
from xrec_lib.data.synthetic_crossdomain import generate_crossdomain
from xrec_lib.errors import ConfigError
from xrec_lib.models import GCN, GraphData, SiameseGCN
from xrec_lib.models.encoders import ENCODERS
from xrec_lib.studies.paper000.figures import plot_fig6, plot_learning_curves, plot_metric_curves
from xrec_lib.studies.paper000.representation import (MODELS, RepresentationSettings, load_siamese_embeddings,
                                                      run_representation, scaled_synthetic_config,
                                                      store_siamese_embeddings)
from xrec_lib.studies.paper000.representation_tables import claim_verdicts, curves_table, figure_table
from xrec_lib.training.encoders import EncoderTrainConfig, embeddings, train_encoder

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


def test_verdicts_are_per_user_with_one_seed(tiny):
    _, run = tiny
    verdicts = claim_verdicts({"sparse": run})
    assert len(verdicts) == 10  # the sufficient-scenario claim is left out
    assert set(verdicts["verdict"]) <= set(OUTCOMES) and (verdicts["family_size"] == verdicts["family_size"].iloc[0]).all()
    assert (verdicts.loc[~verdicts.index.str.contains("coverage"), "unit"] == "user").all()


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
