import json
import time
from pathlib import Path

import nbformat
import pytest

from xrec_lib import runner
from xrec_lib.errors import ConfigError

PARAMETERS = 'profile = "smoke"\nreports_dir = None\ndata_dir = None\nfail = False'
BODY = ("from pathlib import Path\n"
        "assert not fail, 'asked to fail'\n"
        "Path(reports_dir, NAME).mkdir(exist_ok=True)\n"
        "Path(reports_dir, NAME, 'results.json').write_text('{}')")


def write_notebook(folder, stem, fail=False):
    notebook = nbformat.v4.new_notebook()
    parameters = nbformat.v4.new_code_cell(PARAMETERS.replace("fail = False", f"fail = {fail}"))
    parameters.metadata["tags"] = ["parameters"]
    notebook.cells = [parameters, nbformat.v4.new_code_cell(f"NAME = {stem!r}\n" + BODY)]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, folder / f"{stem}.ipynb")


@pytest.fixture
def notebooks(tmp_path, monkeypatch):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    write_notebook(folder, "00_ok")
    write_notebook(folder, "01_broken", fail=True)
    write_notebook(folder, "02_ok")
    monkeypatch.setattr(runner, "NOTEBOOK_DIR", folder)
    monkeypatch.delenv("XREC_DATA_DIR", raising=False)
    return folder


def test_a_failure_is_recorded_and_the_others_still_run(notebooks, tmp_path):
    reports = tmp_path / "reports"
    assert runner.main(["--profile", "smoke", "--reports-dir", str(reports)]) == 1
    manifest = json.loads((reports / runner.MANIFEST_NAME).read_text())["notebooks"]
    assert {name: run["status"] for name, run in manifest.items()} == {
        "00_ok": "ok", "01_broken": "failed", "02_ok": "ok"}
    assert "asked to fail" in manifest["01_broken"]["error"]
    assert (reports / "executed" / "02_ok.ipynb").is_file()
    assert (reports / "failed" / "01_broken.ipynb").is_file()
    assert not list(reports.rglob(".partial-*"))


def test_unchanged_notebooks_are_cached_unless_forced(notebooks, tmp_path):
    reports = tmp_path / "reports"
    assert runner.main(["--profile", "smoke", "--reports-dir", str(reports), "00_ok"]) == 0
    runs = runner.run_all("smoke", ["00_ok"], reports)
    assert [run.status for run in runs] == ["cached"]
    assert [run.status for run in runner.run_all("smoke", ["00_ok"], reports, force=True)] == ["ok"]
    write_notebook(notebooks, "00_ok", fail=False)  # same content: still cached
    (notebooks / "00_ok.ipynb").write_text((notebooks / "00_ok.ipynb").read_text().replace("mkdir", "mkdir "))
    assert [run.status for run in runner.run_all("smoke", ["00_ok"], reports)] == ["ok"]


def test_unknown_parameter_or_notebook_is_refused_before_running(notebooks, tmp_path):
    with pytest.raises(ConfigError, match="unknown parameter\\(s\\) epoch"):
        runner.run_all("smoke", ["00_ok"], tmp_path / "r", extra={"epoch": 3})
    with pytest.raises(ConfigError, match="unknown notebook\\(s\\) 09_missing"):
        runner.find_notebooks(["09_missing"])
    assert runner.main(["--profile", "smoke", "--reports-dir", str(tmp_path / "r"), "-p", "epoch", "3"]) == 2


def test_cache_is_invalidated_when_a_dataset_appears_under_the_data_root(notebooks, tmp_path):
    from xrec_lib.data.manifest import load_manifest

    reports, data_root = tmp_path / "reports", tmp_path / "data"
    data_root.mkdir()
    extra = {"data_dir": str(data_root)}
    assert [run.status for run in runner.run_all("smoke", ["00_ok"], reports, extra)] == ["ok"]
    assert [run.status for run in runner.run_all("smoke", ["00_ok"], reports, extra)] == ["cached"]
    entry = next(iter(next(iter(load_manifest().values())).values()))
    entry.location(data_root).parent.mkdir(parents=True, exist_ok=True)
    entry.location(data_root).write_bytes(b"fetched")
    assert [run.status for run in runner.run_all("smoke", ["00_ok"], reports, extra)] == ["ok"]


def test_files_half_written_by_a_killed_run_are_removed(notebooks, tmp_path):
    reports = tmp_path / "reports"
    (reports / "executed").mkdir(parents=True)
    (reports / "executed" / ".partial-00_ok.ipynb").write_text("{")
    (reports / ".partial-run_manifest.json").write_text("{")
    (reports / runner.MANIFEST_NAME).write_text('{"notebooks": [1]}')  # unreadable: every notebook runs
    assert [run.status for run in runner.run_all("smoke", ["00_ok"], reports)] == ["ok"]
    assert not list(reports.rglob(".partial-*"))
    assert json.loads((reports / runner.MANIFEST_NAME).read_text())["notebooks"]["00_ok"]["status"] == "ok"


def test_an_interrupted_notebook_leaves_no_partial_copy(notebooks, tmp_path, monkeypatch):
    import papermill

    reports = tmp_path / "reports"

    def interrupted(notebook, output, **kwargs):
        open(output, "w").write("{")
        raise KeyboardInterrupt

    monkeypatch.setattr(papermill, "execute_notebook", interrupted)
    with pytest.raises(KeyboardInterrupt):
        runner.run_all("smoke", ["00_ok"], reports)
    assert not list(reports.rglob(".partial-*"))


def test_only_the_paper_profile_writes_the_committed_reports_folder():
    import subprocess

    root = Path(__file__).resolve().parent.parent
    dry = {profile: subprocess.run(["make", "-n", "-W", "requirements.txt", "reproduce", f"PROFILE={profile}"],
                                   cwd=root, capture_output=True, text=True).stdout
           for profile in ("paper", "smoke")}
    assert f"--reports-dir {root}/reports " in dry["paper"] + " "
    assert f"--reports-dir {root}/reports-smoke" in dry["smoke"] and f"{root}/reports " not in dry["smoke"] + " "


def test_side_by_side_runs_keep_every_manifest_entry_and_run_gatherers_last(notebooks, tmp_path, monkeypatch):
    reports = tmp_path / "reports"
    write_notebook(notebooks, "05_ablations")
    order = []
    execute = runner.run_notebook

    def recording(notebook, *args, **kwargs):
        run = execute(notebook, *args, **kwargs)
        order.append(notebook.stem)
        return run

    monkeypatch.setattr(runner, "run_notebook", recording)
    monkeypatch.delenv("XREC_THREADS", raising=False)
    runs = runner.run_all("smoke", None, reports, jobs=2)
    assert [run.notebook for run in runs] == ["00_ok", "01_broken", "02_ok", "05_ablations"]
    assert order[-1] == "05_ablations"
    manifest = json.loads((reports / runner.MANIFEST_NAME).read_text())["notebooks"]
    assert set(manifest) == {"00_ok", "01_broken", "02_ok", "05_ablations"}
    assert runner.os.environ["XREC_THREADS"] == str(max(1, (runner.os.cpu_count() or 1) // 2))
    with pytest.raises(ConfigError, match="jobs"):
        runner.run_all("smoke", None, reports, jobs=0)


def test_on_demand_notebooks_run_only_when_named(notebooks):
    write_notebook(notebooks, "06_your_data")
    assert "06_your_data" not in [path.stem for path in runner.find_notebooks(None)]
    assert [path.stem for path in runner.find_notebooks(["06_your_data"])] == ["06_your_data"]


def test_progress_line_counts_down_from_the_last_runs_time():
    import io

    from xrec_lib.runner import progress, remaining_text

    assert remaining_text(600, 150) == "about 8 min left (last run: 10 min)"
    assert remaining_text(60, 75) == "15 s longer than the last run (60 s)"
    out = io.StringIO()
    with progress("[paper] 02_bilinear_attention", 60.0, interval=0.05, file=out):
        time.sleep(0.3)
    assert "[paper] 02_bilinear_attention" in out.getvalue() and "left (last run: 60 s)" in out.getvalue()
    first = io.StringIO()
    with progress("[smoke] 01", None, interval=0.05, file=first):
        time.sleep(0.1)
    assert "elapsed" in first.getvalue() and "left" not in first.getvalue()
