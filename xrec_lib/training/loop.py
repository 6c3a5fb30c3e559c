"""The one training loop of the package: every model of every study is trained by :func:`fit`.

A model takes part through an :class:`Objective`, which supplies only what is specific to it:

* ``module``: the ``torch.nn.Module`` whose parameters are trained (its ``state_dict`` is what early stopping
  keeps);
* ``param_groups(lr)``: the optimiser's parameter groups (default: every parameter of ``module`` at ``lr``);
* ``batches(epoch)``: the epoch's batches, drawn from the objective's own seeded random state;
* ``loss(batch)``: the loss to minimise, or ``(loss, logs)`` with ``logs`` a dict of floats averaged per epoch
  into the history (default log: ``loss``);
* ``after_step(batch)``: per-batch callback after the optimiser step (e.g. SLGM's label updates);
* ``validate()``: a dict of validation metrics (``None``: the model has no validation split);
* ``after_epoch(epoch)``: extra history columns of the epoch (e.g. test curves of a paper figure);
* ``distribute(shard)``: under data parallelism, called once before training with this rank's
  :class:`~xrec_lib.training.distributed.Shard`; an objective that keeps only ``shard.part(batch)`` of every
  global batch trains each rank on its part (default: whole batches on every rank).

The loop owns the rest, the same for every model: Adam (``lr``, ``weight_decay``), the learning-rate schedule
(``constant``; ``exponential``, times ``lr_decay`` after every epoch; ``linear``, per step to 0 at the epoch cap),
the epoch cap, ``max_batches`` per epoch, the wall-clock budget, early stopping on the validation metric
``monitor`` (direction ``mode``; ``patience`` evaluations without an improvement larger than ``min_delta``; best
parameters restored), NaN checks, tqdm progress, an optional checkpoint and the history.

Data parallelism: when a ``torch.distributed`` process group is initialised (``LoopConfig.distributed`` None or
True), the module is wrapped in ``DistributedDataParallel``, each rank's loss is weighted by its share of the
global batch, the logged losses are those of the global batch, and validation, ``after_epoch`` columns and the
wall-clock decision are rank 0's on every rank, so every rank stops at the same epoch; only rank 0 writes the
checkpoint (:mod:`xrec_lib.training.distributed`). Without a process group nothing of this runs.

Stopping reasons (``FitResult.stopped_by``): ``"patience"`` (early stopping), ``"cap"`` (``max_epochs``
reached), ``"time"`` (``max_minutes`` exceeded). ``FitResult.converged`` is true when training stopped by
patience, or when the monitored validation score moved by at most ``converged_tol`` (relative to the best) over
the last ``patience`` evaluations; a run without validation is never called converged.
"""

from __future__ import annotations

import copy
import itertools
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

import pandas as pd
import torch
from tqdm.auto import tqdm

from xrec_lib.errors import ConfigError, XrecError

if TYPE_CHECKING:
    from xrec_lib.training import distributed

SCHEDULES = ("constant", "exponential", "linear")
STOP_REASONS = ("patience", "cap", "time")


class TrainingError(XrecError, RuntimeError):
    """Training cannot go on (a non-finite loss)."""


@dataclass(frozen=True)
class LoopConfig:
    """What the loop does the same way for every model (module docstring).

    Attributes:
        max_epochs: epoch cap.
        lr: Adam learning rate (of every group that does not set its own).
        weight_decay: Adam's weight decay.
        schedule: ``"constant"``, ``"exponential"`` or ``"linear"``.
        lr_decay: factor of the exponential schedule (per epoch).
        patience: validation evaluations without improvement before stopping (None: never stop early).
        eval_every: epochs between validation evaluations.
        monitor: key of ``Objective.validate()``'s dict that early stopping follows.
        mode: ``"max"`` or ``"min"``: the direction in which ``monitor`` improves.
        min_delta: an evaluation improves on the best only by more than this.
        converged_tol: relative band of the last evaluations under which a run counts as converged.
        max_batches: optimisation steps per epoch at most (None: all of ``batches``).
        max_minutes: wall-clock budget; training stops after the first epoch past it (None: none).
        seed: torch's global generator is seeded with it at the start (None: left as it is).
        device: ``"cpu"`` or ``"cuda"``.
        fused: Adam's fused kernel.
        progress: tqdm bar over the epochs.
        desc: label of the bar.
        checkpoint_path: where the best ``state_dict`` is saved (None: memory only; rank 0 only).
        distributed: train data-parallel over the initialised process group (None: when there is one).
    """

    max_epochs: int
    lr: float
    weight_decay: float = 0.0
    schedule: str = "constant"
    lr_decay: float = 1.0
    patience: int | None = None
    eval_every: int = 1
    monitor: str = "score"
    mode: str = "max"
    min_delta: float = 0.0
    converged_tol: float = 0.01
    max_batches: int | None = None
    max_minutes: float | None = None
    seed: int | None = None
    device: str = "cpu"
    fused: bool = False
    progress: bool = False
    desc: str | None = None
    checkpoint_path: str | Path | None = field(default=None, compare=False)
    distributed: bool | None = None

    def __post_init__(self) -> None:
        for name in ("max_epochs", "eval_every"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.patience is not None and self.patience < 1:
            raise ConfigError(f"patience must be >= 1 (or None), got {self.patience}")
        if self.max_batches is not None and self.max_batches < 1:
            raise ConfigError(f"max_batches must be >= 1 (or None), got {self.max_batches}")
        if not self.lr > 0:
            raise ConfigError(f"lr must be positive, got {self.lr}")
        if self.weight_decay < 0:
            raise ConfigError(f"weight_decay must be >= 0, got {self.weight_decay}")
        if self.schedule not in SCHEDULES:
            raise ConfigError(f"unknown schedule {self.schedule!r}; choose one of {', '.join(SCHEDULES)}")
        if not 0 < self.lr_decay <= 1:
            raise ConfigError(f"lr_decay must lie in (0, 1], got {self.lr_decay}")
        if self.mode not in ("max", "min"):
            raise ConfigError(f"mode must be 'max' or 'min', got {self.mode!r}")


class Objective:
    """What one model supplies to :func:`fit` (module docstring). Subclasses set ``module`` and override
    ``batches`` and ``loss``; the other hooks have neutral defaults."""

    module: torch.nn.Module

    def param_groups(self, lr: float) -> list[dict]:
        return [{"params": [p for p in self.module.parameters() if p.requires_grad], "lr": lr}]

    def n_batches(self) -> int:
        """Batches per epoch (needed by the linear schedule)."""
        raise NotImplementedError(f"{type(self).__name__} does not say how many batches an epoch has")

    def batches(self, epoch: int) -> Iterable[Any]:
        raise NotImplementedError

    def loss(self, batch: Any) -> torch.Tensor | tuple[torch.Tensor, dict[str, float]]:
        raise NotImplementedError

    def after_step(self, batch: Any) -> None:
        """Called after every optimiser step."""

    def validate(self) -> dict[str, float] | None:
        """Validation metrics (module in eval mode, no gradients); None: no validation."""
        return None

    def after_epoch(self, epoch: int) -> dict[str, float]:
        """Extra history columns of ``epoch`` (module in eval mode, no gradients)."""
        return {}

    def distribute(self, shard: distributed.Shard) -> None:
        """Data parallelism: keep ``shard`` and yield ``shard.part(global_batch)`` from ``batches`` (module
        docstring). By default every rank keeps whole batches."""


@dataclass
class FitResult:
    """The trained module (best parameters restored) and how training went.

    ``history``: one row per epoch: ``epoch``, the objective's logs (epoch means), ``lr``, ``seconds``,
    ``elapsed_s``, ``val_<metric>`` for every validation metric (NaN between evaluations) and the objective's
    ``after_epoch`` columns.
    """

    module: torch.nn.Module
    history: pd.DataFrame
    best_epoch: int
    best_score: float
    stopped_by: str
    converged: bool
    monitor: str = "score"

    @property
    def stopped_early(self) -> bool:
        return self.stopped_by == "patience"

    def summary(self) -> dict[str, Any]:
        """The scalar facts of the run, for a results bundle."""
        return {"epochs": int(len(self.history)), "best_epoch": int(self.best_epoch),
                "best_score": float(self.best_score), "stopped_by": self.stopped_by, "converged": bool(self.converged),
                "monitor": self.monitor}


def fit(objective: Objective, config: LoopConfig, on_epoch: Callable[[dict], None] | None = None) -> FitResult:
    """Train ``objective.module`` under ``config`` (module docstring); ``on_epoch`` is called with every history
    row as it is completed (on every rank under data parallelism)."""
    module = objective.module.to(config.device)
    if config.seed is not None:
        torch.manual_seed(config.seed)
    parallel = _data_parallel(objective, module, config)
    try:
        return _fit(objective, module, config, on_epoch, parallel)
    finally:
        if parallel is not None:
            parallel.close()


def _data_parallel(objective: Objective, module: torch.nn.Module, config: LoopConfig):
    """The run's :class:`~xrec_lib.training.distributed.DataParallel`, or None in a single process."""
    if config.distributed is False:
        return None
    from xrec_lib.training import distributed

    if not distributed.active():
        if config.distributed:
            raise ConfigError("LoopConfig.distributed is True but no torch.distributed process group is "
                              "initialised")
        return None
    return distributed.DataParallel(objective, module)


def _fit(objective: Objective, module: torch.nn.Module, config: LoopConfig,
         on_epoch: Callable[[dict], None] | None, parallel) -> FitResult:
    optimizer = torch.optim.Adam(objective.param_groups(config.lr), lr=config.lr,
                                 weight_decay=config.weight_decay, fused=config.fused or None)
    scheduler, per_step = _scheduler(optimizer, objective, config)
    stopping = _EarlyStopping(config, write=parallel is None or parallel.is_main)
    rows, started, stopped_by = [], time.perf_counter(), "cap"
    desc = config.desc or type(module).__name__
    progress = config.progress and (parallel is None or parallel.is_main)
    for epoch in tqdm(range(1, config.max_epochs + 1), disable=not progress, desc=desc):
        epoch_start, lr = time.perf_counter(), optimizer.param_groups[0]["lr"]
        module.train()
        logs = _run_epoch(objective, optimizer, scheduler if per_step else None, config, desc, epoch, parallel)
        row = {"epoch": epoch, **logs, "lr": lr, "seconds": time.perf_counter() - epoch_start}
        module.eval()
        with torch.no_grad():
            metrics = objective.validate() if epoch % config.eval_every == 0 else None
            if parallel is not None:
                metrics = parallel.from_main(metrics)
            if metrics is not None:
                row.update({f"val_{name}": float(value) for name, value in metrics.items()})
                stopping.update(module, epoch, _monitored(metrics, config))
            extra = objective.after_epoch(epoch)
            row.update(extra if parallel is None else parallel.from_main(extra))
        row["elapsed_s"] = time.perf_counter() - started
        rows.append(row)
        if on_epoch is not None:
            on_epoch(row)
        if scheduler is not None and not per_step:
            scheduler.step()
        if stopping.should_stop():
            stopped_by = "patience"
            break
        if config.max_minutes is not None:
            over_time = time.perf_counter() - started > 60 * config.max_minutes
            if over_time if parallel is None else parallel.from_main(over_time):
                stopped_by = "time"
                break
    if stopping.best_state is None:
        stopping.update(module, len(rows), math.nan, force=True)
    stopping.restore(module)
    module.eval()
    history = pd.DataFrame(rows)
    return FitResult(module, history, stopping.best_epoch, stopping.best_score, stopped_by,
                     converged(history, config, stopped_by), config.monitor)


def converged(history: pd.DataFrame, config: LoopConfig, stopped_by: str) -> bool:
    """True when stopped by patience, or when the last ``patience`` (at least 2) validation evaluations lie within
    ``converged_tol`` of the best, relative to it (module docstring)."""
    if stopped_by == "patience":
        return True
    column = f"val_{config.monitor}"
    if column not in history:
        return False
    scores = history[column].dropna().to_numpy()
    window = max(config.patience or 2, 2)
    if len(scores) <= window:
        return False
    best = scores.max() if config.mode == "max" else scores.min()
    recent = scores[-window:]
    return bool(abs(recent - best).max() <= config.converged_tol * max(abs(best), 1e-12))


def _monitored(metrics: dict[str, float], config: LoopConfig) -> float:
    if config.monitor not in metrics:
        raise ConfigError(f"monitor {config.monitor!r} is not among the validation metrics {sorted(metrics)}")
    return float(metrics[config.monitor])


def _scheduler(optimizer: torch.optim.Optimizer, objective: Objective, config: LoopConfig):
    """``(scheduler or None, stepped per batch)``."""
    if config.schedule == "exponential":
        return torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=config.lr_decay), False
    if config.schedule == "linear":
        steps = objective.n_batches()
        if config.max_batches is not None:
            steps = min(steps, config.max_batches)
        total = config.max_epochs * steps
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0 - step / total), True
    return None, False


def _run_epoch(objective: Objective, optimizer: torch.optim.Optimizer, step_scheduler, config: LoopConfig,
               desc: str, epoch: int, parallel=None) -> dict[str, float]:
    """Epoch means of the logs; under data parallelism each rank's logs are weighted by its share of the global
    batch and summed over the ranks, which gives the global batch's values."""
    sums: dict[str, float] = {}
    n = 0
    for batch in itertools.islice(objective.batches(epoch), config.max_batches):
        weight = 1.0 if parallel is None else parallel.step_weight()
        out = objective.loss(batch)
        loss, logs = out if isinstance(out, tuple) else (out, None)
        if not (torch.isfinite(loss) if parallel is None else parallel.all_finite(loss)):
            raise TrainingError(f"{desc}: the loss is {loss.item()} at epoch {epoch}, batch {n + 1}; lower the "
                                f"learning rate or check the inputs")
        optimizer.zero_grad()
        (loss if parallel is None else parallel.scaled(loss, weight)).backward()
        optimizer.step()
        if step_scheduler is not None:
            step_scheduler.step()
        objective.after_step(batch)
        if parallel is not None:
            parallel.after_step()
        for name, value in (logs if logs is not None else {"loss": loss.item()}).items():
            sums[name] = sums.get(name, 0.0) + (float(value) if parallel is None else weight * float(value))
        n += 1
    if n == 0:
        raise TrainingError(f"{desc}: epoch {epoch} has no batch")
    if parallel is not None:
        sums = parallel.sum_logs(sums)
    return {name: total / n for name, total in sums.items()}


class _EarlyStopping:
    """Tracks the best monitored score and keeps that ``state_dict`` (in memory, and on disk when asked)."""

    def __init__(self, config: LoopConfig, write: bool = True):
        self.config, self.write = config, write
        self.sign = 1.0 if config.mode == "max" else -1.0
        self.best_score, self.best_epoch, self.best_state, self.stale = math.nan, 0, None, 0

    def update(self, module: torch.nn.Module, epoch: int, score: float, force: bool = False) -> None:
        better = self.best_state is None or self.sign * (score - self.best_score) > self.config.min_delta
        if force or better:
            self.best_score, self.best_epoch, self.stale = score, epoch, 0
            self.best_state = copy.deepcopy(module.state_dict())
            if self.config.checkpoint_path is not None and self.write:
                torch.save(self.best_state, self.config.checkpoint_path)
        else:
            self.stale += 1

    def should_stop(self) -> bool:
        return self.config.patience is not None and self.stale >= self.config.patience

    def restore(self, module: torch.nn.Module) -> None:
        module.load_state_dict(self.best_state)
