"""Calibrate paper 001's MOSI-shaped synthetic data on a *baseline*: the text-only model's test MAE.

Target: the text-only baseline's mean test MAE on real CMU-MOSI transcripts in the committed paper report
(``reports/03_multimodal_short_video/results.json``, ``table3/cmu-mosi``), or ``--target``. The knob is how loud the
sentiment signal is in the feature sequences (``SignalSpec.amplitude``, every modality; the shares of the label
variance stay as they are), bisected until the text-only baseline, trained by the package's loop with notebook 03's
tuned settings on the ``synthetic_mosi`` section of the paper profile (its split-size fraction), lands within
``--tolerance`` of the target on the first seed. The labels follow MOSI's own distribution
(:mod:`xrec_lib.data.synthetic_multimodal`). The proposed model is never trained here.

    python benchmarks/calibrate_synthetic_001.py --threads 1 > benchmarks/results/calibrate_synthetic_001.md
"""

from __future__ import annotations

import argparse
import datetime
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from xrec_lib.config import load_config
from xrec_lib.data.synthetic_multimodal import MOSI_SHAPE, SignalSpec, synthetic_multimodal
from xrec_lib.studies.paper001 import multimodal as mm
from xrec_lib.studies.paper001.settings import NOTEBOOK, Paper001Settings
from xrec_lib.tuning import load_tuned

BASELINE = "Text-only"
REPORT = Path(__file__).resolve().parents[1] / "reports" / NOTEBOOK / "results.json"


def real_mosi_target() -> float:
    """The text-only baseline's mean test MAE on real CMU-MOSI in the committed report."""
    rows = json.loads(REPORT.read_text())["metrics"]["table3/cmu-mosi"]
    return float(np.mean([r["mae"] for r in rows if r["model"] == BASELINE]))


def measure(spec: SignalSpec, settings: Paper001Settings, seed: int) -> dict:
    start = time.perf_counter()
    data = synthetic_multimodal(MOSI_SHAPE.scaled(settings.fraction), spec, seed=seed)
    per_seed, _, runs = mm.run_models(data, "calibration", (BASELINE,), settings, (seed,),
                                      tuned=load_tuned(NOTEBOOK))
    row = per_seed.iloc[0]
    fit = runs[(BASELINE, seed)].fit
    return {"mae": row["mae"], "corr": row["corr"], "acc7": row["acc7"], "epochs": int(len(fit.history)),
            "stopped_by": fit.stopped_by, "seconds": time.perf_counter() - start}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=float, default=None, help="test MAE to reach (default: real MOSI's)")
    parser.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2, 3, 4],
                        help="seeds whose mean test MAE is calibrated (each seed draws its own data, as in the notebook)")
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--tolerance", type=float, default=0.02)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    target = args.target if args.target is not None else real_mosi_target()
    settings = Paper001Settings.from_config(load_config(NOTEBOOK, "paper", threads=args.threads),
                                            dataset="synthetic_mosi")
    base = SignalSpec()
    low, high = 0.05, 2.0
    print(f"# Calibration of the MOSI-shaped generator on the {BASELINE} baseline (test MAE)\n")
    print(f"`python benchmarks/calibrate_synthetic_001.py --threads {args.threads}`, {datetime.date.today()}, "
          f"torch {torch.__version__}.\n")
    print(f"Target: test MAE {target:.4f} (the {BASELINE} baseline on real CMU-MOSI transcripts, committed paper "
          f"report), as the mean over seeds {args.seeds} (each seed draws its own data, as the notebook's seeds do). "
          f"Data: MOSI-shaped, {settings.fraction:.0%} of its split sizes, MOSI's label distribution; {BASELINE} with "
          f"notebook 03's tuned values {load_tuned(NOTEBOOK).get(BASELINE)}, cap {settings.epochs} epochs, patience "
          f"{settings.patience}. Knob: the signal amplitude in [{low}, {high}], bisected (shares of the label "
          f"variance fixed: {base.signal_share}, text x audio {base.interaction_share}). The proposed model is never "
          f"trained here.\n")
    print("| amplitude | mean test MAE | sd over seeds | per seed | mean Corr | mean Acc-7 | epochs | stopped by | s |")
    print("|---|---|---|---|---|---|---|---|---|")
    best = None
    for _ in range(args.steps):
        amplitude = round((low + high) / 2, 4)
        rows = [measure(replace(base, amplitude=amplitude), settings, seed) for seed in args.seeds]
        maes = [r["mae"] for r in rows]
        mae = float(np.mean(maes))
        print(f"| {amplitude} | {mae:.4f} | {np.std(maes, ddof=1):.4f} | "
              f"{', '.join(format(value, '.3f') for value in maes)} | "
              f"{np.mean([r['corr'] for r in rows]):.3f} | {np.mean([r['acc7'] for r in rows]):.3f} | "
              f"{', '.join(str(r['epochs']) for r in rows)} | {', '.join(sorted({r['stopped_by'] for r in rows}))} | "
              f"{sum(r['seconds'] for r in rows):.0f} |", flush=True)
        if best is None or abs(mae - target) < abs(best[1] - target):
            best = (amplitude, mae)
        if abs(mae - target) <= args.tolerance:
            break
        if mae > target:
            low = amplitude
        else:
            high = amplitude
    print(f"\n**amplitude = {best[0]}**: mean {BASELINE} test MAE {best[1]:.4f} over seeds {args.seeds} against the "
          f"target {target:.4f} (tolerance {args.tolerance}; the default of `SignalSpec`).")


if __name__ == "__main__":
    main()
