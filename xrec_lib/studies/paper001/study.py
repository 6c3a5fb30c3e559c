"""Notebook 03 (paper 001): one entry point per section, each taking the run configuration and returning the
section's runs; settings come from :class:`~xrec_lib.studies.paper001.settings.Paper001Settings` with the block
of the section's dataset. Every training run is recorded with :func:`record_training`; the claims of the paper
(Tables III-IV, Fig. 8) and those of our MicroLens benchmark (Fig. 2) are decided as two families
(:func:`decide_families`).

Tuned values (``make tune``, :mod:`xrec_lib.studies.paper001.tuning`, read with :func:`xrec_lib.tuning.load_tuned`)
are used for every seed wherever the tuned model runs: a sentiment model's values (tuned on the MOSI-shaped
synthetic data) in Tables I-IV on synthetic MOSI- and MOSEI-shaped data and on real CMU-MOSI, a recommender's in
the Fig. 2 comparison. The ablation variants of Fig. 8/9 are not tuned: all four train with the profile's values,
so no variant gets the full model's tuned values. Without a tuned file every section uses the profile's values."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Iterator, Sequence

import pandas as pd

from xrec_lib.compare import decide
from xrec_lib.config import RunConfig
from xrec_lib.data.synthetic_multimodal import MOSEI_SHAPE, MOSI_SHAPE, MultimodalShape, synthetic_multimodal
from xrec_lib.errors import ConfigError
from xrec_lib.models.multimodal import ABLATIONS, BASELINES, PROPOSED
from xrec_lib.results import ResultsBundle
from xrec_lib.studies.paper001 import multimodal as mm
from xrec_lib.studies.paper001 import recommender as rec
from xrec_lib.studies.paper001.settings import NOTEBOOK, Paper001Settings
from xrec_lib.studies.paper001.tables import (comparison_table, majority_share, recommender_claims,
                                              sentiment_claims, slgm_label_table)
from xrec_lib.training.loop import FitResult
from xrec_lib.tuning import load_tuned

TABLE_MODELS = (PROPOSED, *BASELINES)


@dataclass
class MultimodalRuns:
    """Per-seed test metrics, per-epoch histories and the trained runs of one dataset; ``label`` names the data,
    ``section`` the profile block it was trained under (``"synthetic_mosi"``, ``"ablation"``, ...)."""

    label: str
    per_seed: pd.DataFrame
    history: pd.DataFrame
    runs: dict[tuple[str, int], mm.MultimodalRun]
    data: dict
    section: str = ""

    @property
    def text_only(self) -> bool:
        return mm.modalities_of(self.data["train"]) == ("text",)

    def fits(self) -> Iterator[tuple[dict, FitResult]]:
        """``(labels, FitResult)`` of every training run."""
        for (model, seed), run in self.runs.items():
            yield {"section": self.section, "data": self.label, "model": model, "seed": seed}, run.fit

    def claims(self, item: str) -> list[dict]:
        """Claim tests of the paper item ``item`` on these runs (:func:`~.tables.sentiment_claims`; the Acc-7 chance
        level from the test labels)."""
        return sentiment_claims(self.per_seed, self.label, item, majority_share(self.data["test"]["regression_labels"]),
                                text_only=self.text_only)


def _run(cfg: RunConfig, settings: Paper001Settings, data: dict | Callable[[int], dict], label: str,
         models: tuple[str, ...], section: str, tuned: bool = True) -> MultimodalRuns:
    """Every model on ``data`` (one dataset, or a function of the seed drawing each seed's own); the runs keep the
    first seed's data (its test labels give the chance levels)."""
    first = data(cfg.seeds[0]) if callable(data) else data
    per_seed, history, runs = mm.run_models(
        (lambda seed: first if seed == cfg.seeds[0] else data(seed)) if callable(data) else data, label, models,
        settings, cfg.seeds, cfg.device, tuned=load_tuned(NOTEBOOK) if tuned else None)
    return MultimodalRuns(label, per_seed, history, runs, first, section)


def synthetic_data(cfg: RunConfig, dataset: str, shape: MultimodalShape) -> tuple[Paper001Settings, dict]:
    """The settings of the section ``dataset`` and its synthetic ``shape``-shaped data (split sizes scaled by the
    section's ``fraction``, drawn with ``cfg.seed``)."""
    settings = Paper001Settings.from_config(cfg, dataset=dataset)
    return settings, synthetic_multimodal(shape.scaled(settings.fraction), seed=cfg.seed)


def _synthetic(cfg: RunConfig, dataset: str, shape: MultimodalShape, models: tuple[str, ...],
               tuned: bool = True) -> MultimodalRuns:
    """Every model on ``shape``-shaped synthetic data, each seed its own draw (generator seeded with the seed)."""
    settings = Paper001Settings.from_config(cfg, dataset=dataset)
    scaled = shape.scaled(settings.fraction)
    label = f"synthetic {shape.name}-shaped, {settings.fraction:.0%} of its split sizes"
    return _run(cfg, settings, lambda seed: synthetic_multimodal(scaled, seed=seed), label, models, dataset, tuned)


def synthetic_mosi(cfg: RunConfig) -> MultimodalRuns:
    """Table I/III on MOSI-shaped synthetic data (split sizes scaled by ``synthetic_mosi.fraction``): the proposed
    model and the three baselines."""
    return _synthetic(cfg, "synthetic_mosi", MOSI_SHAPE, TABLE_MODELS)


def synthetic_mosei(cfg: RunConfig) -> MultimodalRuns:
    """Table II/IV on MOSEI-shaped synthetic data (split sizes scaled by ``synthetic_mosei.fraction``)."""
    return _synthetic(cfg, "synthetic_mosei", MOSEI_SHAPE, TABLE_MODELS)


def ablation(cfg: RunConfig) -> MultimodalRuns:
    """Fig. 8/9: the four LGT / soft-mapping variants on MOSI-shaped synthetic data (``ablation.fraction``), all
    with the profile's values (not tuned, module docstring)."""
    return _synthetic(cfg, "ablation", MOSI_SHAPE, tuple(ABLATIONS), tuned=False)


def real_mosi(cfg: RunConfig) -> MultimodalRuns | None:
    """CMU-MOSI transcripts (text modality only, MiniLM token states; its top ``mosi.text_trainable_layers`` layers
    fine-tuned at ``encoder_lr``; ``mosi.fraction`` of every fold): proposed vs text-only; None when the data is
    absent."""
    if cfg.data_dir is None:
        return None
    settings = Paper001Settings.from_config(cfg, dataset="mosi")
    data = mm.mosi_text_splits(cfg.data_dir, settings.token_length, trainable_layers=settings.text_trainable_layers,
                               fraction=settings.fraction)
    return _run(cfg, settings, data, "CMU-MOSI (text only)", (PROPOSED, "Text-only"), "mosi")


def table(runs: MultimodalRuns, source: str) -> pd.DataFrame:
    """The paper's ``source`` table with MMSA's re-runs and our rows (MMSA rows only beside real MOSI)."""
    mmsa = "CMU-MOSI" if runs.label.startswith("CMU-MOSI") else None
    return comparison_table(runs.per_seed, source, runs.label, mmsa)


def slgm_labels(runs: MultimodalRuns) -> pd.DataFrame:
    """Table V from the first seed of the proposed model."""
    return slgm_label_table(runs.runs[(PROPOSED, min(s for _, s in runs.runs))], runs.data["train"])


def slug(label: str) -> str:
    """Name-safe form of a data label for table/figure names: ``"CMU-MOSI (text only)"`` -> ``"cmu_mosi_text_only"``."""
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")


def paper_claims(item_runs: Sequence[tuple[str, MultimodalRuns | None]]) -> list[dict]:
    """Claim tests of the paper's claims, each tagged with its paper item (``[("table3", mosi_runs), ...]``;
    sections that did not run, None, are left out)."""
    return [claim for item, runs in item_runs if runs is not None for claim in runs.claims(item)]


def decide_families(paper: list[dict], ours: list[dict]) -> list[dict]:
    """Verdicts: :func:`xrec_lib.compare.decide` once over the paper's claims (Holm over that family) and once over
    the claims of our addition (the MicroLens benchmark of Fig. 2's recommender), so neither family's size moves
    the other's corrected p-values."""
    return decide(paper) + decide(ours)


@dataclass
class RecommenderRuns:
    """Per-seed metrics, per-user AUC and training runs of the Fig. 2 recommenders on one dataset (``label``)."""

    label: str
    synthetic: bool
    n_users: int
    n_items: int
    per_seed: pd.DataFrame
    per_user: pd.DataFrame
    training: dict[tuple[str, int], FitResult] = field(default_factory=dict)

    def claims(self) -> list[dict]:
        """Claim tests of our addition (:func:`~.tables.recommender_claims`)."""
        return recommender_claims(self.per_seed, self.per_user, self.label)

    def fits(self) -> Iterator[tuple[dict, FitResult]]:
        """``(labels, FitResult)`` of every training run."""
        for (model, seed), fit in self.training.items():
            yield {"section": "microlens" if not self.synthetic else "synthetic_short_video", "data": self.label,
                   "model": model, "seed": seed}, fit


def recommender_data(cfg: RunConfig) -> tuple[Paper001Settings, rec.ShortVideoData]:
    """The settings and data of the Fig. 2 comparison: MicroLens-50K (``microlens.n_users`` users, the
    ``microlens.top_items`` most-watched videos or all when 0) with the ``microlens`` block or, without data
    (``cfg.data_dir`` None), the synthetic short-video set with the top-level values."""
    if cfg.data_dir is None:
        return Paper001Settings.from_config(cfg), rec.synthetic_short_video(seed=cfg.seed)
    settings = Paper001Settings.from_config(cfg, dataset="microlens")
    if settings.n_users is None:
        raise ConfigError("the profile's microlens block lacks n_users (MicroLens users to sample)")
    return settings, rec.microlens_data(cfg.data_dir, settings.n_users, cfg.seed, top_items=settings.top_items)


def recommender(cfg: RunConfig) -> RecommenderRuns:
    """Fig. 2 recommender comparison on :func:`recommender_data` (each recommender with its tuned values, module
    docstring)."""
    settings, data = recommender_data(cfg)
    per_seed, per_user, fits = rec.run_recommenders(data, settings, cfg.seeds, cfg.device,
                                                    tuned=load_tuned(NOTEBOOK))
    return RecommenderRuns(data.name, data.synthetic, data.train.shape[0], data.train.shape[1], per_seed, per_user,
                           fits)


def record_training(bundle: ResultsBundle, *sections: MultimodalRuns | RecommenderRuns | None) -> None:
    """Record every training run of ``sections`` (None: a section that did not run) in ``bundle``: how it stopped,
    whether it converged and its per-epoch history, labelled by section, data, model and seed."""
    for runs in sections:
        for labels, fit in (runs.fits() if runs is not None else ()):
            bundle.add_training(fit, **labels)


def training_summary(*sections: MultimodalRuns | RecommenderRuns | None) -> pd.DataFrame:
    """One row per training run of ``sections``: its labels and :meth:`FitResult.summary` (epochs, best epoch and
    score, stopping reason, convergence flag)."""
    return pd.DataFrame([{**labels, **fit.summary()} for runs in sections if runs is not None
                         for labels, fit in runs.fits()])


def validation_curves(*sections: MultimodalRuns | RecommenderRuns | None) -> pd.DataFrame:
    """The monitored validation metric of every run by epoch (long form: section, data, model, seed, epoch,
    metric, value)."""
    rows = []
    for runs in sections:
        for labels, fit in (runs.fits() if runs is not None else ()):
            metric = "val_mae" if "val_mae" in fit.history else "val_auc"
            rows.append(fit.history[["epoch", metric]].rename(columns={metric: "value"})
                        .assign(**labels, metric=metric.removeprefix("val_")))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(
        columns=["epoch", "value", "section", "data", "model", "seed", "metric"])


def record_real(bundle: ResultsBundle, runs: MultimodalRuns | None) -> pd.DataFrame | None:
    """Store the real CMU-MOSI table and metrics in ``bundle`` (or the missing-data note); returns the per-seed rows."""
    if runs is None:
        bundle.note_real_data_absent()
        return None
    segments = sum(len(split["regression_labels"]) for split in runs.data.values())
    bundle.add_dataset("cmu-mosi", synthetic=False, segments=segments)
    bundle.add_table(f"table3_{slug(runs.label)}", table(runs, "Table III"))
    bundle.add_metrics("table3/cmu-mosi", runs.per_seed)
    return runs.per_seed
