"""Paper 000, stage 2: training the interaction heads of notebook 02 with :func:`xrec_lib.training.loop.fit`.

* :class:`HeadObjective` (:func:`fit_head`): a head on frozen embeddings (items = the target products), binary
  cross-entropy of Eq. 11 (:func:`xrec_lib.models.interaction.head_loss`) on the target-domain training pairs of the
  fitting part with ``n_negatives`` uniform unobserved target products per positive.
* :class:`EndToEndObjective` (:func:`fit_end_to_end`): encoder and head trained jointly: the same head loss on the
  encoder's current target-product vectors + the encoder's auxiliary loss, one full-graph propagation per batch,
  starting from the encoder's current weights.

An epoch visits every positive pair once in a seeded random order, in batches of ``head_batch_size``; the
negatives of the whole epoch are drawn at its start (:func:`xrec_lib.training.negatives.sample_negatives`). Batch
order and negatives come from the objective's own generator, seeded with the run's seed. Every head is trained the
same way: Adam at ``head_lr`` with weight decay ``head_weight_decay`` (both the profile's, or the head's tuned values:
:func:`~xrec_lib.studies.paper000.head_tuning.tuned_settings`), at most ``head_epochs`` epochs, early stopping on
the ``validate`` measure (the caller's validation NDCG@20 of a slice held out from the training pairs) with
``patience`` evaluations without improvement, the best parameters restored (:func:`loop_config`); without
``validate`` the epoch cap ends training.
``curve`` adds after-epoch history columns every ``eval_every`` epochs (e.g. Fig. 9's test NDCG@20); they never
steer training. Every generator is seeded (:func:`xrec_lib.config.seed_everything`) before the head is built, and
torch's is not reseeded when training starts.

Data parallelism (:mod:`xrec_lib.training.distributed`, ``fit`` under a process group): every rank draws the same
epoch order and keeps its part of every global batch of ``head_batch_size`` pairs; the negatives of its part come
from its own stream (``sampling="rank"``, drawn batch by batch) or are the shared stream's negatives of the whole
epoch (``"global"``: the pairs of one process). A :class:`RankingValidation` ranks each rank's block of the
validation users and all-reduces the per-user sums (any other ``validate`` runs in full on every rank); the
``curve`` is measured on rank 0 only (the loop uses rank 0's columns). The end-to-end pair is one module
(:class:`EndToEnd`) whose forward gives the losses, so that ``DistributedDataParallel`` reduces the gradients of
encoder and head.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Callable, Protocol

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from xrec_lib.config import seed_everything
from xrec_lib.models.encoders import GraphEncoder
from xrec_lib.models.interaction import HEADS, InteractionHead, head_loss
from xrec_lib.training import distributed
from xrec_lib.training.loop import FitResult, LoopConfig, Objective, fit
from xrec_lib.training.negatives import interaction_keys, sample_negatives


class HeadSettings(Protocol):
    """What the objectives read (:class:`~xrec_lib.studies.paper000.interaction.InteractionSettings`)."""

    dim: int  # embedding size (the end-to-end head's input)
    hidden: int  # width of the heads
    head_epochs: int
    head_batch_size: int
    head_lr: float
    head_weight_decay: float  # Adam's weight decay
    n_negatives: int  # negatives per positive pair
    patience: int  # validation evaluations without improvement before stopping
    eval_every: int  # epochs between the points of a curve
    device: str


#: Extra history columns of an epoch: ``curve(head)`` with the head in eval mode (e.g. Fig. 9's test NDCG@20).
Curve = Callable[[InteractionHead], dict[str, float]]
#: Validation measures ``validate(head, user_emb, item_emb)`` (eval mode; ``item_emb``: the target products) with
#: an ``"ndcg"`` entry, the metric early stopping follows.
Validate = Callable[[InteractionHead, torch.Tensor, torch.Tensor], dict[str, float]]


@dataclass(frozen=True)
class RankingValidation:
    """Validation NDCG@``k`` and MAP@``k`` of a head: the two-stage ranking
    (:meth:`~xrec_lib.studies.paper000.tasks.Method.rank`, ``n_candidates`` retrieved) of ``task.test`` (the
    held-out pairs; ``task.train`` excluded). A :data:`Validate` whose users are split over the ranks under data
    parallelism (``shard``: :meth:`~xrec_lib.training.distributed.Shard.split_ranking`)."""

    task: object  # a TargetTask: .test (held-out pairs), .train (excluded)
    head_name: str
    n_candidates: int
    k: int = 20
    splits_users = True

    def __call__(self, head: InteractionHead, user_emb: torch.Tensor, item_emb: torch.Tensor,
                 shard: distributed.Shard | None = None) -> dict[str, float]:
        from xrec_lib.studies.paper000.tasks import Method

        method = Method(self.head_name, user_emb, item_emb, head)
        if shard is None:
            summary = method.rank(self.task, [self.k], self.n_candidates).summary()[self.k]
        else:
            summary = shard.split_ranking(lambda test: method.rank(self.task, [self.k], self.n_candidates, test),
                                          self.task.test, [self.k])[self.k]
        return {"ndcg": summary["ndcg"], "map": summary["map"]}


class _PairBatches(Objective):
    """Batches of ``(users, positives, negatives)`` index tensors over the stored entries of ``train``
    (negatives ``(B, n_negatives)``; module docstring)."""

    def __init__(self, train: sp.csr_matrix, batch_size: int, n_negatives: int, seed: int):
        coo = train.tocoo()
        self.train, self.batch_size, self.n_negatives, self.seed = train, batch_size, n_negatives, seed
        self.users, self.positives = coo.row.astype(np.int64), coo.col.astype(np.int64)
        self.keys = interaction_keys(train)
        self.rng = np.random.default_rng(seed)
        self.shard, self.rank_rng = None, None

    def distribute(self, shard: distributed.Shard) -> None:
        """Data parallelism (module docstring): the rank's part of every global batch, its negatives from its own
        stream (``sampling="rank"``) or from the shared one (``"global"``); dropout from the rank's stream."""
        self.shard, self.rank_rng = shard, shard.rng(self.seed)
        distributed.reseed_torch(shard, self.seed)

    def n_batches(self) -> int:
        return math.ceil(len(self.users) / self.batch_size)

    def batches(self, epoch: int):
        order = self.rng.permutation(len(self.users))
        users, positives = self.users[order], self.positives[order]
        if self.shard is not None:
            yield from self._parts(users, positives)
            return
        negatives = sample_negatives(np.repeat(users, self.n_negatives), self.train, self.rng,
                                     keys=self.keys).reshape(len(users), -1)
        for start in range(0, len(users), self.batch_size):
            batch = slice(start, start + self.batch_size)
            yield tuple(torch.from_numpy(a[batch]) for a in (users, positives, negatives))

    def _parts(self, users: np.ndarray, positives: np.ndarray):
        """The rank's part of every global batch of the epoch order ``users``/``positives``."""
        per_rank = self.shard.sampling == "rank"
        if not per_rank:  # the epoch's negatives of one process, from the shared stream
            negatives = sample_negatives(np.repeat(users, self.n_negatives), self.train, self.rng,
                                         keys=self.keys).reshape(len(users), -1)
        positions = np.arange(len(users))
        for start in range(0, len(users), self.batch_size):
            rows = self.shard.part(positions[start: start + self.batch_size])
            if per_rank:
                part_negatives = sample_negatives(np.repeat(users[rows], self.n_negatives), self.train,
                                                  self.rank_rng, keys=self.keys).reshape(len(rows), -1)
            else:
                part_negatives = negatives[rows]
            yield tuple(torch.from_numpy(a) for a in (users[rows], positives[rows], part_negatives))

    def _validate(self, head: InteractionHead, user_emb: torch.Tensor, item_emb: torch.Tensor,
                  validation: Validate) -> dict[str, float]:
        """``validation`` of ``head``; its users split over the ranks when it can split them."""
        if self.shard is not None and getattr(validation, "splits_users", False):
            return validation(head, user_emb, item_emb, shard=self.shard)
        return validation(head, user_emb, item_emb)


class HeadObjective(_PairBatches):
    """A head on frozen ``user_emb`` / ``item_emb`` (module docstring); ``curve`` adds history columns every
    ``eval_every`` epochs."""

    def __init__(self, head: InteractionHead, user_emb: torch.Tensor, item_emb: torch.Tensor,
                 train: sp.csr_matrix, settings: HeadSettings, seed: int, curve: Curve | None = None,
                 validate: Validate | None = None):
        super().__init__(train, settings.head_batch_size, settings.n_negatives, seed)
        self.module, self.user_emb, self.item_emb = head, user_emb, item_emb
        self.head = head  # the head itself (``module`` is its DistributedDataParallel wrapper while a group trains)
        self.curve, self.eval_every, self.validation = curve, settings.eval_every, validate

    def loss(self, batch):
        users, positives, negatives = batch
        return head_loss(self.module, self.user_emb[users], self.item_emb[positives], self.item_emb[negatives])

    def validate(self) -> dict[str, float] | None:
        if self.validation is None:
            return None
        return self._validate(self.head, self.user_emb, self.item_emb, self.validation)

    def after_epoch(self, epoch: int) -> dict[str, float]:
        if self.curve is None or epoch % self.eval_every or (self.shard is not None and self.shard.rank != 0):
            return {}
        return self.curve(self.head)


class EndToEnd(nn.ModuleDict):
    """Encoder and head as one module (``"encoder"``, ``"head"``); its forward gives the head loss of a batch on
    the encoder's current vectors of the ``target_items`` and the encoder's auxiliary loss."""

    def __init__(self, encoder: GraphEncoder, head: InteractionHead):
        super().__init__({"encoder": encoder, "head": head})

    def forward(self, users: torch.Tensor, positives: torch.Tensor, negatives: torch.Tensor,
                target_items: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        encoder, head = self["encoder"], self["head"]
        user_emb, item_emb = encoder()
        target_emb = item_emb[target_items]
        loss = head_loss(head, user_emb[users], target_emb[positives], target_emb[negatives])
        return loss, encoder.auxiliary_loss(user_emb, item_emb, users)


class EndToEndObjective(_PairBatches):
    """Encoder and head jointly (module docstring); ``items`` are the target products' ids among the encoder's
    items."""

    def __init__(self, encoder: GraphEncoder, head: InteractionHead, train: sp.csr_matrix, items: np.ndarray,
                 settings: HeadSettings, seed: int, validate: Validate | None = None):
        super().__init__(train, settings.head_batch_size, settings.n_negatives, seed)
        self.module = self.pair = EndToEnd(encoder, head)  # pair: the module itself, also under a wrapper
        self.target_items = torch.from_numpy(items)
        self.validation = validate

    def validate(self) -> dict[str, float] | None:
        if self.validation is None:
            return None
        user_emb, item_emb = self.pair["encoder"]()
        return self._validate(self.pair["head"], user_emb, item_emb[self.target_items], self.validation)

    def loss(self, batch):
        users, positives, negatives = batch
        loss, aux = self.module(users, positives, negatives, self.target_items)
        return loss + aux, {"loss": loss.item(), "aux_loss": aux.item()}


def loop_config(settings: HeadSettings, device: str, desc: str, validated: bool) -> LoopConfig:
    """Adam at ``head_lr`` (weight decay ``head_weight_decay``), at most ``head_epochs`` epochs; with validation,
    early stopping on its ``"ndcg"`` with ``patience`` (module docstring). Torch's generator is left as it is."""
    return LoopConfig(max_epochs=settings.head_epochs, lr=settings.head_lr, weight_decay=settings.head_weight_decay,
                      patience=settings.patience if validated else None, monitor="ndcg", mode="max", device=device,
                      desc=desc)


def fit_head(name: str, user_emb: torch.Tensor, item_emb: torch.Tensor, train: sp.csr_matrix,
             settings: HeadSettings, seed: int, curve: Curve | None = None,
             validate: Validate | None = None) -> tuple[InteractionHead, FitResult | None]:
    """Head ``name`` trained on frozen embeddings (module docstring), in eval mode (best validation parameters),
    and its fit (module dropped); a head without parameters is returned untrained, with None."""
    seed_everything(seed)
    head = HEADS.build(name, user_emb.shape[1], settings.hidden).to(user_emb.device)
    if not list(head.parameters()):
        return head.eval(), None
    objective = HeadObjective(head, user_emb, item_emb, train, settings, seed, curve, validate)
    result = fit(objective, loop_config(settings, user_emb.device.type, f"head {name}", validate is not None))
    return result.module, replace(result, module=None)


def fit_end_to_end(encoder: GraphEncoder, head_name: str, train: sp.csr_matrix, items: np.ndarray,
                   settings: HeadSettings, seed: int,
                   validate: Validate | None = None) -> tuple[GraphEncoder, InteractionHead, FitResult]:
    """Encoder and head ``head_name`` trained jointly (module docstring), both returned in eval mode (best
    validation parameters), and the fit (module dropped)."""
    seed_everything(seed)
    head = HEADS.build(head_name, settings.dim, settings.hidden)
    objective = EndToEndObjective(encoder, head, train, items, settings, seed, validate)
    result = fit(objective, loop_config(settings, settings.device, f"{type(encoder).__name__} + {head_name}",
                                        validate is not None))
    return encoder.eval(), head.eval(), replace(result, module=None)
