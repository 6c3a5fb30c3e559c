"""The results bundle a notebook leaves in ``reports/<notebook>/``.

A bundle holds ``results.json`` (config, seeds, metrics, datasets used, library versions, git revision,
hardware, threads, wall and CPU time, peak memory), figures (PNG + SVG), tables (CSV + Markdown) and large metric frames
(``metrics/*.csv.gz``, :func:`read_metrics`). Everything is staged in a
hidden folder beside the target and swapped in by :meth:`ResultsBundle.write`, so a run that fails half-way
leaves the previous bundle untouched and nothing half-written in ``reports/``.
"""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import subprocess
import tempfile
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from xrec_lib.config import REPO_ROOT, RunConfig
from xrec_lib.errors import ConfigError

TRACKED_PACKAGES = ("torch", "torch-geometric", "transformers", "numpy", "pandas", "scipy", "scikit-learn",
                    "matplotlib", "seaborn", "papermill")
STAGING_PREFIX = ".staging-"
#: Larger metric frames than this many rows go to ``metrics/<key>.csv.gz`` (:meth:`ResultsBundle.add_metrics`).
INLINE_ROWS = 1000
METRICS_DIR = "metrics"
REAL_DATA_ABSENT = "real data not present: make data"
LEARNING_CURVES = "learning_curves"


class ResultsBundle:
    """Collects a notebook's metrics, tables, figures and data provenance, then writes them atomically."""

    def __init__(self, config: RunConfig):
        self.config = config
        self.target = config.reports_dir / config.notebook
        self.started = time.perf_counter()
        self.started_at = datetime.now(timezone.utc)
        self.metrics: dict[str, Any] = {}
        self.datasets: list[dict[str, Any]] = []
        self.notes: list[str] = []
        self.training: list[dict[str, Any]] = []
        self._tables: dict[str, pd.DataFrame] = {}
        self._figures: dict[str, Any] = {}
        self._metric_files: dict[str, pd.DataFrame] = {}

    def add_metrics(self, key: str, values: Any) -> None:
        """Store JSON-able results under ``key`` (e.g. ``"fig6/synthetic/sparse"``).

        A data frame of more than :data:`INLINE_ROWS` rows (e.g. a study's long-format metrics) is written as a
        compressed CSV file, ``metrics/<key>.csv.gz``, and ``results.json`` holds ``{"file", "rows", "columns"}``
        under ``key``, which keeps ``results.json`` small enough to read; :func:`read_metrics` returns either kind
        as it was stored."""
        if isinstance(values, pd.DataFrame) and len(values) > INLINE_ROWS:
            name = _metrics_file_name(key, taken=set(self._metric_files))
            self._metric_files[name] = values.copy()
            self.metrics[key] = {"file": f"{METRICS_DIR}/{name}", "rows": len(values),
                                 "columns": [str(c) for c in values.columns]}
            return
        self.metrics[key] = to_jsonable(values, where=f"metrics {key!r}")

    def add_table(self, name: str, table: pd.DataFrame) -> None:
        """Store a table, written as ``tables/<name>.csv`` and ``tables/<name>.md``."""
        self._tables[_file_stem(name, "table")] = table.copy()

    def add_figure(self, name: str, figure: Any) -> None:
        """Store a matplotlib figure, written as ``figures/<name>.png`` and ``.svg``."""
        self._figures[_file_stem(name, "figure")] = figure

    def add_dataset(self, name: str, synthetic: bool, checksum: str | None = None, **details: Any) -> None:
        """Record a dataset the run used (synthetic or real, with its checksum or generator seed)."""
        self.datasets.append(to_jsonable({"name": name, "synthetic": synthetic, "checksum": checksum, **details},
                                         where=f"dataset {name!r}"))

    def add_training(self, fit: Any, **labels: Any) -> None:
        """Record one training run (a :class:`xrec_lib.training.FitResult`) under ``labels`` (e.g. ``data``,
        ``model``, ``seed``): how it stopped (``stopped_by``, ``converged``, ``best_epoch``, ...) and its
        per-epoch history. They go to ``results.json`` under ``training``, so a reader can check every verdict's
        runs for convergence."""
        history = fit.history.to_dict(orient="records")
        self.training.append(to_jsonable({**labels, **fit.summary(), "history": history},
                                         where=f"training run {labels!r}"))

    def note(self, text: str) -> None:
        """Add a line for the reader, e.g. ``"real data not present: make data"``."""
        self.notes.append(text)

    def note_real_data_absent(self) -> None:
        """The one line a run leaves when a real-data section was skipped for want of the data root."""
        self.note(REAL_DATA_ABSENT)

    def write(self) -> Path:
        """Write everything to a staging folder and swap it in place of ``reports/<notebook>/``; a notebook that
        recorded training runs gets their learning curves (``figures/learning_curves``,
        :mod:`xrec_lib.training.curves`)."""
        if self.training and LEARNING_CURVES not in self._figures:
            from xrec_lib.training.curves import curves_frame, learning_curves_figure

            figure = learning_curves_figure(curves_frame(self.training),
                                            f"{self.config.notebook}: validation metric of every training run")
            if figure is not None:
                self._figures[LEARNING_CURVES] = figure
        self.config.reports_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX + self.config.notebook + "-",
                                        dir=self.config.reports_dir))
        staging.chmod(0o755)  # mkdtemp's 0700 would hide the bundle from a web server or another user
        try:
            self._write_into(staging)
            _swap_in(staging, self.target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return self.target

    def summary(self) -> dict[str, Any]:
        """The content of ``results.json``."""
        return {
            "notebook": self.config.notebook,
            "config": self.config.to_dict(),
            "seeds": list(self.config.seeds),
            "metrics": self.metrics,
            "datasets": self.datasets,
            "notes": self.notes,
            "training": self.training,
            "tuning": tuning_record(self.config.notebook),
            "tables": sorted(self._tables),
            "figures": sorted(self._figures),
            "environment": environment(self.config.threads),
            "started_at": self.started_at.isoformat(timespec="seconds"),
            "wall_time_s": round(time.perf_counter() - self.started, 3),
            "cpu_time_s": cpu_time_s(),
            "peak_memory_mb": peak_memory_mb(),
        }

    def _write_into(self, folder: Path) -> None:
        if self._metric_files:
            (folder / METRICS_DIR).mkdir()
        for name, frame in self._metric_files.items():
            frame.to_csv(folder / METRICS_DIR / name, index=False, compression={"method": "gzip", "mtime": 0})
        if self._tables:
            (folder / "tables").mkdir()
        for name, table in self._tables.items():
            table.to_csv(folder / "tables" / f"{name}.csv")
            (folder / "tables" / f"{name}.md").write_text(table.to_markdown() + "\n")
        if self._figures:
            (folder / "figures").mkdir()
        for name, figure in self._figures.items():
            for suffix in ("png", "svg"):
                figure.savefig(folder / "figures" / f"{name}.{suffix}", bbox_inches="tight", dpi=120)
        (folder / "results.json").write_text(json.dumps(self.summary(), indent=2, allow_nan=False) + "\n")


def read_metrics(bundle: Path | str, key: str) -> Any:
    """The metrics a bundle (``reports/<notebook>/``) stored under ``key``: a data frame for those written to
    ``metrics/<key>.csv.gz`` (:meth:`ResultsBundle.add_metrics`), else the JSON value. A missing key raises
    :class:`KeyError` naming the keys present."""
    folder = Path(bundle)
    stored = json.loads((folder / "results.json").read_text())["metrics"]
    if key not in stored:
        raise KeyError(f"{folder / 'results.json'} has no metrics {key!r}; it has: {', '.join(sorted(stored))}")
    value = stored[key]
    if isinstance(value, dict) and set(value) == {"file", "rows", "columns"}:
        return pd.read_csv(folder / value["file"])
    return value


def _metrics_file_name(key: str, taken: set[str]) -> str:
    """A file name for metrics ``key``: its characters outside ``[A-Za-z0-9._-]`` as ``_``, numbered if taken."""
    stem = "".join(c if c.isalnum() or c in "._-" else "_" for c in key).strip("._") or "metrics"
    name, n = f"{stem}.csv.gz", 1
    while name in taken:
        n += 1
        name = f"{stem}_{n}.csv.gz"
    return name


def tuning_record(notebook: str) -> dict[str, Any] | None:
    """The equal-budget search whose values the notebook used (``make tune``: its budget and the chosen values per
    model, ``xrec_lib/profiles/tuned/<notebook>.yaml``); None when the notebook was not tuned."""
    from xrec_lib.tuning import TUNED_DIR

    path = TUNED_DIR / f"{notebook}.yaml"
    if not path.is_file():
        return None
    import yaml

    return to_jsonable(yaml.safe_load(path.read_text()) or {}, where=str(path))


def environment(threads: int) -> dict[str, Any]:
    """Library versions, git revision, hardware and thread count of this process."""
    import torch

    return {
        "python": platform.python_version(),
        "packages": {name: _version(name) for name in TRACKED_PACKAGES},
        "git_revision": git_revision(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "threads": threads,
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }


def cpu_time_s() -> float:
    """CPU seconds (user + system) this process has used so far: the notebook kernel's cost on a shared machine,
    where the wall time also counts the other jobs."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return round(usage.ru_utime + usage.ru_stime, 1)


def peak_memory_mb() -> float:
    """Peak resident memory of this process so far, in MiB (the notebook's kernel when called from a notebook)."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return round(peak / (1024 * 1024 if platform.system() == "Darwin" else 1024), 1)


#: Folders of the run's own outputs (the report folders of every profile): a run writing them does not make the
#: code it ran differ from its commit.
OUTPUT_PATHS = ("reports", "reports-*")


def git_revision(root: Path | None = None) -> str | None:
    """The repository's HEAD commit, with ``+dirty`` when a tracked file outside the report folders
    (:data:`OUTPUT_PATHS`) differs from it: the code, notebooks, profiles or data manifest a run used are not the
    commit's. Report files rewritten by the run itself do not count (the first notebook of a run rewrites them)."""
    root = REPO_ROOT if root is None else Path(root)
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                             check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
                                *(f":(exclude,glob){path}/**" for path in OUTPUT_PATHS)], cwd=root,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return rev + ("+dirty" if dirty else "")


def remove_stale_staging(reports_dir: Path) -> None:
    """Delete staging folders left by runs that were killed before :meth:`ResultsBundle.write` finished."""
    for stale in Path(reports_dir).glob(STAGING_PREFIX + "*"):
        shutil.rmtree(stale, ignore_errors=True)


def _swap_in(staging: Path, target: Path) -> None:
    """Replace ``target`` by ``staging``; if the final rename fails, the previous ``target`` is put back."""
    old = None
    if target.exists():
        old = target.with_name(f"{STAGING_PREFIX}old-{target.name}-{os.getpid()}")
        os.replace(target, old)
    try:
        os.replace(staging, target)
    except BaseException:
        if old is not None:
            os.replace(old, target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _file_stem(name: str, kind: str) -> str:
    """``name`` if it can be used as a file name inside the bundle, else :class:`ValueError` saying why."""
    if not name or name.startswith(".") or any(sep in name for sep in ("/", "\\", os.sep)):
        raise ConfigError(f"{kind} name {name!r} must be a plain file name (no path separators, not starting "
                         f"with '.'), e.g. 'fig6_sparse'")
    return name


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def to_jsonable(value: Any, where: str = "value") -> Any:
    """``value`` as plain JSON types: NumPy/torch values and pandas frames become lists and dicts, dict keys
    become strings, paths become strings, NaN/inf become None.

    Raises :class:`TypeError` naming ``where`` for anything else (e.g. a set or an arbitrary object), so a bad
    value fails when it is added rather than when the bundle is written.
    """
    if isinstance(value, dict):
        return {str(k): to_jsonable(v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, pd.DataFrame):
        return to_jsonable(value.reset_index().to_dict(orient="records"), where)
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "tolist"):  # numpy arrays/scalars, torch tensors, pandas series
        return to_jsonable(value.tolist(), where)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (str, int, float)):
        return value
    raise TypeError(f"{where}: {type(value).__name__} cannot be stored as JSON; convert it to a number, string, "
                    "list or dict first")
