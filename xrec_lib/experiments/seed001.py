"""Notebook 03 entry points (paper 001): each takes the run configuration and returns DataFrames / runs."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from xrec_lib.config import RunConfig
from xrec_lib.data.synthetic_multimodal import MOSEI_SHAPE, MOSI_SHAPE, synthetic_multimodal
from xrec_lib.experiments import seed001_multimodal as mm
from xrec_lib.experiments import seed001_recommender as rec

TABLE_MODELS = (mm.PROPOSED, *mm.BASELINES)


@dataclass
class MultimodalRuns:
    """Per-seed test metrics, per-epoch histories and the trained runs of one dataset; ``label`` names the data."""

    label: str
    per_seed: pd.DataFrame
    history: pd.DataFrame
    runs: dict
    data: dict


def _run(cfg: RunConfig, data: dict, label: str, models: tuple[str, ...], epochs_key: str = "epochs") -> MultimodalRuns:
    params = dict(cfg.params) | {"epochs": cfg[epochs_key]}
    per_seed, history, runs = mm.run_models(data, label, models, params, cfg.seeds, cfg.device)
    return MultimodalRuns(label, per_seed, history, runs, data)


def synthetic_mosi(cfg: RunConfig) -> MultimodalRuns:
    """Table I/III on MOSI-shaped synthetic data: the proposed model and the three baselines."""
    data = synthetic_multimodal(MOSI_SHAPE.scaled(cfg["mosi_fraction"]), seed=cfg.seed)
    return _run(cfg, data, "synthetic MOSI-shaped", TABLE_MODELS)


def synthetic_mosei(cfg: RunConfig) -> MultimodalRuns:
    """Table II/IV on MOSEI-shaped synthetic data (split sizes scaled by ``mosei_fraction``)."""
    data = synthetic_multimodal(MOSEI_SHAPE.scaled(cfg["mosei_fraction"]), seed=cfg.seed)
    return _run(cfg, data, "synthetic MOSEI-shaped", TABLE_MODELS)


def ablation(cfg: RunConfig) -> MultimodalRuns:
    """Fig. 8/9: the four LGT / soft-mapping variants on MOSI-shaped synthetic data."""
    data = synthetic_multimodal(MOSI_SHAPE.scaled(cfg["ablation_fraction"]), seed=cfg.seed)
    return _run(cfg, data, "synthetic MOSI-shaped", tuple(mm.ABLATIONS))


def real_mosi(cfg: RunConfig) -> MultimodalRuns | None:
    """CMU-MOSI transcripts (text modality only, frozen MiniLM token states): proposed vs text-only; None when the
    data is absent."""
    if cfg.data_dir is None:
        return None
    data = mm.mosi_text_splits(cfg.data_dir, cfg["token_length"])
    return _run(cfg, data, "CMU-MOSI (text only)", (mm.PROPOSED, "Text-only"), epochs_key="real_epochs")


def table(runs: MultimodalRuns, source: str) -> pd.DataFrame:
    """The paper's ``source`` table with MMSA's re-runs and our rows (MMSA rows only beside real MOSI)."""
    mmsa = "CMU-MOSI" if runs.label.startswith("CMU-MOSI") else None
    return mm.comparison_table(runs.per_seed, source, runs.label, mmsa)


def slgm_labels(runs: MultimodalRuns) -> pd.DataFrame:
    """Table V from the first seed of the proposed model."""
    return mm.slgm_label_table(runs.runs[(mm.PROPOSED, min(s for _, s in runs.runs))], runs.data["train"])


def claim_verdicts(*all_runs: MultimodalRuns | None) -> list[dict]:
    return [v for runs in all_runs if runs is not None for v in mm.verdicts(runs.per_seed, runs.label)]


def recommender(cfg: RunConfig) -> pd.DataFrame:
    """Fig. 2 recommender comparison on MicroLens-50K (``rec_users`` users) or, without data, synthetic data."""
    if cfg.data_dir is None:
        data = rec.synthetic_short_video(seed=cfg.seed)
    else:
        data = rec.microlens_data(cfg.data_dir, cfg["rec_users"], cfg.seed)
    return rec.run_recommenders(data, dict(cfg.params), cfg.seeds, cfg.device)


def record_real(bundle, runs: MultimodalRuns | None) -> pd.DataFrame | None:
    """Store the real CMU-MOSI table and metrics in ``bundle`` (or the missing-data note); returns the per-seed rows."""
    if runs is None:
        bundle.note("real data not present: make data")
        return None
    bundle.add_dataset("cmu-mosi", synthetic=False, segments=sum(len(s["regression_labels"]) for s in runs.data.values()))
    bundle.add_table("table3_cmu_mosi_text_only", table(runs, "Table III"))
    bundle.add_metrics("table3/cmu-mosi", runs.per_seed)
    return runs.per_seed
