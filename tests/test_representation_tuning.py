"""Notebook 01's equal-budget search: the same kinds of knobs for every encoder, and the study using the result."""

import math

import pytest

from xrec_lib.config import load_config
from xrec_lib.data.synthetic_crossdomain import generate_crossdomain
from xrec_lib.errors import ConfigError
from xrec_lib.studies.paper000 import representation
from xrec_lib.studies.paper000.representation import MODELS, scaled_synthetic_config
from xrec_lib.studies.paper000.representation_tuning import OWN_KNOBS, tuned_settings, tuning_problem
from xrec_lib.studies.paper000.settings import RepresentationSettings
from xrec_lib.tuning import PROBLEMS, check_equal_budget


def test_every_encoder_is_searched_with_the_same_kinds_of_knobs():
    assert set(OWN_KNOBS) == set(MODELS)
    problem = tuning_problem(load_config("01_siamese_gcn", "smoke"))
    check_equal_budget(problem.spaces)
    for name, knobs in problem.spaces.items():
        assert [k.name for k in knobs][:2] == ["lr", "weight_decay"], name
    assert problem.spaces["Siamese GCN"][-1].name == "alignment_weight"
    assert "01_siamese_gcn" in PROBLEMS


def test_a_trial_returns_a_finite_validation_score():
    problem = tuning_problem(load_config("01_siamese_gcn", "smoke"))
    score = problem.objective("MF", {"lr": 0.01, "weight_decay": 1e-5})
    assert math.isfinite(score) and 0 <= score <= 1


def test_tuned_values_reach_the_settings_under_their_setting_names():
    base = RepresentationSettings(l2=1e-4, lr=5e-3, n_layers=2)
    tuned = {"GCN": {"lr": 0.02, "weight_decay": 1e-6, "n_layers": 3}}
    gcn = tuned_settings("GCN", base, tuned)
    assert (gcn.lr, gcn.l2, gcn.n_layers) == (0.02, 1e-6, 3)
    assert tuned_settings("MF", base, tuned) == base
    with pytest.raises(ConfigError, match="not settings"):
        tuned_settings("GCN", base, {"GCN": {"hidden_units": 3}})


def test_the_study_trains_each_model_with_its_tuned_values(monkeypatch):
    seen = {}
    original = representation.train_with_holdout

    def spy(name, dataset, settings, seed, domain=representation.TARGET):
        seen[name] = settings
        return original(name, dataset, settings, seed, domain)

    monkeypatch.setattr(representation, "train_with_holdout", spy)
    dataset = generate_crossdomain(scaled_synthetic_config(0.01, "sparse"), seed=0)
    settings = RepresentationSettings(dim=8, n_layers=1, lightgcn_layers=1, epochs=1, batch_size=2048, lr=0.01)
    representation.run_representation(dataset, settings, [0], "synthetic", models=("GCN", "MF"), ks=(20,),
                                      tuned={"GCN": {"lr": 0.03, "weight_decay": 1e-7}})
    assert (seen["GCN"].lr, seen["GCN"].l2) == (0.03, 1e-7)
    assert (seen["MF"].lr, seen["MF"].l2) == (0.01, settings.l2)
