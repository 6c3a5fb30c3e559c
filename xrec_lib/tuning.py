"""Equal hyperparameter search for every model of a comparison (Optuna, TPE).

Every model of a study gets the same budget: the same number of trials of the same sampler (TPE, seeded), over
the same kinds of knobs: the learning rate and the weight decay for all, the dropout where the model has one, and
at most one knob of the model's own (e.g. the Siamese GCN's alignment weight, a baseline's number of layers). A
trial trains the model with the study's one training loop on the fitting part of the first data seed and returns
its best validation score; the test split is never seen. :func:`check_equal_budget` refuses a search that breaks
these rules, so "same budget for every model" is checked, not only stated.

The chosen values and the trial table of a notebook go to ``xrec_lib/profiles/tuned/<notebook>.yaml`` and
``.csv`` (:func:`write_tuned`); the notebooks read them with :func:`load_tuned`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import optuna
import pandas as pd
import yaml

from xrec_lib.config import PROFILE_DIR
from xrec_lib.errors import ConfigError

TUNED_DIR = PROFILE_DIR / "tuned"
SHARED_KNOBS = ("lr", "weight_decay")
OPTIONAL_KNOBS = ("dropout",)


@dataclass(frozen=True)
class Knob:
    """One searched value: a float in ``[low, high]`` (log scale when ``log``), an int when ``integer``, or one of
    ``choices``."""

    name: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    integer: bool = False
    choices: tuple | None = None

    def suggest(self, trial: optuna.Trial) -> Any:
        if self.choices is not None:
            return trial.suggest_categorical(self.name, list(self.choices))
        if self.integer:
            return trial.suggest_int(self.name, int(self.low), int(self.high), log=self.log)
        return trial.suggest_float(self.name, self.low, self.high, log=self.log)


LR = Knob("lr", 1e-4, 3e-2, log=True)
WEIGHT_DECAY = Knob("weight_decay", 1e-8, 1e-3, log=True)
DROPOUT = Knob("dropout", 0.0, 0.5)


def search_space(own: Knob | None = None, dropout: bool = False) -> tuple[Knob, ...]:
    """The knobs of one model: learning rate, weight decay, dropout where it has one, and its own knob."""
    return (LR, WEIGHT_DECAY, *((DROPOUT,) if dropout else ()), *((own,) if own is not None else ()))


def check_equal_budget(spaces: Mapping[str, Sequence[Knob]], trials: pd.DataFrame | None = None) -> None:
    """Refuse a search in which the models do not get the same kinds of knobs and (when ``trials`` is given) the
    same number of finished trials (module docstring)."""
    for model, knobs in spaces.items():
        names = [knob.name for knob in knobs]
        if names[:2] != list(SHARED_KNOBS):
            raise ConfigError(f"{model}: a search space starts with {SHARED_KNOBS}, got {names}")
        own = [n for n in names[2:] if n not in OPTIONAL_KNOBS]
        if len(own) > 1:
            raise ConfigError(f"{model}: at most one knob of its own, got {own}")
    if trials is not None:
        counts = trials.groupby("model")["number"].count().reindex(list(spaces), fill_value=0)
        if counts.nunique() != 1:
            raise ConfigError(f"unequal tuning budgets: {counts.to_dict()}")


def tune(spaces: Mapping[str, Sequence[Knob]], objective: Callable[[str, dict[str, Any]], float], n_trials: int,
         seed: int = 0, direction: str = "maximize",
         on_trial: Callable[[dict], None] | None = None) -> tuple[dict[str, dict[str, Any]], pd.DataFrame]:
    """Search every model's space with the same TPE budget. ``objective(model, values)`` trains ``model`` with
    ``values`` and returns its validation score. Returns the best values per model and the trial table (one row
    per trial: model, number, the values, score, seconds)."""
    if n_trials < 1:
        raise ConfigError(f"n_trials must be >= 1, got {n_trials}")
    check_equal_budget(spaces)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    best, rows = {}, []
    for model, knobs in spaces.items():
        study = optuna.create_study(direction=direction, sampler=optuna.samplers.TPESampler(seed=seed))
        for _ in range(n_trials):
            trial = study.ask()
            values = {knob.name: knob.suggest(trial) for knob in knobs}
            started = time.perf_counter()
            score = float(objective(model, values))
            study.tell(trial, score if math.isfinite(score) else None,
                       state=None if math.isfinite(score) else optuna.trial.TrialState.FAIL)
            row = {"model": model, "number": trial.number, **values, "score": score,
                   "seconds": time.perf_counter() - started}
            rows.append(row)
            if on_trial is not None:
                on_trial(row)
        finished = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
        if not finished:
            raise ConfigError(f"{model}: every tuning trial failed (non-finite validation scores)")
        best[model] = dict(study.best_params)
    trials = pd.DataFrame(rows)
    check_equal_budget(spaces, trials)
    return best, trials


def write_tuned(notebook: str, best: Mapping[str, Mapping[str, Any]], trials: pd.DataFrame,
                budget: Mapping[str, Any], folder: Path = TUNED_DIR) -> Path:
    """Write the chosen values (``<notebook>.yaml``, with the budget that chose them) and the trial table
    (``<notebook>.csv``)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{notebook}.yaml"
    document = {"budget": dict(budget), "models": {m: {k: _plain(v) for k, v in values.items()}
                                                   for m, values in best.items()}}
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    trials.to_csv(folder / f"{notebook}.csv", index=False)
    return path


def load_tuned(notebook: str, folder: Path = TUNED_DIR) -> dict[str, dict[str, Any]]:
    """The tuned values per model of ``notebook`` (empty when it was never tuned)."""
    path = folder / f"{notebook}.yaml"
    if not path.is_file():
        return {}
    return dict((yaml.safe_load(path.read_text()) or {}).get("models") or {})


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


# ------------------------------------------------------------------------------------------------- command line
#: notebook -> "module:function" building the notebook's :class:`TuningProblem` from a ``RunConfig``.
PROBLEMS: dict[str, str] = {
    "01_siamese_gcn": "xrec_lib.studies.paper000.representation_tuning:tuning_problem",
    "02_bilinear_attention": "xrec_lib.studies.paper000.head_tuning:tuning_problem",
    "03_multimodal_short_video": "xrec_lib.studies.paper001.tuning:tuning_problem",
    "04_gconv_transform": "xrec_lib.studies.paper002.tuning:tuning_problem",
}


@dataclass(frozen=True)
class TuningProblem:
    """What ``make tune`` searches for one notebook: each model's knobs, the objective (train on the fitting part
    of the first data seed, return the best validation score) and the direction of that score."""

    spaces: Mapping[str, Sequence[Knob]]
    objective: Callable[[str, dict[str, Any]], float]
    direction: str = "maximize"
    metric: str = "validation score"


def _problem(notebook: str, config: Any) -> TuningProblem:
    import importlib

    if notebook not in PROBLEMS:
        raise ConfigError(f"notebook {notebook!r} has no tuning problem (tunable: {', '.join(PROBLEMS) or 'none'})")
    module, function = PROBLEMS[notebook].split(":")
    return getattr(importlib.import_module(module), function)(config)


def parse_overrides(items: Sequence[str]) -> dict[str, Any]:
    """``["a=1", "b={c: 2}"]`` -> ``{"a": 1, "b": {"c": 2}}`` (values read as YAML)."""
    overrides: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"--set takes NAME=VALUE, got {item!r}")
        overrides[name.strip()] = yaml.safe_load(value)
    return overrides


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m xrec_lib.tuning [--trials N] [--profile P] [NOTEBOOK ...]``: tune every model of each notebook
    with the same budget and write ``profiles/tuned/<notebook>.yaml`` and ``.csv``."""
    import argparse

    from xrec_lib.config import load_config

    parser = argparse.ArgumentParser(description=main.__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20, help="trials per model (the same for every model)")
    parser.add_argument("--profile", default="paper", help="profile whose data scale and caps the trials use")
    parser.add_argument("--out", type=Path, default=TUNED_DIR, help="folder of the tuned values (default: %(default)s)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="NAME=VALUE",
                        help="a notebook parameter for the trials (YAML value, e.g. synthetic_scale=0.05 or "
                             "'mosi={fraction: 0.5}'); repeatable; recorded with the tuned values")
    parser.add_argument("notebooks", nargs="*", help="notebook stems (default: every tunable notebook)")
    args = parser.parse_args(argv)
    overrides = parse_overrides(args.overrides)
    for notebook in args.notebooks or list(PROBLEMS):
        config = load_config(notebook, args.profile, overrides=overrides)
        problem = _problem(notebook, config)
        started = time.perf_counter()
        best, trials = tune(problem.spaces, problem.objective, args.trials, seed=config.seed,
                            direction=problem.direction,
                            on_trial=lambda row: print(f"[tune {notebook}] {row['model']} #{row['number']}: "
                                                       f"{row['score']:.4f} ({row['seconds']:.1f} s)", flush=True))
        budget = {"trials_per_model": args.trials, "sampler": "TPE", "seed": config.seed, "profile": args.profile,
                  "overrides": overrides, "metric": problem.metric,
                  "data": "fitting part of the first data seed (test never seen)",
                  "minutes": round((time.perf_counter() - started) / 60, 1)}
        print(f"[tune {notebook}] wrote {write_tuned(notebook, best, trials, budget, folder=args.out)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
