"""The one training loop and the graph-encoder objective: losses, negatives, stopping reasons, determinism."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from xrec_lib.errors import ConfigError, DataError
from xrec_lib.models import GraphData, LightGCN, MatrixFactorization
from xrec_lib.training import FitResult, LoopConfig, Objective, TrainingError, fit as fit_loop
from xrec_lib.training.encoders import EncoderTrainConfig as TrainConfig, evaluate_encoder, split_validation
from xrec_lib.training.encoders import train_encoder as fit
from xrec_lib.training.losses import ranking_loss
from xrec_lib.training.negatives import sample_negatives

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
    hr = evaluate_encoder(model, train, None, [5]).summary()[5]["hr"]
    assert hr > 0.9


def test_early_stopping_triggers_and_restores_the_best_epoch():
    train = toy_interactions()
    fit_part, valid = split_validation(train, 0.25, seed=0)
    torch.manual_seed(0)
    model = MatrixFactorization(GraphData.from_interactions(fit_part), dim=8)
    result = fit(model, fit_part, valid, TrainConfig(epochs=200, batch_size=64, lr=0.05, patience=2))
    assert result.stopped_early and len(result.history) < 200
    assert result.best_epoch == result.history.loc[result.history["val_ndcg"].idxmax(), "epoch"]
    restored = evaluate_encoder(model, valid, fit_part, [20]).summary()[20]["ndcg"]
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


def test_ranking_loss_broadcasts_several_negatives_per_positive():
    positive, negatives = torch.tensor([1.0, 2.0]), torch.tensor([[0.0, 1.0], [3.0, 2.0]])
    expected = ranking_loss(positive.repeat_interleave(2), negatives.flatten(), "bce")
    assert ranking_loss(positive, negatives, "bce").item() == pytest.approx(expected.item())


def test_popularity_negatives_follow_the_given_probabilities():
    train = sp.csr_matrix((np.ones(1, np.float32), ([0], [0])), shape=(1, 4))
    negatives = sample_negatives(np.zeros(4000, dtype=np.int64), train, np.random.default_rng(0),
                                 probabilities=np.array([0.5, 0.3, 0.1, 0.1]))
    assert not (negatives == 0).any()
    assert (negatives == 1).mean() == pytest.approx(0.6, abs=0.05)


class _Quadratic(Objective):
    """Fits a scalar ``w`` to ``target``; validation returns a scripted sequence of scores."""

    def __init__(self, scores=None, target=1.0, loss_value=None):
        self.module = torch.nn.Linear(1, 1, bias=False)
        self.scores, self.target, self.loss_value = list(scores or []), target, loss_value

    def n_batches(self):
        return 2

    def batches(self, epoch):
        return [0, 1]

    def loss(self, batch):
        if self.loss_value is not None:
            return torch.tensor(self.loss_value, requires_grad=True)
        return (self.module.weight.sum() - self.target) ** 2

    def validate(self):
        return {"score": self.scores.pop(0)} if self.scores else None


def test_loop_stops_by_patience_and_restores_the_best_state():
    objective = _Quadratic(scores=[0.1, 0.5, 0.4, 0.45, 0.3, 0.2])
    result = fit_loop(objective, LoopConfig(max_epochs=10, lr=0.1, patience=2))
    assert result.stopped_by == "patience" and result.converged and len(result.history) == 4
    assert result.best_epoch == 2 and result.best_score == 0.5
    assert result.summary()["stopped_by"] == "patience"


def test_loop_reports_the_cap_and_whether_the_last_scores_had_settled():
    rising = fit_loop(_Quadratic(scores=[0.1, 0.2, 0.3, 0.4]), LoopConfig(max_epochs=4, lr=0.1, patience=3))
    assert rising.stopped_by == "cap" and not rising.converged and rising.best_epoch == 4
    flat = fit_loop(_Quadratic(scores=[0.1, 0.5, 0.5, 0.5]), LoopConfig(max_epochs=4, lr=0.1, patience=3))
    assert flat.stopped_by == "cap" and flat.converged
    unvalidated = fit_loop(_Quadratic(), LoopConfig(max_epochs=3, lr=0.1))
    assert unvalidated.stopped_by == "cap" and not unvalidated.converged and unvalidated.best_epoch == 3


def test_loop_minimises_when_asked_and_stops_on_time():
    result = fit_loop(_Quadratic(scores=[3.0, 1.0, 2.0, 2.5]), LoopConfig(max_epochs=4, lr=0.1, mode="min"))
    assert result.best_epoch == 2 and result.best_score == 1.0
    timed = fit_loop(_Quadratic(), LoopConfig(max_epochs=50, lr=0.1, max_minutes=0.0))
    assert timed.stopped_by == "time" and len(timed.history) == 1


def test_loop_refuses_a_non_finite_loss_and_bad_settings():
    with pytest.raises(TrainingError, match="loss is nan at epoch 1"):
        fit_loop(_Quadratic(loss_value=float("nan")), LoopConfig(max_epochs=2, lr=0.1))
    with pytest.raises(ConfigError, match="schedule"):
        LoopConfig(max_epochs=1, lr=0.1, schedule="cosine")
    with pytest.raises(ConfigError, match="monitor"):
        fit_loop(_Quadratic(scores=[1.0]), LoopConfig(max_epochs=1, lr=0.1, monitor="auc"))


def test_linear_schedule_reaches_zero_at_the_cap():
    objective = _Quadratic()
    history = fit_loop(objective, LoopConfig(max_epochs=4, lr=0.2, schedule="linear")).history
    assert history["lr"].tolist() == pytest.approx([0.2, 0.15, 0.1, 0.05])
    assert isinstance(fit_loop(_Quadratic(), LoopConfig(max_epochs=1, lr=0.1)), FitResult)


def test_hard_negatives_train_on_the_highest_scoring_candidate():
    from xrec_lib.training.encoders import EncoderObjective
    train = toy_interactions()
    torch.manual_seed(0)
    model = MatrixFactorization(GraphData.from_interactions(train), dim=8)
    u, i = torch.tensor([0, 1]), torch.tensor([int(train[0].indices[0]), int(train[1].indices[0])])
    j = torch.tensor([[5, 6, 7], [8, 9, 10]])
    user_emb, item_emb = model()
    scores = (user_emb[u].unsqueeze(1) * item_emb[j]).sum(-1)
    positive = (user_emb[u] * item_emb[i]).sum(1)
    expected = {False: ranking_loss(positive, scores).item(),
                True: ranking_loss(positive, scores.max(1, keepdim=True).values).item()}
    for hard in (False, True):
        config = TrainConfig(n_negatives=3, hard_negatives=hard, l2=0.0)
        _, logs = EncoderObjective(model, train, None, config).loss((u, i, j))
        assert logs["loss"] == pytest.approx(expected[hard], rel=1e-6)
    assert expected[True] > expected[False]  # the hardest negative costs more than the average one


def test_several_negatives_per_interaction_are_drawn_and_learnt_from():
    from xrec_lib.training.encoders import EncoderObjective
    train = toy_interactions(per_user=6)
    config = TrainConfig(batch_size=32, n_negatives=4, hard_negatives=True)
    objective = EncoderObjective(MatrixFactorization(GraphData.from_interactions(train), dim=8), train, None, config)
    u, i, j = next(iter(objective.batches(0)))
    assert j.shape == (32, 4)
    assert train.toarray()[np.repeat(u.numpy(), 4), j.reshape(-1).numpy()].sum() == 0
    torch.manual_seed(0)
    model = LightGCN(GraphData.from_interactions(train), dim=16, n_layers=2)
    fit(model, train, None, TrainConfig(epochs=60, batch_size=40, lr=0.05, l2=0.0, n_negatives=4, hard_negatives=True))
    assert evaluate_encoder(model, train, None, [5]).summary()[5]["hr"] > 0.9
    with pytest.raises(ConfigError, match="n_negatives"):
        TrainConfig(n_negatives=0)
