"""Paper 002's task: from a behaviour log to ego-subgraph examples of "which product category does the customer buy
next?" (C-way classification).

The paper "takes purchasing information and history as inputs and predicts the potential products in favor of
customers" (Sec. III.A) and reports an undefined "accuracy" whose values (SVM 14.6 %, ours 83.1 %) only make sense
for a task with many classes. Our reading: given a user's behaviours before time ``t`` (the ego-subgraph of the
user's history), predict the **category of the product the user buys at** ``t``, one of C classes; top-1
accuracy, chance 1/C. On the synthetic shopping logs C = ``n_categories`` = **50**
(:data:`xrec_lib.data.synthetic_shopping.N_CATEGORIES`, chance 2 %); on ML-100k the class is the liked movie's
first listed genre (C = 19 genres, a rating >= 4 is the "buy"). MicroLens-50k has no category: there the task
stays the binary "does the user buy this candidate product?" (each target paired with one popularity-sampled
product the user never touched, :func:`xrec_lib.training.negatives.sample_negatives`; C = 2, chance 0.5), labelled
as such wherever it is shown.

Examples: one per target behaviour (a buy; ML-100k: a rating >= 4) of a split. Node 0 of the ego-subgraph is the
*query* node of the purchase to predict (behaviour code 0, product id = the padding id, so it carries no product
feature; in the binary fallback it is the candidate product), joined to the history nodes as the star centre.
Histories are the ``history_len`` most recent *training* behaviours strictly before ``t`` (the example's own
behaviour is therefore never in its history). Behaviours are split at random 9:1 with 20 % of the training part
for validation (Sec. IV.A).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

from xrec_lib.data import movielens
from xrec_lib.data.microlens import load_microlens_50k
from xrec_lib.data.synthetic_shopping import BUY, BehaviourLog, generate_shopping, split_behaviours
from xrec_lib.errors import ConfigError, DataError
from xrec_lib.models.gconv_transform import PAD_BEHAVIOUR, SubgraphBatch
from xrec_lib.studies.paper002.settings import REAL_DATASETS, Paper002Settings
from xrec_lib.training.negatives import interaction_keys, sample_negatives

CATEGORY_TARGET, BUY_TARGET = "category", "buy"


@dataclass(frozen=True)
class ExampleSet:
    """Ego-subgraph examples: ``items``/``behaviours`` are ``n x S`` (query / candidate node in column 0),
    ``labels`` the class index of each example (int64: a category, or 0/1 in the binary fallback)."""

    items: torch.Tensor
    behaviours: torch.Tensor
    lengths: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return len(self.labels)

    def batch(self, index: torch.Tensor | slice) -> SubgraphBatch:
        return SubgraphBatch(self.items[index], self.behaviours[index], self.lengths[index])


class HistoryIndex:
    """The ``history_len`` most recent training behaviours of a user strictly before a time, most recent first."""

    def __init__(self, train: pd.DataFrame, n_users: int, n_items: int, history_len: int,
                 time_range: tuple[float, float]):
        self.time_min, self.time_span = time_range[0], max(time_range[1] - time_range[0], 1e-12)
        keys = self._keys(train["user"].to_numpy(), train["time"].to_numpy())
        order = np.argsort(keys, kind="stable")
        self.keys = keys[order]
        self.user_starts = np.searchsorted(self.keys, np.arange(n_users + 1) * 2.0)
        self.items = np.append(train["item"].to_numpy()[order], n_items)
        self.codes = np.append(train["behaviour"].to_numpy()[order] + 1, 0)
        self.n_items, self.history_len = n_items, history_len

    def _keys(self, users: np.ndarray, times: np.ndarray) -> np.ndarray:
        """Sort keys ``2 user + scaled time`` (scaled time in [0, 1)): users apart, times ordered within a user."""
        return 2.0 * users + 0.999 * (np.asarray(times, dtype=float) - self.time_min) / self.time_span

    def examples(self, users: np.ndarray, times: np.ndarray, candidates: np.ndarray,
                 labels: np.ndarray) -> ExampleSet:
        """Examples ``(user, candidate, label)`` with histories before ``times``."""
        ends = np.searchsorted(self.keys, self._keys(users, times), side="left")
        positions = ends[:, None] - 1 - np.arange(self.history_len)[None, :]
        valid = positions >= self.user_starts[users][:, None]
        safe = np.where(valid, positions, -1)
        items = np.where(valid, self.items[safe], self.n_items)
        codes = np.where(valid, self.codes[safe], PAD_BEHAVIOUR)
        return ExampleSet(
            items=torch.from_numpy(np.column_stack([candidates, items]).astype(np.int64)),
            behaviours=torch.from_numpy(np.column_stack([np.zeros(len(users)), codes]).astype(np.int64)),
            lengths=torch.from_numpy(1 + valid.sum(1).astype(np.int64)),
            labels=torch.from_numpy(np.asarray(labels).astype(np.int64)),
        )


@dataclass(frozen=True)
class Task:
    """A paper-002 task built from a behaviour log (see the module docstring)."""

    name: str
    synthetic: bool
    train: ExampleSet
    validation: ExampleSet
    test: ExampleSet
    item_features: torch.Tensor
    n_items: int
    max_nodes: int
    history: HistoryIndex
    test_targets: pd.DataFrame
    interacted: sp.csr_matrix
    n_classes: int = 2
    target: str = BUY_TARGET
    item_category: np.ndarray | None = None
    class_names: tuple[str, ...] = ()

    @property
    def chance(self) -> float:
        """Accuracy of a uniform guess, 1/C."""
        return 1.0 / self.n_classes

    @property
    def task_label(self) -> str:
        """How the task is named in headings: ``"next category, C = 50"`` or ``"buy / no buy, C = 2"``."""
        return (f"next category, C = {self.n_classes}" if self.target == CATEGORY_TARGET
                else f"buy / no buy, C = {self.n_classes}")


def build_task(log: BehaviourLog, history_len: int, seed: int, max_train_positives: int) -> Task:
    """Split the log (9:1, 20% validation) and build the examples of each split: the next-category task when the
    log has product categories, else the balanced binary buy task (module docstring). At most
    ``max_train_positives`` training targets are used."""
    if history_len < 1:
        raise ConfigError(f"history_len must be >= 1, got {history_len}")
    split = split_behaviours(log.behaviours, seed)
    time_range = (float(log.behaviours["time"].min()), float(log.behaviours["time"].max()))
    history = HistoryIndex(split.train, log.n_users, log.n_items, history_len, time_range)
    rng = np.random.default_rng(seed)
    interacted = sp.csr_matrix((np.ones(len(log.behaviours)), (log.behaviours["user"], log.behaviours["item"])),
                               shape=(log.n_users, log.n_items))
    interacted.data[:] = 1.0
    test_targets = split.test[split.test["behaviour"] == BUY].groupby(["user", "item"], as_index=False)["time"].min()
    frames = ((split.train, max_train_positives), (split.validation, None), (split.test, None))
    if log.item_category is not None:
        sets = [_category_examples(frame, history, log.item_category, rng, cap) for frame, cap in frames]
        return Task(log.name, log.synthetic, *sets, torch.from_numpy(log.item_features), log.n_items,
                    history_len + 1, history, test_targets, interacted, int(log.n_categories), CATEGORY_TARGET,
                    np.asarray(log.item_category), tuple(log.category_names))
    popularity = np.bincount(split.train["item"], minlength=log.n_items) + 1.0
    popularity, keys = popularity / popularity.sum(), interaction_keys(interacted)

    def negatives(users: np.ndarray) -> np.ndarray:
        """Popularity-proportional products the user never interacted with."""
        return sample_negatives(users, interacted, rng, probabilities=popularity, keys=keys)

    sets = [_balanced_examples(frame, history, negatives, rng, cap) for frame, cap in frames]
    return Task(log.name, log.synthetic, *sets, torch.from_numpy(log.item_features), log.n_items, history_len + 1,
                history, test_targets, interacted, 2, BUY_TARGET, None, ("no buy", "buy"))


def _targets(frame: pd.DataFrame, rng: np.random.Generator, cap: int | None) -> pd.DataFrame:
    positives = frame[frame["behaviour"] == BUY]
    if cap is not None and len(positives) > cap:
        positives = positives.iloc[np.sort(rng.choice(len(positives), cap, replace=False))]
    if positives.empty:
        raise DataError("a split holds no target behaviours (buys); use a larger scale or dataset")
    return positives


def _category_examples(frame: pd.DataFrame, history: HistoryIndex, item_category: np.ndarray,
                       rng: np.random.Generator, cap: int | None) -> ExampleSet:
    """One example per target: a query node (padding product, code 0) + the history; label = the bought
    product's category."""
    targets = _targets(frame, rng, cap)
    return history.examples(targets["user"].to_numpy(), targets["time"].to_numpy(),
                            np.full(len(targets), history.n_items), item_category[targets["item"].to_numpy()])


def _balanced_examples(frame: pd.DataFrame, history: HistoryIndex, negatives: Callable[[np.ndarray], np.ndarray],
                       rng: np.random.Generator, cap: int | None) -> ExampleSet:
    positives = _targets(frame, rng, cap)
    users, times = positives["user"].to_numpy(), positives["time"].to_numpy()
    n = len(users)
    return history.examples(np.concatenate([users, users]), np.concatenate([times, times]),
                            np.concatenate([positives["item"].to_numpy(), negatives(users)]),
                            np.concatenate([np.ones(n), np.zeros(n)]))


def synthetic_task(settings: Paper002Settings, seed: int) -> Task:
    """The synthetic next-category task of one seed (generator and split seeded by ``seed``; the generator's
    calibrated defaults)."""
    log = generate_shopping(settings.scale, seed)
    return build_task(log, settings.history_len, seed, settings.max_train_positives)


def synthetic_tasks(settings: Paper002Settings, seeds: Sequence[int]) -> dict[int, Task]:
    """One synthetic task per seed of the run."""
    return {seed: synthetic_task(settings, seed) for seed in seeds}


def real_task(data_dir: Path, dataset: str, settings: Paper002Settings, seed: int) -> Task:
    """The task of one real dataset (``settings.real.max_users`` random users) and one seed."""
    log = real_log(data_dir, dataset, settings.real.max_users, seed)
    return build_task(log, settings.history_len, seed, settings.max_train_positives)


def real_log(data_dir: Path, dataset: str, max_users: int, seed: int) -> BehaviourLog:
    """ML-100k (rating >= 4 -> buy, else view; genre one-hot + standardised year; category = the movie's first
    listed genre) or MicroLens-50k (every interaction is the target; no side features, no category), restricted to
    ``max_users`` random users."""
    genre_of, genres = None, ()
    if dataset == "ML-100k":
        ratings = movielens.load_movielens_100k(data_dir)
        frame = ratings.interactions.rename(columns={"timestamp": "time"})
        frame["behaviour"] = np.where(frame["rating"] >= 4, BUY, 0)
        features = movielens.item_features(ratings.items)
        genres = tuple(column for column in features.columns if column != "year")
        first = ratings.items["genres"].map(lambda names: names[0] if len(names) else "unknown")
        genre_of = pd.Series(first.map({name: i for i, name in enumerate(genres)}).to_numpy(),
                             index=ratings.items["item"])
    elif dataset == "MicroLens-50k":
        pairs = load_microlens_50k(data_dir).pairs
        frame = pairs.assign(time=pairs["position"].astype(float), behaviour=BUY)
        features = None
    else:
        raise ConfigError(f"unknown real dataset {dataset!r}; choose {' or '.join(map(repr, REAL_DATASETS))}")
    users = frame["user"].unique()
    kept = np.random.default_rng(seed).choice(users, min(max_users, len(users)), replace=False)
    frame = frame[frame["user"].isin(kept)].reset_index(drop=True)
    user_codes, _ = pd.factorize(frame["user"])
    item_codes, item_ids = pd.factorize(frame["item"])
    behaviours = pd.DataFrame({"user": user_codes, "item": item_codes, "behaviour": frame["behaviour"].to_numpy(),
                               "time": frame["time"].to_numpy(float)})
    item_features = (features.reindex(item_ids).to_numpy(np.float32) if features is not None
                     else np.zeros((len(item_ids), 0), np.float32))
    category = None if genre_of is None else genre_of.reindex(item_ids).fillna(0).to_numpy(np.int64)
    return BehaviourLog(dataset, False, behaviours, item_features, int(user_codes.max()) + 1, len(item_ids),
                        {"max_users": max_users, "seed": seed}, item_category=category,
                        n_categories=len(genres), category_names=genres)


def task_statistics(tasks: dict[int, Task]) -> pd.DataFrame:
    """Size of each seed's task: classes C, chance 1/C, the share of the most frequent test class, users,
    products, behaviours per split, examples per split, history length."""
    rows = []
    for seed, task in tasks.items():
        majority = np.bincount(task.test.labels.numpy(), minlength=task.n_classes).max() / len(task.test)
        rows.append({"seed": seed, "dataset": task.name, "task": task.task_label, "classes": task.n_classes,
                     "chance": task.chance, "majority class share (test)": float(majority),
                     "users": task.interacted.shape[0], "products": task.n_items,
                     "train behaviours": len(task.history.keys), "train examples": len(task.train),
                     "validation examples": len(task.validation), "test examples": len(task.test),
                     "mean history nodes": float(task.test.lengths.float().mean() - 1)})
    return pd.DataFrame(rows).set_index("seed")
