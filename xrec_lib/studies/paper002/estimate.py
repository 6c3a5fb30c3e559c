"""Up-front time estimate of notebook 04 (:mod:`xrec_lib.estimate`).

A step (``batch_size`` ego-subgraphs of ``history_len`` + 1 nodes through a model of the profile's width) does not
depend on the size of the behaviour log, so the models are built at the profile's widths (``"paper"``: the paper's
parameter counts) and timed on a task drawn from a small log (:data:`PROBE_SCALE` of the paper's 18M behaviours;
the product-id table is the small log's). The training examples at the profile's scale are the probe's training
buys x ``scale / probe`` (capped at ``max_train_positives``). Planned steps: ``max_epochs`` x batches x learning
rates of ``lr_grid`` (one when tuned) x seeds, for Table 1 (every neural model), Table 2 (the three ablation
variants) and Table 3 (each depth but Table 1's, on ``depth.seeds`` seeds). The SVM and the real-data section are
not counted.
"""

from __future__ import annotations

import math
from dataclasses import replace

from xrec_lib.config import RunConfig, seed_everything
from xrec_lib.data.synthetic_shopping import generate_shopping
from xrec_lib.estimate import Estimate, Part, device_label, time_steps
from xrec_lib.models.baselines_002 import MODELS
from xrec_lib.models.gconv_transform import NodeInput
from xrec_lib.studies.paper002.settings import ABLATIONS, MODEL_NAMES, OURS, Paper002Settings
from xrec_lib.studies.paper002.task import build_task
from xrec_lib.studies.paper002.training import SubgraphObjective, tuned_settings

PROBE_SCALE = 0.002
SEED = 0


def estimate(cfg: RunConfig, probe_scale: float | None = None) -> Estimate:
    """Tables 1-3 of the synthetic study (module docstring)."""
    settings = Paper002Settings.from_config(cfg)
    probe = min(settings.scale, probe_scale or PROBE_SCALE)
    log = generate_shopping(probe, SEED)
    task = build_task(log, settings.history_len, SEED, settings.max_train_positives)
    examples = min(settings.max_train_positives, math.ceil(len(task.train) * settings.scale / probe))
    batches = math.ceil(examples / settings.batch_size)
    seeds = len(cfg.seeds)
    fits = [(name, settings, {}, seeds) for name in MODEL_NAMES if name != "SVM"]
    fits += [(f"{OURS} {variant}", settings, switches, seeds) for variant, switches in ABLATIONS.items()]
    fits += [(f"{OURS} N = {n}", replace(settings, n_layers=n), {}, min(settings.depth.seeds, seeds))
             for n in settings.depth.values if n != settings.n_layers]
    parts = []
    for label, fit_settings, switches, fit_seeds in fits:
        name = label if label in MODEL_NAMES else OURS
        model_settings = tuned_settings(name, fit_settings)
        seed_everything(SEED)
        model = MODELS.build(name, NodeInput(task.item_features, model_settings.id_dim), task.max_nodes,
                             model_settings, task.n_classes, **switches)
        objective = SubgraphObjective(model, task.train, task.validation, model_settings.batch_size, SEED,
                                      cfg.device)
        steps = model_settings.max_epochs * batches * len(model_settings.lr_grid) * fit_seeds
        parts.append(Part(label, time_steps(objective, cfg.device), steps))
    return Estimate(cfg.notebook, device_label(cfg.device), parts,
                    f"steps timed at the profile's widths on a task of {probe:g} x 18M behaviours (a step's cost does "
                    f"not depend on the log's size); {examples:,} training examples at scale {settings.scale:g} "
                    f"({batches:,} batches of {settings.batch_size}); cap {settings.max_epochs} epochs; SVM and "
                    f"real data not counted; optimisation steps only")
