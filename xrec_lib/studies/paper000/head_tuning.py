"""``make tune`` for notebook 02: the same Optuna TPE budget for every trained interaction head of paper 000.

The tuned heads are the four of the heads comparison (Fig. 9-11: BLA, BL, CNIM, Gated, on Siamese GCN embeddings)
and the two other heads the methods comparison (Fig. 12-14) puts against BLA: self-attention concatenation (on
GraphSAGE embeddings) and the concatenation MLP (on MF embeddings); each head is tuned on the encoder the study
puts it on. The dot product has no parameters and is not tuned. Each head searches the same two knobs: Adam's
learning rate (knob ``lr`` -> setting ``head_lr``) and weight decay (``weight_decay`` -> ``head_weight_decay``); no
head has dropout and none gets a knob of its own, so every head keeps the profile's ``hidden`` width (BLA and BL
stay the same width, and the "BLA without attention" row of Table 2 still removes only the attention).

Data: the first seed's synthetic data set of the ``"standard"`` scenario (the generator's ``"sufficient"`` data,
drawn by :func:`~xrec_lib.studies.paper000.tasks.synthetic_dataset` as the study draws it), the scenario of the
notebook's main claims (Fig. 9-11 curves, the methods comparison, the Table 2 ablation). Each encoder a tuned head
sits on is trained once, by the study's own :class:`~xrec_lib.studies.paper000.interaction.SeedRun` for that seed
(the same training, holdout and stopping rule as the study, with notebook 01's tuned encoder values). A trial fits the head with
:func:`~xrec_lib.studies.paper000.head_training.fit_head` on the fitting part of the target training pairs and
returns its best validation NDCG@20 (two-stage ranking of the held-out pairs, the value the heads early-stop on);
the test split is never seen.

:func:`tuned_settings` lays a head's tuned values over the settings; the synthetic study uses them for every seed
and both scenarios, wherever the head is trained on frozen embeddings. The Amazon study (other data) and the
end-to-end row of Table 2 (encoder and head trained jointly, a different optimisation problem) keep the profile's
values.
"""

from __future__ import annotations

from typing import Any, Mapping

from xrec_lib.config import RunConfig
from xrec_lib.studies.paper000.settings import InteractionSettings
from xrec_lib.tuning import TuningProblem, load_tuned, search_space

NOTEBOOK = "02_bilinear_attention"
#: Knob name -> settings field.
FIELDS = {"lr": "head_lr", "weight_decay": "head_weight_decay"}
#: The scenario whose first-seed data the search uses.
TUNING_SCENARIO = "standard"


def tuned_heads() -> dict[str, str]:
    """Every tuned head -> the encoder the study trains it on (module docstring)."""
    from xrec_lib.studies.paper000.interaction import HEAD_COMPARISON, METHODS

    heads = {head: "Siamese GCN" for head in HEAD_COMPARISON}
    for encoder, head in METHODS.values():
        heads.setdefault(head, encoder)
    return heads


def tuned_settings(head: str, settings: InteractionSettings,
                   tuned: Mapping[str, Mapping[str, Any]] | None = None) -> InteractionSettings:
    """``settings`` with head ``head``'s tuned values laid over them (``tuned``: defaults to the committed
    ``profiles/tuned/02_bilinear_attention.yaml``; unchanged when ``head`` was not tuned)."""
    tuned = load_tuned(NOTEBOOK) if tuned is None else tuned
    values = {FIELDS.get(knob, knob): value for knob, value in (tuned.get(head) or {}).items()}
    return settings.for_model(head, {head: values})


def tuning_problem(cfg: RunConfig) -> TuningProblem:
    """The search of notebook 02 under ``cfg``'s profile (module docstring)."""
    from xrec_lib.studies.paper000.head_training import fit_head
    from xrec_lib.studies.paper000.interaction import SCENARIOS, SeedRun
    from xrec_lib.studies.paper000.representation_tuning import NOTEBOOK as ENCODERS_TUNED
    from xrec_lib.studies.paper000.tasks import TargetTask, synthetic_dataset

    settings = InteractionSettings.from_config(cfg, device=cfg.device)
    task = TargetTask.from_dataset(synthetic_dataset(settings.synthetic_scale, SCENARIOS[TUNING_SCENARIO], cfg.seed))
    run = SeedRun("synthetic", settings, cfg.seed, encoder_tuned=load_tuned(ENCODERS_TUNED))
    encoders = tuned_heads()

    def objective(head: str, values: dict) -> float:
        user_emb, item_emb = run.embeddings(TUNING_SCENARIO, task, encoders[head])
        fitting = run.fitting(TUNING_SCENARIO, task)
        trial = tuned_settings(head, settings, {head: values})
        _, result = fit_head(head, user_emb, item_emb, fitting.train, trial, cfg.seed, None,
                             run.validation(TUNING_SCENARIO, task, head))
        return float(result.best_score)

    return TuningProblem({head: search_space() for head in encoders}, objective, direction="maximize",
                         metric="validation NDCG@20 (two-stage ranking of held-out target training pairs)")
