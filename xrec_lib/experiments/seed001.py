"""Notebook 03 entry points (paper 001): each takes the run configuration and returns DataFrames / runs."""

from __future__ import annotations

import re
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


def _run(cfg: RunConfig, data: dict, label: str, models: tuple[str, ...], epochs_key: str = "epochs",
         text_trainable_layers: int = 0) -> MultimodalRuns:
    params = dict(cfg.params) | {"epochs": cfg[epochs_key], "text_trainable_layers": text_trainable_layers}
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
    """CMU-MOSI transcripts (text modality only, MiniLM token states; its top ``real_trainable_layers`` layers
    fine-tuned at ``encoder_lr``; ``real_fraction`` of every fold): proposed vs text-only; None when the data is
    absent."""
    if cfg.data_dir is None:
        return None
    layers = cfg["real_trainable_layers"]
    data = mm.mosi_text_splits(cfg.data_dir, cfg["token_length"], trainable_layers=layers,
                               fraction=cfg["real_fraction"])
    return _run(cfg, data, "CMU-MOSI (text only)", (mm.PROPOSED, "Text-only"), epochs_key="real_epochs",
                text_trainable_layers=layers)


def table(runs: MultimodalRuns, source: str) -> pd.DataFrame:
    """The paper's ``source`` table with MMSA's re-runs and our rows (MMSA rows only beside real MOSI)."""
    mmsa = "CMU-MOSI" if runs.label.startswith("CMU-MOSI") else None
    return mm.comparison_table(runs.per_seed, source, runs.label, mmsa)


def slgm_labels(runs: MultimodalRuns) -> pd.DataFrame:
    """Table V from the first seed of the proposed model."""
    return mm.slgm_label_table(runs.runs[(mm.PROPOSED, min(s for _, s in runs.runs))], runs.data["train"])


def slug(label: str) -> str:
    """Name-safe form of a data label for table/figure names: ``"CMU-MOSI (text only)"`` -> ``"cmu_mosi_text_only"``."""
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")


def claim_verdicts(item_runs: dict[str, MultimodalRuns | None]) -> list[dict]:
    """Verdicts of the paper's claims, each tagged with its paper item (``{"table3": mosi_runs, ...}``)."""
    return [v for item, runs in item_runs.items() if runs is not None
            for v in mm.verdicts(runs.per_seed, runs.label, item)]


@dataclass
class RecommenderRuns:
    """Per-seed metrics and per-user AUC of the Fig. 2 recommenders on one dataset (``label``)."""

    label: str
    synthetic: bool
    n_users: int
    n_items: int
    per_seed: pd.DataFrame
    per_user: pd.DataFrame

    def verdicts(self) -> list[dict]:
        return rec.verdicts(self.per_user, self.label)


def recommender(cfg: RunConfig) -> RecommenderRuns:
    """Fig. 2 recommender comparison on MicroLens-50K (``rec_users`` users, the ``rec_top_items`` most-watched
    videos or all when 0) or, without data, synthetic data."""
    if cfg.data_dir is None:
        data = rec.synthetic_short_video(seed=cfg.seed)
    else:
        data = rec.microlens_data(cfg.data_dir, cfg["rec_users"], cfg.seed, top_items=cfg["rec_top_items"])
    per_seed, per_user = rec.run_recommenders(data, dict(cfg.params), cfg.seeds, cfg.device)
    return RecommenderRuns(data.name, data.synthetic, data.train.shape[0], data.train.shape[1], per_seed, per_user)


def record_real(bundle, runs: MultimodalRuns | None) -> pd.DataFrame | None:
    """Store the real CMU-MOSI table and metrics in ``bundle`` (or the missing-data note); returns the per-seed rows."""
    if runs is None:
        bundle.note("real data not present: make data")
        return None
    bundle.add_dataset("cmu-mosi", synthetic=False, segments=sum(len(s["regression_labels"]) for s in runs.data.values()))
    bundle.add_table(f"table3_{slug(runs.label)}", table(runs, "Table III"))
    bundle.add_metrics("table3/cmu-mosi", runs.per_seed)
    return runs.per_seed
