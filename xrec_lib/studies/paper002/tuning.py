"""``make tune`` for notebook 04: the same Optuna TPE budget for every neural model of paper 002's Table 1.

Each model's knobs: Adam's learning rate and weight decay, and the dropout every neural model has (no knob of its
own, so every model searches the same three). A trial fits the model with the study's one stopping rule
(:func:`~xrec_lib.studies.paper002.training.fit_model`) on the synthetic task of the run's first seed and returns
its best validation accuracy; the test split is never seen. The linear SVM (``C = 1``) is not tuned.
"""

from __future__ import annotations

from dataclasses import replace

from xrec_lib.config import RunConfig
from xrec_lib.studies.paper002.settings import MODEL_NAMES, Paper002Settings
from xrec_lib.studies.paper002.task import synthetic_task
from xrec_lib.studies.paper002.training import MONITOR, fit_model
from xrec_lib.tuning import TuningProblem, search_space

TUNED_MODELS = tuple(name for name in MODEL_NAMES if name != "SVM")


def tuning_problem(cfg: RunConfig) -> TuningProblem:
    """The search of notebook 04 under ``cfg``'s profile (module docstring)."""
    settings = Paper002Settings.from_config(cfg)
    task = synthetic_task(settings, cfg.seed)

    def objective(model: str, values: dict) -> float:
        trial = replace(settings, weight_decay=values["weight_decay"], dropout=values["dropout"])
        return fit_model(model, task, trial, cfg.seed, cfg.device, values["lr"]).validation_score

    return TuningProblem({name: search_space(dropout=True) for name in TUNED_MODELS}, objective,
                         direction="maximize", metric=f"validation {MONITOR}")
