"""Data-parallel training through the one loop: 2 gloo processes against 1 process on the same global batch.

With ``sampling="global"`` both runs train on the same triplets, so the loss curves differ only by the order of
floating-point sums (the gradient is the average of two half-batch gradients instead of one full-batch
gradient, and the logged loss the weighted sum of two half-batch means): tolerance ``1e-5``. With
``sampling="rank"`` each rank draws its negatives from its own stream, so the curves agree only up to sampling
noise: tolerance ``0.05`` on a 60 x 80 graph. Every collective times out after 60 s and the test kills the
processes after ``TIMEOUT_S``, so a failure cannot hang the run.
"""

import json
import os
import socket
import time

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp

from xrec_lib.errors import ConfigError
from xrec_lib.training import LoopConfig, Objective, TrainingError, fit
from xrec_lib.training import distributed
from xrec_lib.training.encoders import EncoderTrainConfig, split_validation, train_encoder

torch.set_num_threads(1)

EXACT_TOLERANCE = 1e-5
SAMPLING_TOLERANCE = 0.05
WORLD_SIZE = 2
TIMEOUT_S = 90


def _config(**overrides) -> EncoderTrainConfig:
    # 432 training interactions in global batches of 64: 6 full batches and one of 48, split 24 + 24
    return EncoderTrainConfig(**{"epochs": 4, "batch_size": 64, "lr": 0.02, "l2": 1e-4, "patience": 10,
                                 "seed": 3, **overrides})


def _train(sampling: str, checkpoint=None):
    train = distributed.toy_interactions()
    fit_part, valid = split_validation(train, 0.1, seed=0)
    model = distributed.build_model("lightgcn", fit_part, dim=16, n_layers=2, seed=0)
    if distributed.active():
        distributed.set_sampling(sampling)
    result = train_encoder(model, fit_part, valid, _config(checkpoint_path=checkpoint))
    return result.history, model


class _Linear(Objective):
    """A sharded regression whose loss reads the weights directly (``bypass``) or calls the module."""

    def __init__(self, bypass: bool):
        torch.manual_seed(0)
        self.module, self.bypass, self.shard = torch.nn.Linear(1, 1), bypass, None

    def distribute(self, shard):
        self.shard = shard

    def batches(self, epoch):
        yield self.shard.part(torch.arange(4.0).unsqueeze(1))

    def loss(self, batch):
        out = batch @ self.module.weight.T + self.module.bias if self.bypass else self.module(batch)
        return (out - 1.0).square().mean()


def _worker(rank: int, port: int, folder: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), LOCAL_RANK=str(rank),
                      WORLD_SIZE=str(WORLD_SIZE))
    torch.set_num_threads(1)
    with distributed.process_group("gloo", timeout_s=60):
        out = {"bypass_refused": False}
        fit(_Linear(bypass=False), LoopConfig(max_epochs=2, lr=0.1))
        try:
            fit(_Linear(bypass=True), LoopConfig(max_epochs=1, lr=0.1))
        except TrainingError as error:
            out["bypass_refused"] = "differ across ranks" in str(error)
        for sampling in distributed.SAMPLING_MODES:
            history, model = _train(sampling, checkpoint=os.path.join(folder, f"best_rank{rank}_{sampling}.pt"))
            out[sampling] = {"loss": history["loss"].tolist(), "val_ndcg": history["val_ndcg"].tolist(),
                             "weights": model.embedding.weight.detach().sum().item()}
            if distributed.is_main():
                with open(os.path.join(folder, "results.jsonl"), "a") as handle:
                    handle.write(json.dumps({"sampling": sampling}) + "\n")
        with open(os.path.join(folder, f"rank{rank}.json"), "w") as handle:
            json.dump(out, handle)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_method() -> str:
    """``fork`` on POSIX while torch runs one thread (the children inherit the imported modules: about 1 s
    instead of the imports of two fresh interpreters), else ``spawn``."""
    return "fork" if "fork" in mp.get_all_start_methods() and torch.get_num_threads() == 1 else "spawn"


def _spawn(folder: str) -> None:
    processes = mp.start_processes(_worker, args=(_free_port(), folder), nprocs=WORLD_SIZE, join=False,
                                   start_method=_start_method())
    deadline = time.monotonic() + TIMEOUT_S
    try:
        while not processes.join(timeout=1):
            if time.monotonic() > deadline:
                pytest.fail(f"the {WORLD_SIZE} processes did not finish in {TIMEOUT_S} s")
    finally:
        for process in processes.processes:
            if process.is_alive():
                process.kill()


def test_two_gloo_processes_match_one_process(tmp_path):
    _spawn(str(tmp_path))
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(WORLD_SIZE)]
    single, _ = _train("global")
    assert all(rank["bypass_refused"] for rank in ranks)  # a loss that bypasses DDP's forward is caught
    for sampling, tolerance in (("global", EXACT_TOLERANCE), ("rank", SAMPLING_TOLERANCE)):
        main, other = ranks[0][sampling], ranks[1][sampling]
        assert main == other  # same logged losses, validation scores and parameters on both ranks
        assert np.abs(np.array(main["loss"]) - single["loss"].to_numpy()).max() < tolerance
        assert len(main["loss"]) == len(single)
    assert np.abs(np.array(ranks[0]["global"]["val_ndcg"]) - single["val_ndcg"].to_numpy()).max() < 1e-4
    assert ranks[0]["global"]["loss"] != ranks[0]["rank"]["loss"]
    lines = (tmp_path / "results.jsonl").read_text().splitlines()
    assert [json.loads(line)["sampling"] for line in lines] == list(distributed.SAMPLING_MODES)
    checkpoints = sorted(path.name for path in tmp_path.glob("best_*.pt"))
    assert checkpoints == [f"best_rank0_{sampling}.pt" for sampling in sorted(distributed.SAMPLING_MODES)]


def test_shard_parts_cover_the_global_batch_with_weights_summing_to_one():
    for n in (1, 5, 48, 64):
        shards = [distributed.Shard(rank, 3) for rank in range(3)]
        parts = [shard.part(np.arange(n)) for shard in shards]
        weights = [shard.take_weight() for shard in shards]
        assert sum(weights) == pytest.approx(1.0)
        kept = np.concatenate([part for part, weight in zip(parts, weights) if weight > 0])
        assert np.array_equal(kept, np.arange(n))
        assert all(len(part) >= 1 for part in parts)  # every rank takes part in every step
    assert distributed.Shard(0, 2).take_weight() == 0.5  # a whole batch kept on every rank
    assert distributed.rank_rng(0, 0).integers(1 << 30) != np.random.default_rng(0).integers(1 << 30)


class _Constant(Objective):
    def __init__(self):
        self.module = torch.nn.Linear(1, 1)

    def batches(self, epoch):
        yield torch.ones(1, 1)

    def loss(self, batch):
        return self.module(batch).square().mean()


def test_single_process_needs_no_process_group_and_refuses_a_missing_one():
    assert not distributed.active() and distributed.is_main() and distributed.world_size() == 1
    fit(_Constant(), LoopConfig(max_epochs=1, lr=0.1))
    with pytest.raises(ConfigError, match="process group"):
        fit(_Constant(), LoopConfig(max_epochs=1, lr=0.1, distributed=True))
    with pytest.raises(ConfigError, match="sampling"):
        distributed.set_sampling("local")
    with pytest.raises(SystemExit):
        distributed.parse_args(["--help"])
