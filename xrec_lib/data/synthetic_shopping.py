"""Synthetic shopping-behaviour logs shaped like paper 002's data (Sec. IV.A), and the paper's random split.

Paper 002 uses "a consumer website dataset containing 18 million consumer behaviors", split at random 9:1 into
training and test, with 20% of the training part used for validation. The dataset is not public; this module
generates a **synthetic** log of the same shape with a known, learnable structure of what a customer buys next:

* users ``u`` have latent tastes ``p_u ~ N(0, I_r)``; ``n_categories`` (C = 50 by default) categories have
  centroids ``c ~ N(0, I_r)``; products belong to one category (Zipf-like category sizes) and have latents
  ``q_i = c_cat(i) + 0.7 e_i``, ``e_i ~ N(0, I_r)``;
* user activity is log-normal; behaviour times are uniform in [0, 1); a user's behaviours are drawn in time order.
  The category of a behaviour is, with probability ``transition_share``, a *successor* of the category of the
  user's previous behaviour (every category has ``N_SUCCESSORS`` = 3 fixed successor categories with Dirichlet(1)
  weights: a local, sequential dependence), and otherwise a draw from the user's taste
  ``softmax(taste_strength * p_u . c / sqrt(r))`` (a global, long-term dependence); the product is then drawn within
  the category with a popularity skew (position ``floor(size * U^2)`` in the category);
* its type (view / cart / favourite / buy) follows the affinity ``a = p_u . q_i / sqrt(r)`` plus Gaussian noise of
  equal spread: the top ``share_buy`` of ``a + noise`` become buys, the next ``share_favourite`` favourites, then
  ``share_cart`` carts, the rest views (so the type shares are exact);
* *noise purchases*: a share ``noise_share`` of the buys is then replaced by a product of a uniformly random
  category (popularity skew within it), independent of the user's taste and history;
* observed product side features are the category one-hot and ``n_attributes`` noisy linear views of ``q_i``
  (standardised); :attr:`BehaviourLog.item_category` holds each product's category (the class of paper 002's
  task, :mod:`xrec_lib.studies.paper002.task`).

Difficulty knobs, each moving in the direction its name says: ``noise_share`` (more noise purchases: the next
category is less predictable from the history, for every model alike), ``taste_strength`` (a sharper taste: the
next category is more predictable from the categories the user browsed) and ``transition_share`` (more of the
behaviour stream follows the previous behaviour). The defaults (:data:`NOISE_SHARE`, :data:`TASTE_STRENGTH`,
:data:`TRANSITION_SHARE`) are calibrated by ``benchmarks/calibrate_synthetic_002.py`` so that the linear SVM
baseline of paper 002's Table 1 reaches the paper's 14.6 % accuracy on the next-category task at the scale of the
paper profile (log: ``benchmarks/results/calibrate_synthetic_002.md``); GConv-Transform plays no part in it.

Sizes follow ``scale``: ``n_behaviours = round(scale * 18e6)`` (``scale=1`` is the paper's size), about 60
behaviours per user and 100 per product.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from xrec_lib.errors import DataError

BEHAVIOUR_TYPES = ("view", "cart", "favourite", "buy")
BUY = BEHAVIOUR_TYPES.index("buy")
PAPER_BEHAVIOURS = 18_000_000
DEFAULT_SHARES = {"view": 0.75, "cart": 0.10, "favourite": 0.05, "buy": 0.10}
_CHUNK = 1_000_000
N_CATEGORIES = 50  # C, the classes of paper 002's next-category task
N_SUCCESSORS = 3  # successor categories of every category (the sequential part of the generator)
TASTE_STRENGTH = 2.0  # fixed, not calibrated
TRANSITION_SHARE = 0.3  # fixed, not calibrated
NOISE_SHARE = 0.3819  # calibrated on the linear SVM (benchmarks/calibrate_synthetic_002.py)


@dataclass(frozen=True)
class BehaviourLog:
    """A user-product behaviour log with product side features.

    Attributes:
        name: dataset label used in tables and figures (``"synthetic shopping"``, ``"ML-100k"``...).
        synthetic: True for generated data.
        behaviours: columns ``user``, ``item`` (0-based int ids), ``behaviour`` (index into
            :data:`BEHAVIOUR_TYPES`), ``time`` (float, order within the log).
        item_features: ``n_items x f`` float32 side features (``f`` may be 0).
        n_users / n_items: id ranges.
        details: generator settings or source description (recorded in the results bundle).
        item_category: ``n_items`` int category of every product (0..``n_categories - 1``), or None when the
            source has no category (then paper 002's task falls back to "does the user buy this product?").
        n_categories: number of categories (0 without ``item_category``).
        category_names: optional names of the categories (e.g. ML-100k's genres).
    """

    name: str
    synthetic: bool
    behaviours: pd.DataFrame
    item_features: np.ndarray
    n_users: int
    n_items: int
    details: dict = field(default_factory=dict)
    item_category: np.ndarray | None = None
    n_categories: int = 0
    category_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        missing = {"user", "item", "behaviour", "time"} - set(self.behaviours.columns)
        if missing:
            raise DataError(f"{self.name}: behaviour log lacks columns {sorted(missing)}")
        if len(self.item_features) != self.n_items:
            raise DataError(f"{self.name}: {len(self.item_features)} feature rows for {self.n_items} items")
        if self.item_category is not None and (len(self.item_category) != self.n_items or self.n_items and (
                self.item_category.min() < 0 or self.item_category.max() >= self.n_categories)):
            raise DataError(f"{self.name}: item_category must give each of {self.n_items} items a category in "
                            f"0..{self.n_categories - 1}")


@dataclass(frozen=True)
class BehaviourSplit:
    """Paper 002's random split of behaviours: test 10%, then 20% of the remaining training part for validation."""

    train: pd.DataFrame
    validation: pd.DataFrame
    test: pd.DataFrame


def generate_shopping(scale: float = 0.001, seed: int = 0, shares: dict[str, float] | None = None,
                      n_categories: int = N_CATEGORIES, latent_dim: int = 8, n_attributes: int = 8,
                      behaviours_per_user: int = 60, behaviours_per_item: int = 100,
                      taste_strength: float = TASTE_STRENGTH, transition_share: float = TRANSITION_SHARE,
                      noise_share: float = NOISE_SHARE) -> BehaviourLog:
    """Generate a synthetic shopping log of ``round(scale * 18e6)`` behaviours (see the module docstring)."""
    shares = dict(DEFAULT_SHARES if shares is None else shares)
    _check_generator_args(scale, shares, n_categories)
    for name, value in (("transition_share", transition_share), ("noise_share", noise_share)):
        if not 0 <= value <= 1:
            raise DataError(f"{name} must be in [0, 1], got {value}")
    if taste_strength < 0:
        raise DataError(f"taste_strength must be >= 0, got {taste_strength}")
    rng = np.random.default_rng(seed)
    n_behaviours = int(round(scale * PAPER_BEHAVIOURS))
    n_users = max(20, n_behaviours // behaviours_per_user)
    n_items = max(2 * n_categories, n_behaviours // behaviours_per_item)
    tastes = rng.standard_normal((n_users, latent_dim))
    centroids = rng.standard_normal((n_categories, latent_dim))
    category = np.sort(rng.zipf(1.3, n_items) % n_categories)
    category[:n_categories] = np.arange(n_categories)
    category.sort()
    latents = centroids[category] + 0.7 * rng.standard_normal((n_items, latent_dim))
    activity = rng.lognormal(0.0, 1.0, n_users)
    users = np.sort(rng.choice(n_users, n_behaviours, p=activity / activity.sum()))
    times = _times_within_users(rng, users)
    chosen = _categories(rng, users, tastes, centroids, taste_strength, transition_share)
    starts, sizes = _category_ranges(category, n_categories)
    items = _products(rng, chosen, starts, sizes)
    affinity = np.einsum("nd,nd->n", tastes[users], latents[items]) / np.sqrt(latent_dim)
    behaviour = _assign_types(affinity + affinity.std() * rng.standard_normal(n_behaviours), shares)
    buys = np.flatnonzero(behaviour == BUY)
    noisy = rng.choice(buys, int(round(noise_share * len(buys))), replace=False)
    items[noisy] = _products(rng, rng.integers(0, n_categories, len(noisy)), starts, sizes)
    frame = pd.DataFrame({"user": users, "item": items, "behaviour": behaviour, "time": times})
    details = {"scale": scale, "seed": seed, "shares": shares, "n_categories": n_categories,
               "latent_dim": latent_dim, "n_behaviours": n_behaviours, "taste_strength": taste_strength,
               "transition_share": transition_share, "noise_share": noise_share}
    return BehaviourLog("synthetic shopping", True, frame, _side_features(rng, category, latents, n_attributes),
                        n_users, n_items, details, item_category=category, n_categories=n_categories)


def _check_generator_args(scale: float, shares: dict[str, float], n_categories: int) -> None:
    if not 0 < scale <= 1:
        raise DataError(f"scale must be in (0, 1] (1 = the paper's 18M behaviours), got {scale}")
    if set(shares) != set(BEHAVIOUR_TYPES) or any(v < 0 for v in shares.values()):
        raise DataError(f"shares must give a non-negative share for each of {BEHAVIOUR_TYPES}, got {shares}")
    if not np.isclose(sum(shares.values()), 1.0):
        raise DataError(f"behaviour shares must sum to 1, got {sum(shares.values())}")
    if n_categories < 2:
        raise DataError(f"n_categories must be >= 2, got {n_categories}")


def _times_within_users(rng: np.random.Generator, users: np.ndarray) -> np.ndarray:
    """Uniform times in [0, 1), sorted within each user (``users`` is sorted): rows are in time order per user."""
    times = rng.random(len(users))
    return times[np.lexsort((times, users))]


def _categories(rng: np.random.Generator, users: np.ndarray, tastes: np.ndarray, centroids: np.ndarray,
                taste_strength: float, transition_share: float) -> np.ndarray:
    """Category of every behaviour (rows sorted by user, then time): with probability ``transition_share`` a
    successor of the user's previous behaviour's category, else a draw from the user's taste softmax."""
    n_categories = len(centroids)
    logits = taste_strength * tastes @ centroids.T / np.sqrt(tastes.shape[1])
    cumulative = np.cumsum(np.exp(logits - logits.max(1, keepdims=True)), axis=1)
    cumulative /= cumulative[:, -1:]
    taste = np.empty(len(users), dtype=np.int64)
    for lo in range(0, len(users), _CHUNK):
        chunk = users[lo:lo + _CHUNK]
        taste[lo:lo + _CHUNK] = (cumulative[chunk] < rng.random(len(chunk))[:, None]).sum(1)
    taste = taste.clip(max=n_categories - 1)
    successors = np.stack([rng.choice(np.delete(np.arange(n_categories), c), N_SUCCESSORS, replace=False)
                           for c in range(n_categories)])
    weights = np.cumsum(rng.dirichlet(np.ones(N_SUCCESSORS), n_categories), axis=1)
    pick = rng.random(len(users))
    follows = rng.random(len(users)) < transition_share
    position = np.arange(len(users)) - np.searchsorted(users, users, side="left")
    follows &= position > 0
    chosen = taste.copy()
    order = np.argsort(position, kind="stable")
    bounds = np.searchsorted(position[order], np.arange(1, position.max() + 2))
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        rows = order[lo:hi]
        rows = rows[follows[rows]]
        previous = chosen[rows - 1]
        slot = (weights[previous] < pick[rows, None]).sum(1).clip(max=N_SUCCESSORS - 1)
        chosen[rows] = successors[previous, slot]
    return chosen


def _category_ranges(category: np.ndarray, n_categories: int) -> tuple[np.ndarray, np.ndarray]:
    """First product id and number of products of every category (products are sorted by category)."""
    starts = np.searchsorted(category, np.arange(n_categories))
    return starts, np.diff(np.append(starts, len(category)))


def _products(rng: np.random.Generator, chosen: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """A product of each chosen category with a popularity skew (position ``floor(size * U^2)``)."""
    return starts[chosen] + (sizes[chosen] * rng.random(len(chosen)) ** 2).astype(np.int64)


def _assign_types(score: np.ndarray, shares: dict[str, float]) -> np.ndarray:
    """Exact shares: the highest ``share_buy`` of ``score`` are buys, then favourites, carts, views."""
    order = np.argsort(-score, kind="stable")
    types = np.full(len(score), BEHAVIOUR_TYPES.index("view"), dtype=np.int64)
    start = 0
    for name in ("buy", "favourite", "cart"):
        stop = start + int(round(shares[name] * len(score)))
        types[order[start:stop]] = BEHAVIOUR_TYPES.index(name)
        start = stop
    return types


def _side_features(rng: np.random.Generator, category: np.ndarray, latents: np.ndarray,
                   n_attributes: int) -> np.ndarray:
    """Category one-hot + standardised noisy linear views of the latents."""
    views = latents @ rng.standard_normal((latents.shape[1], n_attributes))
    views += 0.5 * views.std() * rng.standard_normal(views.shape)
    views = (views - views.mean(0)) / views.std(0)
    one_hot = np.eye(category.max() + 1)[category]
    return np.hstack([one_hot, views]).astype(np.float32)


def split_behaviours(behaviours: pd.DataFrame, seed: int = 0, test_share: float = 0.1,
                     validation_share: float = 0.2) -> BehaviourSplit:
    """Random split (Sec. IV.A): ``test_share`` of rows to test; ``validation_share`` of the rest to validation."""
    if not (0 < test_share < 1 and 0 < validation_share < 1):
        raise DataError(f"split shares must be in (0, 1), got test {test_share}, validation {validation_share}")
    if len(behaviours) < 10:
        raise DataError(f"need at least 10 behaviours to split, got {len(behaviours)}")
    order = np.random.default_rng(seed).permutation(len(behaviours))
    n_test = int(round(test_share * len(behaviours)))
    n_validation = int(round(validation_share * (len(behaviours) - n_test)))
    parts = np.split(order, [n_test, n_test + n_validation])
    test, validation, train = (behaviours.iloc[np.sort(p)].reset_index(drop=True) for p in parts)
    return BehaviourSplit(train=train, validation=validation, test=test)
