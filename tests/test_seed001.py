"""MMSA regression metrics by hand, synthetic data, the experiment runners on tiny inputs, determinism."""

import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from xrec_lib.data.bytedance import load_bytedance_sample
from xrec_lib.data.synthetic_multimodal import MOSI_SHAPE, MultimodalShape, SignalSpec, synthetic_multimodal
from xrec_lib.errors import DataError
from xrec_lib.experiments import seed001_multimodal as mm
from xrec_lib.experiments import seed001_recommender as rec
from xrec_lib.metrics_regression import regression_metrics
from xrec_lib.models.xdeepfm import CTRModel
from xrec_lib.plots import seed001 as plots

TINY = MultimodalShape("tiny", (24, 8, 10), {"text": 6, "audio": 3, "vision": 4}, seq_len=5)
PARAMS = dict(dim=8, n_heads=2, hidden=8, dropout=0.0, epochs=2, lr=1e-3, batch_size=8)
REC = dict(emb_dim=4, cin_layers=[4, 2], cin_variant="deepctr", rec_lr=1e-2, rec_epochs=1, n_train_negatives=1,
           rec_batch_size=64, n_eval_negatives=9)


def test_regression_metrics_by_hand():
    labels = np.array([2.0, -1.0, 0.0, 0.4])
    predictions = np.array([1.0, 0.5, -0.2, 2.6])
    m = regression_metrics(predictions, labels)
    assert math.isclose(m["mae"], (1 + 1.5 + 0.2 + 2.2) / 4)
    assert math.isclose(m["acc2_has0"], 2 / 4)      # has-zero classes: >=0 -> T,F,T,T vs preds T,T,F,T
    assert math.isclose(m["acc2_non0"], 2 / 3)      # zero label dropped: (T,F,T) vs (T,T,T)
    assert math.isclose(m["f1_non0"], (2 * 0.8 + 1 * 0.0) / 3)  # weighted F1: class T f1=0.8 (2), class F 0 (1)
    assert math.isclose(m["acc7"], 1 / 4)           # rounded: 1/2, 0/-1, -0/0, 3/0 -> only sample 3 agrees
    assert math.isclose(m["acc5"], 1 / 4)           # clipped to 2: 1/2, 0/-1, 0/0, 2/0
    assert math.isclose(m["corr"], np.corrcoef(predictions, labels)[0, 1])


def test_regression_metrics_bad_input():
    with pytest.raises(DataError, match="same length"):
        regression_metrics([1.0, 2.0], [1.0])
    with pytest.raises(DataError, match="NaN"):
        regression_metrics([1.0, np.nan], [1.0, 2.0])


def test_synthetic_multimodal_is_mmsa_shaped_and_seeded():
    data = synthetic_multimodal(MOSI_SHAPE.scaled(0.02), seed=3)
    assert set(data) == {"train", "valid", "test"}
    train = data["train"]
    assert train["audio"].shape[1:] == (50, 5) and train["vision"].shape[1:] == (50, 20)
    assert train["text"].shape[1:] == (50, 384) and len(train["regression_labels"]) == 26
    padded = np.arange(50)[None, :] >= train["audio_lengths"][:, None]
    assert np.all(train["audio"][padded] == 0)
    assert np.abs(train["regression_labels"]).max() <= 3
    again = synthetic_multimodal(MOSI_SHAPE.scaled(0.02), seed=3)
    assert np.array_equal(again["test"]["vision"], data["test"]["vision"])
    with pytest.raises(DataError, match="more than 1"):
        synthetic_multimodal(TINY, SignalSpec(signal_share={"text": 0.9, "audio": 0.2}))


def test_run_models_is_deterministic_and_tables_build():
    data = synthetic_multimodal(TINY, seed=0)
    first, history, runs = mm.run_models(data, "synthetic tiny", (mm.PROPOSED, "TFN"), PARAMS, (0, 1))
    again, _, _ = mm.run_models(data, "synthetic tiny", (mm.PROPOSED, "TFN"), PARAMS, (0, 1))
    pd.testing.assert_frame_equal(first, again)
    assert len(first) == 4 and set(history["epoch"]) == {1, 2}
    table = mm.comparison_table(first, "Table III", "synthetic tiny", None)
    assert ("mae", "paper") in table.columns and ("Proposed (LGT + SM + UFF + SLGM) (ours)", "synthetic tiny") in table.index
    labels = mm.slgm_label_table(runs[(mm.PROPOSED, 0)], data["train"], n_samples=3)
    assert list(labels.columns) == ["M", "SLGM-T", "SLGM-A", "SLGM-V"] and len(labels) == 5 + 3
    verdicts = mm.verdicts(first, "tiny", "table3")
    assert [v["item"] for v in verdicts] == ["table3", "table3"]
    assert {v["verdict"] for v in verdicts} <= {"replicated", "not replicated", "not comparable"}
    assert {"train_loss", "train_loss_fusion"} <= set(history.columns)
    slgm_history = history[history["model"] == mm.PROPOSED]
    assert (slgm_history["train_loss"] >= slgm_history["train_loss_fusion"] - 1e-9).all()
    assert (slgm_history[slgm_history["epoch"] == 1]["train_loss"]
            == slgm_history[slgm_history["epoch"] == 1]["train_loss_fusion"]).all()  # unimodal weights start at 0
    assert plots.ablation_figure(first, "synthetic tiny").axes[0].get_title().startswith("(a)")
    assert len(plots.epoch_curves(history, "synthetic tiny").axes[0].get_lines()) >= 2


def test_leave_last_out_warm_split_and_recommenders_on_synthetic():
    train, test = rec.leave_last_out(np.array([0, 0, 0, 1, 1]), np.array([3, 1, 2, 0, 2]), 2, 4)
    assert test.toarray().tolist() == [[0, 0, 1, 0], [0, 0, 1, 0]] and train.nnz == 3
    train, test = rec.leave_last_out(np.array([0, 0, 1, 1]), np.array([0, 1, 0, 2]), 2, 3)
    warm_train, warm_test, text = rec.warm_split(train, test, np.array([[0.0], [1.0], [2.0]]))
    assert warm_train.shape == (2, 1) and warm_test.nnz == 0 and text.tolist() == [[0.0]]  # items 1, 2 only in test
    data = rec.synthetic_short_video(n_users=40, n_items=60, text_dim=8, seed=0)
    assert (np.asarray(data.train.sum(0)).ravel() > 0).all()  # every catalogue item has a training interaction
    result, per_user = rec.run_recommenders(data, REC, (0,))
    assert list(result["model"]) == [rec.POPULARITY, *rec.RECOMMENDERS]
    assert result[["auc", "hr@10"]].apply(lambda c: c.between(0, 1).all()).all()
    assert np.isnan(result.loc[0, "logloss"]) and (result["logloss"].iloc[1:] > 0).all()  # popularity: no probability
    assert set(per_user["model"]) == set(result["model"]) and per_user["auc"].between(0, 1).all()
    verdicts = rec.verdicts(per_user, data.name)
    assert len(verdicts) == 4 and {v["item"] for v in verdicts} == {"fig2"} and {v["unit"] for v in verdicts} == {"user"}
    assert len(plots.recommender_figure(result, data.name).axes) == 2


def test_popularity_scorer_ranks_by_training_count():
    data = rec.synthetic_short_video(n_users=40, n_items=60, text_dim=8, seed=0)
    counts = np.asarray(data.train.sum(0)).ravel()
    scores = rec.popularity_scorer(data)(torch.tensor([0]), torch.tensor([[0, 1, 2]]))
    assert scores.tolist() == [counts[:3].tolist()]


def test_bytedance_sample_fits_the_ctr_model():
    data_dir = os.environ.get("XREC_DATA_DIR")
    if not data_dir or not Path(data_dir, "bytedance-icme2019-sample").is_dir():
        pytest.skip("real data not present: make data")
    sample = load_bytedance_sample(data_dir)
    columns = ["uid", "item_id", "author_id", "channel"]
    codes = np.column_stack([pd.factorize(sample[c])[0] for c in columns])
    model = CTRModel([int(codes[:, i].max()) + 1 for i in range(len(columns))], dim=4, cin_layers=(4, 2))
    logits = model(torch.as_tensor(codes))
    assert logits.shape == (200,) and torch.isfinite(logits).all()


def test_batches_cut_to_the_longest_sequence_give_the_same_predictions():
    data = synthetic_multimodal(TINY, seed=0)
    split = data["test"]
    rows = np.argsort(split["text_lengths"])[:4]  # the shortest sequences: their batch is cut below seq_len
    batch = mm.to_batch(split, rows, "cpu")
    assert batch["text"].shape[1] == split["text_lengths"][rows].max() < TINY.seq_len
    assert torch.equal(batch["text_mask"].sum(1).long(), torch.as_tensor(split["text_lengths"][rows]))
    torch.manual_seed(0)
    model = mm.build_model(mm.PROPOSED, {m: split[m].shape[-1] for m in ("text", "audio", "vision")}, PARAMS).eval()
    full = {m: torch.as_tensor(split[m][rows], dtype=torch.float32) for m in ("text", "audio", "vision")}
    full |= {m + "_mask": (torch.arange(TINY.seq_len)[None, :] < torch.as_tensor(split[m + "_lengths"][rows])[:, None])
             .float() for m in ("text", "audio", "vision")}
    with torch.no_grad():
        torch.testing.assert_close(model(batch)["M"], model(full)["M"])


def test_linear_decay_ends_at_zero_learning_rate():
    model = mm.build_model("Text-only", {"text": 6}, PARAMS)
    optimizer = torch.optim.Adam(mm.parameter_groups(model, 1e-3, 1e-4))
    schedule = mm.learning_rate_schedule(optimizer, total_steps=4, linear_decay=True)
    rates = []
    for _ in range(4):
        optimizer.step()
        schedule.step()
        rates.append(optimizer.param_groups[0]["lr"])
    assert np.allclose(rates, [7.5e-4, 5e-4, 2.5e-4, 0.0])
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    constant = mm.learning_rate_schedule(optimizer, 4, linear_decay=False)
    optimizer.step()
    constant.step()
    assert constant.get_last_lr() == [1e-3]


def test_log_loss_of_logits_by_hand():
    data = rec.synthetic_short_video(n_users=40, n_items=60, text_dim=8, seed=0)
    constant = lambda users, items: torch.zeros(items.shape)  # every candidate at probability 1/2
    metrics, _ = rec.evaluate_scorer(constant, data, REC, seed=0)
    assert math.isclose(metrics["logloss"], math.log(2), rel_tol=1e-6) and metrics["auc"] == 0.5
    first_wins = lambda users, items: torch.where(torch.arange(items.shape[1]) == 0, 2.0, -2.0).expand(items.shape)
    metrics, _ = rec.evaluate_scorer(first_wins, data, REC, seed=0)  # candidate 0 is the held-out positive
    assert math.isclose(metrics["logloss"], math.log1p(math.exp(-2.0)), rel_tol=1e-6) and metrics["auc"] == 1.0
