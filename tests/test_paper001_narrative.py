"""Notebook 03's worked examples and interpretation sentences on constructed inputs."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from xrec_lib.compare import claim_test
from xrec_lib.config import profile_defaults
from xrec_lib.data.microlens import MicroLens
from xrec_lib.data.synthetic_multimodal import MultimodalShape, synthetic_multimodal
from xrec_lib.errors import ConfigError, DataError
from xrec_lib.models.multimodal import PROPOSED
from xrec_lib.studies.paper001 import multimodal as mm
from xrec_lib.studies.paper001 import narrative
from xrec_lib.studies.paper001 import recommender as rec
from xrec_lib.studies.paper001 import study
from xrec_lib.studies.paper001.settings import Paper001Settings

NOTEBOOK = "03_multimodal_short_video"
SMOKE = profile_defaults(NOTEBOOK, "smoke")
TINY = MultimodalShape("tiny", (24, 8, 10), {"text": 6, "audio": 3, "vision": 4}, seq_len=5)
SETTINGS = Paper001Settings.from_config(SMOKE, dim=8, n_heads=2, hidden=8, dropout=0.0, epochs=2, lr=1e-3,
                                        batch_size=8, linear_decay=False, patience=2)


@pytest.fixture(scope="module")
def tiny_runs():
    data = synthetic_multimodal(TINY, seed=0)
    per_seed, history, runs = mm.run_models(data, "synthetic tiny", (PROPOSED, "TFN"), SETTINGS, (0,))
    return study.MultimodalRuns("synthetic tiny", per_seed, history, runs, data, "synthetic_mosi")


def test_clip_example_follows_the_trained_model_and_the_slgm_labels(tiny_runs):
    data, run = tiny_runs.data, tiny_runs.runs[(PROPOSED, 0)]
    example = narrative.clip_example(tiny_runs)
    labels = data["test"]["regression_labels"]
    index = int(np.argmax(np.abs(labels)))
    nearest = int(np.argmin(np.abs(data["train"]["regression_labels"] - labels[index])))
    test_row, train_row = example.iloc[0], example.iloc[1]
    assert example.index[0] == f"test clip {data['test']['id'][index]}"
    assert example.index[1] == f"training clip {data['train']['id'][nearest]}"
    assert test_row["human label"] == pytest.approx(labels[index])
    assert test_row["prediction (M)"] == pytest.approx(run.test_predictions[index], abs=1e-5)  # best epoch's model
    for modality, task in (("text", "T"), ("audio", "A"), ("vision", "V")):
        assert train_row[modality] == pytest.approx(float(run.slgm.labels[task][nearest]))
    assert list(example.columns[:5]) == ["human label", "prediction (M)", "text", "audio", "vision"]
    chosen = narrative.clip_example(tiny_runs, index=3)
    assert chosen.index[0] == f"test clip {data['test']['id'][3]}"
    with pytest.raises(ConfigError, match="outside"):
        narrative.clip_example(tiny_runs, index=len(labels))
    with pytest.raises(DataError, match="without SLGM"):
        narrative.clip_example(tiny_runs, model="TFN")
    text = narrative.clip_text(example)
    assert example.index[0] in text and f"{test_row['prediction (M)']:+.2f}" in text


def test_clip_text_names_the_polarity_and_the_farthest_label():
    example = pd.DataFrame({"human label": [2.0, 1.5], "prediction (M)": [-0.5, 1.2], "text": [1.0, 1.4],
                            "audio": [0.1, -0.9], "vision": [0.3, 1.6], "text/audio/vision are": ["h", "s"]},
                           index=["test clip a", "training clip b"])
    text = narrative.clip_text(example)
    assert "opposite polarity" in text and "error -2.50" in text
    assert "the audio label moved farthest from the human label (-2.40)" in text
    example.loc["test clip a", "prediction (M)"] = 1.0
    assert "the same polarity" in narrative.clip_text(example)


def _lens():
    # user 10: items 1, 2, 3, 4 (4 test, 3 validation); user 11: 2, 1, 5; user 12: 3, 2; user 13: 6, 7 (7 unseen)
    sequences = {10: [1, 2, 3, 4], 11: [2, 1, 5], 12: [3, 2], 13: [6, 7], 14: [1]}
    pairs = pd.DataFrame([(u, i, p) for u, items in sequences.items() for p, i in enumerate(items)],
                         columns=["user", "item", "position"])
    titles = pd.DataFrame({"item": range(1, 8), "title": [f"title {i}" for i in range(1, 8)]})
    return MicroLens(pairs, titles)


def _encode(texts):
    return np.array([[float(len(t)), float(t.split()[-1] if t else -1)] for t in texts], dtype=np.float32)


def test_microlens_catalogue_is_the_runs_data_with_titles(monkeypatch):
    lens = _lens()
    monkeypatch.setattr(rec, "load_microlens_50k", lambda data_dir: lens)
    monkeypatch.setattr(rec, "encode_texts", lambda texts, cache=None: _encode(texts))
    for n_users, top_items in ((4, 0), (3, 0), (3, 5)):
        expected = rec.microlens_data("unused", n_users, seed=1, top_items=top_items)
        catalogue = narrative.microlens_catalogue(lens, n_users, seed=1, top_items=top_items, encode=_encode)
        for split in ("train", "valid", "test"):
            assert (getattr(catalogue.data, split) != getattr(expected, split)).nnz == 0
        np.testing.assert_array_equal(catalogue.data.item_text, expected.item_text)
        assert [int(t.split()[-1]) for t in catalogue.titles] == catalogue.data.item_text[:, 1].astype(int).tolist()
    catalogue = narrative.microlens_catalogue(lens, 4, seed=1, encode=_encode)
    for user, sequence in enumerate(catalogue.sequences):  # watch order, -1 outside the catalogue
        known = sequence[sequence >= 0]
        row = (catalogue.data.train + catalogue.data.valid + catalogue.data.test)[user]
        assert sorted(known.tolist()) == sorted(row.indices.tolist())
    assert catalogue.ordered
    with pytest.raises(ConfigError, match="exceeds"):
        narrative.microlens_catalogue(lens, 5, seed=1, encode=_encode)


class FixedScores(nn.Module):
    """A CTR model whose logit is one number per item."""

    uses_text = False

    def __init__(self, logits):
        super().__init__()
        self.logits = nn.Parameter(torch.tensor(logits, dtype=torch.float32))

    def forward(self, fields, text=None):
        return self.logits[fields[:, 1]]


def _catalogue():
    # 3 users x 6 items; user 1 watched 0, 2, 4 (order 4, 0, 2), validation 1, test 3
    train = np.zeros((3, 6))
    train[0, [0, 1]] = 1
    train[1, [0, 2, 4]] = 1
    train[2, [5]] = 1
    valid, test = np.zeros((3, 6)), np.zeros((3, 6))
    valid[1, 1] = test[1, 3] = test[0, 2] = test[2, 0] = 1
    import scipy.sparse as sp
    data = rec.ShortVideoData("constructed", sp.csr_matrix(train), sp.csr_matrix(valid), sp.csr_matrix(test),
                              np.zeros((6, 2), np.float32), synthetic=True)
    titles = np.array([f"video {j}" for j in range(6)], dtype=object)
    sequences = [np.array([1, 0, 2]), np.array([4, 0, 2, 1, 3]), np.array([5, 0])]
    return narrative.Catalogue(data, titles, sequences, ordered=True)


def test_user_example_ranks_the_unwatched_catalogue_by_hand():
    catalogue = _catalogue()
    assert narrative.default_user(catalogue) == 1  # the only user with 3+ training items
    assert narrative.default_user(catalogue, min_history=1) == 0  # training items 2, 3, 1: the median is user 0's 2
    assert narrative.default_user(catalogue, min_history=9) == 0  # nobody has 9: every evaluated user counts
    model = FixedScores([5.0, 1.0, 0.0, 2.0, 9.0, 3.0])
    example = narrative.user_example(model, catalogue, user=1, k=2, n_history=2)
    assert example.history["title"].tolist() == ["video 0", "video 2"]  # the last two training items in order
    assert example.history.index.tolist() == [1, 2]
    assert example.top["title"].tolist() == ["video 5", "video 3"]  # watched 0, 2, 4 are not ranked
    assert example.top["score"].tolist() == pytest.approx([1 / (1 + np.exp(-3)), 1 / (1 + np.exp(-2))])
    assert example.top["held out"].tolist() == ["", "test item"]
    assert (example.test_rank, example.n_ranked, example.test_title) == (2, 3, "video 3")
    text = narrative.user_text(example)
    assert "lands at rank 2 of 3" in text and "inside the top 2" in text
    assert "the last 2 training titles in watch order" in text
    worse = narrative.user_example(FixedScores([0.0, 4.0, 0.0, -1.0, 0.0, 3.0]), catalogue, user=1, k=1)
    assert worse.test_rank == 3 and worse.top["held out"].tolist() == ["validation item"]
    assert "outside the top 1" in narrative.user_text(worse)
    with pytest.raises(ConfigError, match="outside"):
        narrative.user_example(model, catalogue, user=3)


def test_synthetic_catalogue_keeps_every_users_items():
    catalogue = narrative.synthetic_catalogue(seed=0)
    every = catalogue.data.train + catalogue.data.valid + catalogue.data.test
    assert not catalogue.ordered and len(catalogue.sequences) == every.shape[0]
    assert sorted(catalogue.sequences[3].tolist()) == sorted(every[3].indices.tolist())
    assert catalogue.titles[7] == "synthetic video 7"
    cfg = SimpleNamespace(data_dir=None, seed=0)
    assert narrative.short_video_catalogue(cfg).data.train.shape == catalogue.data.train.shape


def _claims(item_prefix, full, gaps, n_seeds=5, noise=0.0002):
    """Claims 'full beats other on metric' whose advantage is ``gaps[(other, metric)]`` (+ small noise)."""
    rng = np.random.default_rng(0)
    claims = []
    for (other, metric), gap in gaps.items():
        worse = rng.normal(0.5, 0.05, n_seeds)
        better = worse + gap + rng.normal(0, noise, n_seeds)
        claims.append(claim_test(f"{item_prefix}: {full} beats {other} on {metric}", better, worse, unit="seed"))
    return claims


def test_claim_gaps_and_comparison_text_report_our_and_the_papers_gaps():
    claims = _claims("Table III (tiny)", PROPOSED, {("Text-only", "mae"): 0.05, ("Text-only", "acc2_non0"): 0.021,
                                                   ("TFN", "mae"): -0.03, ("TFN", "acc2_non0"): 0.0})
    gaps = narrative.claim_gaps(claims)
    assert gaps["other"].tolist() == ["Text-only", "Text-only", "TFN", "TFN"]
    assert gaps["advantage"].iloc[0] == pytest.approx(0.05, abs=0.003)
    assert gaps["verdict"].tolist()[:3] == ["replicated", "replicated", "contradicted"]
    text = narrative.comparison_text(claims, "synthetic tiny", "Table III", also="Table I")
    assert "MAE 0.05" in text and "lower" in text.split("**Text-only**")[1].split(";")[0]
    assert "Acc-2 2.1 points higher" in text
    assert "**TFN**: MAE 0.03" in text and "higher" in text.split("**TFN**")[1].split("(")[0]
    assert "MAE 0.020 lower than its strongest baseline Self-MM up to 0.260 lower than MFN" in text
    assert "Acc-2 2.4 points higher than its strongest baseline Self-MM" in text
    assert "Table I prints its model behind MISA (MAE 0.03 higher), Self-MM (MAE 0.10 higher)" in text
    assert "2 replicated, 1 contradicted, 1 inconclusive, 0 not comparable" in text
    assert "one seed" not in text
    single = narrative.comparison_text(_claims("Table IV (tiny)", PROPOSED, {("TFN", "mae"): 0.05}, n_seeds=1),
                                       "synthetic tiny", "Table IV")
    assert "0 replicated" in single and "1 not comparable (not comparable: fewer than 2 pairs)" in single
    assert "no interval with one pair" in single and "one seed" in single
    with pytest.raises(DataError, match="beats"):
        narrative.claim_gaps([dict(claims[0], claim="nonsense")])


def test_paper_gaps_use_f1_where_the_table_has_no_accuracy():
    table1 = narrative.paper_gaps("Table I")
    assert set(table1["metric"]) == {"mae", "f1"}
    self_mm = table1[(table1["other"] == "Self-MM") & (table1["metric"] == "mae")]["advantage"].iloc[0]
    assert self_mm == pytest.approx(0.71 - 0.81)


def test_ablation_text_orders_variants_and_reads_the_curves():
    per_seed = pd.DataFrame({"model": ["LGT + SM", "w/o LGT", "w/o SM"] * 2, "seed": [0, 0, 0, 1, 1, 1],
                             "mae": [0.80, 0.90, 0.70, 0.82, 0.92, 0.72], "acc2_non0": [0.7] * 6})
    history = pd.DataFrame([{"model": m, "seed": s, "epoch": e, "valid_mae": v}
                            for m, curve in (("LGT + SM", [0.9, 0.8, 0.85]), ("w/o LGT", [0.9, 0.95, 0.97]),
                                             ("w/o SM", [0.9, 0.8, 0.7]))
                            for s in (0, 1) for e, v in enumerate(curve, start=1)])
    claims = _claims("Fig. 8 (tiny)", "LGT + SM", {("w/o LGT", "mae"): 0.1, ("w/o SM", "mae"): -0.1})
    text = narrative.ablation_text(claims, per_seed, history)
    assert "best first: w/o SM (0.710), LGT + SM (0.810), w/o LGT (0.910)" in text
    assert "LGT + SM has the lower MAE against 1 of 2 ablated variants" in text
    assert "LGT + SM 2/3, w/o LGT 1/3, w/o SM 3/3 (still falling at the last epoch)" in text
    assert "1 replicated, 1 contradicted" in text


def test_recommender_text_marks_our_addition_and_the_popularity_floor():
    per_seed = pd.DataFrame({"model": [rec.POPULARITY, "BERT + xDeepFM", "xDeepFM (no text)", "DNN only"],
                             "seed": 0, "auc": [0.70, 0.80, 0.75, 0.65], "hr@10": [0.2, 0.3, 0.25, 0.1]})
    rng = np.random.default_rng(0)
    users = rng.uniform(0.5, 0.9, 40)
    claims = [claim_test(f"Fig. 2 (tiny, our addition): BERT + xDeepFM beats {other} on per-user AUC",
                         users + gap + rng.normal(0, 0.001, 40), users, unit="user")
              for other, gap in (("xDeepFM (no text)", 0.05), ("DNN only", 0.15))]
    text = narrative.recommender_text(per_seed, claims, "tiny")
    assert text.startswith("*Our addition")
    assert "BERT + xDeepFM 0.800 (0.300), xDeepFM (no text) 0.750 (0.250), Popularity 0.700" in text
    assert "1 of 3 trained recommenders do not beat the popularity floor on AUC (DNN only)" in text
    assert "per-user AUC by +5.0 points" in text and "2 replicated" in text
    assert "below chance" not in text
    low = per_seed.assign(auc=[0.45, 0.49, 0.40, 0.60])
    assert "2 of 4 models score below chance (AUC 0.5): Popularity, xDeepFM (no text)" in \
        narrative.recommender_text(low, claims, "tiny")


def test_scale_lines_state_the_sizes_run(tiny_runs):
    line = narrative.sentiment_scale(SMOKE, tiny_runs)
    assert "24 / 8 / 10 train / valid / test clips" in line and "audio (3)" in line
    assert f"epoch cap {SMOKE['epochs']}" in line and "1 seed (0)" in line
    recs = SimpleNamespace(synthetic=False, label="MicroLens-50k", n_users=600, n_items=300,
                           per_seed=pd.DataFrame({"seed": [0, 1], "n_users": [250, 250]}))
    line = narrative.recommender_scale(SMOKE, recs)
    assert "600 users, 300 catalogue items, 250 users evaluated; 2 seeds" in line
    assert f"epoch cap {SMOKE['rec_epochs']}" in line
