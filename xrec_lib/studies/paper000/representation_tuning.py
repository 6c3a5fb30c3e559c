"""``make tune`` for notebook 01: the same Optuna TPE budget for every encoder of paper 000's Fig. 6-8.

Each encoder searches Adam's learning rate and the weight of the L2 penalty on its batch embeddings (the BPR
regulariser, the encoders' weight decay: knob ``weight_decay`` -> setting ``l2``), plus one knob of its own: the
number of propagation layers for GCN, GraphSAGE, RGCN (``n_layers``, 1-3) and LightGCN (``lightgcn_layers``, 1-4),
the alignment-loss weight for the Siamese GCN (``alignment_weight``, 0.001-1, log scale); BPR-MF has no further
knob. A trial fits the encoder with the study's stopping rule (:func:`~xrec_lib.studies.paper000.representation.
train_with_holdout`) on the first seed's synthetic data of the sparse scenario (the paper's headline setting) and
returns its best validation NDCG@20 over the target-domain products, measured on interactions held out of the
training split; the test split is never seen. :func:`tuned_settings` lays the chosen values over the profile's for
every seed and both scenarios of the synthetic study; the Amazon study keeps the profile's values (its own data).
"""

from __future__ import annotations

from typing import Any, Mapping

from xrec_lib.config import RunConfig
from xrec_lib.studies.paper000.settings import RepresentationSettings
from xrec_lib.tuning import Knob, TuningProblem, load_tuned, search_space

NOTEBOOK = "01_siamese_gcn"
#: Each encoder's own knob (None: only the shared ones).
OWN_KNOBS: dict[str, Knob | None] = {
    "GCN": Knob("n_layers", 1, 3, integer=True),
    "GraphSAGE": Knob("n_layers", 1, 3, integer=True),
    "RGCN": Knob("n_layers", 1, 3, integer=True),
    "Siamese GCN": Knob("alignment_weight", 1e-3, 1.0, log=True),
    "LightGCN": Knob("lightgcn_layers", 1, 4, integer=True),
    "MF": None,
}
#: Knob name -> settings field, where they differ.
FIELDS = {"weight_decay": "l2"}
TUNING_SCENARIO = "sparse"


def tuned_settings(name: str, settings: RepresentationSettings,
                   tuned: Mapping[str, Mapping[str, Any]] | None = None) -> RepresentationSettings:
    """``settings`` with encoder ``name``'s tuned values laid over them (``tuned``: defaults to the committed
    ``profiles/tuned/01_siamese_gcn.yaml``; unchanged when ``name`` was not tuned)."""
    tuned = load_tuned(NOTEBOOK) if tuned is None else tuned
    values = {FIELDS.get(knob, knob): value for knob, value in (tuned.get(name) or {}).items()}
    return settings.for_model(name, {name: values})


def tuning_problem(cfg: RunConfig) -> TuningProblem:
    """The search of notebook 01 under ``cfg``'s profile (module docstring)."""
    from xrec_lib.data.synthetic_crossdomain import generate_crossdomain_cached
    from xrec_lib.studies.paper000.representation import scaled_synthetic_config, train_with_holdout

    settings = RepresentationSettings.from_config(cfg, device=cfg.device)
    dataset = generate_crossdomain_cached(scaled_synthetic_config(settings.synthetic_scale, TUNING_SCENARIO), cfg.seed)

    def objective(model: str, values: dict) -> float:
        trial = tuned_settings(model, settings, {model: values})
        _, result = train_with_holdout(model, dataset, trial, cfg.seed)
        return float(result.best_score)

    return TuningProblem({name: search_space(own) for name, own in OWN_KNOBS.items()}, objective,
                         direction="maximize", metric="validation NDCG@20 (target-domain products)")
