"""Paper 001, multimodal sentiment part: training and evaluation of the models of Tables I-IV, the ablation
(Fig. 8), the per-epoch curves (Fig. 9) and the SLGM labels (Table V), on synthetic MOSI/MOSEI-shaped data and on
real CMU-MOSI transcripts (text modality only: the MOSI audio/visual features are not available offline).

Training follows Self-MM (:class:`SentimentObjective`, trained by :func:`xrec_lib.training.loop.fit`): Adam, L1
loss summed over the tasks (SLGM-weighted unimodal tasks), early stopping on the validation MAE (``patience``
evaluations without a lower one, at most ``epochs`` epochs: the same rule for every model) and the parameters of
the lowest validation MAE kept; the test metrics reported are those of that best validation epoch.

Tuning: :func:`run_models` takes the values ``make tune`` chose per model (:mod:`xrec_lib.studies.paper001.tuning`;
learning rate, weight decay, dropout) and lays them over the section's settings for every seed of that model
(:meth:`~xrec_lib.studies.paper001.settings.Paper001Settings.tuned_for`); a model without tuned values trains with
the profile's.

Data parallelism (:mod:`xrec_lib.training.distributed`, ``fit`` under a process group): every rank draws the same
permutation and keeps its part of every global batch of ``batch_size`` samples (dropout masks from the rank's own
torch seed). SLGM stays the same on every rank: after each step the ranks all-gather the head features of their
parts, and every rank updates the labels, stored features and centres of the whole global batch, as one process
does. The validation MAE is the all-reduced sum of absolute errors of the ranks' blocks of the validation samples
over their all-reduced count; the test columns of ``after_epoch`` are computed on rank 0 (the loop uses rank 0's).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, NamedTuple

import numpy as np
import pandas as pd
import torch
from torch import nn

from xrec_lib.config import seed_everything
from xrec_lib.data.mosi import load_mosi_labels
from xrec_lib.errors import ConfigError
from xrec_lib.metrics_regression import REGRESSION_METRIC_NAMES, regression_metrics
from xrec_lib.models.multimodal import BASELINES, MULTIMODAL_MODELS
from xrec_lib.models.slgm import SelfSupervisedLabelGenerator
from xrec_lib.studies.paper001.settings import Paper001Settings
from xrec_lib.text import MINILM_DIM, encode_texts
from xrec_lib.training import distributed
from xrec_lib.training.loop import FitResult, LoopConfig, Objective, fit

Split = dict[str, np.ndarray]
MINILM_LAYERS = 6
PREDICT_BATCH = 256
HISTORY_COLUMNS = ("epoch", "train_loss", "train_loss_fusion", "valid_mae",
                   *(f"test_{name}" for name in REGRESSION_METRIC_NAMES))


@dataclass
class MultimodalRun:
    """One training run of a sentiment model: per-epoch history (columns :data:`HISTORY_COLUMNS`), test metrics and
    predictions of the best validation epoch, the label generator (None without SLGM) and the loop's
    :class:`~xrec_lib.training.loop.FitResult` (how training stopped, full history)."""

    history: pd.DataFrame
    test_metrics: dict[str, float]
    test_predictions: np.ndarray
    slgm: SelfSupervisedLabelGenerator | None
    fit: FitResult


def modalities_of(split: Split) -> tuple[str, ...]:
    return tuple(m for m in ("text", "audio", "vision") if m in split)


def to_batch(split: Split, rows: np.ndarray, device: str) -> dict[str, torch.Tensor]:
    """Tensors of the samples ``rows``: each modality, cut to the longest sequence among ``rows`` (every model
    masks the padded steps, so the cut changes no output and saves the padded steps' cost), plus a mask built from
    its ``<m>_lengths``."""
    batch = {}
    for m in modalities_of(split):
        lengths = torch.as_tensor(split[f"{m}_lengths"][rows], device=device)
        width = max(int(lengths.max()), 1)
        features = torch.as_tensor(split[m][rows][:, :width], dtype=torch.float32, device=device)
        batch[m] = features
        batch[m + "_mask"] = (torch.arange(features.shape[1], device=device)[None, :] < lengths[:, None]).float()
    return batch


def mosi_text_splits(data_dir: Path, token_length: int = 32, cache: str | Path | None = None,
                     trainable_layers: int = 0, fraction: float = 1.0) -> dict[str, Split]:
    """Real CMU-MOSI (label.csv folds) with frozen MiniLM token states as the text sequence (N, L, 384): the last
    hidden states, or with ``trainable_layers=k`` those after layer ``6 - k`` (the input of the ``k`` fine-tuned
    top layers, :class:`xrec_lib.text.MiniLMTopLayers`). ``fraction < 1`` keeps the first share of every fold
    (file order), for quick runs."""
    if not 0 < fraction <= 1:
        raise ConfigError(f"fraction must lie in (0, 1], got {fraction}")
    labels = load_mosi_labels(data_dir)
    fold_size = labels.groupby("mode")["mode"].transform("size").to_numpy()
    labels = labels[labels.groupby("mode").cumcount().to_numpy() < np.maximum(8, np.round(fold_size * fraction))]
    layer = MINILM_LAYERS - trainable_layers if trainable_layers else None
    states = encode_texts(labels["text"].tolist(), cache, token_length=token_length, layer=layer)
    splits = {}
    for split in ("train", "valid", "test"):
        rows = np.flatnonzero(labels["mode"].to_numpy() == split)
        part = labels.iloc[rows]
        splits[split] = {"text": states[rows, :, :MINILM_DIM],
                         "text_lengths": states[rows, :, MINILM_DIM].sum(1).astype(np.int64),
                         "regression_labels": part["label"].to_numpy(np.float32),
                         "id": (part["video_id"] + "_" + part["clip_id"].astype(str)).to_numpy()}
    return splits


def predict(model: nn.Module, split: Split, batch_size: int, device: str) -> np.ndarray:
    """Fusion predictions ``M`` of a whole split (evaluation mode, no gradients)."""
    model.eval()
    rows = np.arange(len(split["regression_labels"]))
    with torch.no_grad():
        parts = [model(to_batch(split, rows[i : i + batch_size], device))["M"].cpu().numpy()
                 for i in range(0, len(rows), batch_size)]
    return np.concatenate(parts)


class _Part(NamedTuple):
    """A rank's part of a global batch: ``rows`` (its training rows; a stand-in row when its slice is empty),
    ``batch`` (the global batch's rows) and ``own`` (how many of ``rows`` belong to the global batch)."""

    rows: torch.Tensor
    batch: torch.Tensor
    own: int


class SentimentObjective(Objective):
    """Self-MM's training of one sentiment model on ``data["train"]`` (module docstring).

    Batches: a permutation of the training samples per epoch from a generator seeded with ``seed``, cut into
    ``batch_size`` rows. Parameter groups: the fine-tuned text-encoder layers (``model.text_layers``) at
    ``encoder_lr``, the rest at the loop's rate (Self-MM trains BERT with a smaller learning rate than the fusion
    network). With ``use_slgm``, after every step the label generator stores the batch's head features and
    recomputes its centres, and from the second epoch regenerates the batch's unimodal labels first. Validation:
    MAE on ``data["valid"]``; ``after_epoch``: the test metrics of the epoch (``test_<metric>``, Fig. 9's curves),
    none with ``track_test=False`` (tuning: ``data`` then needs no test split).
    """

    def __init__(self, model: nn.Module, data: dict[str, Split], batch_size: int, use_slgm: bool, seed: int,
                 encoder_lr: float = 5e-5, device: str = "cpu", track_test: bool = True):
        self.module, self.data, self.batch_size = model, data, batch_size
        self.encoder_lr, self.device, self.track_test = encoder_lr, device, track_test
        self.labels = torch.as_tensor(data["train"]["regression_labels"], dtype=torch.float32)
        self.slgm = None
        if use_slgm:
            dims = {task: head.out.in_features for task, head in model.heads.items()}
            self.slgm = SelfSupervisedLabelGenerator(len(self.labels), dims)
            self.slgm.init_labels(self.labels)
        self.generator = torch.Generator().manual_seed(seed)
        self.epoch, self._features = 0, None
        self.model, self.seed, self.shard = model, seed, None  # model: the module itself, also under a wrapper

    def distribute(self, shard: distributed.Shard) -> None:
        """Data parallelism (module docstring): the rank's part of every global batch; SLGM fed with the whole
        global batch's features; validation split."""
        self.shard = shard
        distributed.reseed_torch(shard, self.seed)

    def param_groups(self, lr: float) -> list[dict]:
        encoder = getattr(self.module, "text_layers", None)
        encoder_ids = {id(p) for p in encoder.parameters()} if encoder is not None else set()
        groups = [{"params": [p for p in self.module.parameters() if id(p) not in encoder_ids], "lr": lr}]
        return groups + ([{"params": list(encoder.parameters()), "lr": self.encoder_lr}] if encoder_ids else [])

    def n_batches(self) -> int:
        return -(-len(self.labels) // self.batch_size)

    def batches(self, epoch: int):
        self.epoch = epoch
        batches = torch.randperm(len(self.labels), generator=self.generator).split(self.batch_size)
        return batches if self.shard is None else self._parts(batches)

    def _parts(self, batches):
        for batch in batches:
            start, stop = self.shard.bounds(len(batch))
            yield _Part(self.shard.part(batch), batch, max(stop - start, 0))

    def loss(self, rows: torch.Tensor | _Part):
        """L1 on ``M``; with SLGM, plus the ``tanh(|y_s - y_m|)``-weighted L1 of every unimodal task (Self-MM's
        weighted loss). Logs ``train_loss`` (the total) and ``train_loss_fusion`` (the ``M`` term).

        The unimodal labels start equal to the multimodal ones, so their weights are 0 in the first epoch and the
        unimodal terms switch on as SLGM moves the labels from the second epoch: the total loss rises at epochs
        2-3 by design while the fusion loss keeps falling.
        """
        if isinstance(rows, _Part):
            rows = rows.rows
        outputs = self.module(to_batch(self.data["train"], rows.numpy(), self.device))
        fusion_loss = torch.mean(torch.abs(outputs["M"] - self.labels[rows].to(self.device)))
        loss = fusion_loss
        if self.slgm is not None:
            self._features = outputs["features"]
            targets, weights = self.slgm.targets(rows), self.slgm.loss_weights(rows)
            loss = fusion_loss + sum(
                torch.mean(weights[task].to(self.device) * torch.abs(outputs[task] - targets[task].to(self.device)))
                for task in self.slgm.unimodal_tasks)
        return loss, {"train_loss": loss.item(), "train_loss_fusion": fusion_loss.item()}

    def after_step(self, rows: torch.Tensor | _Part) -> None:
        if self.slgm is None:
            return
        if isinstance(rows, _Part):
            rows, self._features = rows.batch, self._gathered(self._features, rows.own)
        if self.epoch > 1:
            self.slgm.update_labels(rows, self._features, self.epoch)
        self.slgm.update_features(rows, self._features)
        self.slgm.update_centers()
        self._features = None

    @staticmethod
    def _gathered(features: dict[str, torch.Tensor], own: int) -> dict[str, torch.Tensor]:
        """The head features of the whole global batch, in its row order: every rank's first ``own`` rows, gathered
        in rank order (the ranks' parts are its consecutive slices)."""
        names = list(features)
        widths = [features[name].shape[1] for name in names]
        local = torch.cat([features[name].detach().float().cpu()[:own] for name in names], dim=1)
        return dict(zip(names, distributed.all_gather_rows(local).split(widths, dim=1)))

    def validate(self) -> dict[str, float]:
        if self.shard is None:
            return {"mae": self.split_metrics("valid")[0]["mae"]}
        split = self.data["valid"]
        rows = self.shard.rows(len(split["regression_labels"]))
        errors = 0.0
        if rows.stop > rows.start:
            block = {key: value[rows] for key, value in split.items()}
            predictions = predict(self.model, block, PREDICT_BATCH, self.device)
            errors = float(np.abs(predictions.astype(np.float64) - block["regression_labels"]).sum())
        errors, count = distributed.all_reduce_sum(torch.tensor([errors, float(rows.stop - rows.start)],
                                                                dtype=torch.float64)).tolist()
        return {"mae": errors / count}

    def after_epoch(self, epoch: int) -> dict[str, float]:
        if not self.track_test or (self.shard is not None and self.shard.rank != 0):
            return {}
        return {f"test_{name}": value for name, value in self.split_metrics("test")[0].items()}

    def split_metrics(self, split: str) -> tuple[dict[str, float], np.ndarray]:
        """Regression metrics and predictions of the module as it is, on ``data[split]``."""
        predictions = predict(self.model, self.data[split], PREDICT_BATCH, self.device)
        return regression_metrics(predictions, self.data[split]["regression_labels"]), predictions


def loop_config(settings: Paper001Settings, seed: int, device: str = "cpu") -> LoopConfig:
    """Early stopping on the validation MAE (``settings.patience`` evaluations without a lower one, at most
    ``settings.epochs`` epochs), the parameters of the lowest validation MAE kept, the learning rates constant or
    falling linearly to 0 at the epoch cap (``settings.linear_decay``), torch's generator reseeded with ``seed``."""
    return LoopConfig(max_epochs=settings.epochs, lr=settings.lr, weight_decay=settings.weight_decay,
                      patience=settings.patience, schedule="linear" if settings.linear_decay else "constant", monitor="mae", mode="min",
                      seed=seed, device=device)


def set_dropout(module: nn.Module, p: float, skip: str = "text_layers") -> None:
    """Set the rate of every ``nn.Dropout`` of ``module`` to ``p``, except those under the submodule ``skip``
    (the fine-tuned MiniLM layers keep their own)."""
    for name, layer in module.named_modules():
        if isinstance(layer, nn.Dropout) and name.split(".")[0] != skip:
            layer.p = p


def build_model(name: str, input_dims: dict[str, int], settings: Paper001Settings) -> nn.Module:
    """``MULTIMODAL_MODELS.build(name, input_dims, settings.model_spec)``; a baseline's dropout layers then take
    ``settings.baseline_dropout`` when it is set (else they keep their built-in rate)."""
    model = MULTIMODAL_MODELS.build(name, input_dims, settings.model_spec)
    if name in BASELINES and settings.baseline_dropout is not None:
        set_dropout(model, settings.baseline_dropout)
    return model


def train_multimodal(model: nn.Module, data: dict[str, Split], settings: Paper001Settings, use_slgm: bool,
                     seed: int, device: str = "cpu") -> MultimodalRun:
    """Train ``model`` until the validation MAE stops falling (:func:`loop_config`) and keep its best epoch (Self-MM's
    loop, SLGM optional; ``settings.linear_decay``: every learning rate falls linearly to 0 at the epoch cap, the
    schedule BERT fine-tuning uses). torch's generator is reseeded with ``seed`` at the start."""
    objective = SentimentObjective(model, data, settings.batch_size, use_slgm, seed, settings.encoder_lr, device)
    result = fit(objective, loop_config(settings, seed, device))
    metrics, predictions = objective.split_metrics("test")
    history = result.history.rename(columns={"val_mae": "valid_mae"})[list(HISTORY_COLUMNS)]
    return MultimodalRun(history, metrics, predictions, objective.slgm, result)


def run_models(data: dict[str, Split] | Callable[[int], dict[str, Split]], dataset: str, models: tuple[str, ...],
               settings: Paper001Settings,
               seeds: tuple[int, ...], device: str = "cpu",
               tuned: Mapping[str, Mapping[str, Any]] | None = None) -> tuple[pd.DataFrame, pd.DataFrame,
                                                                              dict[tuple[str, int], MultimodalRun]]:
    """Train every model for every seed. Returns per-seed test metrics, per-epoch histories and the runs.

    SLGM is on for :data:`~xrec_lib.models.multimodal.PROPOSED` and the ablation variants (they share the
    multi-task heads) and off for the baselines. ``tuned``: values per model laid over ``settings`` (module
    docstring); None: ``settings`` for every model. ``data``: one dataset for every seed, or a function of the seed
    that draws it (each seed its own data and initialisation; every model of a seed sees the same draw).
    """
    drawn: dict[int, dict[str, Split]] = {}

    def data_of(seed: int) -> dict[str, Split]:
        if seed not in drawn:
            drawn[seed] = data(seed) if callable(data) else data
        return drawn[seed]

    rows, histories, runs = [], [], {}
    for name in models:
        model_settings = settings.tuned_for(name, tuned)
        for seed in seeds:
            split = data_of(seed)
            input_dims = {m: split["train"][m].shape[-1] for m in modalities_of(split["train"])}
            seed_everything(seed)
            model = build_model(name, input_dims, model_settings)
            run = train_multimodal(model, split, model_settings, use_slgm=name not in BASELINES, seed=seed,
                                   device=device)
            runs[(name, seed)] = run
            rows.append({"dataset": dataset, "model": name, "seed": seed, **run.test_metrics})
            histories.append(run.history.assign(dataset=dataset, model=name, seed=seed))
    return pd.DataFrame(rows), pd.concat(histories, ignore_index=True), runs
