"""The training loop: losses, negatives, overfitting a toy graph, early stopping, determinism."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from xrec_lib.errors import ConfigError, DataError
from xrec_lib.models import GraphData, LightGCN, MatrixFactorization
from xrec_lib.train import (TrainConfig, evaluate_model, fit, ranking_loss, sample_negatives, split_validation)

torch.set_num_threads(1)


def toy_interactions(n_users: int = 20, n_items: int = 30, per_user: int = 4, seed: int = 0) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    rows = np.repeat(np.arange(n_users), per_user)
    cols = np.concatenate([rng.choice(n_items, per_user, replace=False) for _ in range(n_users)])
    return sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(n_users, n_items))


def test_ranking_losses_on_a_hand_case():
    positive, negative = torch.tensor([2.0, 0.0]), torch.tensor([0.0, 1.0])
    assert ranking_loss(positive, negative, "bpr").item() == pytest.approx(
        np.mean([np.log1p(np.exp(-2.0)), np.log1p(np.exp(1.0))]), rel=1e-6)
    assert ranking_loss(positive, negative, "margin", margin=1.0).item() == pytest.approx((0.0 + 2.0) / 2)
    assert ranking_loss(positive, negative, "bce").item() == pytest.approx(
        np.mean([np.log1p(np.exp(-2.0)) + np.log1p(np.exp(0.0)), np.log1p(np.exp(0.0)) + np.log1p(np.exp(1.0))]),
        rel=1e-6)
    with pytest.raises(ConfigError, match="unknown loss"):
        TrainConfig(loss="hinge")


def test_negatives_are_never_training_items():
    train = toy_interactions(per_user=15)
    users = np.repeat(np.arange(20), 50)
    negatives = sample_negatives(users, train, np.random.default_rng(0))
    assert train[users, negatives].sum() == 0
    full = sp.csr_matrix(np.ones((2, 3), dtype=np.float32))
    with pytest.raises(DataError, match="negatives"):
        sample_negatives(np.array([0]), full, np.random.default_rng(0))


def test_split_validation_partitions_the_interactions():
    train = toy_interactions()
    fit_part, valid = split_validation(train, 0.25, seed=1)
    assert fit_part.nnz + valid.nnz == train.nnz and valid.nnz == 20
    assert (fit_part.multiply(valid)).nnz == 0


def test_lightgcn_overfits_a_toy_graph():
    train = toy_interactions()
    torch.manual_seed(0)
    model = LightGCN(GraphData.from_interactions(train), dim=16, n_layers=2)
    result = fit(model, train, None, TrainConfig(epochs=150, batch_size=80, lr=0.05, l2=0.0))
    assert result.history["loss"].iloc[-1] < 0.5 * result.history["loss"].iloc[0]
    hr = evaluate_model(model, train, None, [5]).summary()[5]["hr"]
    assert hr > 0.9


def test_early_stopping_triggers_and_restores_the_best_epoch():
    train = toy_interactions()
    fit_part, valid = split_validation(train, 0.25, seed=0)
    torch.manual_seed(0)
    model = MatrixFactorization(GraphData.from_interactions(fit_part), dim=8)
    result = fit(model, fit_part, valid, TrainConfig(epochs=200, batch_size=64, lr=0.05, patience=2))
    assert result.stopped_early and len(result.history) < 200
    assert result.best_epoch == result.history.loc[result.history["val_ndcg"].idxmax(), "epoch"]
    restored = evaluate_model(model, valid, fit_part, [20]).summary()[20]["ndcg"]
    assert restored == pytest.approx(result.best_score)


def test_same_seed_gives_the_same_history(tmp_path):
    train = toy_interactions()
    fit_part, valid = split_validation(train, 0.25, seed=0)

    def run(seed: int):
        torch.manual_seed(seed)
        model = LightGCN(GraphData.from_interactions(fit_part), dim=8, n_layers=2)
        config = TrainConfig(epochs=4, batch_size=32, lr=0.01, seed=seed, checkpoint_path=tmp_path / "best.pt")
        return fit(model, fit_part, valid, config).history.drop(columns=["seconds", "elapsed_s"])

    first, second, other = run(3), run(3), run(4)
    assert first.equals(second)
    assert not first["loss"].equals(other["loss"])
    assert (tmp_path / "best.pt").is_file()


def test_fit_refuses_a_mismatched_matrix():
    model = MatrixFactorization(GraphData.from_interactions(toy_interactions()), dim=4)
    with pytest.raises(DataError, match="training matrix"):
        fit(model, toy_interactions(n_items=31), None, TrainConfig(epochs=1))


def test_learning_rate_decays_per_epoch_and_each_row_is_reported():
    rows = []
    train = toy_interactions()
    fit(MatrixFactorization(GraphData.from_interactions(train), dim=4), train, None,
        TrainConfig(epochs=3, batch_size=32, lr=0.1, lr_decay=0.5, on_epoch=rows.append))
    assert [row["epoch"] for row in rows] == [1, 2, 3] and all("elapsed_s" in row for row in rows)
    with pytest.raises(ConfigError, match="lr_decay"):
        TrainConfig(lr_decay=1.5)
    constant, decayed = (fit(MatrixFactorization(GraphData.from_interactions(train), dim=4), train, None,
                             TrainConfig(epochs=3, batch_size=32, lr=0.1, lr_decay=gamma)).history["loss"]
                         for gamma in (1.0, 0.01))
    assert constant.iloc[0] == decayed.iloc[0] and constant.iloc[2] != decayed.iloc[2]
