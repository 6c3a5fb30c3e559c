"""Up-front time estimate of notebook 03 (:mod:`xrec_lib.estimate`).

A sentiment model's step (``batch_size`` clips of the synthetic shape's sequence length) and a recommender's step
(``rec_batch_size`` pairs) do not depend on the number of samples, so both are timed on small synthetic data
(:data:`PROBE_FRACTION` of the split sizes; the synthetic short-video set) and multiplied by the planned steps at
the profile's sizes: epoch cap x ceil(training samples / batch size) x models x seeds. The recommenders' training
pairs are those of MicroLens-50K's ``n_users`` users (:data:`MICROLENS_PAIRS` for all 50,000, two held out per
user; proportionally fewer for a sample). Real CMU-MOSI (text only, MiniLM) is not counted.
"""

from __future__ import annotations

import math

from xrec_lib.config import RunConfig, seed_everything
from xrec_lib.data.synthetic_multimodal import MOSEI_SHAPE, MOSI_SHAPE, synthetic_multimodal
from xrec_lib.estimate import Estimate, Part, device_label, time_steps
from xrec_lib.models.multimodal import ABLATIONS, BASELINES, PROPOSED
from xrec_lib.models.xdeepfm import RECOMMENDERS
from xrec_lib.studies.paper001 import multimodal as mm
from xrec_lib.studies.paper001 import recommender as rec
from xrec_lib.studies.paper001.settings import NOTEBOOK, Paper001Settings
from xrec_lib.tuning import load_tuned

PROBE_FRACTION = 0.02
#: MicroLens-50K: 359,708 interactions of 50,000 users; leave-last-out keeps two per user for validation and test.
MICROLENS_INTERACTIONS, MICROLENS_USERS = 359_708, 50_000
MICROLENS_PAIRS = MICROLENS_INTERACTIONS - 2 * MICROLENS_USERS
SEED = 0


def sentiment_parts(cfg: RunConfig, section: str, shape, models, tuned: bool) -> list[Part]:
    """One part per model of ``section``: ``epochs`` x ceil(training clips / batch_size) steps x the seeds."""
    settings = Paper001Settings.from_config(cfg, dataset=section)
    split = synthetic_multimodal(shape.scaled(PROBE_FRACTION), seed=SEED)
    input_dims = {m: split["train"][m].shape[-1] for m in mm.modalities_of(split["train"])}
    train_size = shape.scaled(settings.fraction).sizes[0]
    parts = []
    for name in models:
        model_settings = settings.tuned_for(name, load_tuned(NOTEBOOK) if tuned else None)
        seed_everything(SEED)
        model = mm.build_model(name, input_dims, model_settings)
        objective = mm.SentimentObjective(model, split, model_settings.batch_size, name not in BASELINES, SEED,
                                          model_settings.encoder_lr, cfg.device)
        steps = model_settings.epochs * math.ceil(train_size / model_settings.batch_size) * len(cfg.seeds)
        parts.append(Part(f"{section}: {name}", time_steps(objective, cfg.device), steps))
    return parts


def recommender_parts(cfg: RunConfig) -> list[Part]:
    """One part per recommender: ``rec_epochs`` x ceil(pairs x (1 + negatives) / rec_batch_size) x the seeds, on
    MicroLens-50K's sample when the data root is there, else on the synthetic short-video set."""
    real = cfg.data_dir is not None
    settings = Paper001Settings.from_config(cfg, dataset="microlens" if real else None)
    data = rec.synthetic_short_video(seed=SEED)
    pairs = MICROLENS_PAIRS * (settings.n_users or MICROLENS_USERS) / MICROLENS_USERS if real else data.train.nnz
    parts = []
    for name in RECOMMENDERS:
        model_settings = settings.tuned_for(name, load_tuned(NOTEBOOK))
        seed_everything(SEED)
        model = RECOMMENDERS.build(name, list(data.train.shape), data.item_text.shape[1], dim=model_settings.emb_dim,
                                   cin_layers=model_settings.cin_layers, cin_variant=model_settings.cin_variant)
        objective = rec.RecommenderObjective(model, data, model_settings.n_train_negatives,
                                             model_settings.rec_batch_size, SEED, model_settings.n_eval_negatives,
                                             cfg.device)
        batches = math.ceil(pairs * (1 + model_settings.n_train_negatives) / model_settings.rec_batch_size)
        parts.append(Part(f"recommender: {name}", time_steps(objective, cfg.device),
                          model_settings.rec_epochs * batches * len(cfg.seeds)))
    return parts


def estimate(cfg: RunConfig, probe_scale: float | None = None) -> Estimate:
    """Tables I-IV (proposed + baselines on MOSI- and MOSEI-shaped data), Fig. 8/9 (the ablation variants) and
    Fig. 2 (the recommenders)."""
    parts = (sentiment_parts(cfg, "synthetic_mosi", MOSI_SHAPE, (PROPOSED, *BASELINES), True)
             + sentiment_parts(cfg, "synthetic_mosei", MOSEI_SHAPE, (PROPOSED, *BASELINES), True)
             + sentiment_parts(cfg, "ablation", MOSI_SHAPE, tuple(ABLATIONS), False)
             + recommender_parts(cfg))
    return Estimate(cfg.notebook, device_label(cfg.device), parts,
                    f"steps timed on synthetic data at {PROBE_FRACTION:g} of the split sizes (a step's cost does "
                    f"not depend on the number of samples), multiplied by the profile's epochs x batches x "
                    f"{len(cfg.seeds)} seeds; recommender batches from MicroLens-50K's pairs when the data root is "
                    f"there; real CMU-MOSI not counted; optimisation steps only")
