"""Run the study's notebooks with papermill: ``python -m xrec_lib.runner --profile smoke``.

For each ``notebooks/NN_*.ipynb`` in order: check the parameter names against the notebook's ``parameters``
cell, execute it with papermill (kernel ``python3``), and keep the executed copy in ``reports/executed/``.
A notebook whose inputs (its own text, the ``xrec_lib`` sources and profiles, the data manifest, the parameters,
and the size and modification time of every manifest file present under the data root) have not changed since
its last successful run is skipped unless ``--force``. A failing notebook does not stop the
others; it is recorded in ``reports/run_manifest.json`` (its executed copy goes to ``reports/failed/``), and
the command exits non-zero at the end.

Under the ``full`` profile (the papers' own scale, meant for a GPU) the runner first prints, per notebook, how long
it expects to take on the current device (:mod:`xrec_lib.estimate`: measured seconds per optimisation step x
planned steps); ``--estimate-only`` prints that table and exits. A profile other than ``paper`` writes to
``reports-<profile>/`` unless a reports folder is given (``--reports-dir`` or ``XREC_REPORTS_DIR``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Sequence

from xrec_lib.config import PROFILES, REPO_ROOT
from xrec_lib.data.manifest import DATA_DIR_ENV, load_manifest
from xrec_lib.errors import ConfigError
from xrec_lib.results import git_revision, remove_stale_staging

NOTEBOOK_DIR = REPO_ROOT / "notebooks"
MANIFEST_NAME = "run_manifest.json"
#: Notebooks outside the papers' study, run only when named (``make reproduce NOTEBOOKS=06_your_data``): one's own
#: data, whose paper-profile cost depends on the file.
ON_DEMAND = ("06_your_data",)
#: Notebooks that read the other notebooks' result bundles: with ``--jobs`` they run after all others.
READS_OTHER_BUNDLES = ("05_ablations",)
PARTIAL_PREFIX = ".partial-"
#: Profiles whose run starts with the time estimate of :mod:`xrec_lib.estimate`.
ESTIMATED_PROFILES = ("full",)
#: Seconds between two updates of a notebook's progress line (:func:`progress`).
PROGRESS_INTERVAL_S = 30.0


@dataclass
class NotebookRun:
    """Outcome of one notebook in a run."""

    notebook: str
    status: str  # "ok", "failed" or "cached"
    wall_time_s: float
    input_hash: str
    executed: str | None
    error: str | None = None
    peak_memory_mb: float | None = None  # the kernel's peak resident memory (from its results.json)


def find_notebooks(names: Sequence[str] | None = None) -> list[Path]:
    """The notebooks to run, in order; ``names`` selects by stem (e.g. ``00_data_prep``). Without ``names``: every
    study notebook; the on-demand ones (:data:`ON_DEMAND`) run only when named."""
    available = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
    if not names:
        return [path for path in available if path.stem not in ON_DEMAND]
    by_name = {path.stem: path for path in available}
    unknown = [name for name in names if name not in by_name]
    if unknown:
        raise ConfigError(f"unknown notebook(s) {', '.join(unknown)}; available: {', '.join(by_name)}")
    return [by_name[name] for name in names]


def check_parameters(notebook: Path, parameters: dict[str, Any]) -> None:
    """Refuse parameter names the notebook's ``parameters`` cell does not define."""
    import papermill

    known = papermill.inspect_notebook(str(notebook))
    unknown = sorted(set(parameters) - set(known))
    if unknown:
        raise ConfigError(f"{notebook.name}: unknown parameter(s) {', '.join(unknown)}; "
                          f"the parameters cell defines {', '.join(sorted(known))}")


def input_hash(notebook: Path, parameters: dict[str, Any]) -> str:
    """Content hash of everything a notebook's results depend on: its text, the ``xrec_lib`` sources, profiles
    and data manifest, the parameters, and which real data files are present (see :func:`data_state`)."""
    digest = hashlib.sha256()
    digest.update(notebook.read_bytes())
    for source in sorted((REPO_ROOT / "xrec_lib").rglob("*")):
        if source.suffix in (".py", ".yaml", ".json") and "__pycache__" not in source.parts:
            digest.update(str(source.relative_to(REPO_ROOT)).encode())
            digest.update(source.read_bytes())
    digest.update(json.dumps(parameters, sort_keys=True, default=str).encode())
    digest.update(json.dumps(data_state(parameters.get("data_dir")), sort_keys=True).encode())
    return digest.hexdigest()


def data_state(data_dir: str | Path | None) -> dict[str, list[int]]:
    """``{"<dataset>/<path>": [size, mtime_ns]}`` of the manifest files present under the data root.

    The data root is ``data_dir``, else ``$XREC_DATA_DIR``; without one the state is empty. Fetching a dataset
    (or replacing a file) therefore changes the input hash, so the sections that need it are re-run.
    """
    root = data_dir or os.environ.get(DATA_DIR_ENV)
    if not root:
        return {}
    state = {}
    for files in load_manifest().values():
        for entry in files.values():
            location = entry.location(Path(root).expanduser())
            if location.is_file():
                stat = location.stat()
                state[f"{entry.dataset}/{entry.path}"] = [stat.st_size, stat.st_mtime_ns]
    return state


def _duration(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


def remaining_text(expected_s: float, elapsed_s: float) -> str:
    """What a progress line says about the time left, against the last run's wall time."""
    if elapsed_s <= expected_s:
        return f"about {_duration(expected_s - elapsed_s)} left (last run: {_duration(expected_s)})"
    return f"{_duration(elapsed_s - expected_s)} longer than the last run ({_duration(expected_s)})"


@contextmanager
def progress(desc: str, expected_s: float | None, interval: float = PROGRESS_INTERVAL_S, file=None):
    """A wall-clock progress bar (tqdm, on stderr: the ``make reproduce`` log) while one notebook runs: the elapsed
    time against ``expected_s``, the last run's wall time from the run manifest, with the time that leaves
    (:func:`remaining_text`); elapsed time only when there is no previous run. Updated every ``interval``
    seconds; inside the notebook, each long step shows its own tqdm bar."""
    from tqdm import tqdm

    total = max(1, round(expected_s)) if expected_s else None
    bar = tqdm(total=total, desc=desc, unit="s", file=file or sys.stderr, mininterval=0, maxinterval=math.inf,
               ncols=110,
               bar_format="{desc}: {bar:20} {elapsed} elapsed{postfix}" if total else "{desc}: {elapsed} elapsed")
    stop, started = threading.Event(), time.perf_counter()

    def tick() -> None:
        while not stop.wait(interval):
            elapsed = time.perf_counter() - started
            if total:
                bar.set_postfix_str(remaining_text(total, elapsed), refresh=False)
            bar.update(max(0, round(elapsed) - bar.n))

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    try:
        yield bar
    finally:
        stop.set()
        thread.join()
        bar.close()


def run_notebook(notebook: Path, parameters: dict[str, Any], reports_dir: Path, previous: dict | None,
                 force: bool) -> NotebookRun:
    """Execute one notebook unless its inputs are unchanged since its last successful run."""
    import papermill

    key = input_hash(notebook, parameters)
    executed = reports_dir / "executed" / notebook.name
    if not force and previous and previous.get("input_hash") == key and previous.get("status") in ("ok", "cached") \
            and executed.is_file() and (reports_dir / notebook.stem / "results.json").is_file():
        return NotebookRun(notebook.stem, "cached", 0.0, key, str(executed.relative_to(reports_dir)))
    executed.parent.mkdir(parents=True, exist_ok=True)
    partial = executed.with_name(PARTIAL_PREFIX + notebook.name)
    started = time.perf_counter()
    try:
        papermill.execute_notebook(str(notebook), str(partial), parameters=parameters, kernel_name="python3",
                                   cwd=str(NOTEBOOK_DIR), progress_bar=False)
    except Exception as error:  # papermill re-raises the cell's exception; record it and go on
        failed = reports_dir / "failed" / notebook.name
        failed.parent.mkdir(parents=True, exist_ok=True)
        if partial.exists():
            os.replace(partial, failed)
        message = str(error).strip().splitlines()
        return NotebookRun(notebook.stem, "failed", round(time.perf_counter() - started, 1), key,
                           str(failed.relative_to(reports_dir)), message[-1] if message else type(error).__name__)
    except BaseException:  # interrupted (Ctrl-C): leave no half-written copy behind
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, executed)
    stale_failure = reports_dir / "failed" / notebook.name
    stale_failure.unlink(missing_ok=True)
    return NotebookRun(notebook.stem, "ok", round(time.perf_counter() - started, 1), key,
                       str(executed.relative_to(reports_dir)), peak_memory_mb=_peak_memory(reports_dir, notebook))


def _peak_memory(reports_dir: Path, notebook: Path) -> float | None:
    try:
        return json.loads((reports_dir / notebook.stem / "results.json").read_text()).get("peak_memory_mb")
    except (OSError, ValueError):
        return None


def run_all(profile: str, notebooks: Sequence[str] | None = None, reports_dir: Path | None = None,
            extra: dict[str, Any] | None = None, force: bool = False, jobs: int = 1) -> list[NotebookRun]:
    """Run the selected notebooks under ``profile`` and write ``run_manifest.json``; returns their outcomes.

    ``jobs > 1`` runs that many notebooks side by side, each kernel with ``cpu_count // jobs`` torch threads
    (``XREC_THREADS``, unless already set), longest first by their last recorded wall time; a notebook that reads
    the other notebooks' bundles (:data:`READS_OTHER_BUNDLES`) runs after all of them. The manifest is re-read and
    updated under a lock after every notebook, so side-by-side runs keep each other's entries.
    """
    if profile not in PROFILES:
        raise ConfigError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    if jobs < 1:
        raise ConfigError(f"jobs must be >= 1, got {jobs}")
    reports_dir = Path(reports_dir or os.environ.get("XREC_REPORTS_DIR") or default_reports_dir(profile)).resolve()
    reports_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(reports_dir)
    remove_stale_partials(reports_dir)
    parameters = {"profile": profile, "reports_dir": str(reports_dir), **(extra or {})}
    if os.environ.get("XREC_DATA_DIR"):
        parameters.setdefault("data_dir", os.environ["XREC_DATA_DIR"])
    selected = find_notebooks(notebooks)
    for notebook in selected:
        check_parameters(notebook, parameters)
    manifest_path = reports_dir / MANIFEST_NAME
    previous = _read_manifest(manifest_path)
    lock = threading.Lock()

    def run_one(notebook: Path) -> NotebookRun:
        last = (previous.get(notebook.stem) or {}).get("wall_time_s")
        expected = f" (last run took {last / 60:.1f} min)" if last and not _last_run_was_cached(previous, notebook) else ""
        print(f"[{profile}] {notebook.stem} ...{expected}", flush=True)
        with progress(f"[{profile}] {notebook.stem}", last if expected else None):
            run = run_notebook(notebook, parameters, reports_dir, previous.get(notebook.stem), force)
        memory = f", peak {run.peak_memory_mb:.0f} MiB" if run.peak_memory_mb else ""
        print(f"[{profile}] {notebook.stem}: {run.status} ({run.wall_time_s:.1f} s{memory})"
              + (f" - {run.error}" if run.error else ""), flush=True)
        with lock:
            current = _read_manifest(manifest_path)
            current[notebook.stem] = asdict(run)
            _write_manifest(manifest_path, profile, current)
        return run

    if jobs == 1:
        return [run_one(notebook) for notebook in selected]
    if not os.environ.get("XREC_THREADS"):
        os.environ["XREC_THREADS"] = str(max(1, (os.cpu_count() or 1) // jobs))
    first = [n for n in selected if n.stem not in READS_OTHER_BUNDLES]
    first.sort(key=lambda n: -float((previous.get(n.stem) or {}).get("wall_time_s") or 0.0))
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        finished = {run.notebook: run for run in pool.map(run_one, first)}
    finished.update({n.stem: run_one(n) for n in selected if n.stem in READS_OTHER_BUNDLES})
    return [finished[n.stem] for n in selected]


def default_reports_dir(profile: str) -> Path:
    """``reports/`` for the paper profile (the committed results), ``reports-<profile>/`` (ignored by git) for the
    others, as ``make reproduce PROFILE=...`` chooses."""
    return REPO_ROOT / ("reports" if profile == "paper" else f"reports-{profile}")


def print_estimate(profile: str, notebooks: Sequence[str] | None = None,
                   overrides: dict[str, Any] | None = None) -> str:
    """Print (and return) the time estimate table of the selected notebooks under ``profile``
    (:func:`xrec_lib.estimate.estimate_all`; ``overrides``: the papermill ``overrides`` parameter, applied to every
    notebook whose profile knows its names)."""
    from xrec_lib.estimate import estimate_all, format_table

    names = [path.stem for path in find_notebooks(notebooks)]
    per_notebook = {name: overrides for name in names} if overrides else None
    table = format_table(estimate_all(names, profile, per_notebook), profile)
    print(table, flush=True)
    return table


def _last_run_was_cached(previous: dict[str, dict], notebook: Path) -> bool:
    """Whether the last recorded run of ``notebook`` was a cache hit (its time says nothing about the cost)."""
    return (previous.get(notebook.stem) or {}).get("status") == "cached"


def remove_stale_partials(reports_dir: Path) -> None:
    """Delete the half-written notebook copies and manifest left by a run that was killed."""
    for folder in (reports_dir, reports_dir / "executed"):
        for stale in folder.glob(PARTIAL_PREFIX + "*"):
            stale.unlink(missing_ok=True)


def _read_manifest(path: Path) -> dict[str, dict]:
    """The manifest's per-notebook entries; ``{}`` when it is absent or unreadable (all notebooks then run)."""
    if not path.is_file():
        return {}
    try:
        notebooks = json.loads(path.read_text()).get("notebooks", {})
        return {str(name): dict(run) for name, run in notebooks.items()}
    except (ValueError, TypeError, AttributeError):
        return {}


def _write_manifest(path: Path, profile: str, notebooks: dict[str, dict]) -> None:
    from xrec_lib.results import environment

    content = {"profile": profile, "git_revision": git_revision(), "environment": environment(
        int(os.environ.get("XREC_THREADS", 2))), "notebooks": notebooks}
    partial = path.with_name(PARTIAL_PREFIX + path.name)
    partial.write_text(json.dumps(content, indent=2) + "\n")
    os.replace(partial, path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="paper", choices=PROFILES)
    parser.add_argument("--reports-dir", type=Path, default=None)
    parser.add_argument("--force", action="store_true", help="re-run notebooks whose inputs did not change")
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="extra papermill parameter (value parsed as JSON when possible)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="notebooks run side by side, each with cpu_count / jobs torch threads (default: 1)")
    parser.add_argument("--estimate-only", action="store_true",
                        help="print the time estimate of the selected notebooks under the profile and exit")
    parser.add_argument("notebooks", nargs="*", help="notebook stems to run (default: all)")
    args = parser.parse_args(argv)
    extra = {name: _parse_value(value) for name, value in args.parameter}
    try:
        if args.estimate_only or args.profile in ESTIMATED_PROFILES:
            print_estimate(args.profile, args.notebooks, extra.get("overrides"))
            if args.estimate_only:
                return 0
        runs = run_all(args.profile, args.notebooks, args.reports_dir, extra, args.force, args.jobs)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    failed = [run.notebook for run in runs if run.status == "failed"]
    if failed:
        print(f"{len(failed)} notebook(s) failed: {', '.join(failed)} (see reports/failed/)", file=sys.stderr)
        return 1
    return 0


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


if __name__ == "__main__":
    sys.exit(main())
