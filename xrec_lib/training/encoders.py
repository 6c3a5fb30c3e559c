"""Training an embedding recommender (a :class:`~xrec_lib.models.encoders.GraphEncoder`) on ranking triplets.

An epoch visits every training interaction ``(u, i+)`` once in a seeded random order, in batches of
``batch_size``; each interaction gets ``n_negatives`` negatives ``i-`` from
:func:`xrec_lib.training.negatives.sample_negatives` (default 1). One optimisation step = one full-graph
propagation (``user_emb, item_emb = model()``) + the batch loss:

    L = ranking_loss(z_u . z_i+, z_u . z_i-)  +  l2 / 2 * (|e_u|^2 + |e_i+|^2 + |e_i-|^2) / B  +  model.auxiliary_loss

With several negatives the ranking loss is averaged over them, or, with ``hard_negatives``, taken on the
highest-scoring one only (dynamic negative sampling, Zhang et al., SIGIR 2013: of ``n_negatives`` uniform
candidates, the one the current model ranks highest); the L2 penalty covers the negatives the loss uses.

with the ranking losses of :mod:`xrec_lib.training.losses` (BPR is eq. (4) of paper 000), the L2 penalty on the ID
(layer-0) embeddings of the batch, and the encoder's own auxiliary term (the Siamese GCN's alignment loss, else
0). The validation metric is NDCG@``monitor_k`` by full ranking (:func:`xrec_lib.evaluate.evaluate_embeddings`,
training items excluded) on a held-out slice of the training interactions (:func:`split_validation`,
:func:`holdout_dataset`), so the graph a model propagates over never holds them. Optimiser, schedule, early
stopping and history are those of :func:`xrec_lib.training.loop.fit`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import scipy.sparse as sp
import torch

from xrec_lib.data.crossdomain import CrossDomainDataset
from xrec_lib.errors import ConfigError, DataError
from xrec_lib.evaluate import evaluate_embeddings
from xrec_lib.metrics import RankingResult
from xrec_lib.models.encoders import GraphEncoder
from xrec_lib.models.sampling import NeighbourSampler, parse_fanouts
from xrec_lib.training.loop import FitResult, LoopConfig, Objective, fit
from xrec_lib.training.losses import check_ranking_loss, ranking_loss
from xrec_lib.training.negatives import interaction_keys, sample_negatives

HISTORY_COLUMNS = ("val_ndcg", "val_recall")


@dataclass(frozen=True)
class EncoderTrainConfig:
    """Settings of :func:`train_encoder` (module docstring).

    Attributes:
        epochs: epoch cap.
        batch_size: triplets per optimisation step (one propagation each).
        lr: Adam learning rate (of the first epoch).
        lr_decay: the learning rate is multiplied by this after every epoch (1.0: constant).
        loss: ``"bpr"``, ``"margin"`` or ``"bce"``.
        n_negatives: negatives drawn per training interaction.
        hard_negatives: use only the highest-scoring of the ``n_negatives`` (dynamic negative sampling).
        margin: ``m`` of the margin loss.
        l2: weight of the L2 penalty on the batch's ID embeddings.
        patience: validation evaluations without improvement before stopping.
        eval_every: epochs between validation evaluations.
        monitor_k: cut-off of the monitored validation NDCG.
        max_batches: optimisation steps per epoch at most (None: a full pass over the interactions).
        fanouts: None (default): every step propagates the whole graph. A list, one entry per hop from the batch's
            nodes (PyG's ``num_neighbors`` order; fitted to the encoder's depth by
            :func:`~xrec_lib.models.sampling.parse_fanouts`): every step computes the batch's users' and
            products' vectors on their sampled neighbourhood instead, at most that many neighbours per node and
            hop (``None``: all of them; :mod:`xrec_lib.models.sampling`). Validation always ranks with
            full-graph vectors.
        max_minutes: wall-clock budget (None: none).
        seed: seed of the batch order and the negatives (and of torch's generator at the start of training).
        device: ``"cpu"`` or ``"cuda"``.
        progress: show a tqdm bar over the epochs.
        checkpoint_path: where to ``torch.save`` the best ``state_dict`` (None: memory only).
        on_epoch: called with each history row (dict) as it is completed.
    """

    epochs: int = 50
    batch_size: int = 8192
    lr: float = 5e-3
    lr_decay: float = 1.0
    loss: str = "bpr"
    n_negatives: int = 1
    hard_negatives: bool = False
    margin: float = 1.0
    l2: float = 1e-4
    patience: int = 5
    eval_every: int = 1
    monitor_k: int = 20
    max_batches: int | None = None
    fanouts: tuple[int | None, ...] | None = None
    max_minutes: float | None = None
    seed: int = 0
    device: str = "cpu"
    progress: bool = False
    checkpoint_path: str | Path | None = None
    on_epoch: Callable[[dict], None] | None = None

    def __post_init__(self) -> None:
        check_ranking_loss(self.loss)
        for name in ("batch_size", "monitor_k", "n_negatives"):
            if getattr(self, name) < 1:
                raise ConfigError(f"EncoderTrainConfig.{name} must be >= 1, got {getattr(self, name)}")
        self.loop()  # the loop's own checks

    def loop(self) -> LoopConfig:
        return LoopConfig(max_epochs=self.epochs, lr=self.lr, schedule="exponential" if self.lr_decay < 1 else
                          "constant", lr_decay=self.lr_decay, patience=self.patience, eval_every=self.eval_every,
                          monitor="ndcg", mode="max", max_batches=self.max_batches, max_minutes=self.max_minutes,
                          seed=self.seed, device=self.device, fused=True, progress=self.progress,
                          checkpoint_path=self.checkpoint_path)


class EncoderObjective(Objective):
    """Ranking triplets of a graph encoder (module docstring)."""

    def __init__(self, model: GraphEncoder, train: sp.csr_matrix, valid: sp.spmatrix | None,
                 config: EncoderTrainConfig):
        self.module, self.train, self.valid, self.config = model, train, valid, config
        coo = train.tocoo()
        self.users, self.items = coo.row.astype(np.int64), coo.col.astype(np.int64)
        self.rng = np.random.default_rng(config.seed)
        self.keys = interaction_keys(train)
        self.shard, self.rank_rng = None, None
        self.sampler = None
        if config.fanouts is not None:
            fanouts = parse_fanouts(config.fanouts, model.n_propagation_layers)
            self.sampler = NeighbourSampler(model.propagation_matrix(), fanouts, seed=config.seed,
                                            device=config.device)

    def distribute(self, shard) -> None:
        """Data parallelism (:mod:`xrec_lib.training.distributed`): every rank draws the same batch order and
        keeps its part of each global batch; its negatives come from its own stream (``sampling="rank"``) or are
        drawn for the whole global batch from the shared one (``"global"``); validation splits the users."""
        self.shard, self.rank_rng = shard, shard.rng(self.config.seed)
        if self.sampler is not None:  # each rank samples the neighbourhoods of its own part of the batch
            self.sampler.rng = shard.rng(self.config.seed + 1)

    def n_batches(self) -> int:
        return math.ceil(len(self.users) / self.config.batch_size)

    def batches(self, epoch: int):
        order = self.rng.permutation(len(self.users))
        for start in range(0, len(order), self.config.batch_size):
            batch = order[start: start + self.config.batch_size]
            k = self.config.n_negatives
            rng = self.rng
            if self.shard is not None and self.shard.sampling == "rank":
                batch, rng = self.shard.part(batch), self.rank_rng
            negatives = sample_negatives(np.repeat(self.users[batch], k), self.train, rng,
                                         keys=self.keys).reshape(len(batch), k)
            if self.shard is not None and self.shard.sampling == "global":
                batch, negatives = self.shard.part(batch), self.shard.part(negatives)
            yield tuple(torch.from_numpy(a).to(self.config.device)
                        for a in (self.users[batch], self.items[batch], negatives))

    def loss(self, batch):
        u, i, j = batch
        model, config = self.module, self.config
        if self.sampler is None:
            user_emb, item_emb = model()
        else:  # the batch's rows only, from their sampled neighbourhoods
            user_emb, item_emb = self.sampler.embed(model, u, torch.cat([i, j.reshape(-1), model.batch_items(u)]))
        z_u = user_emb[u]
        if config.hard_negatives and j.shape[1] > 1:  # score the candidates without a graph, keep the hardest
            with torch.no_grad():
                j = j.gather(1, (z_u.unsqueeze(1) * item_emb[j]).sum(-1).argmax(1, keepdim=True))
        negative = (z_u.unsqueeze(1) * item_emb[j]).sum(-1)  # (B, negatives used)
        loss = ranking_loss((z_u * item_emb[i]).sum(1), negative, config.loss, config.margin)
        ego_u, ego_i = model.ego_embeddings(u, i)
        _, ego_j = model.ego_embeddings(u.repeat_interleave(j.shape[1]), j.reshape(-1))
        penalty = config.l2 / 2 * (ego_u.square().sum() + ego_i.square().sum()
                                   + ego_j.square().sum() / j.shape[1]) / len(u)
        aux = model.auxiliary_loss(user_emb, item_emb, u)
        return loss + penalty + aux, {"loss": loss.item(), "aux_loss": aux.item()}

    def validate(self) -> dict[str, float] | None:
        if self.valid is None:
            return None
        if self.shard is not None:
            summary = self.shard.ranking_summary(*embeddings(self.module), self.valid, self.train,
                                                 [self.config.monitor_k])
        else:
            summary = evaluate_encoder(self.module, self.valid, self.train, [self.config.monitor_k]).summary()
        return {"ndcg": summary[self.config.monitor_k]["ndcg"], "recall": summary[self.config.monitor_k]["recall"]}


def train_encoder(model: GraphEncoder, train: sp.spmatrix, valid: sp.spmatrix | None,
                  config: EncoderTrainConfig) -> FitResult:
    """Train ``model`` on the binary ``train`` matrix; early-stop on ``valid`` NDCG (module docstring)."""
    train = sp.csr_matrix(train)
    if train.nnz == 0:
        raise DataError("training matrix holds no interaction")
    if train.shape != (model.n_users, model.n_items):
        raise DataError(f"training matrix is {train.shape}; the model has {model.n_users} users x "
                        f"{model.n_items} items")
    result = fit(EncoderObjective(model, train, valid, config), config.loop(), on_epoch=config.on_epoch)
    for column in HISTORY_COLUMNS:
        if column not in result.history:
            result.history[column] = math.nan
    return result


def embeddings(model: GraphEncoder) -> tuple[torch.Tensor, torch.Tensor]:
    """``(user_emb, item_emb)`` of a full-graph pass without gradients (eval mode)."""
    was_training = model.training
    model.eval()
    with torch.no_grad():
        user_emb, item_emb = model()
    model.train(was_training)
    return user_emb.detach(), item_emb.detach()


def evaluate_encoder(model: GraphEncoder, test: sp.spmatrix, exclude: sp.spmatrix | None,
                     ks: Iterable[int] = (20,)) -> RankingResult:
    """Full-ranking per-user metrics of ``model`` (:func:`xrec_lib.evaluate.evaluate_embeddings`)."""
    user_emb, item_emb = embeddings(model)
    return evaluate_embeddings(user_emb, item_emb, test, exclude, ks)


def split_validation(train: sp.spmatrix, fraction: float, seed: int) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """``(fit, valid)``: a seeded random ``fraction`` of the interactions held out, the rest kept for fitting."""
    coo = sp.coo_matrix(train)
    held = _held_out_mask(coo.nnz, fraction, seed)
    return (sp.csr_matrix((coo.data[~held], (coo.row[~held], coo.col[~held])), shape=coo.shape),
            sp.csr_matrix((coo.data[held], (coo.row[held], coo.col[held])), shape=coo.shape))


def holdout_dataset(dataset: CrossDomainDataset, fraction: float, seed: int) -> CrossDomainDataset:
    """The dataset with ``train`` = the fitting part and ``test`` = a seeded ``fraction`` of the training rows."""
    held = _held_out_mask(len(dataset.train), fraction, seed)
    return replace(dataset, train=dataset.train.select(~held), test=dataset.train.select(held),
                   sampled_users=None, sampled_negatives=None)


def _held_out_mask(n: int, fraction: float, seed: int) -> np.ndarray:
    if not 0.0 < fraction < 1.0:
        raise ConfigError(f"validation fraction must lie in (0, 1), got {fraction}")
    held = np.zeros(n, dtype=bool)
    held[np.random.default_rng(seed).permutation(n)[: max(1, round(fraction * n))]] = True
    return held
