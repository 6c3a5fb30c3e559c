"""Data-parallel training of the one loop (:func:`xrec_lib.training.loop.fit`) under ``torch.distributed``.

Launch one process per device with ``torchrun`` (it sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``
and ``MASTER_PORT``); each process calls :func:`init` (backend ``nccl`` on CUDA, ``gloo`` on CPU), builds the same
model and objective with the same seed, and calls ``fit``. When a process group is initialised, ``fit`` trains
data-parallel on its own:

* the objective's module is wrapped in ``DistributedDataParallel`` (:func:`wrap`): gradients are averaged over
  the ranks during ``backward``; every rank applies the same Adam step, so the parameters stay equal;
* the loop hands the objective a :class:`Shard` (``Objective.distribute``); an objective that splits its batches
  keeps only ``shard.part(global_batch)`` of each global batch. Every rank draws the *same* seeded permutation, so
  the global batch of a step is the union of the ranks' local batches: a batch size in a config is the global
  one, ``B = world_size x local batch``. Each rank's loss is scaled by its share of the global batch times
  ``world_size``, so the averaged gradient is the gradient of the global batch's mean loss even when ``B`` does
  not divide evenly (a rank whose part would be empty runs one stand-in example at weight 0, so that every rank
  takes part in every gradient reduction). An objective that does not split keeps whole batches on every rank:
  correct, without a speed-up;
* random draws of a rank's part (negatives) come from its own stream, :func:`rank_rng` (the seed sequence
  ``(seed, 1, rank)``: distinct for every rank and from the shared stream ``default_rng(seed)`` of the batch
  order). With ``sampling="global"`` (:func:`init`, :func:`set_sampling`) every rank instead draws the whole
  global batch's negatives from the shared stream and keeps its part: the same triplets as one process, at
  ``world_size`` times the sampling work;
* the logged losses are the global batch's (weighted sums over the ranks), every non-finite check is collective,
  and the validation metrics, the ``after_epoch`` columns and the wall-clock decision are rank 0's, broadcast, so
  early stopping takes the same decision on every rank; the encoders' validation ranks each rank's share of the
  users and all-reduces the per-user sums (:func:`ranking_summary`);
* only rank 0 writes (the checkpoint of ``fit``; results in scripts guarded by :func:`is_main`).

The single-process path (no process group) is unchanged. The command line trains a graph encoder::

    torchrun --nproc_per_node=2 -m xrec_lib.training.distributed --model lightgcn --out run.json
    python -m xrec_lib.training.distributed --help
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import scipy.sparse as sp
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from xrec_lib.errors import ConfigError

SAMPLING_MODES = ("rank", "global")
_RANK_STREAM = 1  # middle word of a rank's seed sequence (seed, 1, rank)
_TORCH_STREAM = 2  # middle word of the seed sequence of a rank's torch generator (seed, 2, rank)
_sampling = "rank"


@dataclass(frozen=True)
class Context:
    """Where this process stands in the process group."""

    rank: int
    world_size: int
    local_rank: int
    backend: str
    device: str

    @property
    def is_main(self) -> bool:
        return self.rank == 0


# ------------------------------------------------------------------------------------------ process group
def init(backend: str | None = None, sampling: str = "rank", timeout_s: float = 600.0) -> Context:
    """Join the process group described by the ``torchrun`` environment (``env://``) and return the context.

    ``backend``: ``"nccl"`` when CUDA is available, else ``"gloo"`` (None: chosen so). With ``nccl`` the process
    uses the GPU ``LOCAL_RANK``. ``timeout_s`` bounds every collective (a rank that is missing fails the others
    instead of hanging them). ``sampling``: ``"rank"`` or ``"global"`` (module docstring). Does nothing but
    return the context when a group is already initialised.
    """
    set_sampling(sampling)
    if not active():
        for name in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
            if name not in os.environ:
                raise ConfigError(f"{name} is not set: start the processes with torchrun (docs/distributed.md)")
        backend = backend or ("nccl" if torch.cuda.is_available() else "gloo")
        if backend == "nccl":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
        dist.init_process_group(backend, timeout=timedelta(seconds=timeout_s))
    return context()


def shutdown() -> None:
    """Leave the process group (no-op without one)."""
    if active():
        dist.destroy_process_group()


@contextmanager
def process_group(backend: str | None = None, sampling: str = "rank", timeout_s: float = 600.0):
    """:func:`init` for a ``with`` block; the group is destroyed on the way out, error or not."""
    try:
        yield init(backend, sampling, timeout_s)
    finally:
        shutdown()


def active() -> bool:
    """Whether a process group is initialised (``fit`` then trains data-parallel)."""
    return dist.is_available() and dist.is_initialized()


def rank() -> int:
    return dist.get_rank() if active() else 0


def world_size() -> int:
    return dist.get_world_size() if active() else 1


def is_main() -> bool:
    """True on rank 0 and in a single process: the one process that writes results."""
    return rank() == 0


def context() -> Context:
    """The current process's context (rank 0 of 1 on CPU without a process group)."""
    if not active():
        return Context(0, 1, 0, "none", "cuda" if torch.cuda.is_available() else "cpu")
    backend = dist.get_backend()
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    return Context(dist.get_rank(), dist.get_world_size(), local_rank, backend,
                   f"cuda:{local_rank}" if backend == "nccl" else "cpu")


def set_sampling(mode: str) -> str:
    """Choose how a rank draws the random part of its batches (module docstring); returns the previous mode."""
    global _sampling
    if mode not in SAMPLING_MODES:
        raise ConfigError(f"sampling must be one of {', '.join(SAMPLING_MODES)}, got {mode!r}")
    previous, _sampling = _sampling, mode
    return previous


def sampling() -> str:
    return _sampling


def rank_rng(seed: int | None, rank_: int) -> np.random.Generator:
    """The random stream of one rank: ``default_rng((seed, 1, rank))`` (module docstring)."""
    return np.random.default_rng(None if seed is None else [int(seed), _RANK_STREAM, int(rank_)])


def collective_device() -> torch.device:
    """Device of the tensors handed to collectives (CUDA for nccl, else CPU)."""
    return torch.device(context().device)


def all_reduce_sum(values: torch.Tensor | np.ndarray) -> torch.Tensor:
    """Element-wise sum over the ranks (a copy on CPU; the input itself without a process group)."""
    tensor = torch.as_tensor(values)
    if not active():
        return tensor
    tensor = tensor.to(collective_device(), copy=True)
    dist.all_reduce(tensor)
    return tensor.cpu()


def all_gather_rows(values: torch.Tensor | np.ndarray) -> torch.Tensor:
    """Every rank's rows (first dimension; the counts may differ, the other dimensions may not) concatenated in
    rank order, on every rank (a CPU tensor; the input itself without a process group)."""
    tensor = torch.as_tensor(values)
    if not active():
        return tensor
    device, size = collective_device(), world_size()
    counts = torch.zeros(size, dtype=torch.int64, device=device)
    counts[rank()] = len(tensor)
    dist.all_reduce(counts)
    counts = counts.cpu().tolist()
    padded = torch.zeros((max(max(counts), 1), *tensor.shape[1:]), dtype=tensor.dtype, device=device)
    padded[: len(tensor)] = tensor.to(device)
    parts = [torch.empty_like(padded) for _ in range(size)]
    dist.all_gather(parts, padded)
    return torch.cat([part[:count] for part, count in zip(parts, counts)]).cpu()


def from_main(value: Any) -> Any:
    """Rank 0's ``value`` on every rank (any picklable object; the value itself without a process group)."""
    if not active():
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0, device=collective_device() if dist.get_backend() == "nccl" else None)
    return box[0]


# ------------------------------------------------------------------------------------------ model and batches
class _ObjectiveDDP(DistributedDataParallel):
    """``DistributedDataParallel`` that also passes attribute access on to the wrapped module, so an objective's
    ``self.module.some_method(...)`` keeps working; calling the wrapper (``self.module()``) goes through DDP's
    forward, which prepares the gradient reduction of the next ``backward``."""

    def __getattr__(self, name: str):
        try:
            return super().__getattr__(name)
        except AttributeError:
            if name == "module":
                raise
            return getattr(self.module, name)


def wrap(module: torch.nn.Module, **ddp_options) -> DistributedDataParallel:
    """``module`` (already on its device) in ``DistributedDataParallel``; rank 0's parameters are copied to the
    other ranks."""
    device = next(module.parameters()).device
    device_ids = [device.index if device.index is not None else torch.cuda.current_device()] \
        if device.type == "cuda" else None
    return _ObjectiveDDP(module, device_ids=device_ids, **ddp_options)


class Shard:
    """This rank's part of every global batch; ``fit`` hands it to ``Objective.distribute``.

    :meth:`part` keeps the rank's contiguous slice ``[n * rank // W, n * (rank + 1) // W)`` of a global batch of
    ``n`` (any sliceable: numpy array, tensor, list) and records the rank's share of it, which the loop reads
    with :meth:`take_weight`. :meth:`rng` gives the rank's random stream (:func:`rank_rng`).
    """

    def __init__(self, rank_: int, world_size_: int, sampling_: str = "rank"):
        if not 0 <= rank_ < world_size_:
            raise ConfigError(f"rank {rank_} is outside a world of {world_size_}")
        self.rank, self.world_size, self.sampling = rank_, world_size_, sampling_
        self._weight: float | None = None

    def bounds(self, n: int) -> tuple[int, int]:
        return n * self.rank // self.world_size, n * (self.rank + 1) // self.world_size

    def part(self, batch):
        """The rank's slice of ``batch`` (a stand-in example at weight 0 when the slice would be empty)."""
        n = len(batch)
        start, stop = self.bounds(n)
        if stop > start:
            self._weight = (stop - start) / n
            return batch[start:stop]
        self._weight = 0.0
        return batch[self.rank % n: self.rank % n + 1]

    def take_weight(self) -> float:
        """The rank's share of the latest global batch (``1 / world_size`` when the objective kept it whole);
        resets the record."""
        weight, self._weight = self._weight, None
        return 1.0 / self.world_size if weight is None else weight

    def rng(self, seed: int | None) -> np.random.Generator:
        return rank_rng(seed, self.rank)

    def ranking_summary(self, user_emb: torch.Tensor, item_emb: torch.Tensor, test: sp.spmatrix,
                        exclude: sp.spmatrix | None, ks: Iterable[int]) -> dict[int, dict[str, float]]:
        return ranking_summary(user_emb, item_emb, test, exclude, ks, self.rank, self.world_size)

    def split_ranking(self, evaluate: Callable[[sp.csr_matrix], Any], test: sp.spmatrix,
                      ks: Iterable[int]) -> dict[int, dict[str, float]]:
        return split_ranking_summary(evaluate, test, ks, self.rank, self.world_size)

    def rows(self, n: int) -> slice:
        """The rank's contiguous block of ``n`` evaluation rows (may be empty; no stand-in, no weight)."""
        return slice(*self.bounds(n))


class DataParallel:
    """What ``fit`` does per run under a process group: the shard, the DDP wrapper, and the collective steps."""

    def __init__(self, objective, module: torch.nn.Module, **ddp_options):
        self.rank, self.world_size = dist.get_rank(), dist.get_world_size()
        self.is_main = self.rank == 0
        self.shard = Shard(self.rank, self.world_size, sampling())
        self.objective, self.inner, self.checked = objective, module, False
        objective.distribute(self.shard)
        self.wrapped = wrap(module, **ddp_options)
        objective.module = self.wrapped

    def close(self) -> None:
        """Give the objective its own module back."""
        self.objective.module = self.inner

    def after_step(self) -> None:
        """After the first optimiser step: check that the parameters are equal on every rank (they drift apart
        when the loss does not call the wrapped module, whose forward prepares the gradient reduction)."""
        if self.checked:
            return
        self.checked = True
        with torch.no_grad():
            total = sum(float(p.detach().double().sum()) for p in self.inner.parameters())
        extremes = torch.tensor([total, -total], dtype=torch.float64, device=collective_device())
        dist.all_reduce(extremes, op=dist.ReduceOp.MAX)
        highest, lowest = float(extremes[0]), -float(extremes[1])
        if highest - lowest > 1e-9 * max(abs(highest), 1.0):
            from xrec_lib.training.loop import TrainingError
            raise TrainingError("the parameters differ across ranks after the first step: the objective's loss "
                                "must call its module (self.module(...)) so that DistributedDataParallel reduces "
                                "the gradients")

    def step_weight(self) -> float:
        return self.shard.take_weight()

    def scaled(self, loss: torch.Tensor, weight: float) -> torch.Tensor:
        """The loss whose DDP-averaged gradient is ``sum_r weight_r * grad(loss_r)``."""
        factor = weight * self.world_size
        return loss if factor == 1.0 else loss * factor

    def all_finite(self, loss: torch.Tensor) -> bool:
        """Whether the loss is finite on every rank (all ranks get the same answer)."""
        bad = torch.tensor([0.0 if bool(torch.isfinite(loss)) else 1.0])
        return float(all_reduce_sum(bad)[0]) == 0.0

    @staticmethod
    def from_main(value: Any) -> Any:
        return from_main(value)

    def sum_logs(self, sums: dict[str, float]) -> dict[str, float]:
        """Weighted per-rank sums of the logs, summed over the ranks."""
        names = sorted(sums)
        total = all_reduce_sum(torch.tensor([sums[name] for name in names], dtype=torch.float64))
        return {name: float(value) for name, value in zip(names, total)}


# ------------------------------------------------------------------------------------------ evaluation
def ranking_summary(user_emb: torch.Tensor, item_emb: torch.Tensor, test: sp.spmatrix,
                    exclude: sp.spmatrix | None, ks: Iterable[int], rank_: int | None = None,
                    world_size_: int | None = None) -> dict[int, dict[str, float]]:
    """:meth:`RankingResult.summary` of full-ranking evaluation, the users split over the ranks.

    The evaluated users (at least one test item) are cut into ``world_size`` contiguous blocks; each rank ranks
    its block (:func:`xrec_lib.evaluate.evaluate_embeddings`) and the per-user sums and counts, and the items
    recommended at every ``k`` (coverage), are all-reduced: every rank returns the same means.
    """
    from xrec_lib.evaluate import evaluate_embeddings

    return split_ranking_summary(lambda block: evaluate_embeddings(user_emb, item_emb, block, exclude, ks), test, ks,
                                 rank_, world_size_)


def split_ranking_summary(evaluate: Callable[[sp.csr_matrix], Any], test: sp.spmatrix, ks: Iterable[int],
                          rank_: int | None = None, world_size_: int | None = None) -> dict[int, dict[str, float]]:
    """:func:`ranking_summary` for any full-ranking evaluation: ``evaluate(test_block)`` returns the
    :class:`~xrec_lib.metrics.RankingResult` of the users with test items in ``test_block`` (``test`` with only
    this rank's block of evaluated users kept; e.g. a head's two-stage ranking). The per-user sums, the count and
    the items recommended at every ``k`` are all-reduced: every rank returns the same means."""
    from xrec_lib.metrics import evaluated_users, validate_ks

    rank_ = rank() if rank_ is None else rank_
    world_size_ = world_size() if world_size_ is None else world_size_
    ks = validate_ks(ks)
    test = sp.csr_matrix(test)
    users = evaluated_users(test)
    block = users[len(users) * rank_ // world_size_: len(users) * (rank_ + 1) // world_size_]
    keep = np.zeros(test.shape[0], dtype=np.float32)
    keep[block] = 1.0
    result = evaluate(sp.csr_matrix(sp.diags(keep) @ test))
    names = sorted(result.values[ks[0]])
    sums = [float(result.values[k][name].sum()) for k in ks for name in names]
    recommended = np.zeros((len(ks), test.shape[1]), dtype=np.float64)
    for row, k in enumerate(ks):
        items = result.top_items[:, :k]
        recommended[row, np.unique(items[items >= 0])] = 1.0
    totals = all_reduce_sum(torch.tensor(sums + [float(len(result.users))], dtype=torch.float64)).numpy()
    recommended = all_reduce_sum(torch.from_numpy(recommended)).numpy()
    count = totals[-1]
    summary: dict[int, dict[str, float]] = {}
    for row, k in enumerate(ks):
        means = {name: float(totals[row * len(names) + col] / count) if count else float("nan")
                 for col, name in enumerate(names)}
        summary[k] = means | {"coverage": float((recommended[row] > 0).sum() / test.shape[1])}
    return summary


def reseed_torch(shard: "Shard", seed: int | None) -> None:
    """Seed torch's global generator (dropout masks) from the rank's own seed sequence ``(seed, 2, rank)``, so that
    the ranks draw different masks for their parts of a batch instead of the same ones (called from
    ``Objective.distribute``, after the model is built: DDP copies rank 0's parameters anyway)."""
    if seed is not None:
        torch.manual_seed(int(np.random.default_rng([int(seed), _TORCH_STREAM, shard.rank]).integers(1 << 62)))


# ------------------------------------------------------------------------------------------ command line
MODELS = ("lightgcn", "mf", "gcn", "graphsage")


def toy_interactions(n_users: int = 60, n_items: int = 80, per_user: int = 8, seed: int = 0) -> sp.csr_matrix:
    """A tiny binary interaction matrix: ``per_user`` distinct random items for every user."""
    rng = np.random.default_rng(seed)
    rows = np.repeat(np.arange(n_users), per_user)
    cols = np.concatenate([rng.choice(n_items, per_user, replace=False) for _ in range(n_users)])
    return sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(n_users, n_items))


def load_interactions(data: str, seed: int) -> sp.csr_matrix:
    """``"smoke"``: the training interactions of the paper-000 generator at smoke scale; ``"toy"``:
    :func:`toy_interactions`; any other value: a ``scipy.sparse.save_npz`` file of a users x items matrix."""
    if data == "smoke":
        from xrec_lib.data.synthetic_crossdomain import SyntheticCrossDomainConfig, generate_crossdomain
        return generate_crossdomain(SyntheticCrossDomainConfig.smoke(), seed).interaction_matrix("train")
    if data == "toy":
        return toy_interactions(seed=seed)
    matrix = sp.csr_matrix(sp.load_npz(data))
    matrix.data[:] = 1.0
    return matrix


def build_model(name: str, fit_part: sp.csr_matrix, dim: int, n_layers: int, seed: int) -> torch.nn.Module:
    from xrec_lib.models import GCN, GraphData, GraphSAGE, LightGCN, MatrixFactorization

    torch.manual_seed(seed)
    graph = GraphData.from_interactions(fit_part)
    if name == "mf":
        return MatrixFactorization(graph, dim)
    return {"lightgcn": LightGCN, "gcn": GCN, "graphsage": GraphSAGE}[name](graph, dim, n_layers)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m xrec_lib.training.distributed",
        description="Train a graph encoder data-parallel (BPR, full-ranking validation, early stopping). Start "
                    "it with torchrun for several processes (docs/distributed.md); without torchrun it trains in "
                    "one process.")
    parser.add_argument("--model", choices=MODELS, default="lightgcn")
    parser.add_argument("--data", default="smoke",
                        help="'smoke' (paper-000 synthetic data, smoke scale), 'toy' (60 x 80) or a .npz matrix")
    parser.add_argument("--data-seed", type=int, default=0)
    parser.add_argument("--valid-fraction", type=float, default=0.1)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=2048, help="global batch (all ranks together)")
    parser.add_argument("--lr", type=float, default=5e-3)
    parser.add_argument("--l2", type=float, default=1e-4)
    parser.add_argument("--n-negatives", type=int, default=1)
    parser.add_argument("--hard-negatives", action="store_true")
    parser.add_argument("--patience", type=int, default=5)
    parser.add_argument("--max-batches", type=int, default=None, help="steps per epoch at most")
    parser.add_argument("--seed", type=int, default=0, help="model, batch order and negatives")
    parser.add_argument("--sampling", choices=SAMPLING_MODES, default="rank",
                        help="'rank': each rank draws its negatives from its own stream; 'global': the same "
                             "triplets as one process")
    parser.add_argument("--backend", choices=("nccl", "gloo"), default=None,
                        help="default: nccl with CUDA, else gloo")
    parser.add_argument("--device", default=None, help="default: this rank's GPU with nccl, else cpu")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per process")
    parser.add_argument("--out", default=None, help="JSON results, written by rank 0 only")
    parser.add_argument("--checkpoint", default=None, help="best state_dict, written by rank 0 only")
    parser.add_argument("--quiet", action="store_true")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any] | None:
    """Train one encoder as the command line says; rank 0 writes ``--out`` and returns the results dict."""
    from xrec_lib.training.encoders import EncoderTrainConfig, split_validation, train_encoder

    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    launched = "RANK" in os.environ and "WORLD_SIZE" in os.environ
    ctx = init(args.backend, args.sampling) if launched else context()
    try:
        device = args.device or ("cuda" if ctx.backend == "nccl" else "cpu")
        train = load_interactions(args.data, args.data_seed)
        fit_part, valid = split_validation(train, args.valid_fraction, args.data_seed)
        model = build_model(args.model, fit_part, args.dim, args.layers, args.seed)

        def report(row: dict) -> None:
            if is_main() and not args.quiet:
                print(f"epoch {row['epoch']:3d}  loss {row['loss']:.5f}  val_ndcg {row.get('val_ndcg', float('nan')):.4f}"
                      f"  {row['seconds']:.2f}s", flush=True)

        config = EncoderTrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, l2=args.l2,
                                    n_negatives=args.n_negatives, hard_negatives=args.hard_negatives,
                                    patience=args.patience, max_batches=args.max_batches, seed=args.seed,
                                    device=device, checkpoint_path=args.checkpoint, on_epoch=report)
        started = time.perf_counter()
        result = train_encoder(model, fit_part, valid, config)
        wall = time.perf_counter() - started
        history = result.history
        steps_per_epoch = -(-fit_part.nnz // args.batch_size)
        if args.max_batches is not None:
            steps_per_epoch = min(steps_per_epoch, args.max_batches)
        results = {"world_size": ctx.world_size, "backend": ctx.backend, "sampling": sampling(),
                   "threads": args.threads, "args": vars(args), "n_users": int(train.shape[0]),
                   "n_items": int(train.shape[1]), "n_train": int(fit_part.nnz), "n_valid": int(valid.nnz),
                   "steps_per_epoch": steps_per_epoch,
                   "steps_per_s": steps_per_epoch * len(history) / float(history["seconds"].sum()),
                   "wall_s": wall, **result.summary(),
                   "history": json.loads(history.to_json(orient="records"))}
        if is_main():
            if args.out:
                with open(args.out, "w") as handle:
                    json.dump(results, handle, indent=1)
            if not args.quiet:
                print(f"world size {ctx.world_size} ({ctx.backend}): best val NDCG@20 {result.best_score:.4f} at "
                      f"epoch {result.best_epoch}, {results['steps_per_s']:.2f} steps/s", flush=True)
            return results
        return None
    finally:
        if launched:
            shutdown()


if __name__ == "__main__":
    # run the package's own copy of this module, whose process-group state the loop reads
    from xrec_lib.training.distributed import main as _main

    _main(sys.argv[1:])
