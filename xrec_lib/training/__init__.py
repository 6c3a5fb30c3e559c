"""Training: the one loop (:mod:`.loop`), its losses, the negative sampler, and the graph-encoder objective."""

from xrec_lib.training.loop import FitResult, LoopConfig, Objective, TrainingError, fit

__all__ = ["FitResult", "LoopConfig", "Objective", "TrainingError", "fit"]
