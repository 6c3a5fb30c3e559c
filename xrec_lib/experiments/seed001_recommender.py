"""Paper 001, Fig. 2: the BERT + xDeepFM short-video recommender, against DNN-only, DeepFM and xDeepFM without
the title vector, on MicroLens-50K (real: interaction sequences + titles) or a synthetic short-video set.

Protocol (standard leave-last-out, :func:`warm_split`): the last item of each user's chronological sequence is
the test item, the rest is training; the item catalogue is the set of items seen in training (columns of items
that occur only as someone's last item are dropped) and a user is evaluated only when their test item is in that
catalogue. Without this restriction most MicroLens test items of a user sample are never seen in training, their
untrained embeddings rank below every trained negative, and even item popularity scores an AUC far below 0.5.

Training pairs are every training interaction (label 1) plus ``n_train_negatives`` uniform non-interacted catalogue
items per positive (label 0); fields are the label-encoded user and item ids, the text field is the item title's
MiniLM sentence vector (the paper uses BERT). Evaluation: :func:`xrec_lib.evaluate.sample_candidates` (the held-out
positive + ``n_eval_negatives`` uniform catalogue items the user never watched) gives HR@10 / NDCG@10 and the
per-user AUC (share of the user's negatives scored below the positive, ties one half; ``auc`` is its mean over
users), and the log loss of the models' click probabilities (sigmoid of the logit) on the same candidates
(1 positive : ``n_eval_negatives`` negatives, a harder class ratio than training's 1 : ``n_train_negatives``, so
it measures calibration under that shift as well). A popularity ranker (training interaction count of the item)
is the sanity floor every model should beat; it gives no probability, so its log loss is NaN.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from scipy.special import expit
from sklearn.metrics import log_loss

from xrec_lib.config import seed_everything
from xrec_lib.data.microlens import load_microlens_50k
from xrec_lib.compare import judge
from xrec_lib.evaluate import evaluate_sampled, per_user_auc, sample_candidates
from xrec_lib.models.xdeepfm import CTRModel
from xrec_lib.text import encode_texts

RECOMMENDERS = {
    "BERT + xDeepFM": (("linear", "cin", "dnn"), True),
    "xDeepFM (no text)": (("linear", "cin", "dnn"), False),
    "DeepFM": (("linear", "fm", "dnn"), False),
    "DNN only": (("dnn",), False),
}
POPULARITY = "Popularity"


@dataclass(frozen=True)
class ShortVideoData:
    """Interactions re-indexed to ``0..n-1`` and one text vector per item; ``synthetic`` labels the source."""

    name: str
    train: sp.csr_matrix
    test: sp.csr_matrix
    item_text: np.ndarray
    synthetic: bool


def leave_last_out(users: np.ndarray, items: np.ndarray, n_users: int, n_items: int) -> tuple[sp.csr_matrix,
                                                                                              sp.csr_matrix]:
    """Split chronologically ordered (user, item) rows: each user's last row is test, the rest train."""
    is_last = np.r_[users[1:] != users[:-1], True]
    def csr(mask: np.ndarray) -> sp.csr_matrix:
        return sp.csr_matrix((np.ones(mask.sum()), (users[mask], items[mask])), shape=(n_users, n_items))
    return csr(~is_last), csr(is_last)


def warm_split(train: sp.csr_matrix, test: sp.csr_matrix, item_text: np.ndarray) -> tuple[sp.csr_matrix,
                                                                                          sp.csr_matrix, np.ndarray]:
    """Restrict the catalogue to items with at least one training interaction (columns re-indexed): test
    interactions with an item unseen in training are dropped, so every candidate has a trained embedding."""
    seen = np.flatnonzero(np.diff(train.tocsc().indptr) > 0)
    if len(seen) == 0:
        raise ValueError("the training split has no interactions: every user needs 2+ interactions")
    return train[:, seen].tocsr(), test[:, seen].tocsr(), item_text[seen]


def microlens_data(data_dir: Path, n_users: int, seed: int, cache: str | Path | None = None,
                   top_items: int = 0) -> ShortVideoData:
    """``n_users`` users (a seeded sample of those with 2+ interactions) of MicroLens-50K, split by
    :func:`warm_split`; only the titles of catalogue items are encoded. ``top_items > 0`` first keeps only the
    interactions with the ``top_items`` most-watched videos (a head-item subset for quick runs; 0: all videos)."""
    lens = load_microlens_50k(data_dir)
    pairs = lens.pairs
    if top_items:
        head = pairs["item"].value_counts(sort=True).index[:top_items]
        pairs = pairs[pairs["item"].isin(head)]
    active = pairs["user"].value_counts()
    active = np.sort(active.index[active >= 2].to_numpy())
    if n_users > len(active):
        raise ValueError(f"rec_users={n_users} exceeds the {len(active)} MicroLens users with 2+ interactions")
    chosen = np.random.default_rng(seed).permutation(active)[:n_users]
    pairs = pairs[pairs["user"].isin(chosen)].sort_values(["user", "position"], kind="stable")
    user_codes, _ = pd.factorize(pairs["user"])
    item_codes, item_ids = pd.factorize(pairs["item"])
    train, test = leave_last_out(user_codes, item_codes, len(chosen), len(item_ids))
    train, test, catalogue = warm_split(train, test, np.asarray(item_ids))
    if test.nnz == 0:
        raise ValueError(f"no sampled user's last video occurs in training: raise rec_users ({n_users}) or keep "
                         f"only the most-watched videos (rec_top_items)")
    titles = lens.titles.set_index("item")["title"].reindex(catalogue).fillna("").tolist()
    return ShortVideoData("MicroLens-50k", train, test, encode_texts(titles, cache), synthetic=False)


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
    train, test = leave_last_out(np.array(users), np.array(items), n_users, n_items)
    train, test, item_text = warm_split(train, test, item_text.astype(np.float32))
    return ShortVideoData("synthetic short-video", train, test, item_text, synthetic=True)


def training_pairs(train: sp.csr_matrix, n_negatives: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """(users, items, labels): every training positive plus ``n_negatives`` uniform non-positive items each."""
    coo = train.tocoo()
    users = np.repeat(coo.row, n_negatives)
    negatives = rng.integers(train.shape[1], size=len(users))
    clash = np.asarray(train[users, negatives]).ravel() > 0
    while clash.any():
        negatives[clash] = rng.integers(train.shape[1], size=clash.sum())
        clash = np.asarray(train[users, negatives]).ravel() > 0
    all_users = np.r_[coo.row, users]
    all_items = np.r_[coo.col, negatives]
    labels = np.r_[np.ones(len(coo.row)), np.zeros(len(users))].astype(np.float32)
    return all_users, all_items, labels


def train_recommender(name: str, data: ShortVideoData, params: dict, seed: int, device: str = "cpu") -> CTRModel:
    """Train one :data:`RECOMMENDERS` model with binary cross-entropy on seeded training pairs."""
    parts, use_text = RECOMMENDERS[name]
    seed_everything(seed)
    model = CTRModel(list(data.train.shape), parts, dim=params["emb_dim"],
                     text_dim=data.item_text.shape[1] if use_text else None,
                     cin_layers=tuple(params["cin_layers"]), cin_variant=params["cin_variant"]).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=params["rec_lr"])
    rng = np.random.default_rng(seed)
    text = torch.as_tensor(data.item_text, device=device)
    for _ in range(params["rec_epochs"]):
        users, items, labels = training_pairs(data.train, params["n_train_negatives"], rng)
        model.train()
        for rows in torch.randperm(len(labels), generator=torch.Generator().manual_seed(int(rng.integers(2**31)))) \
                .split(params["rec_batch_size"]):
            fields = torch.as_tensor(np.c_[users[rows], items[rows]], device=device)
            logits = model(fields, text[fields[:, 1]] if use_text else None)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.as_tensor(labels[rows],
                                                                                                 device=device))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model.eval()


def candidate_scorer(model: CTRModel, data: ShortVideoData, device: str):
    """``(users (U,), items (U, C)) -> (U, C)`` logits for :func:`xrec_lib.evaluate.evaluate_sampled`."""
    text = torch.as_tensor(data.item_text, device=device)
    use_text = model.fields.text_projection is not None

    def score(users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        fields = torch.stack([users[:, None].expand_as(items), items], dim=-1).reshape(-1, 2).to(device)
        return model(fields, text[fields[:, 1]] if use_text else None).reshape(items.shape)

    return score


def popularity_scorer(data: ShortVideoData):
    """``(users, items) -> items' training interaction counts``: the non-personalised floor."""
    counts = torch.as_tensor(np.asarray(data.train.sum(axis=0)).ravel(), dtype=torch.float32)
    return lambda users, items: counts[items]


def evaluate_scorer(score, data: ShortVideoData, params: dict, seed: int,
                    logits: bool = True) -> tuple[dict[str, float], pd.DataFrame]:
    """HR@10 / NDCG@10 (sampled protocol), mean per-user AUC and, when ``score`` returns logits, the log loss over
    the same candidates (NaN otherwise); also the per-user AUC (columns ``user``, ``auc``)."""
    candidates = sample_candidates(data.test, data.train, n_negatives=params["n_eval_negatives"], seed=seed)
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


def run_recommenders(data: ShortVideoData, params: dict, seeds: tuple[int, ...],
                     device: str = "cpu") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-seed metrics of :data:`POPULARITY` and every :data:`RECOMMENDERS` model (``cin_variant`` recorded in
    each row), and the per-user AUC of every (model, seed)."""
    rows, per_user = [], []
    for name in (POPULARITY, *RECOMMENDERS):
        for seed in seeds:
            score = popularity_scorer(data) if name == POPULARITY else \
                candidate_scorer(train_recommender(name, data, params, seed, device), data, device)
            metrics, users = evaluate_scorer(score, data, params, seed, logits=name != POPULARITY)
            rows.append({"data": data.name, "model": name, "seed": seed, "cin_variant": params["cin_variant"],
                         **metrics})
            per_user.append(users.assign(model=name, seed=seed))
    return pd.DataFrame(rows), pd.concat(per_user, ignore_index=True)


def verdicts(per_user: pd.DataFrame, data_label: str) -> list[dict]:
    """Fig. 2 claims, paired over users (per-user AUC averaged over seeds, one-sided Wilcoxon): BERT + xDeepFM
    beats each other model."""
    by_user = per_user.groupby(["model", "user"])["auc"].mean().unstack("user")
    proposed = "BERT + xDeepFM"
    return [dict(judge(f"Fig. 2 ({data_label}): {proposed} beats {other} on per-user AUC", by_user.loc[proposed],
                       by_user.loc[other], unit="user"), item="fig2")
            for other in by_user.index if other != proposed]
