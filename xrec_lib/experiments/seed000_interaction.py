"""Paper 000, stage 2: interaction heads on frozen Siamese GCN embeddings, ablation and business scenarios.

Runs the experiments of notebook ``02_bilinear_attention`` (Fig. 9-14 and Table 2 of paper 000); the task, slices
and ROC pairs are defined in :mod:`xrec_lib.experiments.seed000_interaction_tasks`, the tables and verdicts built
from a :class:`StudyResult` in :mod:`xrec_lib.experiments.seed000_interaction_tables`. Protocol, per seed and data
set:

* **Encoders** (offline stage) are trained exactly as in notebook 01
  (:func:`xrec_lib.experiments.seed000_representation.train_encoder`: losses, early stopping on a held-out slice of
  the training interactions): Siamese GCN (with the cross-domain alignment loss), GCN and GraphSAGE on the
  heterogeneous training graph (users, products, suppliers, sellers), MF on the user-product interactions only.
* **Heads** (online stage, :mod:`xrec_lib.models.interaction`) are trained on the frozen embeddings with binary
  cross-entropy on the target-domain training pairs and ``n_negatives`` uniform unobserved target products per
  positive (:func:`fit_head`); every head gets the same seed, optimiser (Adam, ``head_lr``), epochs, batches and
  negatives. :func:`fit_end_to_end` trains encoder and head jointly instead.
* **Ranking** with a head uses the two-stage path of :mod:`xrec_lib.serving`: the ``n_candidates`` (``C``)
  products with the largest inner product, reranked by the head; dot-product methods rank every product.
* **ROC** (Fig. 11(b), 14(c)): pooled over the pairs of :func:`~xrec_lib.experiments.seed000_interaction_tasks.
  roc_pairs`, scored by the head (or inner product).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, fields, replace

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

from xrec_lib.config import RunConfig, seed_everything
from xrec_lib.data.amazon import load_amazon_pair
from xrec_lib.evaluate import evaluate_embeddings, evaluate_full_ranking, global_auc, roc_points, tpr_at_fpr
from xrec_lib.experiments.seed000_interaction_tasks import (RANKING_METRICS, Slices, TargetTask, binary,
                                                            positive_pairs, roc_pairs, subsample_users,
                                                            synthetic_dataset)
from xrec_lib.experiments.seed000_representation import RepresentationSettings
from xrec_lib.experiments.seed000_representation import train_encoder as train_representation_encoder
from xrec_lib.metrics import RankingResult
from xrec_lib.models.encoders import GraphEncoder
from xrec_lib.models.interaction import InteractionHead, head_loss, make_head
from xrec_lib.serving import two_stage_scores
from xrec_lib.train import embeddings, sample_negatives

HEAD_COMPARISON = ("BLA", "BL", "CNIM", "Gated")
#: Fig. 12-14 methods: (paper's name, encoder, head).
METHODS = {"Siamese GCN + BLA": ("Siamese GCN", "BLA"), "GCN + BL": ("GCN", "BL"),
           "GraphSAGE + self-attention": ("GraphSAGE", "self-attention"), "MF + MLP": ("MF", "MLP")}
#: Table 2 rows: (variant, encoder, head); the last row is "BLA without attention".
ABLATION = (("baseline: MF + dot product", "MF", "dot"),
            ("+ heterogeneous graph: GCN + dot product", "GCN", "dot"),
            ("+ Siamese GCN: Siamese GCN + dot product", "Siamese GCN", "dot"),
            ("+ BLA: Siamese GCN + BLA", "Siamese GCN", "BLA"),
            ("BLA without attention: Siamese GCN + BL", "Siamese GCN", "BL"))
END_TO_END_ROW = "Siamese GCN + BLA trained end-to-end"
ENCODERS = ("Siamese GCN", "GCN", "GraphSAGE", "MF")


@dataclass(frozen=True)
class StudySettings:
    """The notebook parameters of ``profiles/02_bilinear_attention.yaml`` (same names)."""

    synthetic_scale: float = 0.03
    dim: int = 32
    n_layers: int = 2
    encoder_epochs: int = 5
    encoder_batch_size: int = 4096
    encoder_lr: float = 0.01
    encoder_max_batches: int | None = None
    head_epochs: int = 5
    head_batch_size: int = 1024
    head_lr: float = 0.003
    hidden: int = 64
    n_negatives: int = 4
    n_candidates: int = 200
    ks: tuple[int, ...] = (5, 10, 15, 20, 30)
    eval_every: int = 1
    curve_users: int = 2000
    high_value_share: float = 0.2
    cold_start_max: int = 4
    end_to_end: bool = True
    amazon_source: str = "electronic_phone"
    amazon_target: str = "phone_electronic"
    amazon_encoder_epochs: int = 2
    amazon_max_batches: int | None = 4
    amazon_seeds: int = 1
    amazon_max_users: int | None = None

    @classmethod
    def from_config(cls, cfg: RunConfig) -> "StudySettings":
        values = {f.name: cfg[f.name] for f in fields(cls) if f.name in cfg.params}
        if "ks" in values:
            values["ks"] = tuple(values["ks"])
        return replace(cls(), **values)



# ------------------------------------------------------------------------------------------- encoders
def train_encoder(name: str, task: TargetTask, settings: StudySettings, seed: int, epochs: int,
                  max_batches: int | None, device: str = "cpu") -> GraphEncoder:
    """One of :data:`ENCODERS` trained as in notebook 01 (:func:`xrec_lib.experiments.seed000_representation.
    train_encoder`: early stopping on a held-out slice, at most ``epochs`` epochs of ``max_batches`` batches)."""
    representation = RepresentationSettings(dim=settings.dim, n_layers=settings.n_layers, epochs=epochs,
                                            batch_size=settings.encoder_batch_size, lr=settings.encoder_lr,
                                            max_batches=max_batches, device=device)
    model, _ = train_representation_encoder(name, task.dataset, representation, seed)
    return model


# ---------------------------------------------------------------------------------------------- heads
@dataclass(frozen=True)
class Method:
    """A ranking method on the target task: frozen embeddings (items = target products) and a head."""

    name: str
    user_emb: torch.Tensor
    item_emb: torch.Tensor
    head: InteractionHead

    def score_pairs(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Head logits of the given (user, target-product index) pairs."""
        with torch.no_grad():
            return self.head(self.user_emb[users], self.item_emb[items]).cpu().numpy()

    def rank(self, task: TargetTask, ks, n_candidates: int, test: sp.csr_matrix | None = None) -> RankingResult:
        """Full-ranking result: two-stage (retrieve ``C``, rerank) for a trained head, every item for ``dot``."""
        test = task.test if test is None else test
        if self.head.spec["name"] == "dot":
            return evaluate_embeddings(self.user_emb, self.item_emb, test, task.train, ks, chunk_size=512)
        head = self.head.eval()

        def score_users(users: torch.Tensor) -> torch.Tensor:
            return two_stage_scores(head, self.user_emb, self.item_emb, users, n_candidates, task.train)

        return evaluate_full_ranking(score_users, test, task.train, ks, chunk_size=256)



def _head_batches(train: sp.csr_matrix, settings: StudySettings, rng: np.random.Generator):
    """One epoch of ``(users, positives, negatives)`` index batches (negatives ``(B, n_negatives)``, drawn for the
    whole epoch at once with :func:`xrec_lib.train.sample_negatives`)."""
    users, items = positive_pairs(train)
    order = rng.permutation(len(users))
    users, items = users[order], items[order]
    negatives = sample_negatives(np.repeat(users, settings.n_negatives), train, rng).reshape(len(users), -1)
    for start in range(0, len(users), settings.head_batch_size):
        batch = slice(start, start + settings.head_batch_size)
        yield (torch.from_numpy(a[batch]) for a in (users, items, negatives))


def fit_head(name: str, user_emb: torch.Tensor, item_emb: torch.Tensor, task: TargetTask,
             settings: StudySettings, seed: int, on_epoch=None) -> InteractionHead:
    """Train head ``name`` on frozen embeddings (BCE, module docstring); ``on_epoch(epoch, head)`` is called after
    every ``eval_every``-th epoch (head in eval mode)."""
    seed_everything(seed)
    head = make_head(name, user_emb.shape[1], settings.hidden).to(user_emb.device)
    if not list(head.parameters()):
        return head.eval()
    optimizer = torch.optim.Adam(head.parameters(), lr=settings.head_lr)
    rng = np.random.default_rng(seed)
    for epoch in range(1, settings.head_epochs + 1):
        head.train()
        for users, positives, negatives in _head_batches(task.train, settings, rng):
            loss = head_loss(head, user_emb[users], item_emb[positives], item_emb[negatives])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        if on_epoch is not None and epoch % settings.eval_every == 0:
            on_epoch(epoch, head.eval())
    return head.eval()


def fit_end_to_end(encoder: GraphEncoder, head_name: str, task: TargetTask, settings: StudySettings,
                   seed: int) -> tuple[GraphEncoder, InteractionHead]:
    """Train encoder and head jointly: head BCE (as :func:`fit_head`) + the encoder's auxiliary loss, one full-graph
    propagation per batch, ``head_epochs`` epochs from the encoder's current weights."""
    seed_everything(seed)
    head = make_head(head_name, settings.dim, settings.hidden)
    optimizer = torch.optim.Adam([*encoder.parameters(), *head.parameters()], lr=settings.head_lr)
    rng, items = np.random.default_rng(seed), torch.from_numpy(task.items)
    encoder.train()
    for _ in range(settings.head_epochs):
        for users, positives, negatives in _head_batches(task.train, settings, rng):
            user_emb, item_emb = encoder()
            target_emb = item_emb[items]
            loss = head_loss(head, user_emb[users], target_emb[positives], target_emb[negatives])
            loss = loss + encoder.auxiliary_loss(user_emb, item_emb, users)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return encoder.eval(), head.eval()



# ------------------------------------------------------------------------------------------ one seed
@dataclass
class SeedRecords:
    """Everything measured for one seed of one data set."""

    metrics: list[dict]
    curves: list[dict]
    roc: list[dict]
    roc_curves: dict
    per_user: dict


class SeedRun:
    """Trains and evaluates every (scenario, encoder, head) a seed needs, each once (results are shared by the
    figures: e.g. Method 1 of Fig. 12 is the BLA head of Fig. 9-11)."""

    def __init__(self, data: str, settings: StudySettings, seed: int, encoder_budget: tuple[int, int | None],
                 device: str = "cpu"):
        self.data, self.settings, self.seed, self.device = data, settings, seed, device
        self.encoder_budget = encoder_budget
        self.records = SeedRecords([], [], [], {}, {})
        self._encoders: dict = {}
        self._ranked: dict = {}

    def embeddings(self, scenario: str, task: TargetTask, encoder: str) -> tuple[torch.Tensor, torch.Tensor]:
        if (scenario, encoder) not in self._encoders:
            model = train_encoder(encoder, task, self.settings, self.seed, *self.encoder_budget, self.device)
            user_emb, item_emb = embeddings(model)
            self._encoders[scenario, encoder] = (user_emb, item_emb[torch.from_numpy(task.items)])
        return self._encoders[scenario, encoder]

    def evaluate(self, scenario: str, task: TargetTask, slices: Slices | None, group: str, label: str,
                 encoder: str, head: str) -> None:
        """Train (if not done) and evaluate one method; append rows labelled ``group``/``label``."""
        key = (scenario, encoder, head)
        if key not in self._ranked:
            user_emb, item_emb = self.embeddings(scenario, task, encoder)
            on_epoch = self._curve_recorder(scenario, task, head, user_emb, item_emb) \
                if scenario == "standard" and encoder == "Siamese GCN" and head in HEAD_COMPARISON else None
            trained = fit_head(head, user_emb, item_emb, task, self.settings, self.seed, on_epoch)
            self._ranked[key] = self._measure(task, slices, Method(label, user_emb, item_emb, trained), scenario)
        self._record(scenario, group, label, *self._ranked[key])

    def evaluate_end_to_end(self, task: TargetTask) -> None:
        """Table 2's extra row: Siamese GCN + BLA trained jointly from the BPR-trained encoder."""
        encoder = train_encoder("Siamese GCN", task, self.settings, self.seed, *self.encoder_budget, self.device)
        encoder, head = fit_end_to_end(encoder, "BLA", task, self.settings, self.seed)
        user_emb, item_emb = embeddings(encoder)
        method = Method(END_TO_END_ROW, user_emb, item_emb[torch.from_numpy(task.items)], head)
        self._record("standard", "ablation", END_TO_END_ROW, *self._measure(task, None, method, "standard"))

    def _curve_recorder(self, scenario, task, head_name, user_emb, item_emb):
        users = np.random.default_rng(self.seed).permutation(task.test.shape[0])[: self.settings.curve_users]
        keep = np.zeros(task.test.shape[0], dtype=bool)
        keep[users] = True
        curve_test = binary(sp.diags(keep.astype(np.float32)) @ task.test)

        def record(epoch: int, head: InteractionHead) -> None:
            summary = Method(head_name, user_emb, item_emb, head).rank(
                task, [20], self.settings.n_candidates, curve_test).summary()[20]
            self.records.curves.append({"data": self.data, "scenario": scenario, "model": head_name,
                                        "seed": self.seed, "epoch": epoch, "ndcg": summary["ndcg"],
                                        "map": summary["map"]})
        return record

    def _measure(self, task: TargetTask, slices: Slices | None, method: Method, scenario: str):
        result = method.rank(task, self.settings.ks, self.settings.n_candidates)
        per_slice = slices.values(result) if slices is not None else {"all": result.values}
        users, items, labels = roc_pairs(task, self.seed)
        scores = method.score_pairs(users, items)
        roc = {"auc": global_auc(labels, scores), "tpr_at_fpr_0.2": tpr_at_fpr(labels, scores, 0.2)}
        fpr, tpr, _ = roc_points(labels, scores)
        grid = np.linspace(0, 1, 101)
        return per_slice, roc, (grid, np.interp(grid, fpr, tpr))

    def _record(self, scenario: str, group: str, label: str, per_slice: dict, roc: dict, curve) -> None:
        base = {"data": self.data, "scenario": scenario, "group": group, "model": label, "seed": self.seed}
        for slice_name, by_k in per_slice.items():
            for k, values in by_k.items():
                for metric in RANKING_METRICS:
                    value = float(values[metric].mean()) if len(values[metric]) else math.nan
                    self.records.metrics.append({**base, "slice": slice_name, "k": k, "metric": metric,
                                                 "value": value})
                    self.records.per_user[scenario, group, label, slice_name, k, metric] = values[metric]
        self.records.roc.append({**base, **roc})
        self.records.roc_curves[scenario, group, label] = curve


def run_seed(data: str, tasks: dict[str, TargetTask], settings: StudySettings, seed: int,
             encoder_budget: tuple[int, int | None], device: str = "cpu") -> SeedRecords:
    """Heads comparison in every scenario of ``tasks``; Methods 1-4, Table 2 ablation in ``"standard"``.
    ``encoder_budget`` = (maximum epochs, maximum batches per epoch) of every encoder."""
    run = SeedRun(data, settings, seed, encoder_budget, device)
    task = tasks["standard"]
    slices = Slices.of(task, settings.high_value_share, settings.cold_start_max)
    for scenario, scenario_task in tasks.items():
        for head in HEAD_COMPARISON:
            run.evaluate(scenario, scenario_task, slices if scenario == "standard" else None, "heads", head,
                         "Siamese GCN", head)
    for method, (encoder, head) in METHODS.items():
        run.evaluate("standard", task, slices, "methods", method, encoder, head)
    for variant, encoder, head in ABLATION:
        run.evaluate("standard", task, slices, "ablation", variant, encoder, head)
    if settings.end_to_end:
        run.evaluate_end_to_end(task)
    return run.records


# -------------------------------------------------------------------------------------------- studies
@dataclass
class StudyResult:
    """All seeds of one data set: long-format ``metrics`` (data, scenario, group, model, seed, slice, k, metric,
    value), per-epoch ``curves``, per-method ``roc`` (auc, tpr_at_fpr_0.2), the first seed's ROC curves and
    per-user values (for user-level verdicts when only one seed ran), and the wall time."""

    data: str
    metrics: pd.DataFrame
    curves: pd.DataFrame
    roc: pd.DataFrame
    roc_curves: dict
    per_user: dict
    seeds: tuple[int, ...]
    seconds: float


def collect_study(data: str, records: list[SeedRecords], seeds, started: float) -> StudyResult:
    """One :class:`StudyResult` from the records of each seed (``started``: perf_counter at the start)."""
    return StudyResult(data, pd.DataFrame([r for rec in records for r in rec.metrics]),
                       pd.DataFrame([r for rec in records for r in rec.curves]),
                       pd.DataFrame([r for rec in records for r in rec.roc]),
                       records[0].roc_curves, records[0].per_user, tuple(seeds), time.perf_counter() - started)


def run_synthetic_study(cfg: RunConfig) -> StudyResult:
    """Every seed of ``cfg`` on synthetic data drawn with that seed: ``"standard"`` (the generator's
    ``"sufficient"`` scenario) and ``"sparse"``."""
    settings, started, records = StudySettings.from_config(cfg), time.perf_counter(), []
    for seed in cfg.seeds:
        tasks = {scenario: TargetTask.from_dataset(synthetic_dataset(settings.synthetic_scale, generated, seed))
                 for scenario, generated in (("standard", "sufficient"), ("sparse", "sparse"))}
        budget = (settings.encoder_epochs, settings.encoder_max_batches)
        records.append(run_seed("synthetic", tasks, settings, seed, budget, cfg.device))
    return collect_study("synthetic", records, cfg.seeds, started)


def run_amazon_study(cfg: RunConfig) -> StudyResult | None:
    """The same study on the Amazon cross-domain pair of the profile (interactions of at most ``amazon_max_users``
    seeded random users, :func:`subsample_users`) for the first ``amazon_seeds`` seeds (one
    "standard" scenario; no suppliers or sellers, so the "heterogeneous" graph is the user-product graph); None when
    ``cfg.data_dir`` is None."""
    if cfg.data_dir is None:
        return None
    settings, started, records = StudySettings.from_config(cfg), time.perf_counter(), []
    seeds = cfg.seeds[: settings.amazon_seeds]
    budget = (settings.amazon_encoder_epochs, settings.amazon_max_batches)
    for seed in seeds:
        dataset = subsample_users(load_amazon_pair(settings.amazon_source, settings.amazon_target, cfg.data_dir,
                                                   seed=seed, n_negatives=1), settings.amazon_max_users, seed)
        records.append(run_seed(dataset.name, {"standard": TargetTask.from_dataset(dataset)}, settings, seed,
                                budget, cfg.device))
    return collect_study(dataset.name, records, seeds, started)

