"""The one training loop of every embedding recommender: ranking triplets, Adam, early stopping.

An epoch visits every training interaction ``(u, i+)`` once in a seeded random order, in batches of
``batch_size``; each interaction gets one uniform negative ``i-`` (an item ``u`` has no training interaction
with; drawn vectorised with rejection). One optimisation step = one full-graph propagation
(``user_emb, item_emb = model()``) + the batch loss, minimised by Adam (fused kernel; learning rate multiplied by
``lr_decay`` after every epoch):

* ``"bpr"``: ``-ln sigmoid(s(u, i+) - s(u, i-))`` (Rendle et al. 2009), the pairwise loss of eq. (4) of paper 000;
* ``"margin"``: ``max(0, m - s(u, i+) + s(u, i-))`` (triplet margin ranking loss);
* ``"bce"``: ``-ln sigmoid(s(u, i+)) - ln(1 - sigmoid(s(u, i-)))`` (pointwise link prediction);

averaged over the batch, plus ``l2 / 2 * (|e_u|^2 + |e_i+|^2 + |e_i-|^2)`` averaged over the batch on the ID
(layer-0) embeddings, plus ``model.auxiliary_loss(...)``. Scores are inner products ``s(u, i) = z_u . z_i``.

Every ``eval_every`` epochs, validation NDCG@``monitor_k`` is computed by full ranking
(:func:`xrec_lib.evaluate.evaluate_embeddings`, training items excluded); training stops after ``patience``
evaluations without improvement and the best parameters are restored (kept in memory, optionally saved with
``torch.save``). The validation set is a held-out slice of the training interactions
(:func:`split_validation`, :func:`holdout_dataset`), so the graph a model propagates over never holds them.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from xrec_lib.data.crossdomain import CrossDomainDataset
from xrec_lib.errors import ConfigError, DataError
from xrec_lib.evaluate import evaluate_embeddings
from xrec_lib.metrics import RankingResult
from xrec_lib.models.encoders import GraphEncoder

LOSSES = ("bpr", "margin", "bce")


@dataclass(frozen=True)
class TrainConfig:
    """Settings of :func:`fit` (the module docstring defines the losses).

    Attributes:
        epochs: maximum number of epochs.
        batch_size: triplets per optimisation step (one propagation each).
        lr: Adam learning rate (of the first epoch).
        lr_decay: the learning rate is multiplied by this after every epoch (1.0: constant).
        loss: ``"bpr"``, ``"margin"`` or ``"bce"``.
        margin: ``m`` of the margin loss.
        l2: weight of the L2 penalty on the batch's ID embeddings.
        patience: validation evaluations without improvement before stopping.
        eval_every: epochs between validation evaluations.
        monitor_k: cut-off of the monitored validation NDCG.
        max_batches: optimisation steps per epoch at most (None: a full pass over the interactions).
        max_minutes: wall-clock budget; training stops after the first epoch that exceeds it (None: no budget).
        seed: seed of the batch order and the negatives (and of torch's generator at the start of training).
        device: ``"cpu"`` or ``"cuda"``.
        progress: show a tqdm bar over the epochs.
        checkpoint_path: where to ``torch.save`` the best ``state_dict`` (None: memory only).
        on_epoch: called with each history row (dict, columns of :attr:`TrainResult.history`) as it is completed.
    """

    epochs: int = 50
    batch_size: int = 8192
    lr: float = 5e-3
    lr_decay: float = 1.0
    loss: str = "bpr"
    margin: float = 1.0
    l2: float = 1e-4
    patience: int = 5
    eval_every: int = 1
    monitor_k: int = 20
    max_batches: int | None = None
    max_minutes: float | None = None
    seed: int = 0
    device: str = "cpu"
    progress: bool = False
    checkpoint_path: str | Path | None = None
    on_epoch: Callable[[dict], None] | None = None

    def __post_init__(self) -> None:
        if self.loss not in LOSSES:
            raise ConfigError(f"unknown loss {self.loss!r}; choose one of {', '.join(LOSSES)}")
        for name in ("epochs", "batch_size", "patience", "eval_every", "monitor_k"):
            if getattr(self, name) < 1:
                raise ConfigError(f"TrainConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.lr <= 0:
            raise ConfigError(f"TrainConfig.lr must be positive, got {self.lr}")
        if not 0 < self.lr_decay <= 1:
            raise ConfigError(f"TrainConfig.lr_decay must lie in (0, 1], got {self.lr_decay}")


@dataclass
class TrainResult:
    """A trained model (best parameters restored) and its per-epoch history.

    ``history`` columns: ``epoch``, ``loss`` (mean ranking loss), ``aux_loss`` (mean auxiliary loss),
    ``seconds`` (epoch wall time), ``elapsed_s``, ``val_ndcg``, ``val_recall`` (NaN when not evaluated).
    """

    model: GraphEncoder
    history: pd.DataFrame
    best_epoch: int
    best_score: float
    stopped_early: bool


def ranking_loss(positive: torch.Tensor, negative: torch.Tensor, kind: str = "bpr", margin: float = 1.0) -> torch.Tensor:
    """Mean pairwise or pointwise loss of positive and negative scores (module docstring)."""
    if kind == "bpr":
        return -F.logsigmoid(positive - negative).mean()
    if kind == "margin":
        return torch.clamp(margin - positive + negative, min=0).mean()
    if kind == "bce":
        return -(F.logsigmoid(positive) + F.logsigmoid(-negative)).mean()
    raise ConfigError(f"unknown loss {kind!r}; choose one of {', '.join(LOSSES)}")


def sample_negatives(users: np.ndarray, train: sp.csr_matrix, rng: np.random.Generator,
                     keys: np.ndarray | None = None, max_rounds: int = 20) -> np.ndarray:
    """One uniform item per user that the user has no training interaction with (vectorised rejection).

    ``keys`` (:func:`interaction_keys` of ``train``) may be passed to avoid recomputing them on every batch.
    """
    n_items = train.shape[1]
    keys = interaction_keys(train) if keys is None else keys
    items = rng.integers(0, n_items, len(users))
    for _ in range(max_rounds):
        clash = _contains(keys, users.astype(np.int64) * n_items + items)
        if not clash.any():
            return items
        items[clash] = rng.integers(0, n_items, int(clash.sum()))
    raise DataError("could not draw negatives: some users interacted with (almost) every item")


def interaction_keys(train: sp.csr_matrix) -> np.ndarray:
    """Sorted ``user * n_items + item`` keys of the stored interactions."""
    rows = np.repeat(np.arange(train.shape[0], dtype=np.int64), np.diff(train.indptr))
    return np.sort(rows * train.shape[1] + train.indices)


def _contains(sorted_keys: np.ndarray, queries: np.ndarray) -> np.ndarray:
    position = np.searchsorted(sorted_keys, queries).clip(max=max(len(sorted_keys) - 1, 0))
    return sorted_keys[position] == queries if len(sorted_keys) else np.zeros(len(queries), dtype=bool)


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


def embeddings(model: GraphEncoder) -> tuple[torch.Tensor, torch.Tensor]:
    """``(user_emb, item_emb)`` of a full-graph pass without gradients (eval mode)."""
    model.eval()
    with torch.no_grad():
        user_emb, item_emb = model()
    model.train()
    return user_emb.detach(), item_emb.detach()


def evaluate_model(model: GraphEncoder, test: sp.spmatrix, exclude: sp.spmatrix | None,
                   ks: Iterable[int] = (20,)) -> RankingResult:
    """Full-ranking per-user metrics of ``model`` (:func:`xrec_lib.evaluate.evaluate_embeddings`)."""
    user_emb, item_emb = embeddings(model)
    return evaluate_embeddings(user_emb, item_emb, test, exclude, ks)


def fit(model: GraphEncoder, train: sp.spmatrix, valid: sp.spmatrix | None, config: TrainConfig) -> TrainResult:
    """Train ``model`` on the binary ``train`` matrix; early-stop on ``valid`` NDCG (module docstring)."""
    train = sp.csr_matrix(train)
    if train.nnz == 0:
        raise DataError("training matrix holds no interaction")
    if train.shape != (model.n_users, model.n_items):
        raise DataError(f"training matrix is {train.shape}; the model has {model.n_users} users x "
                        f"{model.n_items} items")
    model.to(config.device)
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, fused=True)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=config.lr_decay)
    coo = train.tocoo()
    users, items = coo.row.astype(np.int64), coo.col.astype(np.int64)
    state = _EarlyStopping(config)
    rows, started = [], time.perf_counter()
    for epoch in tqdm(range(1, config.epochs + 1), disable=not config.progress, desc=type(model).__name__):
        epoch_start = time.perf_counter()
        loss, aux = _train_epoch(model, optimizer, users, items, train, rng, config)
        row = {"epoch": epoch, "loss": loss, "aux_loss": aux, "seconds": time.perf_counter() - epoch_start,
               "val_ndcg": math.nan, "val_recall": math.nan}
        if valid is not None and epoch % config.eval_every == 0:
            summary = evaluate_model(model, valid, train, [config.monitor_k]).summary()[config.monitor_k]
            row.update(val_ndcg=summary["ndcg"], val_recall=summary["recall"])
            state.update(model, epoch, summary["ndcg"])
        row["elapsed_s"] = time.perf_counter() - started
        rows.append(row)
        scheduler.step()
        if config.on_epoch is not None:
            config.on_epoch(row)
        if state.should_stop() or _over_budget(started, config):
            break
    if valid is None:
        state.update(model, len(rows), math.nan, force=True)
    state.restore(model)
    return TrainResult(model, pd.DataFrame(rows), state.best_epoch, state.best_score, state.should_stop())


def _train_epoch(model: GraphEncoder, optimizer: torch.optim.Optimizer, users: np.ndarray, items: np.ndarray,
                 train: sp.csr_matrix, rng: np.random.Generator, config: TrainConfig) -> tuple[float, float]:
    order = rng.permutation(len(users))
    starts = range(0, len(order), config.batch_size)
    if config.max_batches is not None:
        starts = starts[: config.max_batches]
    total, total_aux, keys = 0.0, 0.0, interaction_keys(train)
    for start in starts:
        batch = order[start: start + config.batch_size]
        negatives = sample_negatives(users[batch], train, rng, keys)
        u, i, j = (torch.from_numpy(a).to(config.device) for a in (users[batch], items[batch], negatives))
        user_emb, item_emb = model()
        z_u = user_emb[u]
        loss = ranking_loss((z_u * item_emb[i]).sum(1), (z_u * item_emb[j]).sum(1), config.loss, config.margin)
        ego_u, ego_i = model.ego_embeddings(u, i)
        _, ego_j = model.ego_embeddings(u, j)
        penalty = config.l2 / 2 * (ego_u.square().sum() + ego_i.square().sum() + ego_j.square().sum()) / len(batch)
        aux = model.auxiliary_loss(user_emb, item_emb, u)
        optimizer.zero_grad()
        (loss + penalty + aux).backward()
        optimizer.step()
        total, total_aux = total + loss.item(), total_aux + aux.item()
    return total / len(starts), total_aux / len(starts)


def _over_budget(started: float, config: TrainConfig) -> bool:
    return config.max_minutes is not None and time.perf_counter() - started > 60 * config.max_minutes


class _EarlyStopping:
    """Tracks the best validation score, keeps that state_dict in memory (and on disk when asked)."""

    def __init__(self, config: TrainConfig):
        self.config = config
        self.best_score, self.best_epoch, self.best_state, self.stale = -math.inf, 0, None, 0

    def update(self, model: GraphEncoder, epoch: int, score: float, force: bool = False) -> None:
        if force or score > self.best_score:
            self.best_score, self.best_epoch, self.stale = score, epoch, 0
            self.best_state = copy.deepcopy(model.state_dict())
            if self.config.checkpoint_path is not None:
                torch.save(self.best_state, self.config.checkpoint_path)
        else:
            self.stale += 1

    def should_stop(self) -> bool:
        return self.stale >= self.config.patience

    def restore(self, model: GraphEncoder) -> None:
        if self.best_state is not None:
            model.load_state_dict(self.best_state)
