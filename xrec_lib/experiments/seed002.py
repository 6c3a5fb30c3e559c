"""Paper 002 experiments: Table 1 (baselines), Table 2 (ablation), Table 3 (depth N), plus real-data checks.

Task. The paper "predicts the potential products in favor of customers" and reports an undefined "accuracy".
Here the task is defined as: given a user's behaviours before time ``t``, decide whether the user buys a candidate
product at ``t``. Positives are the target behaviours (buys; for ML-100k ratings >= 4; for MicroLens every
interaction) of a split; each positive gets one negative with the same user, time and history whose product is
drawn in proportion to its training popularity among the products the user never interacted with (in any
split). The classes are balanced, so

* ``accuracy`` = share of examples with ``sigmoid(logit) >= 0.5`` on the correct side (chance = 0.5);
* ``auc`` = ROC AUC over the test examples (:func:`xrec_lib.evaluate.global_auc`);
* ``hr@10`` / ``ndcg@10`` = the sampled ranking protocol of :mod:`xrec_lib.evaluate`: per evaluated user one
  held-out test buy against 99 uniformly drawn products the user never touched, scored with the user's history
  before that buy.

Histories are the ``history_len`` most recent *training* behaviours strictly before ``t`` (the example's own
behaviour is therefore never in its history). Behaviours are split at random 9:1 with 20% of the training part
for validation (Sec. IV.A); the epoch with the best validation accuracy is kept.

Tuning budget (the same for every neural model, every ablation variant and every depth N): on the first seed of a
run the model is trained once for each learning rate of ``lr_grid`` and the rate with the best validation accuracy
is kept (the first one on ties); that trained model is the first seed's result and the other seeds train once with
the chosen rate. Widths, dropout and epochs are shared settings of the profile, not tuned. The SVM baseline has no
learning rate (``C = 1``).

Inference time (Table 1 "Times") is the median wall time of scoring one batch of 96 test examples (the paper's
batch size), measured in this process; parameter counts (Table 1 "complexity") include the product-id embedding.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from sklearn.svm import LinearSVC
from torch import nn

from xrec_lib.compare import format_mean_std, judge, seed_summary, verdict_table
from xrec_lib.config import RunConfig, seed_everything
from xrec_lib.data.microlens import load_microlens_50k
from xrec_lib.data.movielens import load_movielens_100k
from xrec_lib.data.synthetic_shopping import BUY, BehaviourLog, generate_shopping, split_behaviours
from xrec_lib.errors import ConfigError, DataError
from xrec_lib.evaluate import evaluate_sampled, global_auc, sample_candidates
from xrec_lib.models.baselines_002 import CNN, DNN, AttentionTransformer, DenseCNN, DenseNet, GraphGCN
from xrec_lib.models.gconv_transform import (PAD_BEHAVIOUR, GConvTransform, NodeInput, SubgraphBatch,
                                              count_parameters)
from xrec_lib.papers import lookup
from xrec_lib.results import ResultsBundle

OURS = "GConv-Transform"
MODEL_NAMES = ("SVM", "DNN", "CNN", "DenseNet", "DenseCNN", "Graph", "Attention", OURS)
ABLATIONS = {"without Chebyshev convolution": {"use_cheb": False},
             "without graph convolution": {"use_graph": False},
             "without attention": {"use_attention": False}}
PAPER_VARIANTS = {"without Chebyshev convolution": "without Chebyshev convolution",
                  "without graph convolution": "without graph"}
TIMING_BATCH = 96
Scorer = Callable[[SubgraphBatch], torch.Tensor]


# --------------------------------------------------------------------------------------------------- examples
@dataclass(frozen=True)
class ExampleSet:
    """Ego-subgraph examples: ``items``/``behaviours`` are ``n x S`` (candidate in column 0), ``labels`` 0/1."""

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
            labels=torch.from_numpy(labels.astype(np.float32)),
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


def build_task(log: BehaviourLog, history_len: int, seed: int, max_train_positives: int) -> Task:
    """Split the log (9:1, 20% validation), and build balanced examples for each split."""
    if history_len < 1:
        raise ConfigError(f"history_len must be >= 1, got {history_len}")
    split = split_behaviours(log.behaviours, seed)
    time_range = (float(log.behaviours["time"].min()), float(log.behaviours["time"].max()))
    history = HistoryIndex(split.train, log.n_users, log.n_items, history_len, time_range)
    rng = np.random.default_rng(seed)
    interacted = sp.csr_matrix((np.ones(len(log.behaviours)), (log.behaviours["user"], log.behaviours["item"])),
                               shape=(log.n_users, log.n_items))
    interacted.data[:] = 1.0
    popularity = np.bincount(split.train["item"], minlength=log.n_items) + 1.0
    sets = [_balanced_examples(frame, history, interacted, popularity / popularity.sum(), rng, cap)
            for frame, cap in ((split.train, max_train_positives), (split.validation, None), (split.test, None))]
    test_targets = split.test[split.test["behaviour"] == BUY].groupby(["user", "item"], as_index=False)["time"].min()
    return Task(log.name, log.synthetic, *sets, torch.from_numpy(log.item_features), log.n_items, history_len + 1,
                history, test_targets, interacted)


def _balanced_examples(frame: pd.DataFrame, history: HistoryIndex, interacted: sp.csr_matrix,
                       popularity: np.ndarray, rng: np.random.Generator, cap: int | None) -> ExampleSet:
    positives = frame[frame["behaviour"] == BUY]
    if cap is not None and len(positives) > cap:
        positives = positives.iloc[np.sort(rng.choice(len(positives), cap, replace=False))]
    if positives.empty:
        raise DataError("a split holds no target behaviours (buys); use a larger scale or dataset")
    users, times = positives["user"].to_numpy(), positives["time"].to_numpy()
    negatives = _popular_negatives(users, interacted, popularity, rng)
    n = len(users)
    return history.examples(np.concatenate([users, users]), np.concatenate([times, times]),
                            np.concatenate([positives["item"].to_numpy(), negatives]),
                            np.concatenate([np.ones(n), np.zeros(n)]))


def _popular_negatives(users: np.ndarray, interacted: sp.csr_matrix, popularity: np.ndarray,
                       rng: np.random.Generator, rounds: int = 20) -> np.ndarray:
    """Popularity-proportional products the user never interacted with (redrawn up to ``rounds`` times)."""
    items = rng.choice(len(popularity), len(users), p=popularity)
    for _ in range(rounds):
        clash = np.asarray(interacted[users, items]).ravel() > 0
        if not clash.any():
            break
        items[clash] = rng.choice(len(popularity), int(clash.sum()), p=popularity)
    return items


# ------------------------------------------------------------------------------------------------ real data
def real_log(data_dir, dataset: str, max_users: int, seed: int) -> BehaviourLog:
    """ML-100k (rating >= 4 -> buy, else view; genre one-hot + standardised year) or MicroLens-50k (every
    interaction is the target; no side features), restricted to ``max_users`` random users."""
    if dataset == "ML-100k":
        movielens = load_movielens_100k(data_dir)
        frame = movielens.interactions.rename(columns={"timestamp": "time"})
        frame["behaviour"] = np.where(frame["rating"] >= 4, BUY, 0)
        features = _movielens_features(movielens.items)
    elif dataset == "MicroLens-50k":
        pairs = load_microlens_50k(data_dir).pairs
        frame = pairs.assign(time=pairs["position"].astype(float), behaviour=BUY)
        features = None
    else:
        raise ConfigError(f"unknown real dataset {dataset!r}; choose 'ML-100k' or 'MicroLens-50k'")
    users = frame["user"].unique()
    kept = np.random.default_rng(seed).choice(users, min(max_users, len(users)), replace=False)
    frame = frame[frame["user"].isin(kept)].reset_index(drop=True)
    user_codes, _ = pd.factorize(frame["user"])
    item_codes, item_ids = pd.factorize(frame["item"])
    behaviours = pd.DataFrame({"user": user_codes, "item": item_codes, "behaviour": frame["behaviour"].to_numpy(),
                               "time": frame["time"].to_numpy(float)})
    item_features = (features.reindex(item_ids).to_numpy(np.float32) if features is not None
                     else np.zeros((len(item_ids), 0), np.float32))
    return BehaviourLog(dataset, False, behaviours, item_features, int(user_codes.max()) + 1, len(item_ids),
                        {"max_users": max_users, "seed": seed})


def _movielens_features(items: pd.DataFrame) -> pd.DataFrame:
    genres = items["genres"].explode().str.get_dummies().groupby(level=0).max()
    year = items["release_year"].astype(float)
    year = ((year - year.mean()) / year.std()).fillna(0.0)
    return pd.concat([genres, year.rename("year")], axis=1).set_index(items["item"])


# --------------------------------------------------------------------------------------------------- models
def build_model(name: str, task: Task, params: dict) -> nn.Module:
    """A Table-1 neural model (or a GConv-Transform variant given by ``use_*`` keys in ``params``)."""
    node_input = NodeInput(task.item_features, params["id_dim"])
    hidden, dropout = params["baseline_hidden"], params["dropout"]
    builders = {
        "DNN": lambda: DNN(node_input, task.max_nodes, hidden, 2, dropout),
        "CNN": lambda: CNN(node_input, hidden, 2, dropout),
        "DenseNet": lambda: DenseNet(node_input, task.max_nodes, hidden // 2, 3, dropout),
        "DenseCNN": lambda: DenseCNN(node_input, hidden // 2, 3, dropout),
        "Graph": lambda: GraphGCN(node_input, hidden, 2, dropout),
        "Attention": lambda: AttentionTransformer(node_input, hidden, 2, params["heads"], dropout),
        OURS: lambda: GConvTransform(node_input, params["hidden"], params["n_layers"], params["heads"],
                                     params["cheb_k"], dropout, params.get("use_cheb", True),
                                     params.get("use_graph", True), params.get("use_attention", True)),
    }
    if name not in builders:
        raise ConfigError(f"unknown model {name!r}; choose one of {sorted(builders)} (SVM is fitted separately)")
    return builders[name]()


class LinearSvm:
    """scikit-learn LinearSVC on the flattened id-free node features (side features + behaviour one-hot)."""

    def __init__(self, task: Task, max_examples: int, seed: int):
        self.node_input = NodeInput(task.item_features, id_dim=0)
        rng = np.random.default_rng(seed)
        index = torch.from_numpy(np.sort(rng.choice(len(task.train), min(max_examples, len(task.train)),
                                                    replace=False)))
        self.svm = LinearSVC(C=1.0, random_state=seed).fit(self._features(task.train.batch(index)),
                                                           task.train.labels[index].numpy())
        self.n_parameters = int(self.svm.coef_.size + self.svm.intercept_.size)

    def _features(self, batch: SubgraphBatch) -> np.ndarray:
        return self.node_input(batch).flatten(1).numpy()

    def __call__(self, batch: SubgraphBatch) -> torch.Tensor:
        return torch.from_numpy(self.svm.decision_function(self._features(batch))).float()


def train_model(model: nn.Module, task: Task, epochs: int, batch_size: int, lr: float, seed: int,
                device: str) -> nn.Module:
    """Adam + binary cross-entropy on the training examples; keeps the epoch with the best validation accuracy."""
    model.to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.BCEWithLogitsLoss()
    generator = torch.Generator().manual_seed(seed)
    best_accuracy, best_state = -1.0, None
    for _ in range(epochs):
        model.train()
        for index in torch.randperm(len(task.train), generator=generator).split(batch_size):
            optimiser.zero_grad()
            loss = loss_fn(model(task.train.batch(index).to(device)), task.train.labels[index].to(device))
            loss.backward()
            optimiser.step()
        accuracy = classification_metrics(model, task.validation, device)["accuracy"]
        if accuracy > best_accuracy:
            best_accuracy, best_state = accuracy, copy.deepcopy(model.state_dict())
    if best_state is not None:
        model.load_state_dict(best_state)
    return model.eval()


def score_examples(scorer: Scorer, examples: ExampleSet, device: str, batch_size: int = 1024) -> np.ndarray:
    """Scores (logits / decision values) of every example, in order."""
    if isinstance(scorer, nn.Module):
        scorer.eval()
    with torch.no_grad():
        return torch.cat([scorer(examples.batch(slice(i, i + batch_size)).to(device)).cpu()
                          for i in range(0, len(examples), batch_size)]).numpy()


def classification_metrics(scorer: Scorer, examples: ExampleSet, device: str) -> dict[str, float]:
    """Accuracy at logit 0 (probability 0.5) and ROC AUC."""
    scores, labels = score_examples(scorer, examples, device), examples.labels.numpy()
    return {"accuracy": float(((scores >= 0) == (labels > 0.5)).mean()), "auc": global_auc(labels, scores)}


def ranking_metrics(scorer: Scorer, task: Task, n_users: int, n_negatives: int, seed: int,
                    device: str) -> dict[str, float]:
    """Sampled HR@10 / NDCG@10 on up to ``n_users`` users with a test buy and >= ``n_negatives`` untouched
    products."""
    free = task.n_items - np.diff(task.interacted.indptr)
    targets = task.test_targets[free[task.test_targets["user"]] >= n_negatives]
    if targets.empty:
        raise DataError(f"{task.name}: no test user has {n_negatives} untouched products; lower n_negatives")
    users = np.sort(np.random.default_rng(seed).choice(targets["user"].unique(),
                                                       min(n_users, targets["user"].nunique()), replace=False))
    chosen = targets[targets["user"].isin(users)]
    test = sp.csr_matrix((np.ones(len(chosen)), (chosen["user"], chosen["item"])), shape=task.interacted.shape)
    candidates = sample_candidates(test, task.interacted, n_negatives, seed)
    first_time = chosen.set_index(["user", "item"])["time"]

    def score(users_t: torch.Tensor, items_t: torch.Tensor) -> torch.Tensor:
        u, items = users_t.numpy(), items_t.numpy()
        times = first_time.reindex(pd.MultiIndex.from_arrays([u, items[:, 0]])).to_numpy()
        examples = task.history.examples(np.repeat(u, items.shape[1]), np.repeat(times, items.shape[1]),
                                         items.ravel(), np.zeros(items.size))
        return torch.from_numpy(score_examples(scorer, examples, device)).reshape(items.shape)

    result = evaluate_sampled(score, candidates, ks=(10,), chunk_size=256)[10]
    return {"hr@10": result["hr"], "ndcg@10": result["ndcg"]}


def inference_ms(scorer: Scorer, examples: ExampleSet, device: str, repeats: int) -> float:
    """Median wall time (ms) of scoring the first 96 examples, after one warm-up call."""
    batch = examples.batch(slice(0, TIMING_BATCH)).to(device)
    timings = []
    with torch.no_grad():
        scorer(batch)
        for _ in range(repeats):
            start = time.perf_counter()
            scorer(batch)
            if device == "cuda":
                torch.cuda.synchronize()
            timings.append(1000 * (time.perf_counter() - start))
    return float(np.median(timings))


def fit_model(name: str, task: Task, params: dict, seed: int, device: str, epochs: int, lr: float) -> Scorer:
    """Fit one Table-1 model on ``task`` with learning rate ``lr`` (initialisation and batches seeded by ``seed``)."""
    seed_everything(seed)
    if name == "SVM":
        return LinearSvm(task, params["svm_max_examples"], seed)
    return train_model(build_model(name, task, params), task, epochs, params["batch_size"], lr, seed, device)


def fit_with_lr_selection(name: str, task: Task, params: dict, seed: int, device: str,
                          epochs: int) -> tuple[Scorer, float]:
    """Fit ``name`` once per rate of ``params["lr_grid"]``; return the fit with the best validation accuracy (the
    first on ties) and its rate. The SVM is fitted once (its rate is reported as NaN)."""
    if name == "SVM":
        return fit_model(name, task, params, seed, device, epochs, float("nan")), float("nan")
    if not params["lr_grid"]:
        raise ConfigError("lr_grid must hold at least one learning rate")
    best_accuracy, best = -1.0, None
    for lr in params["lr_grid"]:
        scorer = fit_model(name, task, params, seed, device, epochs, lr)
        accuracy = classification_metrics(scorer, task.validation, device)["accuracy"]
        if accuracy > best_accuracy:
            best_accuracy, best = accuracy, (scorer, float(lr))
    return best


def measure_model(scorer: Scorer, task: Task, params: dict, seed: int, device: str, ranking: bool = True) -> dict:
    """Every Table-1 quantity of a fitted model on ``task``'s test split (HR/NDCG@10 only when ``ranking``)."""
    n_parameters = scorer.n_parameters if isinstance(scorer, LinearSvm) else count_parameters(scorer)
    ranked = ranking_metrics(scorer, task, params["rank_users"], params["n_negatives"], seed, device) if ranking else {}
    return {
        "seed": seed,
        **classification_metrics(scorer, task.test, device),
        **ranked,
        "inference_ms": inference_ms(scorer, task.test, device, params["timing_repeats"]),
        "params": n_parameters,
    }


def evaluate_model(name: str, task: Task, params: dict, seed: int, device: str, epochs: int,
                   lr: float | None = None, ranking: bool = True) -> dict:
    """Fit ``name`` on ``task`` with rate ``lr`` (None: select it from ``lr_grid`` on the validation split) and
    measure it; ``lr`` and ``train_s`` (wall time of the fits, the selection included) are part of the row."""
    start = time.perf_counter()
    if lr is None:
        scorer, lr = fit_with_lr_selection(name, task, params, seed, device, epochs)
    else:
        scorer = fit_model(name, task, params, seed, device, epochs, lr)
    train_s = time.perf_counter() - start
    return {**measure_model(scorer, task, params, seed, device, ranking), "lr": lr, "train_s": train_s}


# ---------------------------------------------------------------------------------------------- experiments
def synthetic_task(cfg: RunConfig, seed: int) -> Task:
    """The synthetic shopping task of one seed (generator and split seeded by ``seed``)."""
    log = generate_shopping(cfg["scale"], seed)
    return build_task(log, cfg["history_len"], seed, cfg["max_train_positives"])


def synthetic_tasks(cfg: RunConfig) -> dict[int, Task]:
    """One synthetic task per seed of the run."""
    return {seed: synthetic_task(cfg, seed) for seed in cfg.seeds}


def task_statistics(tasks: dict[int, Task]) -> pd.DataFrame:
    """Size of each seed's task: users, products, behaviours per split, examples per split, history length."""
    rows = []
    for seed, task in tasks.items():
        rows.append({"seed": seed, "dataset": task.name, "users": task.interacted.shape[0], "products": task.n_items,
                     "train behaviours": len(task.history.keys), "train examples": len(task.train),
                     "validation examples": len(task.validation), "test examples": len(task.test),
                     "mean history nodes": float(task.test.lengths.float().mean() - 1)})
    return pd.DataFrame(rows).set_index("seed")


def run_models(cfg: RunConfig, tasks: dict[int, Task], models: Sequence[str], epochs: int | None = None,
               seeds: Sequence[int] | None = None, ranking: bool = True, **changes) -> pd.DataFrame:
    """One row per (model, seed): accuracy, auc, hr@10 and ndcg@10 (when ``ranking``), inference_ms, params, lr,
    train_s.

    Each model's learning rate is selected on the first seed (:func:`fit_with_lr_selection`) and reused for the
    other seeds."""
    params = {**cfg.params, **changes}
    first, *others = seeds or cfg.seeds
    epochs = epochs or cfg["epochs"]
    rows = []
    for name in models:
        tuned = evaluate_model(name, tasks[first], params, first, cfg.device, epochs, ranking=ranking)
        rows.append({"model": name, **tuned})
        rows.extend({"model": name, **evaluate_model(name, tasks[seed], params, seed, cfg.device, epochs,
                                                     tuned["lr"], ranking)} for seed in others)
    return pd.DataFrame(rows)


def run_table1(cfg: RunConfig, tasks: dict[int, Task]) -> pd.DataFrame:
    """Table 1: every model on every seed."""
    return run_models(cfg, tasks, MODEL_NAMES)


def run_ablation(cfg: RunConfig, tasks: dict[int, Task]) -> pd.DataFrame:
    """Table 2: GConv-Transform without Chebyshev convolution / graph convolution / attention."""
    frames = [run_models(cfg, tasks, [OURS], **switches).assign(model=variant)
              for variant, switches in ABLATIONS.items()]
    return pd.concat(frames, ignore_index=True)


def run_depth(cfg: RunConfig, tasks: dict[int, Task]) -> pd.DataFrame:
    """Table 3: GConv-Transform with N = ``depth_values`` layers, trained ``depth_epochs`` epochs, on the first
    ``depth_seeds`` seeds (accuracy, AUC and time only: Table 3 reports no ranking metric)."""
    seeds = cfg.seeds[:cfg["depth_seeds"]]
    frames = [run_models(cfg, tasks, [OURS], epochs=cfg["depth_epochs"], seeds=seeds, ranking=False, n_layers=n)
              .assign(n_layers=n) for n in cfg["depth_values"]]
    return pd.concat(frames, ignore_index=True)


def run_real(cfg: RunConfig) -> pd.DataFrame:
    """The ``real_models`` on each of ``real_datasets`` (empty frame when real data is absent)."""
    if cfg.data_dir is None:
        return pd.DataFrame()
    frames = []
    for dataset in cfg["real_datasets"]:
        tasks = {seed: build_task(real_log(cfg.data_dir, dataset, cfg["real_max_users"], seed),
                                  cfg["history_len"], seed, cfg["max_train_positives"]) for seed in cfg.seeds}
        frames.append(run_models(cfg, tasks, cfg["real_models"], epochs=cfg["real_epochs"]).assign(dataset=dataset))
    return pd.concat(frames, ignore_index=True)


def report_real(cfg: RunConfig, bundle: ResultsBundle) -> pd.DataFrame:
    """Run :func:`run_real`, record the datasets and the per-seed rows in ``bundle``; return the summary table
    (empty, with a note in the bundle, when real data is absent)."""
    if cfg.data_dir is None:
        bundle.note("real data not present: make data")
        return pd.DataFrame()
    real = run_real(cfg)
    for dataset in cfg["real_datasets"]:
        bundle.add_dataset(dataset, synthetic=False, max_users=cfg["real_max_users"], data_dir=str(cfg.data_dir))
    bundle.add_metrics("table1/real", real)
    summary = real_summary(real)
    bundle.add_table("table1_real_" + "_".join(cfg["real_datasets"]), summary)
    return summary


# ------------------------------------------------------------------------------------------------- summaries
METRICS = ["accuracy", "auc", "hr@10", "ndcg@10", "inference_ms", "params"]


def _paper(metric: str, model: str, source: str = "Table 1", factor: float = 1.0, **setting) -> float:
    values = lookup(paper="002", source=source, metric=metric, model=model, **setting)
    return values[0].value * factor if values else float("nan")


def table1_summary(per_seed: pd.DataFrame) -> pd.DataFrame:
    """Mean ± std per model, the selected learning rate, and the paper's accuracy, time (ms) and complexity
    (parameters) beside ours."""
    table = format_mean_std(seed_summary(per_seed[["model", *METRICS]]), digits=4)
    table["params"] = per_seed.groupby("model", sort=False)["params"].first().astype(int)
    table["lr"] = per_seed.groupby("model", sort=False)["lr"].first()
    table["paper accuracy"] = [_paper("accuracy", m) for m in table.index]
    table["paper inference_ms"] = [_paper("inference_time", m, factor=1000) for m in table.index]
    table["paper params"] = [_paper("complexity", m) for m in table.index]
    return table


def table2_summary(ablation: pd.DataFrame, table1: pd.DataFrame) -> pd.DataFrame:
    """Full model and its ablations (mean ± std), with the paper's Table 2 accuracy where it reports one."""
    rows = pd.concat([table1[table1["model"] == OURS], ablation], ignore_index=True)
    table = format_mean_std(seed_summary(rows[["model", "accuracy", "auc", "hr@10", "ndcg@10"]]))
    table["params"] = rows.groupby("model", sort=False)["params"].first().astype(int)
    table["lr"] = rows.groupby("model", sort=False)["lr"].first()
    table["paper accuracy"] = [_paper("accuracy", OURS) if m == OURS else
                               _paper("accuracy", OURS, "Table 2", variant=PAPER_VARIANTS[m])
                               if m in PAPER_VARIANTS else float("nan") for m in table.index]
    return table


def table3_summary(depth: pd.DataFrame) -> pd.DataFrame:
    """Accuracy (mean ± std) per N, with the paper's Table 3 accuracy for N = 12, 16, 22."""
    by_n = depth.assign(N=depth["n_layers"].map("N={}".format))
    table = format_mean_std(seed_summary(by_n[["N", "accuracy", "auc", "inference_ms"]], by="N"))
    table["params"] = by_n.groupby("N", sort=False)["params"].first().astype(int)
    table["paper accuracy"] = [_paper("accuracy", OURS, "Table 3", n_layers=int(n[2:])) for n in table.index]
    return table


def real_summary(real: pd.DataFrame) -> pd.DataFrame:
    """Mean ± std per (dataset, model), parameter counts as integers."""
    table = format_mean_std(seed_summary(real[["dataset", "model", *METRICS[:-1]]], by=["dataset", "model"]))
    table["params"] = real.groupby(["dataset", "model"], sort=False)["params"].first().astype(int)
    return table


def _paired(frame: pd.DataFrame, key: str, a, b, metric: str) -> tuple[np.ndarray, np.ndarray]:
    wide = frame.pivot_table(index="seed", columns=key, values=metric)
    return wide[a].to_numpy(), wide[b].to_numpy()


def verdicts(table1: pd.DataFrame, ablation: pd.DataFrame, depth: pd.DataFrame) -> pd.DataFrame:
    """Per-seed paired verdicts on the paper's claims (accuracy, speed, ablation, depth)."""
    claims = []
    for other in MODEL_NAMES[:-1]:
        better, worse = _paired(table1, "model", OURS, other, "accuracy")
        claims.append(judge(f"Table 1: {OURS} is more accurate than {other}", better, worse, unit="seed"))
    for other in ("DNN", "CNN", "DenseNet", "DenseCNN", "Attention"):
        ours, theirs = _paired(table1, "model", OURS, other, "inference_ms")
        claims.append(judge(f"Table 1: {OURS} infers a batch of 96 faster than {other}", -ours, -theirs,
                            unit="seed"))
    both = pd.concat([table1[table1["model"] == OURS], ablation], ignore_index=True)
    for variant in ABLATIONS:
        better, worse = _paired(both, "model", OURS, variant, "accuracy")
        claims.append(judge(f"Table 2: the full model is more accurate than {variant}", better, worse, unit="seed"))
    better, worse = _paired(both, "model", "without graph convolution", "without attention", "accuracy")
    claims.append(judge("Sec. IV.E: removing attention hurts more than removing graph convolution", better, worse,
                        unit="seed"))
    depths = sorted(depth["n_layers"].unique())
    for shallow, deep in zip(depths, depths[1:]):
        better, worse = _paired(depth, "n_layers", deep, shallow, "accuracy")
        claims.append(judge(f"Table 3: N={deep} is more accurate than N={shallow}", better, worse, unit="seed"))
    return verdict_table(claims)
