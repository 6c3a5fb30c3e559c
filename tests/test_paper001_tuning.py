"""``make tune`` for notebook 03 (paper 001): the equal search spaces of the sentiment models and the recommenders,
one trial per model on the smoke profile, the knob-to-settings mapping, and the study's use of tuned values."""

import math

import pytest
from torch import nn

from xrec_lib.config import load_config
from xrec_lib.errors import ConfigError
from xrec_lib.models.multimodal import ABLATIONS, BASELINES, PROPOSED
from xrec_lib.models.xdeepfm import RECOMMENDERS
from xrec_lib.studies.paper001 import multimodal as mm
from xrec_lib.studies.paper001 import recommender as rec
from xrec_lib.studies.paper001 import study
from xrec_lib.studies.paper001.settings import NOTEBOOK, Paper001Settings
from xrec_lib.studies.paper001.tuning import REC_MODELS, SENTIMENT_MODELS, tuning_problem
from xrec_lib.tuning import PROBLEMS, _problem, check_equal_budget, tune

TINY = {"n_seeds": 1, "epochs": 1, "patience": 1, "dim": 8, "n_heads": 2, "hidden": 8, "rec_epochs": 1,
        "rec_patience": 1, "n_eval_negatives": 9, "emb_dim": 4, "cin_layers": [4, 2],
        "linear_decay": False, "synthetic_mosi": {"fraction": 0.03}, "ablation": {"fraction": 0.03}}
TUNED = {PROPOSED: {"lr": 0.0042, "weight_decay": 3e-5, "dropout": 0.27},
         "TFN": {"lr": 0.0031, "weight_decay": 2e-6, "dropout": 0.37},
         "DeepFM": {"lr": 0.0123, "weight_decay": 4e-7, "dropout": 0.21}}


@pytest.fixture
def cfg(monkeypatch):
    monkeypatch.delenv("XREC_DATA_DIR", raising=False)
    return load_config(NOTEBOOK, "smoke", overrides=TINY, threads=1)


def test_spaces_are_equal_for_every_model_of_both_groups(cfg):
    problem = tuning_problem(cfg)
    check_equal_budget(problem.spaces)
    assert PROBLEMS[NOTEBOOK] == "xrec_lib.studies.paper001.tuning:tuning_problem"
    assert set(SENTIMENT_MODELS) == {PROPOSED, *BASELINES}
    assert set(REC_MODELS) == set(RECOMMENDERS.names())
    assert list(problem.spaces) == [*SENTIMENT_MODELS, *REC_MODELS]
    assert len(problem.spaces) == len(SENTIMENT_MODELS) + len(REC_MODELS)  # no name shared by the two groups
    kinds = {model: [knob.name for knob in knobs] for model, knobs in problem.spaces.items()}
    assert all(names == ["lr", "weight_decay", "dropout"] for names in kinds.values()), kinds
    assert problem.direction == "maximize" and "minus the validation MAE" in problem.metric
    assert not set(ABLATIONS) & set(problem.spaces)


def test_one_trial_per_model_scores_minus_mae_and_auc(cfg):
    problem = _problem(NOTEBOOK, cfg)
    best, trials = tune(problem.spaces, problem.objective, n_trials=1, seed=cfg.seed, direction=problem.direction)
    assert set(best) == set(problem.spaces) and len(trials) == len(problem.spaces)
    scores = trials.set_index("model")["score"]
    assert all(math.isfinite(score) for score in scores)
    assert all(scores[model] < 0 for model in SENTIMENT_MODELS)      # minus a validation MAE
    assert all(0 < scores[model] < 1 for model in REC_MODELS)        # a validation AUC
    values = {"lr": 1e-3, "weight_decay": 1e-6, "dropout": 0.1}
    assert problem.objective("TFN", values) == problem.objective("TFN", values)  # seeded
    assert problem.objective("TFN", values) != problem.objective("TFN", {**values, "lr": 2e-2})


def test_tuned_values_map_to_the_family_fields(cfg):
    settings = Paper001Settings.from_config(cfg, dataset="synthetic_mosi")
    assert settings.tuned_for(PROPOSED, {}) == settings and settings.tuned_for("TFN", None) == settings
    proposed = settings.tuned_for(PROPOSED, TUNED)
    assert (proposed.lr, proposed.weight_decay, proposed.dropout) == (0.0042, 3e-5, 0.27)
    assert proposed.baseline_dropout is None and proposed.rec_lr == settings.rec_lr
    tfn = settings.tuned_for("TFN", TUNED)
    assert (tfn.lr, tfn.weight_decay, tfn.baseline_dropout, tfn.dropout) == (0.0031, 2e-6, 0.37, settings.dropout)
    deepfm = settings.tuned_for("DeepFM", TUNED)
    assert (deepfm.rec_lr, deepfm.rec_weight_decay, deepfm.rec_dropout) == (0.0123, 4e-7, 0.21)
    assert deepfm.lr == settings.lr and deepfm.dropout == settings.dropout
    assert mm.loop_config(tfn, 0).weight_decay == 2e-6 and mm.loop_config(settings, 0).weight_decay == 0.0
    assert rec.recommender_loop_config(deepfm, 0).weight_decay == 4e-7
    with pytest.raises(ConfigError, match="not settings"):
        settings.tuned_for("TFN", {"TFN": {"momentum": 0.9}})


def test_dropout_reaches_baselines_and_recommenders_only_when_tuned(cfg):
    settings = Paper001Settings.from_config(cfg, dataset="synthetic_mosi")
    dims = {"text": 6, "audio": 3, "vision": 4}

    def rates(model):
        return {layer.p for layer in model.modules() if isinstance(layer, nn.Dropout)}

    assert rates(mm.build_model("TFN", dims, settings)) == {0.1}
    assert rates(mm.build_model("TFN", dims, settings.tuned_for("TFN", TUNED))) == {0.37}
    late = settings.tuned_for("Late fusion", {"Late fusion": {"dropout": 0.0}})
    assert rates(mm.build_model("Late fusion", dims, late)) == {0.0}
    assert 0.27 in rates(mm.build_model(PROPOSED, dims, settings.tuned_for(PROPOSED, TUNED)))
    data = rec.synthetic_short_video(n_users=40, n_items=60, seed=0)
    fitted = rec.train_recommender("DeepFM", data, settings.tuned_for("DeepFM", TUNED), seed=0)
    assert rates(fitted.module) == {0.21}
    assert rates(rec.train_recommender("DeepFM", data, settings, seed=0).module) == {0.1}


def test_study_uses_tuned_values_for_every_seed_except_in_the_ablation(cfg, monkeypatch):
    monkeypatch.setattr(study, "load_tuned", lambda notebook: TUNED if notebook == NOTEBOOK else {})
    seen, original = [], mm.train_multimodal

    def spy(model, data, settings, use_slgm, seed, device="cpu"):
        seen.append(settings)
        return original(model, data, settings, use_slgm, seed, device)

    monkeypatch.setattr(mm, "train_multimodal", spy)
    runs = study.synthetic_mosi(cfg)
    by_model = dict(zip((name for name, _ in runs.runs), seen))
    assert by_model[PROPOSED].lr == 0.0042 and by_model[PROPOSED].weight_decay == 3e-5
    assert by_model["TFN"].baseline_dropout == 0.37
    assert by_model["Text-only"].lr == Paper001Settings.from_config(cfg, dataset="synthetic_mosi").lr
    assert runs.runs[(PROPOSED, cfg.seed)].fit.history["lr"].iloc[0] == pytest.approx(0.0042)

    seen.clear()
    study.ablation(cfg)
    profile = Paper001Settings.from_config(cfg, dataset="ablation")
    assert len(seen) == len(ABLATIONS) and all(settings == profile for settings in seen)

    rec_seen, rec_original = [], rec.train_recommender
    monkeypatch.setattr(rec, "train_recommender",
                        lambda name, data, settings, seed, device="cpu":
                        rec_seen.append((name, settings)) or rec_original(name, data, settings, seed, device))
    study.recommender(cfg)
    chosen = dict(rec_seen)
    assert chosen["DeepFM"].rec_lr == 0.0123 and chosen["DeepFM"].rec_dropout == 0.21
    assert chosen["DNN only"].rec_lr == Paper001Settings.from_config(cfg).rec_lr
