"""Paper 001, Fig. 2: the BERT + xDeepFM short-video recommender, against DNN-only, DeepFM and xDeepFM without
the title vector (:data:`xrec_lib.models.xdeepfm.RECOMMENDERS`), on MicroLens-50K (real: interaction sequences +
titles) or a synthetic short-video set.

Protocol (leave-last-out with a validation item, :func:`leave_last_out` and :func:`warm_split`): the last item of
each user's chronological sequence is the test item, the last but one the validation item (users with 3+ items;
with 2 the one earlier item stays in training), the rest is training; the item catalogue is the set of items seen
in training (columns of items that occur only as someone's validation or test item are dropped) and a user is
validated / evaluated only when their item is in that catalogue. Without this restriction most MicroLens test items
of a user sample are never seen in training, their untrained embeddings rank below every trained negative, and
even item popularity scores an AUC far below 0.5.

Every recommender is trained the same way (:func:`train_recommender`): Adam on binary cross-entropy, early stopping
on the mean per-user AUC of the validation items (1 validation item + ``n_eval_negatives`` sampled unwatched
catalogue items per user, drawn once per seed), ``rec_patience`` evaluations without a higher one, at most
``rec_epochs`` epochs, the parameters of the best validation epoch kept.

Training pairs are every training interaction (label 1) plus ``n_train_negatives`` uniform non-interacted catalogue
items per positive (label 0, :func:`xrec_lib.training.negatives.sample_negatives`), redrawn every epoch; fields
are the label-encoded user and item ids, the text field is the item title's MiniLM sentence vector (the paper
uses BERT). Evaluation: :func:`xrec_lib.evaluate.sample_candidates` (the held-out positive + ``n_eval_negatives``
uniform catalogue items the user never watched, in training, validation or test) gives HR@10 / NDCG@10 and the
per-user AUC (share of the user's negatives scored below the positive, ties one half; ``auc`` is its mean over
users), and the log loss of the models' click probabilities (sigmoid of the logit) on the same candidates
(1 positive : ``n_eval_negatives`` negatives, a harder class ratio than training's 1 : ``n_train_negatives``, so it
measures calibration under that shift as well). A popularity ranker (training interaction count of the item) is
the sanity floor every model should beat; it gives no probability, so its log loss is NaN.

Tuning: :func:`run_recommenders` takes the values ``make tune`` chose per recommender
(:mod:`xrec_lib.studies.paper001.tuning`: ``rec_lr``, ``rec_weight_decay``, ``rec_dropout``) and uses them for every
seed of that recommender; without them every recommender trains with the profile's values.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from scipy.special import expit
from sklearn.metrics import log_loss

from xrec_lib.config import seed_everything
from xrec_lib.data.microlens import load_microlens_50k
from xrec_lib.errors import ConfigError, DataError
from xrec_lib.evaluate import SampledCandidates, evaluate_sampled, per_user_auc, sample_candidates
from xrec_lib.models.xdeepfm import RECOMMENDERS, CTRModel
from xrec_lib.studies.paper001.multimodal import set_dropout
from xrec_lib.studies.paper001.settings import Paper001Settings
from xrec_lib.text import encode_texts
from xrec_lib.training.loop import FitResult, LoopConfig, Objective, fit
from xrec_lib.training.negatives import interaction_keys, sample_negatives

POPULARITY = "Popularity"


@dataclass(frozen=True)
class ShortVideoData:
    """Interactions re-indexed to ``0..n-1`` (training, validation and test matrices of one shape) and one text
    vector per item; ``synthetic`` labels the source."""

    name: str
    train: sp.csr_matrix
    valid: sp.csr_matrix
    test: sp.csr_matrix
    item_text: np.ndarray
    synthetic: bool


def leave_last_out(users: np.ndarray, items: np.ndarray, n_users: int,
                   n_items: int) -> tuple[sp.csr_matrix, sp.csr_matrix, sp.csr_matrix]:
    """Split chronologically ordered (user, item) rows (grouped by user) into ``(train, valid, test)``: each
    user's last row is test, the last but one validation when the user has 3+ rows, the rest train."""
    starts = np.r_[True, users[1:] != users[:-1]]
    group = np.cumsum(starts) - 1
    sizes = np.bincount(group)
    from_end = sizes[group] - 1 - (np.arange(len(users)) - np.flatnonzero(starts)[group])
    is_test = from_end == 0
    is_valid = (from_end == 1) & (sizes[group] >= 3)

    def csr(mask: np.ndarray) -> sp.csr_matrix:
        return sp.csr_matrix((np.ones(mask.sum()), (users[mask], items[mask])), shape=(n_users, n_items))

    return csr(~is_test & ~is_valid), csr(is_valid), csr(is_test)


def warm_split(train: sp.csr_matrix, held_out: tuple[sp.csr_matrix, ...],
               item_text: np.ndarray) -> tuple[sp.csr_matrix, tuple[sp.csr_matrix, ...], np.ndarray]:
    """Restrict the catalogue to items with at least one training interaction (columns re-indexed): held-out
    (validation, test) interactions with an item unseen in training are dropped, so every candidate has a trained
    embedding."""
    seen = np.flatnonzero(np.diff(train.tocsc().indptr) > 0)
    if len(seen) == 0:
        raise DataError("the training split has no interactions: every user needs 2+ interactions")
    return train[:, seen].tocsr(), tuple(m[:, seen].tocsr() for m in held_out), item_text[seen]


def _short_video_data(name: str, users: np.ndarray, items: np.ndarray, n_users: int, n_items: int,
                      item_text: np.ndarray, synthetic: bool) -> ShortVideoData:
    train, valid, test = leave_last_out(users, items, n_users, n_items)
    train, (valid, test), item_text = warm_split(train, (valid, test), item_text)
    return ShortVideoData(name, train, valid, test, item_text, synthetic)


def sample_microlens_users(lens, n_users: int, seed: int, top_items: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """``(pairs, chosen)``: a seeded sample of ``n_users`` MicroLens users with 2+ interactions and their
    interactions sorted by user and position; ``top_items > 0`` first keeps only the interactions with the
    ``top_items`` most-watched videos."""
    pairs = lens.pairs
    if top_items:
        head = pairs["item"].value_counts(sort=True).index[:top_items]
        pairs = pairs[pairs["item"].isin(head)]
    active = pairs["user"].value_counts()
    active = np.sort(active.index[active >= 2].to_numpy())
    if n_users > len(active):
        raise ConfigError(f"microlens.n_users={n_users} exceeds the {len(active)} MicroLens users with 2+ "
                          f"interactions")
    chosen = np.random.default_rng(seed).permutation(active)[:n_users]
    return pairs[pairs["user"].isin(chosen)].sort_values(["user", "position"], kind="stable"), chosen


def microlens_data(data_dir: Path, n_users: int, seed: int, cache: str | Path | None = None,
                   top_items: int = 0) -> ShortVideoData:
    """``n_users`` users (a seeded sample of those with 2+ interactions) of MicroLens-50K, split by
    :func:`warm_split`; only the titles of catalogue items are encoded. ``top_items > 0`` first keeps only the
    interactions with the ``top_items`` most-watched videos (a head-item subset for quick runs; 0: all videos)."""
    lens = load_microlens_50k(data_dir)
    pairs, chosen = sample_microlens_users(lens, n_users, seed, top_items)
    user_codes, _ = pd.factorize(pairs["user"])
    item_codes, item_ids = pd.factorize(pairs["item"])
    split = _short_video_data("MicroLens-50k", user_codes, item_codes, len(chosen), len(item_ids),
                              np.asarray(item_ids), synthetic=False)
    if split.test.nnz == 0 or split.valid.nnz == 0:
        raise ConfigError(f"no sampled user's last (or last but one) video occurs in training: raise "
                          f"microlens.n_users ({n_users}) or keep only the most-watched videos (microlens.top_items)")
    titles = lens.titles.set_index("item")["title"].reindex(split.item_text).fillna("").tolist()
    return ShortVideoData(split.name, split.train, split.valid, split.test, encode_texts(titles, cache),
                          synthetic=False)


def synthetic_short_video(n_users: int = 600, n_items: int = 800, n_topics: int = 8, text_dim: int = 384,
                          seed: int = 0) -> ShortVideoData:
    """Synthetic: users prefer topics, items have a topic and a title vector = topic direction + noise; each user
    watches 5-15 items drawn by softmax(3 * preference · topic one-hot + popularity)."""
    rng = np.random.default_rng(seed)
    item_topic = rng.integers(n_topics, size=n_items)
    topic_directions = rng.standard_normal((n_topics, text_dim))
    item_text = topic_directions[item_topic] + 1.5 * rng.standard_normal((n_items, text_dim))
    item_text /= np.linalg.norm(item_text, axis=1, keepdims=True)
    preference = rng.dirichlet(np.full(n_topics, 0.3), size=n_users)
    popularity = rng.standard_normal(n_items)
    users, items = [], []
    for user in range(n_users):
        logits = 3 * n_topics * preference[user, item_topic] / n_topics * 3 + popularity
        weights = np.exp(logits - logits.max())
        watched = rng.choice(n_items, size=rng.integers(5, 16), replace=False, p=weights / weights.sum())
        users += [user] * len(watched)
        items += watched.tolist()
    return _short_video_data("synthetic short-video", np.array(users), np.array(items), n_users, n_items,
                             item_text.astype(np.float32), synthetic=True)


def training_pairs(train: sp.csr_matrix, n_negatives: int, rng: np.random.Generator,
                   keys: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    """(users, items, labels): every training positive plus ``n_negatives`` uniform non-positive items each
    (``keys``: :func:`xrec_lib.training.negatives.interaction_keys` of ``train``, to reuse across calls)."""
    coo = train.tocoo()
    users = np.repeat(coo.row, n_negatives)
    negatives = sample_negatives(users, train, rng, keys=keys)
    all_users = np.r_[coo.row, users]
    all_items = np.r_[coo.col, negatives]
    labels = np.r_[np.ones(len(coo.row)), np.zeros(len(users))].astype(np.float32)
    return all_users, all_items, labels


class RecommenderObjective(Objective):
    """Binary cross-entropy of a CTR model on training pairs (:func:`training_pairs`, redrawn every epoch from a
    generator seeded with ``seed``), in a random order (a torch permutation seeded by a draw of that generator),
    ``batch_size`` pairs a step. Validation (:func:`validation_metrics`): mean per-user AUC (``auc``, what early
    stopping follows) and log loss of the validation items against ``n_eval_negatives`` candidates per user, drawn
    once with ``seed``."""

    def __init__(self, model: CTRModel, data: ShortVideoData, n_negatives: int, batch_size: int, seed: int,
                 n_eval_negatives: int = 99, device: str = "cpu"):
        self.module, self.interactions, self.n_negatives = model, data.train, n_negatives
        self.batch_size, self.device = batch_size, device
        self.rng = np.random.default_rng(seed)
        self.keys = interaction_keys(data.train)
        self.text = torch.as_tensor(data.item_text, device=device) if model.uses_text else None
        self.score = candidate_scorer(model, data, device)
        self.candidates = held_out_candidates(data, "valid", n_eval_negatives, seed)

    def n_batches(self) -> int:
        return -(-self.interactions.nnz * (1 + self.n_negatives) // self.batch_size)

    def batches(self, epoch: int):
        users, items, labels = training_pairs(self.interactions, self.n_negatives, self.rng, self.keys)
        order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(int(self.rng.integers(2**31))))
        for rows in order.split(self.batch_size):
            yield (torch.as_tensor(np.c_[users[rows], items[rows]], device=self.device),
                   torch.as_tensor(labels[rows], device=self.device))

    def loss(self, batch) -> torch.Tensor:
        fields, labels = batch
        logits = self.module(fields, self.text[fields[:, 1]] if self.text is not None else None)
        return torch.nn.functional.binary_cross_entropy_with_logits(logits, labels)

    def validate(self) -> dict[str, float]:
        return validation_metrics(self.score, self.candidates)


def held_out_candidates(data: ShortVideoData, split: str, n_eval_negatives: int, seed: int) -> SampledCandidates:
    """Candidates of the ``split`` (``"valid"`` or ``"test"``) items: each user's held-out item + ``n_eval_negatives``
    uniform catalogue items the user never interacted with in any split (seeded)."""
    interacted = ((data.train + data.valid + data.test) > 0).astype(np.float64)
    return sample_candidates(getattr(data, split), interacted, n_negatives=n_eval_negatives, seed=seed)


def validation_metrics(score, candidates: SampledCandidates, chunk_users: int = 1024) -> dict[str, float]:
    """Mean per-user AUC (share of the user's negatives scored below the positive, ties one half) and log loss of
    the click probabilities over ``candidates`` (the positive is candidate 0), scored ``chunk_users`` users at a
    time."""
    users, items = torch.as_tensor(candidates.users), torch.as_tensor(candidates.items())
    with torch.no_grad():
        scores = np.concatenate([score(users[i : i + chunk_users], items[i : i + chunk_users]).cpu().numpy()
                                 for i in range(0, len(users), chunk_users)])
    positive, negatives = scores[:, :1], scores[:, 1:]
    auc = ((negatives < positive).sum(1) + 0.5 * (negatives == positive).sum(1)) / negatives.shape[1]
    labels = np.zeros_like(scores)
    labels[:, 0] = 1
    return {"auc": float(auc.mean()), "logloss": float(log_loss(labels.ravel(), expit(scores.ravel()), labels=[0, 1]))}


def recommender_loop_config(settings: Paper001Settings, seed: int, device: str = "cpu") -> LoopConfig:
    """The same stopping rule for every recommender: early stopping on the validation AUC (``rec_patience``
    evaluations without a higher one, at most ``rec_epochs`` epochs), Adam at ``rec_lr`` with weight decay
    ``rec_weight_decay``, constant rate."""
    return LoopConfig(max_epochs=settings.rec_epochs, lr=settings.rec_lr, weight_decay=settings.rec_weight_decay,
                      patience=settings.rec_patience, monitor="auc", mode="max", seed=seed, device=device)


def train_recommender(name: str, data: ShortVideoData, settings: Paper001Settings, seed: int,
                      device: str = "cpu") -> FitResult:
    """Train one :data:`~xrec_lib.models.xdeepfm.RECOMMENDERS` model (:func:`recommender_loop_config`; the
    parameters of the best validation AUC restored in ``.module``); every generator is seeded with ``seed``
    first. ``settings.rec_dropout``, when set, is the rate of the model's dropout layers (else the built-in one)."""
    seed_everything(seed)
    model = RECOMMENDERS.build(name, list(data.train.shape), data.item_text.shape[1], dim=settings.emb_dim,
                               cin_layers=settings.cin_layers, cin_variant=settings.cin_variant)
    if settings.rec_dropout is not None:
        set_dropout(model, settings.rec_dropout)
    objective = RecommenderObjective(model, data, settings.n_train_negatives, settings.rec_batch_size, seed,
                                     settings.n_eval_negatives, device)
    return fit(objective, recommender_loop_config(settings, seed, device))


def candidate_scorer(model: CTRModel, data: ShortVideoData, device: str):
    """``(users (U,), items (U, C)) -> (U, C)`` logits for :func:`xrec_lib.evaluate.evaluate_sampled`."""
    text = torch.as_tensor(data.item_text, device=device)

    def score(users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        fields = torch.stack([users[:, None].expand_as(items), items], dim=-1).reshape(-1, 2).to(device)
        return model(fields, text[fields[:, 1]] if model.uses_text else None).reshape(items.shape)

    return score


def popularity_scorer(data: ShortVideoData):
    """``(users, items) -> items' training interaction counts``: the non-personalised floor."""
    counts = torch.as_tensor(np.asarray(data.train.sum(axis=0)).ravel(), dtype=torch.float32)
    return lambda users, items: counts[items]


def evaluate_scorer(score, data: ShortVideoData, n_eval_negatives: int, seed: int,
                    logits: bool = True) -> tuple[dict[str, float], pd.DataFrame]:
    """On the test items (:func:`held_out_candidates`): HR@10 / NDCG@10 (sampled protocol, ``n_eval_negatives`` per
    user), mean per-user AUC and, when ``score`` returns logits, the log loss over the same candidates (NaN
    otherwise); also the per-user AUC (columns ``user``, ``auc``)."""
    candidates = held_out_candidates(data, "test", n_eval_negatives, seed)
    ranking = evaluate_sampled(score, candidates, ks=(10,))[10]
    items = candidates.items()
    with torch.no_grad():
        scores = score(torch.as_tensor(candidates.users), torch.as_tensor(items)).cpu().numpy()
    labels = np.zeros_like(scores)
    labels[:, 0] = 1
    users, auc = per_user_auc(labels.ravel(), scores.ravel(), np.repeat(candidates.users, items.shape[1]))
    logloss = log_loss(labels.ravel(), expit(scores.ravel()), labels=[0, 1]) if logits else float("nan")
    return ({"hr@10": ranking["hr"], "ndcg@10": ranking["ndcg"], "auc": float(auc.mean()), "logloss": logloss,
             "n_users": len(users)}, pd.DataFrame({"user": users, "auc": auc}))


def run_recommenders(data: ShortVideoData, settings: Paper001Settings, seeds: tuple[int, ...],
                     device: str = "cpu", tuned: Mapping[str, Mapping[str, Any]] | None = None,
                     ) -> tuple[pd.DataFrame, pd.DataFrame, dict[tuple[str, int], FitResult]]:
    """Per-seed test metrics of :data:`POPULARITY` and every recommender (``cin_variant`` recorded in each row), the
    per-user AUC of every (model, seed), and the training runs of the recommenders by (model, seed). ``tuned``:
    values per recommender laid over ``settings`` (module docstring); None: ``settings`` for every model."""
    rows, per_user, fits = [], [], {}
    for name in (POPULARITY, *RECOMMENDERS):
        for seed in seeds:
            if name == POPULARITY:
                score = popularity_scorer(data)
            else:
                fits[(name, seed)] = train_recommender(name, data, settings.tuned_for(name, tuned), seed, device)
                score = candidate_scorer(fits[(name, seed)].module, data, device)
            metrics, users = evaluate_scorer(score, data, settings.n_eval_negatives, seed,
                                             logits=name != POPULARITY)
            rows.append({"data": data.name, "model": name, "seed": seed, "cin_variant": settings.cin_variant,
                         **metrics})
            per_user.append(users.assign(model=name, seed=seed))
    return pd.DataFrame(rows), pd.concat(per_user, ignore_index=True), fits
