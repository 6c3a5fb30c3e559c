"""Paper 002's experiments: Table 1 (baselines), Table 2 (ablation), Table 3 (depth N), and the real-data check.

Every row is one (model, seed): the Table-1 quantities of :mod:`.measures` on the seed's test split, the task's
number of classes ``classes`` (C) and its chance accuracy ``chance`` (1/C), the number
of parameters (Table 1 "complexity", the product-id embedding included), the learning rate used (``lr``), the
wall time of the fits (``train_s``, the learning-rate selection included) and how the measured fit stopped
(``epochs``, ``best_epoch``, ``stopped_by``, ``converged``; NaN for the SVM). Each model's learning rate is
selected on the first seed (:func:`~xrec_lib.studies.paper002.training.fit_with_lr_selection`) and reused for the
other seeds. Every experiment, the depth sweep and the real data included, trains under the same epoch cap and
early stopping (:func:`~xrec_lib.studies.paper002.training.loop_config`).

The experiments return :class:`Runs`: the rows and every fit of the training loop (the learning-rate grid's
included), which :meth:`Runs.record` writes into a results bundle.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from xrec_lib.config import RunConfig
from xrec_lib.models.baselines_002 import LinearSvm
from xrec_lib.models.gconv_transform import count_parameters
from xrec_lib.results import ResultsBundle
from xrec_lib.studies.paper002.figures import plot_learning_curves
from xrec_lib.studies.paper002.measures import Scorer, classification_metrics, inference_ms, ranking_metrics
from xrec_lib.studies.paper002.settings import ABLATIONS, MODEL_NAMES, OURS, Paper002Settings
from xrec_lib.studies.paper002.tables import real_summary
from xrec_lib.studies.paper002.task import Task, real_task
from xrec_lib.studies.paper002.training import Fitted, fit_model, fit_with_lr_selection
from xrec_lib.training.loop import FitResult

RANKING = ("hr@10", "ndcg@10")


@dataclass(frozen=True)
class TrainingRun:
    """One fit of the training loop and its labels (``model``, ``seed``, ``lr``, ``selected``: whether it is the
    fit the row measures, plus e.g. ``n_layers`` or ``dataset``)."""

    labels: dict
    fit: FitResult


@dataclass
class Runs:
    """The rows of an experiment (one per model and seed) and every training-loop fit behind them: ``fits`` its
    own, ``shared`` those it takes from another experiment (recorded there)."""

    rows: pd.DataFrame
    fits: list[TrainingRun] = field(default_factory=list)
    shared: list[TrainingRun] = field(default_factory=list)

    def record(self, bundle: ResultsBundle, **labels) -> None:
        """Add every fit to ``bundle`` (:meth:`ResultsBundle.add_training`) under ``labels`` and its own."""
        for run in self.fits:
            bundle.add_training(run.fit, **labels, **run.labels)

    @staticmethod
    def concat(parts: Sequence[Runs]) -> Runs:
        return Runs(pd.concat([part.rows for part in parts], ignore_index=True),
                    [run for part in parts for run in part.fits], [run for part in parts for run in part.shared])

    def curves(self, by: str = "model") -> pd.DataFrame:
        """Learning curves of the measured fits, own and shared (:func:`learning_curves`)."""
        return learning_curves([*self.fits, *self.shared], by)


def learning_curves(fits: Sequence[TrainingRun], by: str = "model") -> pd.DataFrame:
    """Long-form history of the measured fits (label ``selected``) among ``fits``: one row per (``by``, seed,
    epoch) with the training loss, the validation accuracy and ``best`` (the epoch early stopping kept)."""
    frames = []
    for run in fits:
        if not run.labels.get("selected", True):
            continue
        history = run.fit.history[["epoch", "loss", "val_accuracy"]].copy()
        history["best"] = history["epoch"] == run.fit.best_epoch
        frames.append(history.assign(**{by: str(run.labels[by]), "seed": run.labels["seed"]}))
    columns = [by, "seed", "epoch", "loss", "val_accuracy", "best"]
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)


def measure_model(scorer: Scorer, task: Task, settings: Paper002Settings, seed: int, device: str,
                  ranking: bool = True) -> dict:
    """Every Table-1 quantity of a fitted model on ``task``'s test split (HR/NDCG@10 only when ``ranking``)."""
    n_parameters = scorer.n_parameters if isinstance(scorer, LinearSvm) else count_parameters(scorer)
    ranked = (ranking_metrics(scorer, task, settings.rank_users, settings.n_negatives, seed, device) if ranking
              else {})
    return {
        "seed": seed,
        "classes": task.n_classes,
        "chance": task.chance,
        **classification_metrics(scorer, task.test, device),
        **ranked,
        "inference_ms": inference_ms(scorer, task.test, device, settings.timing_repeats),
        "params": n_parameters,
    }


def fit_and_measure(name: str, task: Task, settings: Paper002Settings, seed: int, device: str,
                    lr: float | None = None, ranking: bool = True,
                    switches: Mapping[str, bool] | None = None) -> tuple[dict, list[Fitted]]:
    """Fit ``name`` on ``task`` with rate ``lr`` (None: select it from ``lr_grid`` on the validation split) and
    measure it. Returns the row (with ``lr``, ``train_s``: wall time of the fits, the selection included, and the
    measured fit's stopping facts) and every fit, the measured one first."""
    start = time.perf_counter()
    if lr is None:
        chosen, grid = fit_with_lr_selection(name, task, settings, seed, device, switches)
        fits = [chosen, *(f for f in grid if f is not chosen)]
    else:
        fits = [fit_model(name, task, settings, seed, device, lr, switches)]
    train_s = time.perf_counter() - start
    chosen = fits[0]
    row = {**measure_model(chosen.scorer, task, settings, seed, device, ranking), "lr": chosen.lr,
           "train_s": train_s, **chosen.stopping()}
    return row, fits


def run_models(settings: Paper002Settings, tasks: Mapping[int, Task], models: Sequence[str], device: str,
               seeds: Sequence[int] | None = None, ranking: bool = True,
               switches: Mapping[str, bool] | None = None, label: str | None = None) -> Runs:
    """One row per (model, seed) of ``seeds`` (default: every task's seed) (module docstring); classes, chance,
    accuracy, auc,
    hr@10 and ndcg@10 (when ``ranking``), inference_ms, params, lr, train_s, epochs, best_epoch, stopped_by,
    converged. ``label`` replaces the model name in the rows and the fits' labels (an ablation variant)."""
    first, *others = seeds or list(tasks)
    rows, fits = [], []
    for name in models:
        shown = label or name
        lr = None
        for seed in (first, *others):
            row, fitted = fit_and_measure(name, tasks[seed], settings, seed, device, lr, ranking, switches)
            lr = row["lr"]
            rows.append({"model": shown, **row})
            fits.extend(TrainingRun({"model": shown, "seed": seed, "lr": f.lr, "selected": f is fitted[0]}, f.fit)
                        for f in fitted if f.fit is not None)
    return Runs(pd.DataFrame(rows), fits)


def run_table1(settings: Paper002Settings, tasks: Mapping[int, Task], device: str) -> Runs:
    """Table 1: every model on every seed."""
    return run_models(settings, tasks, MODEL_NAMES, device)


def run_ablation(settings: Paper002Settings, tasks: Mapping[int, Task], device: str) -> Runs:
    """Table 2: GConv-Transform without Chebyshev convolution / graph convolution / attention."""
    return Runs.concat([run_models(settings, tasks, [OURS], device, switches=switches, label=variant)
                        for variant, switches in ABLATIONS.items()])


def run_depth(settings: Paper002Settings, tasks: Mapping[int, Task], device: str,
              table1: Runs | None = None) -> Runs:
    """Table 3: GConv-Transform with N = ``depth.values`` layers on the first ``depth.seeds`` seeds, under the
    same cap, early stopping and learning-rate selection as Table 1 (accuracy, AUC and time only: Table 3 reports
    no ranking metric). N = ``n_layers`` is Table 1's own GConv-Transform: with ``table1`` given, its rows are
    taken from there (the same fits, recorded once, under Table 1) rather than trained again."""
    sweep = settings.depth
    seeds = list(tasks)[:sweep.seeds]
    parts = []
    for n in sweep.values:
        if table1 is not None and n == settings.n_layers:
            rows = table1.rows[(table1.rows["model"] == OURS) & table1.rows["seed"].isin(seeds)]
            shared = [TrainingRun({**run.labels, "n_layers": n}, run.fit) for run in table1.fits
                      if run.labels["model"] == OURS and run.labels["seed"] in seeds]
            parts.append(Runs(rows.drop(columns=list(RANKING), errors="ignore").reset_index(drop=True),
                              shared=shared))
        else:
            runs = run_models(replace(settings, n_layers=n), tasks, [OURS], device, seeds, ranking=False)
            parts.append(Runs(runs.rows, [TrainingRun({**run.labels, "n_layers": n}, run.fit) for run in runs.fits]))
        parts[-1].rows.insert(len(parts[-1].rows.columns), "n_layers", n)
    return Runs.concat(parts)


def run_real(settings: Paper002Settings, data_dir: Path, seeds: Sequence[int], device: str) -> Runs:
    """The ``real.models`` on each of ``real.datasets``, under the same stopping rule as Table 1."""
    parts = []
    for dataset in settings.real.datasets:
        tasks = {seed: real_task(data_dir, dataset, settings, seed) for seed in seeds}
        runs = run_models(settings, tasks, settings.real.models, device)
        task = next(iter(tasks.values()))
        parts.append(Runs(runs.rows.assign(dataset=dataset, task=task.task_label),
                          [TrainingRun({**run.labels, "dataset": dataset}, run.fit) for run in runs.fits]))
    return Runs.concat(parts)


def report_real(cfg: RunConfig, settings: Paper002Settings, bundle: ResultsBundle) -> tuple[pd.DataFrame,
                                                                                              pd.DataFrame]:
    """Run :func:`run_real` on the first ``real.seeds`` seeds; record the datasets, the per-seed rows, the summary
    table, every fit and the learning curves (one figure per dataset) in ``bundle``. Returns the per-seed rows and
    the summary (both empty, with a note in the bundle, when real data is absent)."""
    if cfg.data_dir is None:
        bundle.note_real_data_absent()
        return pd.DataFrame(), pd.DataFrame()
    real = run_real(settings, cfg.data_dir, list(cfg.seeds)[:settings.real.seeds], cfg.device)
    for dataset in settings.real.datasets:
        bundle.add_dataset(dataset, synthetic=False, max_users=settings.real.max_users, data_dir=str(cfg.data_dir))
    bundle.add_metrics("table1/real", real.rows)
    real.record(bundle, data="real", table="Table 1")
    summary = real_summary(real.rows)
    bundle.add_table("table1_real_" + "_".join(settings.real.datasets), summary)
    for dataset in settings.real.datasets:
        fits = [run for run in real.fits if run.labels["dataset"] == dataset]
        task = real.rows.loc[real.rows["dataset"] == dataset, "task"].iloc[0]
        title = f"Table 1 learning curves ({dataset}, {task}, {settings.real.max_users} random users)"
        bundle.add_figure(f"table1_learning_curves_{dataset}", plot_learning_curves(learning_curves(fits), title))
    return real.rows, summary
