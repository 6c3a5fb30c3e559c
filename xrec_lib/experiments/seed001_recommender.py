"""Paper 001, Fig. 2: the BERT + xDeepFM short-video recommender, against DNN-only, DeepFM and xDeepFM without
the title vector, on MicroLens-50K (real: interaction sequences + titles) or a synthetic short-video set.

Protocol: leave-last-out per user (the last item of each chronological sequence is the test item); training
pairs are every other interaction (label 1) plus ``n_train_negatives`` uniform non-interacted items per positive
(label 0); fields are the label-encoded user and item ids, the text field is the item title's MiniLM sentence
vector (the paper uses BERT). Evaluation: :func:`xrec_lib.evaluate.sample_candidates` (1 held-out positive + N
negatives per user) for HR@10 / NDCG@10, and AUC / logloss over each user's positive and its first
``n_auc_negatives`` candidate negatives.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from sklearn.metrics import log_loss

from xrec_lib.config import seed_everything
from xrec_lib.data.microlens import load_microlens_50k
from xrec_lib.evaluate import evaluate_sampled, global_auc, sample_candidates
from xrec_lib.models.xdeepfm import CTRModel
from xrec_lib.text import encode_texts

RECOMMENDERS = {
    "BERT + xDeepFM": (("linear", "cin", "dnn"), True),
    "xDeepFM (no text)": (("linear", "cin", "dnn"), False),
    "DeepFM": (("linear", "fm", "dnn"), False),
    "DNN only": (("dnn",), False),
}


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


def microlens_data(data_dir: Path, n_users: int, seed: int, cache: str | Path | None = None) -> ShortVideoData:
    """The first ``n_users`` users of a seeded shuffle of MicroLens-50K; titles of their items only are encoded."""
    lens = load_microlens_50k(data_dir)
    chosen = np.random.default_rng(seed).permutation(lens.pairs["user"].unique())[:n_users]
    pairs = lens.pairs[lens.pairs["user"].isin(chosen)].sort_values(["user", "position"], kind="stable")
    user_codes, _ = pd.factorize(pairs["user"])
    item_codes, item_ids = pd.factorize(pairs["item"])
    titles = lens.titles.set_index("item")["title"].reindex(item_ids).fillna("").tolist()
    train, test = leave_last_out(user_codes, item_codes, len(chosen), len(item_ids))
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
    return ShortVideoData("synthetic short-video", train, test, item_text.astype(np.float32), synthetic=True)


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


def evaluate_recommender(model: CTRModel, data: ShortVideoData, params: dict, seed: int,
                         device: str = "cpu") -> dict[str, float]:
    """HR@10 / NDCG@10 (sampled protocol) and AUC / logloss (positive vs first ``n_auc_negatives`` negatives)."""
    candidates = sample_candidates(data.test, data.train, n_negatives=params["n_eval_negatives"], seed=seed)
    score = candidate_scorer(model, data, device)
    ranking = evaluate_sampled(score, candidates, ks=(10,))[10]
    items = candidates.items()[:, : 1 + params["n_auc_negatives"]]
    with torch.no_grad():
        logits = score(torch.as_tensor(candidates.users), torch.as_tensor(items)).cpu().numpy()
    labels = np.zeros_like(logits)
    labels[:, 0] = 1
    probabilities = 1 / (1 + np.exp(-logits.ravel()))
    return {"hr@10": ranking["hr"], "ndcg@10": ranking["ndcg"], "auc": global_auc(labels.ravel(), logits.ravel()),
            "logloss": float(log_loss(labels.ravel(), probabilities, labels=[0, 1]))}


def run_recommenders(data: ShortVideoData, params: dict, seeds: tuple[int, ...], device: str = "cpu") -> pd.DataFrame:
    """Per-seed metrics of every :data:`RECOMMENDERS` model (``cin_variant`` recorded in each row)."""
    rows = []
    for name in RECOMMENDERS:
        for seed in seeds:
            model = train_recommender(name, data, params, seed, device)
            rows.append({"data": data.name, "model": name, "seed": seed, "cin_variant": params["cin_variant"],
                         **evaluate_recommender(model, data, params, seed, device)})
    return pd.DataFrame(rows)
