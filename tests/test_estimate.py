"""The ``full`` profile (the papers' own scale) and its up-front time estimate (:mod:`xrec_lib.estimate`)."""

import json
import math
from dataclasses import replace

import pytest

from xrec_lib import config as config_module
from xrec_lib import estimate, runner
from xrec_lib.config import load_config, profile_defaults

NOTEBOOKS = sorted(path.stem for path in config_module.PROFILE_DIR.glob("*.yaml"))
#: Per notebook: overrides of the full profile and the probe scale that cut the estimate to tiny data and width.
TINY = {
    "00_data_prep": ({}, 0.002),
    "01_siamese_gcn": ({"synthetic_scale": 0.01, "dim": 16}, 0.004),
    "02_bilinear_attention": ({"synthetic_scale": 0.01, "dim": 16, "end_to_end": True}, 0.005),
    "03_multimodal_short_video": ({"epochs": 2, "rec_epochs": 2}, None),
    "04_gconv_transform": ({"scale": 0.002, "max_epochs": 1, "history_len": 8, "depth": {"values": [2, 4]}}, None),
    "05_ablations": ({}, None),
    "06_your_data": ({"dim": 16, "head_epochs": 2, "encoder_epochs": 2}, None),
}


def _keys(values: dict, prefix: str = "") -> set[str]:
    """Every key, nested ones as ``block.key`` (``widths`` is a value: model -> width)."""
    return {f"{prefix}{k}" for k in values} | {key for k, v in values.items() if isinstance(v, dict) and k != "widths"
                                              for key in _keys(v, f"{prefix}{k}.")}


#: Notebook 04's models at width 16 instead of the paper's parameter counts (a value the overrides cannot set: a
#: "paper" width only takes another name).
SMALL_WIDTHS = {name: 16 for name in ("DNN", "CNN", "DenseNet", "DenseCNN", "Graph", "Attention", "GConv-Transform")}


def tiny_estimate(notebook: str, **more):
    """The estimate of ``notebook`` under the full profile cut to tiny data and width (:data:`TINY`)."""
    overrides, probe = TINY[notebook]
    cfg = load_config(notebook, "full", overrides={**overrides, **more}, device="cpu")
    if notebook == "04_gconv_transform":
        cfg = replace(cfg, params={**cfg.params, "widths": SMALL_WIDTHS})
    return estimate.estimator(notebook)(cfg, probe)


@pytest.fixture(autouse=True)
def one_step(monkeypatch):
    """One timed step, no warm-up; no real data root (the estimates then follow the synthetic sections)."""
    monkeypatch.setattr(estimate, "STEPS", 1)
    monkeypatch.setattr(estimate, "WARMUP", 0)
    monkeypatch.delenv("XREC_DATA_DIR", raising=False)
    monkeypatch.setenv("XREC_THREADS", "1")


def test_every_profile_file_defines_the_full_profile_with_the_paper_profiles_keys():
    assert "full" in config_module.PROFILES
    for name in NOTEBOOKS:
        full, paper = profile_defaults(name, "full"), profile_defaults(name, "paper")
        assert _keys(full) == _keys(paper), f"{name}: {_keys(full) ^ _keys(paper)}"
        assert full.get("n_seeds", 1) >= 5, f"{name}: the full profile needs >= 5 seeds"


def test_the_full_profile_holds_the_papers_scale_and_valid_settings():
    from xrec_lib.studies import your_data
    from xrec_lib.studies.data_prep.study import DataPrepSettings
    from xrec_lib.studies.paper000.settings import InteractionSettings, RepresentationSettings
    from xrec_lib.studies.paper001.settings import Paper001Settings
    from xrec_lib.studies.paper002.settings import MODEL_NAMES, Paper002Settings

    config = {name: load_config(name, "full") for name in NOTEBOOKS}
    assert DataPrepSettings.from_config(config["00_data_prep"]).scale == "paper"
    for block in (None, "amazon", "xmarket"):
        representation = RepresentationSettings.from_config(config["01_siamese_gcn"], block)
        interaction = InteractionSettings.from_config(config["02_bilinear_attention"], block)
    representation = RepresentationSettings.from_config(config["01_siamese_gcn"])
    interaction = InteractionSettings.from_config(config["02_bilinear_attention"])
    assert representation.synthetic_scale == interaction.synthetic_scale == 1.0
    assert interaction.head_epochs == 100 and representation.patience == interaction.patience
    for block in Paper001Settings.DATASETS:
        sentiment = Paper001Settings.from_config(config["03_multimodal_short_video"], block)
        if block != "microlens":
            assert sentiment.fraction == 1.0
    assert Paper001Settings.from_config(config["03_multimodal_short_video"], "microlens").n_users == 50_000
    shopping = Paper002Settings.from_config(config["04_gconv_transform"])
    assert shopping.scale == 1.0 and shopping.batch_size == 96
    assert shopping.widths == {name: "paper" for name in MODEL_NAMES if name != "SVM"}
    your_data.data_settings(config["06_your_data"]), your_data.interaction_settings(config["06_your_data"])


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_the_estimator_of_every_notebook_gives_a_finite_estimate(notebook):
    result = tiny_estimate(notebook)
    assert result.notebook == notebook and result.device == "cpu (1 thread)"
    assert math.isfinite(result.hours) and result.note
    if notebook == "05_ablations":
        assert result.hours == 0 and result.steps == 0
        return
    assert result.hours > 0
    if notebook != "00_data_prep":
        assert result.steps > 0 and all(p.seconds_per_step > 0 and p.steps > 0 for p in result.parts)
    json.dumps(result.to_dict())


def test_planned_steps_follow_the_profile():
    one, two = tiny_estimate("04_gconv_transform"), tiny_estimate("04_gconv_transform", max_epochs=2)
    assert two.steps == 2 * one.steps


def test_estimate_only_prints_the_table_and_runs_nothing(capsys, tmp_path):
    assert runner.main(["--profile", "full", "--estimate-only", "--reports-dir", str(tmp_path / "r"),
                        "05_ablations"]) == 0
    out = capsys.readouterr().out
    assert "| notebook | device | s / step (measured) | planned steps | estimated hours |" in out
    assert "| 05_ablations | cpu (1 thread) |" in out
    assert not (tmp_path / "r").exists()


def test_the_full_profile_writes_its_own_ignored_reports_folder():
    assert runner.default_reports_dir("full").name == "reports-full"
    assert runner.default_reports_dir("paper").name == "reports"
    gitignore = (config_module.REPO_ROOT / ".gitignore").read_text().split()
    assert "/reports-*/" in gitignore


def test_a_notebook_runs_end_to_end_under_the_full_profile_after_its_estimate(capsys, tmp_path):
    reports = tmp_path / "reports"
    overrides = json.dumps({"scale": "smoke", "scenarios": ["sparse"], "real_data": False})
    assert runner.main(["--profile", "full", "--reports-dir", str(reports), "-p", "overrides", overrides,
                        "00_data_prep"]) == 0
    out = capsys.readouterr().out
    assert out.index("| 00_data_prep |") < out.index("[full] 00_data_prep: ok")
    results = json.loads((reports / "00_data_prep" / "results.json").read_text())
    assert results["config"]["profile"] == "full"
