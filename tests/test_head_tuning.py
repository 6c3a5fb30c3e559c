"""``make tune`` for notebook 02 (xrec_lib.studies.paper000.head_tuning): the search space, a one-trial search on
tiny data, and the study using the tuned values."""

import math
from dataclasses import replace
from types import SimpleNamespace

import pandas as pd
import pytest
import torch

from xrec_lib.config import load_config
from xrec_lib.errors import ConfigError
from xrec_lib.studies.paper000 import head_training
from xrec_lib.studies.paper000 import head_tuning
from xrec_lib.studies.paper000 import interaction as lib
from xrec_lib.studies.paper000 import tasks as task_lib
from xrec_lib.tuning import PROBLEMS, check_equal_budget, load_tuned, tune, write_tuned

NOTEBOOK = "02_bilinear_attention"
TINY = {"synthetic_scale": 0.01, "dim": 8, "encoder_epochs": 1, "encoder_max_batches": 2, "head_epochs": 1,
        "head_batch_size": 512, "hidden": 16, "n_negatives": 1, "n_candidates": 50, "patience": 1}
SETTINGS = lib.InteractionSettings(**TINY)


class Stop(Exception):
    """Raised by a stub to end a run once the value under test was seen."""


def test_every_compared_head_gets_the_same_knobs():
    problem = head_tuning.tuning_problem.__module__
    assert PROBLEMS[NOTEBOOK] == f"{problem}:tuning_problem"
    heads = head_tuning.tuned_heads()
    assert set(lib.HEAD_COMPARISON) <= set(heads) and {"self-attention", "MLP"} <= set(heads)
    assert "dot" not in heads
    assert {heads[h] for h in lib.HEAD_COMPARISON} == {"Siamese GCN"}
    assert heads["self-attention"] == "GraphSAGE" and heads["MLP"] == "MF"


def test_one_trial_per_head_returns_a_finite_validation_score_and_trains_each_encoder_once(monkeypatch):
    torch.set_num_threads(1)
    cfg = load_config(NOTEBOOK, "smoke", overrides=TINY)
    encoders, configs = [], []
    train_with_holdout, fit = lib.train_with_holdout, head_training.fit

    def counted(name, *args, **kwargs):
        encoders.append(name)
        return train_with_holdout(name, *args, **kwargs)

    def recorded(objective, config, *args, **kwargs):
        configs.append(config)
        return fit(objective, config, *args, **kwargs)

    monkeypatch.setattr(lib, "train_with_holdout", counted)
    monkeypatch.setattr(head_training, "fit", recorded)
    problem = head_tuning.tuning_problem(cfg)
    check_equal_budget(problem.spaces)
    assert {tuple(k.name for k in knobs) for knobs in problem.spaces.values()} == {("lr", "weight_decay")}
    best, trials = tune(problem.spaces, problem.objective, n_trials=1, seed=cfg.seed)
    assert set(best) == set(problem.spaces) and len(trials) == len(problem.spaces)
    assert all(math.isfinite(score) and 0 <= score <= 1 for score in trials["score"])
    assert sorted(encoders) == sorted(set(head_tuning.tuned_heads().values()))
    assert [(c.lr, c.weight_decay) for c in configs] == list(zip(trials["lr"], trials["weight_decay"]))


def test_tuned_values_map_to_the_head_settings_and_the_loop():
    tuned = {"BLA": {"lr": 0.02, "weight_decay": 1e-5}}
    bla = head_tuning.tuned_settings("BLA", SETTINGS, tuned)
    assert (bla.head_lr, bla.head_weight_decay) == (0.02, 1e-5)
    assert head_tuning.tuned_settings("BL", SETTINGS, tuned) == SETTINGS
    assert head_tuning.tuned_settings("BLA", SETTINGS, {}) == SETTINGS
    assert SETTINGS.head_weight_decay == 0.0
    config = head_training.loop_config(bla, "cpu", "BLA", validated=True)
    assert (config.lr, config.weight_decay) == (0.02, 1e-5)
    with pytest.raises(ConfigError):
        head_tuning.tuned_settings("BLA", SETTINGS, {"BLA": {"dropout": 0.1}})


def test_the_study_trains_each_head_with_its_tuned_values(monkeypatch):
    task = task_lib.TargetTask.from_dataset(task_lib.synthetic_dataset(0.01, "sufficient", 0))
    run = lib.SeedRun("synthetic", SETTINGS, 0, {"CNIM": {"lr": 0.015, "weight_decay": 3e-6}})
    frozen = (torch.randn(task.train.shape[0], SETTINGS.dim), torch.randn(len(task.items), SETTINGS.dim))
    monkeypatch.setattr(run, "embeddings", lambda *args: frozen)
    seen = {}

    def stub(name, user_emb, item_emb, train, settings, *args):
        seen[name] = settings
        raise Stop

    monkeypatch.setattr(lib, "fit_head", stub)
    for head in ("CNIM", "Gated"):
        with pytest.raises(Stop):
            run.evaluate("sparse", task, None, "heads", head, "Siamese GCN", head)
    assert (seen["CNIM"].head_lr, seen["CNIM"].head_weight_decay) == (0.015, 3e-6)
    assert seen["Gated"] == SETTINGS


def test_the_synthetic_study_reads_the_tuned_file_for_every_seed(monkeypatch, tmp_path):
    values = {"BLA": {"lr": 0.004, "weight_decay": 2e-6}, "MLP": {"lr": 0.001, "weight_decay": 1e-7}}
    write_tuned(NOTEBOOK, values, pd.DataFrame(), {"trials_per_model": 1}, folder=tmp_path)
    monkeypatch.setattr(lib, "load_tuned", lambda notebook: load_tuned(notebook, tmp_path))
    seen = []

    def stub(data, tasks, settings, seed, tuned=None, encoder_tuned=None, generated=None):
        seen.append((seed, tuned, encoder_tuned))
        assert generated == lib.SCENARIOS  # synthetic data: the oracle and popularity rows are drawn
        raise Stop

    monkeypatch.setattr(lib, "run_seed", stub)
    cfg = load_config(NOTEBOOK, "smoke", overrides=TINY)
    with pytest.raises(Stop):
        lib.run_synthetic_study(cfg)
    assert seen == [(cfg.seed, values, {})]      # notebook 01 not tuned in tmp_path: profile values


def test_an_untuned_notebook_keeps_the_profile_values(monkeypatch, tmp_path):
    monkeypatch.setattr(lib, "load_tuned", lambda notebook: load_tuned(notebook, tmp_path))
    run = lib.SeedRun("synthetic", replace(SETTINGS, head_lr=0.007), 0, lib.load_tuned(NOTEBOOK))
    assert all(run.head_settings(head) == run.settings for head in head_tuning.tuned_heads())


def test_the_encoders_under_the_heads_take_notebook_01s_tuned_values(monkeypatch):
    seen = {}

    def spy(name, dataset, settings, seed, domain=None):
        seen[name] = settings
        raise Stop

    monkeypatch.setattr(lib, "train_with_holdout", spy)
    run = lib.SeedRun("synthetic", SETTINGS, 0,
                      encoder_tuned={"Siamese GCN": {"lr": 0.02, "weight_decay": 3e-7, "alignment_weight": 0.3}})
    for encoder in ("Siamese GCN", "MF"):
        with pytest.raises(Stop):
            run.encoder("standard", SimpleNamespace(dataset=None), encoder)
    siamese = seen["Siamese GCN"]
    assert (siamese.lr, siamese.l2, siamese.alignment_weight) == (0.02, 3e-7, 0.3)
    assert seen["MF"] == SETTINGS.encoder_settings()
