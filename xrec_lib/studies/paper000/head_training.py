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
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Callable, Protocol

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from xrec_lib.config import seed_everything
from xrec_lib.models.encoders import GraphEncoder
from xrec_lib.models.interaction import HEADS, InteractionHead, head_loss
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


class _PairBatches(Objective):
    """Batches of ``(users, positives, negatives)`` index tensors over the stored entries of ``train``
    (negatives ``(B, n_negatives)``; module docstring)."""

    def __init__(self, train: sp.csr_matrix, batch_size: int, n_negatives: int, seed: int):
        coo = train.tocoo()
        self.train, self.batch_size, self.n_negatives = train, batch_size, n_negatives
        self.users, self.positives = coo.row.astype(np.int64), coo.col.astype(np.int64)
        self.keys = interaction_keys(train)
        self.rng = np.random.default_rng(seed)

    def n_batches(self) -> int:
        return math.ceil(len(self.users) / self.batch_size)

    def batches(self, epoch: int):
        order = self.rng.permutation(len(self.users))
        users, positives = self.users[order], self.positives[order]
        negatives = sample_negatives(np.repeat(users, self.n_negatives), self.train, self.rng,
                                     keys=self.keys).reshape(len(users), -1)
        for start in range(0, len(users), self.batch_size):
            batch = slice(start, start + self.batch_size)
            yield tuple(torch.from_numpy(a[batch]) for a in (users, positives, negatives))


class HeadObjective(_PairBatches):
    """A head on frozen ``user_emb`` / ``item_emb`` (module docstring); ``curve`` adds history columns every
    ``eval_every`` epochs."""

    def __init__(self, head: InteractionHead, user_emb: torch.Tensor, item_emb: torch.Tensor,
                 train: sp.csr_matrix, settings: HeadSettings, seed: int, curve: Curve | None = None,
                 validate: Validate | None = None):
        super().__init__(train, settings.head_batch_size, settings.n_negatives, seed)
        self.module, self.user_emb, self.item_emb = head, user_emb, item_emb
        self.curve, self.eval_every, self.validation = curve, settings.eval_every, validate

    def loss(self, batch):
        users, positives, negatives = batch
        return head_loss(self.module, self.user_emb[users], self.item_emb[positives], self.item_emb[negatives])

    def validate(self) -> dict[str, float] | None:
        return None if self.validation is None else self.validation(self.module, self.user_emb, self.item_emb)

    def after_epoch(self, epoch: int) -> dict[str, float]:
        if self.curve is None or epoch % self.eval_every:
            return {}
        return self.curve(self.module)


class EndToEndObjective(_PairBatches):
    """Encoder and head jointly (module docstring); ``items`` are the target products' ids among the encoder's
    items."""

    def __init__(self, encoder: GraphEncoder, head: InteractionHead, train: sp.csr_matrix, items: np.ndarray,
                 settings: HeadSettings, seed: int, validate: Validate | None = None):
        super().__init__(train, settings.head_batch_size, settings.n_negatives, seed)
        self.module = nn.ModuleDict({"encoder": encoder, "head": head})
        self.target_items = torch.from_numpy(items)
        self.validation = validate

    def validate(self) -> dict[str, float] | None:
        if self.validation is None:
            return None
        user_emb, item_emb = self.module["encoder"]()
        return self.validation(self.module["head"], user_emb, item_emb[self.target_items])

    def loss(self, batch):
        users, positives, negatives = batch
        encoder, head = self.module["encoder"], self.module["head"]
        user_emb, item_emb = encoder()
        target_emb = item_emb[self.target_items]
        loss = head_loss(head, user_emb[users], target_emb[positives], target_emb[negatives])
        aux = encoder.auxiliary_loss(user_emb, item_emb, users)
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
