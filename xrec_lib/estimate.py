"""Up-front time estimate of a profile run: measured seconds per optimisation step x planned steps, per notebook.

``python -m xrec_lib.estimate --profile full`` (and ``python -m xrec_lib.runner --profile full``, which prints it
before anything trains) builds, for every notebook, the main models of its profile on the current device (CUDA
when present, else the CPU at the run's torch thread count), times a few optimisation steps of each (``steps``
after ``warmup``, :func:`time_steps`) and multiplies by the planned number of steps: epoch cap x batches per epoch
x models x seeds (x scenarios, learning rates, ...). Early stopping usually ends runs before their cap, so the
estimate is an upper bound of the training time; evaluation, validation and data preparation are not counted
unless a row says so.

Where a step at the profile's own data size would itself take minutes to set up on a CPU (generating the paper-
size synthetic data), the step is timed on data drawn at a smaller scale and extrapolated with the cost model the
row states (e.g. per-step cost linear in graph edges). Each notebook's estimator lives next to its study
(``xrec_lib/studies/*/estimate.py``) and is registered in :data:`ESTIMATORS`; this module holds the shared parts:
:class:`Estimate`, :func:`time_steps`, :func:`estimate_all` and :func:`format_table`.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

import torch

from xrec_lib.config import PROFILES, RunConfig, load_config
from xrec_lib.errors import ConfigError

#: Steps timed per model, after :data:`WARMUP` untimed ones; one only when the warm-up took over :data:`SLOW_STEP_S`
#: seconds (a slow step varies little, and timing three would take minutes on a CPU).
STEPS = 3
WARMUP = 1
SLOW_STEP_S = 10.0


@dataclass
class Part:
    """One kind of fit of a notebook: ``steps`` planned optimisation steps of ``seconds_per_step`` each (at the
    profile's data size and width; extrapolated when ``Estimate.note`` says so)."""

    label: str
    seconds_per_step: float
    steps: int

    @property
    def seconds(self) -> float:
        return self.seconds_per_step * self.steps


@dataclass
class Estimate:
    """A notebook's estimate: its parts, ``other_seconds`` not made of steps (e.g. data generation), how the
    numbers were obtained (``note``) and whether early stopping usually ends its runs sooner (``upper_bound``)."""

    notebook: str
    device: str
    parts: list[Part] = field(default_factory=list)
    note: str = ""
    other_seconds: float = 0.0
    upper_bound: bool = True

    @property
    def steps(self) -> int:
        return int(sum(part.steps for part in self.parts))

    @property
    def seconds(self) -> float:
        return float(sum(part.seconds for part in self.parts) + self.other_seconds)

    @property
    def seconds_per_step(self) -> float:
        """Mean measured seconds per planned step (steps of every part weighted by their number); NaN without
        steps."""
        return sum(part.seconds for part in self.parts) / self.steps if self.steps else math.nan

    @property
    def hours(self) -> float:
        return self.seconds / 3600

    def to_dict(self) -> dict[str, Any]:
        return {"notebook": self.notebook, "device": self.device, "seconds_per_step": self.seconds_per_step,
                "steps": self.steps, "hours": self.hours, "upper_bound": self.upper_bound, "note": self.note,
                "parts": [{"label": p.label, "seconds_per_step": p.seconds_per_step, "steps": p.steps}
                          for p in self.parts]}


#: notebook -> "module:function"; each function takes ``(cfg: RunConfig, probe_scale: float | None)`` and returns
#: an :class:`Estimate` (``probe_scale``: the data scale steps are timed at when the profile's is larger; None:
#: the estimator's default).
ESTIMATORS: dict[str, str] = {
    "00_data_prep": "xrec_lib.studies.data_prep.estimate:estimate",
    "01_siamese_gcn": "xrec_lib.studies.paper000.estimate:estimate_representation",
    "02_bilinear_attention": "xrec_lib.studies.paper000.estimate:estimate_interaction",
    "03_multimodal_short_video": "xrec_lib.studies.paper001.estimate:estimate",
    "04_gconv_transform": "xrec_lib.studies.paper002.estimate:estimate",
    "05_ablations": "xrec_lib.estimate:estimate_nothing",
    "06_your_data": "xrec_lib.studies.paper000.estimate:estimate_your_data",
}


def estimator(notebook: str) -> Callable[..., Estimate]:
    """The registered estimate function of ``notebook``."""
    if notebook not in ESTIMATORS:
        raise ConfigError(f"no estimator for {notebook!r} (known: {', '.join(ESTIMATORS)})")
    module, name = ESTIMATORS[notebook].split(":")
    return getattr(importlib.import_module(module), name)


def device_label(device: str) -> str:
    """``"cuda (<GPU name>)"`` or ``"cpu (<n> threads)"``."""
    if device == "cuda":
        return f"cuda ({torch.cuda.get_device_name()})"
    threads = torch.get_num_threads()
    return f"cpu ({threads} thread{'s' if threads != 1 else ''})"


def _synchronize(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def time_steps(objective, device: str, steps: int | None = None, warmup: int | None = None,
               lr: float = 1e-3) -> float:
    """Mean wall seconds of one optimisation step of ``objective`` (an :class:`xrec_lib.training.loop.Objective`)
    on ``device``: the loop's own step (batch from ``objective.batches``, ``loss``, backward, Adam, ``after_step``),
    ``warmup`` untimed steps, then ``steps`` timed ones (one when the warm-up took over :data:`SLOW_STEP_S` s a
    step). Epochs are repeated when one has too few batches; the
    time to draw an epoch's batches counts towards its steps. ``steps`` / ``warmup`` default to :data:`STEPS` /
    :data:`WARMUP`."""
    steps = STEPS if steps is None else steps
    warmup = WARMUP if warmup is None else warmup
    module = objective.module.to(device)
    module.train()
    optimizer = torch.optim.Adam(objective.param_groups(lr), lr=lr)

    def every_batch():
        epoch = 1
        while True:
            yield from objective.batches(epoch)
            epoch += 1

    batches, started = every_batch(), time.perf_counter()
    step, total = 0, warmup + steps
    while step < total:
        if step == warmup:
            _synchronize(device)
            if warmup and time.perf_counter() - started > SLOW_STEP_S * warmup:
                steps, total = 1, warmup + 1
            started = time.perf_counter()
        batch = next(batches)
        out = objective.loss(batch)
        loss = out[0] if isinstance(out, tuple) else out
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        objective.after_step(batch)
        step += 1
    _synchronize(device)
    return (time.perf_counter() - started) / steps


def estimate_nothing(cfg: RunConfig, probe_scale: float | None = None) -> Estimate:
    """A notebook that trains nothing (it gathers the other notebooks' bundles): no steps."""
    return Estimate(cfg.notebook, device_label(cfg.device), [], "trains nothing (gathers notebooks 02-04)",
                    upper_bound=False)


def estimate_notebook(notebook: str, profile: str = "full", overrides: Mapping[str, Any] | None = None,
                      device: str | None = None, threads: int | None = None,
                      probe_scale: float | None = None) -> Estimate:
    """The estimate of one notebook under ``profile`` (with ``overrides``, as papermill's ``overrides``)."""
    cfg = load_config(notebook, profile, overrides=overrides, device=device, threads=threads)
    return estimator(notebook)(cfg, probe_scale)


def estimate_all(notebooks: Iterable[str], profile: str = "full",
                 overrides: Mapping[str, Mapping[str, Any]] | None = None, device: str | None = None,
                 threads: int | None = None, probe_scale: float | None = None) -> list[Estimate]:
    """:func:`estimate_notebook` for each of ``notebooks`` (``overrides``: per notebook)."""
    return [estimate_notebook(name, profile, (overrides or {}).get(name), device, threads, probe_scale)
            for name in notebooks]


def format_table(estimates: Sequence[Estimate], profile: str = "full") -> str:
    """A Markdown table: notebook, device, measured seconds per step, planned steps, estimated hours; then how
    each notebook was measured."""
    lines = [f"Estimated training time of the `{profile}` profile on this device (measured seconds per step x "
             f"planned steps; `<=`: an upper bound, early stopping usually ends runs sooner)",
             "",
             "| notebook | device | s / step (measured) | planned steps | estimated hours |",
             "|---|---|---:|---:|---:|"]
    for e in estimates:
        per_step = "-" if math.isnan(e.seconds_per_step) else f"{e.seconds_per_step:.4g}"
        bound = "<= " if e.upper_bound and e.steps else ""
        lines.append(f"| {e.notebook} | {e.device} | {per_step} | {e.steps:,} | {bound}{e.hours:,.2f} |")
    total = sum(e.hours for e in estimates)
    lines.append(f"| **total** | | | {sum(e.steps for e in estimates):,} | <= {total:,.2f} |")
    lines += ["", "How each notebook was measured:", ""]
    for e in estimates:
        lines.append(f"- `{e.notebook}`: {e.note}")
        for part in e.parts:
            lines.append(f"  - {part.label}: {part.seconds_per_step:.4g} s/step x {part.steps:,} steps = "
                         f"{part.seconds / 3600:,.2f} h")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="full", choices=PROFILES)
    parser.add_argument("--probe-scale", type=float, default=None,
                        help="data scale the steps are timed at when the profile's is larger (default: each "
                             "estimator's own)")
    parser.add_argument("--json", action="store_true", help="print the estimates as JSON instead of a table")
    parser.add_argument("notebooks", nargs="*", help="notebook stems (default: every study notebook)")
    args = parser.parse_args(argv)
    from xrec_lib.runner import find_notebooks

    names = [path.stem for path in find_notebooks(args.notebooks or None)]
    estimates = estimate_all(names, args.profile, probe_scale=args.probe_scale)
    print(json.dumps([e.to_dict() for e in estimates], indent=2) if args.json else format_table(estimates, args.profile))
    return 0


if __name__ == "__main__":
    sys.exit(main())
