"""Paper 000, stage 2: training the interaction heads of notebook 02 with :func:`xrec_lib.training.loop.fit`.

* :class:`HeadObjective` (:func:`fit_head`): a head on frozen embeddings (items = the target products), binary
  cross-entropy of Eq. 11 (:func:`xrec_lib.models.interaction.head_loss`) on the target-domain training pairs with
  ``n_negatives`` uniform unobserved target products per positive.
* :class:`EndToEndObjective` (:func:`fit_end_to_end`): encoder and head trained jointly: the same head loss on the
  encoder's current target-product vectors + the encoder's auxiliary loss, one full-graph propagation per batch,
  starting from the encoder's current weights.

An epoch visits every positive pair once in a seeded random order, in batches of ``head_batch_size``; the
negatives of the whole epoch are drawn at its start (:func:`xrec_lib.training.negatives.sample_negatives`). Batch
order and negatives come from the objective's own generator, seeded with the run's seed. Both objectives train
with Adam at ``head_lr`` for ``head_epochs`` epochs with every head given the same seed, optimiser, epochs,
batches and negatives; there is no validation split, so the epoch cap ends training. Every generator is seeded
(:func:`xrec_lib.config.seed_everything`) before the head is built, and torch's is not reseeded when training
starts.
"""

from __future__ import annotations

import math
from typing import Callable, Protocol

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from torch import nn

from xrec_lib.config import seed_everything
from xrec_lib.models.encoders import GraphEncoder
from xrec_lib.models.interaction import HEADS, InteractionHead, head_loss
from xrec_lib.training.loop import LoopConfig, Objective, fit
from xrec_lib.training.negatives import interaction_keys, sample_negatives


class HeadSettings(Protocol):
    """What the objectives read (:class:`~xrec_lib.studies.paper000.interaction.InteractionSettings`)."""

    dim: int  # embedding size (the end-to-end head's input)
    hidden: int  # width of the heads
    head_epochs: int
    head_batch_size: int
    head_lr: float
    n_negatives: int  # negatives per positive pair
    eval_every: int  # epochs between the points of a curve
    device: str


#: Extra history columns of an epoch: ``curve(head)`` with the head in eval mode (e.g. Fig. 9's test NDCG@20).
Curve = Callable[[InteractionHead], dict[str, float]]


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
                 train: sp.csr_matrix, settings: HeadSettings, seed: int, curve: Curve | None = None):
        super().__init__(train, settings.head_batch_size, settings.n_negatives, seed)
        self.module, self.user_emb, self.item_emb = head, user_emb, item_emb
        self.curve, self.eval_every = curve, settings.eval_every

    def loss(self, batch):
        users, positives, negatives = batch
        return head_loss(self.module, self.user_emb[users], self.item_emb[positives], self.item_emb[negatives])

    def after_epoch(self, epoch: int) -> dict[str, float]:
        if self.curve is None or epoch % self.eval_every:
            return {}
        return self.curve(self.module)


class EndToEndObjective(_PairBatches):
    """Encoder and head jointly (module docstring); ``items`` are the target products' ids among the encoder's
    items."""

    def __init__(self, encoder: GraphEncoder, head: InteractionHead, train: sp.csr_matrix, items: np.ndarray,
                 settings: HeadSettings, seed: int):
        super().__init__(train, settings.head_batch_size, settings.n_negatives, seed)
        self.module = nn.ModuleDict({"encoder": encoder, "head": head})
        self.target_items = torch.from_numpy(items)

    def loss(self, batch):
        users, positives, negatives = batch
        encoder, head = self.module["encoder"], self.module["head"]
        user_emb, item_emb = encoder()
        target_emb = item_emb[self.target_items]
        loss = head_loss(head, user_emb[users], target_emb[positives], target_emb[negatives])
        aux = encoder.auxiliary_loss(user_emb, item_emb, users)
        return loss + aux, {"loss": loss.item(), "aux_loss": aux.item()}


def loop_config(settings: HeadSettings, device: str, desc: str) -> LoopConfig:
    """Adam at ``head_lr`` for ``head_epochs`` epochs, no validation, torch's generator left as it is."""
    return LoopConfig(max_epochs=settings.head_epochs, lr=settings.head_lr, device=device, desc=desc)


def fit_head(name: str, user_emb: torch.Tensor, item_emb: torch.Tensor, train: sp.csr_matrix,
             settings: HeadSettings, seed: int, curve: Curve | None = None) -> tuple[InteractionHead, pd.DataFrame]:
    """Head ``name`` trained on frozen embeddings (module docstring), in eval mode, and its per-epoch history
    (empty for a head without parameters, which is returned untrained)."""
    seed_everything(seed)
    head = HEADS.build(name, user_emb.shape[1], settings.hidden).to(user_emb.device)
    if not list(head.parameters()):
        return head.eval(), pd.DataFrame()
    objective = HeadObjective(head, user_emb, item_emb, train, settings, seed, curve)
    result = fit(objective, loop_config(settings, user_emb.device.type, f"head {name}"))
    return result.module, result.history


def fit_end_to_end(encoder: GraphEncoder, head_name: str, train: sp.csr_matrix, items: np.ndarray,
                   settings: HeadSettings, seed: int) -> tuple[GraphEncoder, InteractionHead]:
    """Encoder and head ``head_name`` trained jointly (module docstring), both returned in eval mode."""
    seed_everything(seed)
    head = HEADS.build(head_name, settings.dim, settings.hidden)
    objective = EndToEndObjective(encoder, head, train, items, settings, seed)
    fit(objective, loop_config(settings, settings.device, f"{type(encoder).__name__} + {head_name}"))
    return encoder, head
