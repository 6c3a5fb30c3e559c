"""Up-front time estimates of paper 000's notebooks (01, 02 and 06; :mod:`xrec_lib.estimate`).

Every encoder step propagates the whole graph once, so a step's cost grows with the graph's edges (the interactions
plus the product-supplier-seller edges, all proportional to the data scale). On a CPU, drawing the synthetic data at
the paper's counts takes minutes, so the steps are timed on the same generator's data at ``probe_scale`` (default
:data:`PROBE_SCALE`, or the profile's scale when smaller) and multiplied by ``scale / probe_scale`` (cost model:
per-step cost linear in graph edges; a fixed per-step overhead makes this an over-estimate). Head steps (frozen
embeddings, ``head_batch_size`` pairs) do not depend on the data size and are timed as they are. Batches per epoch
are the probe's training interactions scaled the same way, divided by the batch size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch

from xrec_lib.config import RunConfig, seed_everything
from xrec_lib.data.crossdomain import CrossDomainDataset
from xrec_lib.estimate import Estimate, Part, device_label, time_steps
from xrec_lib.models import CrossDomainViews, GraphData
from xrec_lib.models.encoders import ENCODERS
from xrec_lib.models.interaction import HEADS
from xrec_lib.studies.paper000.head_training import EndToEndObjective, HeadObjective
from xrec_lib.studies.paper000.head_tuning import NOTEBOOK as HEADS_TUNED, tuned_settings as head_settings
from xrec_lib.studies.paper000.interaction import ABLATION, HEAD_COMPARISON, METHODS, SCENARIOS
from xrec_lib.studies.paper000.representation import HETEROGENEOUS, MODELS, scaled_synthetic_config
from xrec_lib.studies.paper000.representation_tuning import NOTEBOOK as ENCODERS_TUNED
from xrec_lib.studies.paper000.representation_tuning import tuned_settings as encoder_settings
from xrec_lib.studies.paper000.settings import InteractionSettings, RepresentationSettings
from xrec_lib.studies.paper000.tasks import TargetTask, synthetic_dataset
from xrec_lib.training.encoders import EncoderObjective, holdout_dataset
from xrec_lib.tuning import load_tuned

#: Data scale the encoder steps are timed at when the profile's is larger (CPU; on CUDA :data:`PROBE_SCALE_CUDA`).
PROBE_SCALE = 0.05
PROBE_SCALE_CUDA = 0.25
SEED = 0


@dataclass
class Probe:
    """Synthetic data drawn at ``probe`` for a profile at ``scale``: ``factor`` = edges at ``scale`` / edges at
    ``probe`` (the cost model's multiplier)."""

    dataset: CrossDomainDataset
    scale: float
    probe: float
    factor: float


def probe_data(scale: float, probe_scale: float | None, device: str, scenario: str = "sparse") -> Probe:
    """The paper-preset synthetic data at ``min(scale, probe_scale)`` and the edge ratio to ``scale``."""
    default = PROBE_SCALE_CUDA if device == "cuda" else PROBE_SCALE
    probe = min(scale, probe_scale or default)
    edges = scaled_synthetic_config(scale, scenario).n_interactions
    probe_edges = scaled_synthetic_config(probe, scenario).n_interactions
    return Probe(synthetic_dataset(probe, scenario, SEED), scale, probe, edges / probe_edges)


def encoder_objective(name: str, dataset: CrossDomainDataset, settings: RepresentationSettings) -> EncoderObjective:
    """The training objective of encoder ``name`` as :func:`~.representation.train_with_holdout` builds it (the
    validation slice held out; the loss is that of training, the validation is not run)."""
    seed_everything(SEED)
    fitting = holdout_dataset(dataset, settings.val_fraction, SEED)
    train = sp.csr_matrix(fitting.interaction_matrix("train"))
    views = CrossDomainViews.from_interactions(train, dataset.product_domain) if name == "Siamese GCN" else None
    model = ENCODERS.build(name, GraphData.from_dataset(fitting, name in HETEROGENEOUS), settings, views)
    return EncoderObjective(model, train, None, settings.train_config(SEED))


def encoder_parts(names, dataset: CrossDomainDataset, settings: RepresentationSettings, factor: float,
                  fits: dict[str, int], device: str) -> list[Part]:
    """One part per encoder: its step timed on ``dataset`` (x ``factor``), ``fits[name]`` fits of ``epochs`` x
    (training interactions x ``factor`` / batch size) steps (at most ``max_batches`` a epoch)."""
    tuned = load_tuned(ENCODERS_TUNED)
    parts = []
    for name in names:
        model_settings = encoder_settings(name, settings, tuned)
        objective = encoder_objective(name, dataset, model_settings)
        seconds = time_steps(objective, device) * factor
        batches = math.ceil(len(objective.users) * factor / model_settings.batch_size)
        if model_settings.max_batches is not None:
            batches = min(batches, model_settings.max_batches)
        parts.append(Part(f"{name} encoder", seconds, model_settings.epochs * batches * fits[name]))
    return parts


def _note(probe: Probe, what: str) -> str:
    measured = (f"encoder steps timed on synthetic data at scale {probe.probe:g} and multiplied by "
                f"{probe.factor:.4g} (cost model: per-step cost linear in graph edges)" if probe.factor != 1
                else f"encoder steps timed at the profile's scale {probe.scale:g}")
    return f"{what}; {measured}; optimisation steps only (validation and evaluation not counted)"


def estimate_representation(cfg: RunConfig, probe_scale: float | None = None) -> Estimate:
    """Notebook 01: every encoder of :data:`~.representation.MODELS` x 2 scenarios x the run's seeds, at most
    ``epochs`` epochs each (the synthetic study; the real-data sections are not counted)."""
    settings = RepresentationSettings.from_config(cfg, device=cfg.device)
    probe = probe_data(settings.synthetic_scale, probe_scale, cfg.device)
    seeds = len(cfg.seeds) if settings.n_seeds is None else min(settings.n_seeds, len(cfg.seeds))
    fits = {name: len(SCENARIOS) * seeds for name in MODELS}
    parts = encoder_parts(MODELS, probe.dataset, settings, probe.factor, fits, cfg.device)
    return Estimate(cfg.notebook, device_label(cfg.device), parts,
                    _note(probe, f"synthetic study at scale {settings.synthetic_scale:g}: {len(MODELS)} encoders x "
                                 f"{len(SCENARIOS)} scenarios x {seeds} seeds, cap {settings.epochs} epochs "
                                 f"(XMarket and Amazon sections not counted)"))


def head_fits(scenarios: int = len(SCENARIOS)) -> tuple[dict[str, int], dict[str, int]]:
    """Per seed of notebook 02's study (:func:`~.interaction.run_seed`) with ``scenarios`` scenarios (the
    heads comparison runs in each, the methods and Table 2 in the standard one): encoder fits by name and head
    fits by name (heads without parameters included; :func:`head_parts` skips them)."""
    encoders = {"Siamese GCN": scenarios}
    heads: dict[str, int] = {head: scenarios for head in HEAD_COMPARISON}
    standard = {("Siamese GCN", head) for head in HEAD_COMPARISON}
    for encoder, head in [*METHODS.values(), *((e, h) for _, e, h in ABLATION)]:
        if (encoder, head) in standard:
            continue
        standard.add((encoder, head))
        encoders.setdefault(encoder, 1)
        heads[head] = heads.get(head, 0) + 1
    return encoders, heads


def head_parts(heads: dict[str, int], task: TargetTask, settings: InteractionSettings, factor: float,
               device: str, end_to_end: tuple[CrossDomainDataset, int] | None = None) -> list[Part]:
    """One part per trained head: ``heads[name]`` fits of ``head_epochs`` x (target training pairs x ``factor``
    / ``head_batch_size``) steps on frozen ``dim``-wide embeddings; with ``end_to_end`` (the probe dataset, fits),
    the jointly trained Siamese GCN + BLA (a full-graph propagation a step, x ``factor``)."""
    tuned = load_tuned(HEADS_TUNED)
    fitting = task.holdout(settings.val_fraction, SEED)
    batches = math.ceil(fitting.train.nnz * factor / settings.head_batch_size)
    generator = torch.Generator().manual_seed(SEED)
    user_emb = torch.randn(fitting.train.shape[0], settings.dim, generator=generator).to(device)
    item_emb = torch.randn(fitting.train.shape[1], settings.dim, generator=generator).to(device)
    parts = []
    for name, count in heads.items():
        seed_everything(SEED)
        head = HEADS.build(name, settings.dim, settings.hidden)
        if not list(head.parameters()):
            continue
        model_settings = head_settings(name, settings, tuned)
        objective = HeadObjective(head, user_emb, item_emb, fitting.train, model_settings, SEED)
        parts.append(Part(f"{name} head", time_steps(objective, device), model_settings.head_epochs * batches * count))
    if end_to_end is not None:
        dataset, count = end_to_end
        encoder = encoder_objective("Siamese GCN", dataset, settings.encoder_settings()).module
        seed_everything(SEED)
        objective = EndToEndObjective(encoder, HEADS.build("BLA", settings.dim, settings.hidden), fitting.train,
                                      task.items, settings, SEED)
        objective.target_items = objective.target_items.to(device)
        parts.append(Part("Siamese GCN + BLA end-to-end", time_steps(objective, device) * factor,
                          settings.head_epochs * batches * count))
    return parts


def estimate_interaction(cfg: RunConfig, probe_scale: float | None = None) -> Estimate:
    """Notebook 02: per seed, the encoders its methods need, every trained head (Fig. 9-14, Table 2) and the
    end-to-end row, on the synthetic study (the real-data sections are not counted)."""
    settings = InteractionSettings.from_config(cfg, device=cfg.device)
    probe = probe_data(settings.synthetic_scale, probe_scale, cfg.device, SCENARIOS["standard"])
    seeds = len(cfg.seeds) if settings.n_seeds is None else min(settings.n_seeds, len(cfg.seeds))
    encoders, heads = head_fits()
    encoder_fits = {name: count * seeds for name, count in encoders.items()}
    parts = encoder_parts(encoders, probe.dataset, settings.encoder_settings(), probe.factor, encoder_fits,
                          cfg.device)
    task = TargetTask.from_dataset(probe.dataset)
    parts += head_parts({name: count * seeds for name, count in heads.items()}, task, settings, probe.factor,
                        cfg.device, (probe.dataset, seeds) if settings.end_to_end else None)
    return Estimate(cfg.notebook, device_label(cfg.device), parts,
                    _note(probe, f"synthetic study at scale {settings.synthetic_scale:g}, {seeds} seeds: "
                                 f"encoders cap {settings.encoder_epochs}, heads cap {settings.head_epochs} epochs "
                                 f"(head steps timed as they are, their batches scaled; XMarket and Amazon "
                                 f"sections not counted)"))


def estimate_your_data(cfg: RunConfig, probe_scale: float | None = None) -> Estimate:
    """Notebook 06: the data the notebook would load (its file, the XMarket pair of the data root, or the small
    generated file), timed as it is: every encoder of ``models``, then notebook 02's per-seed study on it."""
    from xrec_lib.studies import your_data

    data = your_data.load_data(cfg)
    settings = your_data.interaction_settings(cfg)
    seeds = len(cfg.seeds)
    models = list(your_data.data_settings(cfg).models)
    encoders, heads = head_fits(scenarios=1)
    fits = {name: seeds * ((name in models) + encoders.get(name, 0)) for name in {*models, *encoders}}
    parts = encoder_parts(sorted(fits), data.dataset, settings.encoder_settings(), 1.0, fits, cfg.device)
    task = TargetTask.from_dataset(data.dataset)
    parts += head_parts({name: count * seeds for name, count in heads.items()}, task, settings, 1.0, cfg.device,
                        (data.dataset, seeds) if settings.end_to_end else None)
    return Estimate(cfg.notebook, device_label(cfg.device), parts,
                    f"{data.label}, timed at its own size; encoders cap {settings.encoder_epochs}, heads cap "
                    f"{settings.head_epochs} epochs, {seeds} seeds; optimisation steps only")
