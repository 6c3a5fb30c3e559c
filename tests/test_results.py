import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import torch

from xrec_lib.config import RunConfig, load_config
from xrec_lib.results import STAGING_PREFIX, ResultsBundle, remove_stale_staging


@pytest.fixture
def cfg(tmp_path):
    return RunConfig(notebook="nb", profile="smoke", seeds=(0,), threads=1, device="cpu", data_dir=None,
                     reports_dir=tmp_path, params={"epochs": 1})


def test_bundle_writes_json_tables_and_figures(cfg):
    bundle = ResultsBundle(cfg)
    bundle.add_metrics("fig6/synthetic", {"hr": np.float32(0.5), "curve": np.arange(3), "bad": float("nan")})
    bundle.add_table("fig6", pd.DataFrame({"hr": [0.1]}, index=["mf"]))
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    bundle.add_figure("fig6", fig)
    bundle.add_dataset("synthetic-000/smoke", synthetic=True, seed=0)
    bundle.note("real data not present: make data")
    target = bundle.write()
    summary = json.loads((target / "results.json").read_text())
    assert summary["metrics"]["fig6/synthetic"] == {"hr": 0.5, "curve": [0, 1, 2], "bad": None}
    assert summary["config"]["params"] == {"epochs": 1} and summary["seeds"] == [0]
    assert summary["datasets"][0]["synthetic"] is True
    assert summary["environment"]["threads"] == 1 and summary["environment"]["packages"]["torch"]
    assert summary["wall_time_s"] >= 0 and summary["cpu_time_s"] > 0
    for path in ("tables/fig6.csv", "tables/fig6.md", "figures/fig6.png", "figures/fig6.svg"):
        assert (target / path).stat().st_size > 0
    assert target.stat().st_mode & 0o777 == 0o755  # readable like the files in it


def test_rewrite_replaces_the_previous_bundle(cfg):
    first = ResultsBundle(cfg)
    first.add_table("old", pd.DataFrame({"a": [1]}))
    first.write()
    second = ResultsBundle(cfg)
    second.write()
    assert not (cfg.reports_dir / "nb" / "tables").exists()
    assert [p.name for p in cfg.reports_dir.iterdir()] == ["nb"]


def test_failed_write_leaves_previous_bundle_and_no_staging(cfg):
    ResultsBundle(cfg).write()
    before = (cfg.reports_dir / "nb" / "results.json").read_text()
    broken = ResultsBundle(cfg)
    broken.add_figure("bad", object())  # not a figure: savefig fails while staging
    with pytest.raises(AttributeError):
        broken.write()
    assert (cfg.reports_dir / "nb" / "results.json").read_text() == before
    assert not list(cfg.reports_dir.glob(STAGING_PREFIX + "*"))


def test_stale_staging_is_removed(tmp_path):
    (tmp_path / f"{STAGING_PREFIX}nb-123").mkdir()
    (tmp_path / "nb").mkdir()
    remove_stale_staging(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["nb"]


def test_to_jsonable_converts_numpy_torch_pandas_and_paths():
    import torch

    from xrec_lib.results import to_jsonable

    frame = pd.DataFrame({"hr": [0.5]}, index=pd.Index(["mf"], name="model"))
    value = {1: np.bool_(True), "t": torch.tensor([1.5, float("inf")]), "f": frame, "p": Path("/tmp/x"), "n": None}
    assert to_jsonable(value) == {"1": True, "t": [1.5, None], "f": [{"model": "mf", "hr": 0.5}],
                                  "p": "/tmp/x", "n": None}


def test_unserialisable_metric_is_refused_when_added_naming_its_key(cfg):
    bundle = ResultsBundle(cfg)
    with pytest.raises(TypeError, match=r"metrics 'fig6'\['users'\]: set cannot be stored as JSON"):
        bundle.add_metrics("fig6", {"users": {1, 2}})


@pytest.mark.parametrize("name", ["fig6/sparse", "", ".hidden"])
def test_table_and_figure_names_must_be_file_names(cfg, name):
    bundle = ResultsBundle(cfg)
    with pytest.raises(ValueError, match="plain file name"):
        bundle.add_table(name, pd.DataFrame({"a": [1]}))
    with pytest.raises(ValueError, match="plain file name"):
        bundle.add_figure(name, object())


def test_failed_swap_puts_the_previous_bundle_back(cfg, monkeypatch):
    import os

    ResultsBundle(cfg).write()
    before = (cfg.reports_dir / "nb" / "results.json").read_text()
    real_replace = os.replace

    def replace_failing_on_staging(source, destination):
        if os.path.basename(source).startswith(STAGING_PREFIX + "nb-"):
            raise OSError("disk full")
        real_replace(source, destination)

    monkeypatch.setattr(os, "replace", replace_failing_on_staging)
    with pytest.raises(OSError, match="disk full"):
        ResultsBundle(cfg).write()
    assert (cfg.reports_dir / "nb" / "results.json").read_text() == before
    assert [p.name for p in cfg.reports_dir.iterdir()] == ["nb"]


def test_training_runs_are_recorded_with_their_history(tmp_path):
    from xrec_lib.training import LoopConfig, Objective, fit

    class Toy(Objective):
        def __init__(self):
            self.module, self.scores = torch.nn.Linear(1, 1), [0.2, 0.1, 0.1]

        def batches(self, epoch):
            return [0]

        def loss(self, batch):
            return self.module.weight.square().sum()

        def validate(self):
            return {"score": self.scores.pop(0)}

    bundle = ResultsBundle(load_config("00_data_prep", "smoke", reports_dir=tmp_path))
    bundle.add_training(fit(Toy(), LoopConfig(max_epochs=5, lr=0.1, patience=2)), model="toy", seed=0)
    run = json.loads((bundle.write() / "results.json").read_text())["training"][0]
    assert run["model"] == "toy" and run["stopped_by"] == "patience" and run["converged"] is True
    assert [row["epoch"] for row in run["history"]] == [1, 2, 3] and run["history"][0]["val_score"] == 0.2


def test_revision_is_dirty_for_changed_code_but_not_for_rewritten_reports(tmp_path):
    import subprocess

    from xrec_lib.results import git_revision

    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    for name in ("code.py", "reports/01/results.json", "reports-smoke/01/results.json"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("0")
    git("add", "-A")
    git("-c", "user.name=x", "-c", "user.email=x@x", "commit", "-qm", "init")
    clean = git_revision(tmp_path)
    assert clean and not clean.endswith("+dirty")
    (tmp_path / "reports/01/results.json").write_text("1")
    (tmp_path / "reports-smoke/01/results.json").write_text("1")
    assert git_revision(tmp_path) == clean
    (tmp_path / "code.py").write_text("1")
    assert git_revision(tmp_path) == clean + "+dirty"


def test_a_large_metric_frame_goes_to_a_compressed_csv_and_reads_back(cfg):
    from xrec_lib.results import INLINE_ROWS, read_metrics

    rows = INLINE_ROWS + 1
    frame = pd.DataFrame({"model": ["BLA"] * rows, "seed": np.arange(rows), "value": np.linspace(0, 1, rows)})
    bundle = ResultsBundle(cfg)
    bundle.add_metrics("02/uk->de (800 users)/metrics", frame)
    bundle.add_metrics("02/uk_de _800 users_/metrics", frame.head(3))  # small: stays in results.json
    bundle.add_metrics("02/uk-<de (800 users)/metrics", frame)  # same file stem: numbered
    target = bundle.write()
    stored = json.loads((target / "results.json").read_text())["metrics"]
    entry = stored["02/uk->de (800 users)/metrics"]
    assert entry == {"file": "metrics/02_uk-_de__800_users__metrics.csv.gz", "rows": rows,
                     "columns": ["model", "seed", "value"]}
    assert stored["02/uk-<de (800 users)/metrics"]["file"] == "metrics/02_uk-_de__800_users__metrics_2.csv.gz"
    pd.testing.assert_frame_equal(read_metrics(target, "02/uk->de (800 users)/metrics"), frame)
    assert read_metrics(target, "02/uk_de _800 users_/metrics")[0]["seed"] == 0
    with pytest.raises(KeyError, match="has no metrics 'nope'"):
        read_metrics(target, "nope")


def test_compressed_metrics_are_byte_identical_across_writes(cfg, tmp_path):
    from xrec_lib.results import INLINE_ROWS

    frame = pd.DataFrame({"value": np.arange(INLINE_ROWS + 5, dtype=float)})
    digests = []
    for _ in range(2):
        bundle = ResultsBundle(cfg)
        bundle.add_metrics("m", frame)
        digests.append((bundle.write() / "metrics" / "m.csv.gz").read_bytes())
    assert digests[0] == digests[1]
