"""``make tune`` for notebook 03: the same Optuna TPE budget for every sentiment model of paper 001's Table I and
every short-video recommender of Fig. 2, in one problem with two groups of models (their names are distinct).

Every model searches the same three knobs: Adam's learning rate, its weight decay and the model's dropout (no
knob of its own).

* Sentiment models (:data:`SENTIMENT_MODELS`: the proposed LGT + SLGM model and the Text-only, late-fusion and TFN
  baselines): a trial trains the model with the study's loop (:func:`~xrec_lib.studies.paper001.multimodal.loop_config`,
  Self-MM's objective, SLGM for the proposed model) on the MOSI-shaped synthetic data of the ``synthetic_mosi``
  section drawn with the run's first seed, and scores the lowest validation MAE. The one direction of the problem
  is "maximize", so a sentiment trial returns **minus** that MAE. The objective never evaluates the test split
  (no per-epoch test curves). Knobs set ``lr``, ``weight_decay`` and ``dropout`` (a baseline's: ``baseline_dropout``).
* Recommenders (:data:`REC_MODELS`: BERT + xDeepFM, xDeepFM without text, DeepFM, DNN only): a trial trains the
  recommender with the study's loop (:func:`~xrec_lib.studies.paper001.recommender.train_recommender`) on the data
  of the Fig. 2 section (:func:`~xrec_lib.studies.paper001.study.recommender_data`: MicroLens-50K with the
  ``microlens`` block, or the synthetic short-video set when ``cfg.data_dir`` is None) and scores the best
  validation AUC. Knobs set ``rec_lr``, ``rec_weight_decay`` and ``rec_dropout``.

The study uses the values wherever the tuned model runs (:mod:`xrec_lib.studies.paper001.study`); the popularity
ranker has nothing to tune, and the ablation variants are not tuned.
"""

from __future__ import annotations

from functools import cache

from xrec_lib.config import RunConfig, seed_everything
from xrec_lib.data.synthetic_multimodal import MOSI_SHAPE
from xrec_lib.models.multimodal import BASELINES
from xrec_lib.models.xdeepfm import RECOMMENDERS
from xrec_lib.studies.paper001 import multimodal as mm
from xrec_lib.studies.paper001 import recommender as rec
from xrec_lib.studies.paper001.study import TABLE_MODELS, recommender_data, synthetic_data
from xrec_lib.training.loop import fit
from xrec_lib.tuning import TuningProblem, search_space

SENTIMENT_MODELS = TABLE_MODELS
REC_MODELS = RECOMMENDERS.names()
SENTIMENT_SECTION = "synthetic_mosi"


def tuning_problem(cfg: RunConfig) -> TuningProblem:
    """The search of notebook 03 under ``cfg``'s profile (module docstring); each group's data is drawn on its
    first trial."""
    seed = cfg.seed
    sentiment = cache(lambda: synthetic_data(cfg, SENTIMENT_SECTION, MOSI_SHAPE))
    short_video = cache(lambda: recommender_data(cfg))

    def sentiment_score(model: str, values: dict) -> float:
        base, data = sentiment()
        settings = base.tuned_for(model, {model: values})
        fitting = {split: data[split] for split in ("train", "valid")}
        input_dims = {m: fitting["train"][m].shape[-1] for m in mm.modalities_of(fitting["train"])}
        seed_everything(seed)
        network = mm.build_model(model, input_dims, settings)
        objective = mm.SentimentObjective(network, fitting, settings.batch_size, model not in BASELINES, seed,
                                          settings.encoder_lr, cfg.device, track_test=False)
        return -fit(objective, mm.loop_config(settings, seed, cfg.device)).best_score

    def recommender_score(model: str, values: dict) -> float:
        base, data = short_video()
        return rec.train_recommender(model, data, base.tuned_for(model, {model: values}), seed, cfg.device).best_score

    def objective(model: str, values: dict) -> float:
        return (recommender_score if model in RECOMMENDERS else sentiment_score)(model, values)

    spaces = {name: search_space(dropout=True) for name in (*SENTIMENT_MODELS, *REC_MODELS)}
    data = "MicroLens-50K" if cfg.data_dir is not None else "synthetic short-video data"
    metric = (f"sentiment models ({', '.join(SENTIMENT_MODELS)}): minus the validation MAE on MOSI-shaped synthetic "
              f"data; recommenders: validation AUC on {data}")
    return TuningProblem(spaces, objective, direction="maximize", metric=metric)
