"""Fitting the models of paper 002's Table 1 on a :class:`~xrec_lib.studies.paper002.task.Task`.

Neural models (:data:`xrec_lib.models.baselines_002.MODELS`) are trained by :func:`xrec_lib.training.loop.fit`
through :class:`SubgraphObjective`: Adam on the cross-entropy of the softmax over the task's C classes (the same
loss for every neural model; C = 2 in the binary fallback of :mod:`.task`), in batches of
``batch_size`` drawn in an order from a ``torch.Generator`` seeded by ``seed`` (a new permutation every epoch).
The stopping rule is the same for every neural model, every ablation variant, every depth N and the real data
(:func:`loop_config`): validation accuracy after every epoch, early stopping after ``patience`` epochs without a
gain, at most ``max_epochs`` epochs, and the parameters of the epoch with the best validation accuracy restored.
Model initialisation and dropout are seeded by :func:`fit_model` (``seed_everything(seed)``) before the model is
built, so the loop leaves torch's global generator alone. The linear SVM is fitted by scikit-learn (its solver's
own convergence criterion; no epochs; one-vs-rest over the C classes) on at most ``svm_max_examples`` seeded
training examples.

Tuning budget (the same for every neural model, every ablation variant and every depth N): when ``make tune`` has
written ``xrec_lib/profiles/tuned/04_gconv_transform.yaml`` (:mod:`xrec_lib.studies.paper002.tuning`: the same
Optuna TPE budget over learning rate, weight decay and dropout for every Table-1 neural model), a model trains with
its tuned values; otherwise, on the first seed of a run the model is trained once for each learning rate of
``lr_grid`` and the rate with the best validation accuracy is kept (the first one on ties)
(:func:`fit_with_lr_selection`). Widths, the cap and the patience are shared settings of the profile. The SVM
baseline has no learning rate (``C = 1``) and is not tuned.

Data parallelism (:mod:`xrec_lib.training.distributed`, ``fit`` under a process group): every rank draws the same
permutation and keeps its part of every global batch of ``batch_size`` examples (dropout masks from the rank's own
torch seed); validation scores each rank's block of the validation examples: the accuracy is the all-reduced
count of correct examples over the all-reduced total, the AUC that of the scores gathered from every rank, computed
on rank 0 (the loop hands rank 0's validation metrics to every rank).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from xrec_lib.config import seed_everything
from xrec_lib.models.baselines_002 import MODELS, LinearSvm
from xrec_lib.models.gconv_transform import NodeInput
from xrec_lib.studies.paper002.measures import Scorer, classification_metrics, macro_auc, score_examples
from xrec_lib.studies.paper002.settings import Paper002Settings
from xrec_lib.studies.paper002.task import ExampleSet, Task
from xrec_lib.training import distributed
from xrec_lib.training.loop import FitResult, LoopConfig, Objective, fit
from xrec_lib.tuning import load_tuned

NOTEBOOK = "04_gconv_transform"
MONITOR = "accuracy"  # the validation metric of early stopping and of the learning-rate selection


class SubgraphObjective(Objective):
    """Cross-entropy of a C-way subgraph classifier (``B x C`` logits) on ``train``; validation accuracy and AUC on
    ``validation`` (module docstring)."""

    def __init__(self, model: nn.Module, train: ExampleSet, validation: ExampleSet, batch_size: int, seed: int,
                 device: str):
        self.module, self.train, self.validation = model, train, validation
        self.model = model  # the classifier itself (``module`` is its DistributedDataParallel wrapper in a group)
        self.batch_size, self.device, self.seed = batch_size, device, seed
        self.loss_fn = nn.CrossEntropyLoss()
        self.generator = torch.Generator().manual_seed(seed)
        self.shard = None

    def distribute(self, shard: distributed.Shard) -> None:
        """Data parallelism (module docstring): the rank's part of every global batch; validation split."""
        self.shard = shard
        distributed.reseed_torch(shard, self.seed)

    def n_batches(self) -> int:
        return math.ceil(len(self.train) / self.batch_size)

    def batches(self, epoch: int):
        for index in torch.randperm(len(self.train), generator=self.generator).split(self.batch_size):
            if self.shard is not None:
                index = self.shard.part(index)
            yield self.train.batch(index).to(self.device), self.train.labels[index].to(self.device)

    def loss(self, batch):
        subgraphs, labels = batch
        return self.loss_fn(self.module(subgraphs), labels)

    def validate(self) -> dict[str, float]:
        if self.shard is None:
            return classification_metrics(self.model, self.validation, self.device)
        return self._split_metrics()

    def _split_metrics(self) -> dict[str, float]:
        """:func:`classification_metrics` of the validation set, each rank scoring its block (module docstring)."""
        examples, rows = self.validation, self.shard.rows(len(self.validation))
        scored = rows if rows.stop > rows.start else slice(0, 1)  # an empty block scores one example, dropped
        block = ExampleSet(examples.items[scored], examples.behaviours[scored], examples.lengths[scored],
                           examples.labels[scored])
        scores = score_examples(self.model, block, self.device)[: rows.stop - rows.start]
        correct = float((scores.argmax(1) == examples.labels[rows].numpy()).sum())
        correct, total = distributed.all_reduce_sum(torch.tensor([correct, float(len(scores))],
                                                                 dtype=torch.float64)).tolist()
        scores = distributed.all_gather_rows(torch.from_numpy(scores)).numpy()
        auc = macro_auc(examples.labels.numpy(), scores) if self.shard.rank == 0 else math.nan  # the loop's: rank 0's
        return {"accuracy": correct / total, "auc": auc}


@dataclass(frozen=True)
class Fitted:
    """A fitted Table-1 model: its scorer, learning rate (NaN for the SVM) and the loop's result (None for the
    SVM, which is fitted outside the loop)."""

    scorer: Scorer
    lr: float
    fit: FitResult | None

    @property
    def validation_score(self) -> float:
        """Validation accuracy of the kept epoch (NaN for the SVM)."""
        return math.nan if self.fit is None else float(self.fit.best_score)

    def stopping(self) -> dict:
        """``epochs``, ``best_epoch``, ``stopped_by`` and ``converged`` of the fit (empty for the SVM)."""
        if self.fit is None:
            return {}
        summary = self.fit.summary()
        return {key: summary[key] for key in ("epochs", "best_epoch", "stopped_by", "converged")}


def loop_config(settings: Paper002Settings, lr: float, device: str, desc: str | None = None) -> LoopConfig:
    """The one stopping rule of the study (module docstring): cap ``max_epochs``, early stopping on validation
    accuracy with ``patience``, constant rate ``lr``."""
    return LoopConfig(max_epochs=settings.max_epochs, lr=lr, weight_decay=settings.weight_decay, monitor=MONITOR,
                      mode="max", patience=settings.patience, seed=None, device=device, desc=desc)


def train_classifier(model: nn.Module, task: Task, settings: Paper002Settings, lr: float, seed: int,
                     device: str) -> FitResult:
    """Train ``model`` on ``task`` under :func:`loop_config` (batches seeded by ``seed``); the result holds the
    epoch with the best validation accuracy."""
    objective = SubgraphObjective(model, task.train, task.validation, settings.batch_size, seed, device)
    return fit(objective, loop_config(settings, lr, device, type(model).__name__))


def fit_svm(task: Task, max_examples: int, seed: int) -> LinearSvm:
    """The linear SVM (one-vs-rest over the task's classes) on at most ``max_examples`` training examples drawn
    with ``seed``."""
    rng = np.random.default_rng(seed)
    index = torch.from_numpy(np.sort(rng.choice(len(task.train), min(max_examples, len(task.train)),
                                                replace=False)))
    svm = LinearSvm(task.item_features, seed, task.n_classes)
    return svm.fit(task.train.batch(index), task.train.labels[index].numpy())


def fit_model(name: str, task: Task, settings: Paper002Settings, seed: int, device: str, lr: float,
              switches: Mapping[str, bool] | None = None) -> Fitted:
    """Fit one Table-1 model on ``task`` with learning rate ``lr`` under the study's stopping rule
    (initialisation and batches seeded by ``seed``); ``switches`` are GConv-Transform's ablation switches
    (``use_*``)."""
    seed_everything(seed)
    if name == "SVM":
        return Fitted(fit_svm(task, settings.svm_max_examples, seed), math.nan, None)
    model = MODELS.build(name, NodeInput(task.item_features, settings.id_dim), task.max_nodes, settings,
                         task.n_classes, **(switches or {}))
    result = train_classifier(model, task, settings, lr, seed, device)
    return Fitted(result.module, float(lr), result)


def tuned_settings(name: str, settings: Paper002Settings) -> Paper002Settings:
    """``settings`` with ``name``'s tuned values (``make tune``) laid over them: its tuned learning rate becomes a
    one-rate grid; unchanged when the notebook was not tuned. Ablation variants and depths take the values tuned
    for GConv-Transform."""
    values = dict(load_tuned(NOTEBOOK).get(name) or {})
    if "lr" in values:
        values["lr_grid"] = (float(values.pop("lr")),)
    return settings.for_model(name, {name: values})


def fit_with_lr_selection(name: str, task: Task, settings: Paper002Settings, seed: int, device: str,
                          switches: Mapping[str, bool] | None = None) -> tuple[Fitted, list[Fitted]]:
    """Fit ``name`` once per rate of ``settings.lr_grid``; return the fit with the best validation accuracy (the
    first on ties) and every fit of the grid. The SVM is fitted once (its rate is NaN)."""
    if name == "SVM":
        only = fit_model(name, task, settings, seed, device, math.nan)
        return only, [only]
    settings = tuned_settings(name, settings)
    candidates = [fit_model(name, task, settings, seed, device, lr, switches) for lr in settings.lr_grid]
    best = max(range(len(candidates)), key=lambda i: (candidates[i].validation_score, -i))
    return candidates[best], candidates
