"""Data-parallel training through the one loop: 2 gloo processes against 1 process on the same global batch.

With ``sampling="global"`` both runs train on the same triplets, so the loss curves differ only by the order of
floating-point sums (the gradient is the average of two half-batch gradients instead of one full-batch
gradient, and the logged loss the weighted sum of two half-batch means): tolerance ``1e-5``. With
``sampling="rank"`` each rank draws its negatives from its own stream, so the curves agree only up to sampling
noise: tolerance ``0.05`` on a 60 x 80 graph. Every collective times out after 60 s and the test kills the
processes after ``TIMEOUT_S``, so a failure cannot hang the run.

The other objective families (paper-000 heads and end-to-end pair, paper-002 classifiers, paper-001 sentiment
models with SLGM) are trained the same way on tiny data with the same global batch and seed, dropout off and the
head negatives drawn with ``sampling="global"``: their loss curves match one process within ``FAMILY_TOLERANCE``
(measured below 1e-6), their validation scores within ``VALID_TOLERANCE``, and both ranks hold the same values.
"""

import dataclasses
import functools
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
FAMILY_TOLERANCE = 1e-5
VALID_TOLERANCE = 1e-4
SAMPLING_TOLERANCE = 0.05
WORLD_SIZE = 2
TIMEOUT_S = 90


def _config(**overrides) -> EncoderTrainConfig:
    # 432 training interactions in global batches of 64: 6 full batches and one of 48, split 24 + 24
    return EncoderTrainConfig(**{"epochs": 4, "batch_size": 64, "lr": 0.02, "l2": 1e-4, "patience": 10,
                                 "seed": 3, **overrides})


def _train(sampling: str, checkpoint=None, fanouts=None):
    train = distributed.toy_interactions()
    fit_part, valid = split_validation(train, 0.1, seed=0)
    model = distributed.build_model("lightgcn", fit_part, dim=16, n_layers=2, seed=0)
    if distributed.active():
        distributed.set_sampling(sampling)
    result = train_encoder(model, fit_part, valid, _config(checkpoint_path=checkpoint, fanouts=fanouts))
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
        history, _ = _train("global", fanouts=(None,))  # neighbour-sampled steps, every neighbour kept
        out["subgraphs"] = {"loss": history["loss"].tolist()}
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


def _spawn(folder: str, worker=_worker, *args) -> None:
    processes = mp.start_processes(worker, args=(_free_port(), folder, *args), nprocs=WORLD_SIZE, join=False,
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
    # the sampled path goes through DDP's forward too, and with every neighbour it computes what the full graph does
    assert np.abs(np.array(ranks[0]["subgraphs"]["loss"]) - single["loss"].to_numpy()).max() < EXACT_TOLERANCE
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


# ------------------------------------------------------------------------------------------ other objective families
@functools.lru_cache(maxsize=None)
def _head_task():
    """Paper-000 target task (1,087 fitting pairs of 525 users x 428 products, 121 held out) and frozen vectors."""
    from xrec_lib.studies.paper000 import tasks as task_lib

    fitting = task_lib.TargetTask.from_dataset(task_lib.synthetic_dataset(0.01, "sparse", 1)).holdout(0.1, 0)
    generator = torch.Generator().manual_seed(0)
    return (fitting, torch.randn(fitting.train.shape[0], 8, generator=generator),
            torch.randn(fitting.train.shape[1], 8, generator=generator))


def _heads_run() -> dict:
    """A BLA head on frozen vectors and a LightGCN + BLA pair end to end: global batches of 256 pairs (4 full and
    one of 63), 2 negatives each, validation NDCG@20 of the two-stage ranking of the held-out pairs."""
    from xrec_lib.studies.paper000 import head_training
    from xrec_lib.studies.paper000.settings import InteractionSettings

    fitting, user_emb, item_emb = _head_task()
    settings = InteractionSettings(synthetic_scale=0.01, dim=8, hidden=16, head_epochs=3, head_batch_size=256,
                                   n_negatives=2, n_candidates=50, patience=5)
    validate = head_training.RankingValidation(fitting, "BLA", settings.n_candidates)
    head, fitted = head_training.fit_head("BLA", user_emb, item_emb, fitting.train, settings, 3, validate=validate)
    encoder = distributed.build_model("lightgcn", fitting.train, dim=8, n_layers=1, seed=0)
    _, pair_head, pair = head_training.fit_end_to_end(encoder, "BLA", fitting.train,
                                                     np.arange(fitting.train.shape[1]), settings, 0, validate)
    return {"head_loss": fitted.history["loss"].tolist(), "head_val": fitted.history["val_ndcg"].tolist(),
            "e2e_loss": pair.history["loss"].tolist(), "e2e_val": pair.history["val_ndcg"].tolist(),
            "weights": [_weights(head), _weights(encoder) + _weights(pair_head)]}


def _weights(module: torch.nn.Module) -> float:
    return float(sum(p.detach().double().sum() for p in module.parameters()))


@functools.lru_cache(maxsize=None)
def _classification_task():
    """Paper-002 next-category task: 400 training and 320 validation examples of 50 classes."""
    from xrec_lib.config import load_config
    from xrec_lib.studies.paper002 import task as paper_task
    from xrec_lib.studies.paper002.settings import Paper002Settings

    overrides = {"scale": 0.001, "max_train_positives": 400, "history_len": 6, "hidden": 16, "baseline_hidden": 16,
                 "id_dim": 4, "max_epochs": 2, "patience": 5}
    config = load_config("04_gconv_transform", "smoke", seed=0, n_seeds=1, data_dir=None, reports_dir=None,
                         overrides=overrides, threads=1)
    settings = dataclasses.replace(Paper002Settings.from_config(config), dropout=0.0, batch_size=64)
    return settings, paper_task.synthetic_tasks(settings, config.seeds)[0]


def _classification_run() -> dict:
    """GConv-Transform and the DNN baseline: global batches of 64 examples (6 full and one of 16), 2 epochs."""
    from xrec_lib.studies.paper002 import training

    settings, task = _classification_task()
    out = {}
    for name in ("GConv-Transform", "DNN"):
        fitted = training.fit_model(name, task, settings, 0, "cpu", 0.01)
        out[name] = {"loss": fitted.fit.history["loss"].tolist(), "accuracy": fitted.fit.history["val_accuracy"].tolist(),
                     "auc": fitted.fit.history["val_auc"].tolist(), "weights": _weights(fitted.scorer)}
    return out


def _regression_run() -> dict:
    """The proposed model with SLGM (its labels move from epoch 2) and the TFN baseline on 24 training samples:
    global batches of 8, 3 epochs, dropout off."""
    from xrec_lib.config import profile_defaults, seed_everything
    from xrec_lib.data.synthetic_multimodal import MultimodalShape, synthetic_multimodal
    from xrec_lib.models.multimodal import PROPOSED
    from xrec_lib.studies.paper001 import multimodal
    from xrec_lib.studies.paper001.settings import Paper001Settings

    shape = MultimodalShape("tiny", (24, 8, 10), {"text": 6, "audio": 3, "vision": 4}, seq_len=5)
    settings = Paper001Settings.from_config(profile_defaults("03_multimodal_short_video", "smoke"), dim=8, n_heads=2,
                                            hidden=8, dropout=0.0, baseline_dropout=0.0, epochs=3, lr=3e-3,
                                            batch_size=8, linear_decay=False, patience=5)
    data = synthetic_multimodal(shape, seed=0)
    out = {}
    for name in (PROPOSED, "TFN"):
        seed_everything(0)
        model = multimodal.build_model(name, dict(shape.dims), settings)
        run = multimodal.train_multimodal(model, data, settings, use_slgm=name == PROPOSED, seed=0)
        out[name] = {"loss": run.fit.history["train_loss"].tolist(), "mae": run.history["valid_mae"].tolist(),
                     "weights": _weights(model),
                     "labels": None if run.slgm is None else run.slgm.labels["T"].tolist(),
                     "moved": run.slgm is not None and not torch.equal(run.slgm.labels["T"], run.slgm.labels["M"])}
    return out


FAMILIES = {"heads": (_head_task, _heads_run), "classification": (_classification_task, _classification_run),
            "regression": (lambda: None, _regression_run)}


def _family_worker(rank: int, port: int, folder: str, family: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), LOCAL_RANK=str(rank),
                      WORLD_SIZE=str(WORLD_SIZE))
    torch.set_num_threads(1)
    with distributed.process_group("gloo", sampling="global", timeout_s=60):
        out = FAMILIES[family][1]()
    with open(os.path.join(folder, f"{family}{rank}.json"), "w") as handle:
        json.dump(out, handle)


def _two_processes(folder, family: str) -> tuple[dict, dict]:
    """(rank 0's results, one process's results) of ``family``, after checking that both ranks agree."""
    prepare, run = FAMILIES[family]
    prepare()  # the data, built before the fork (the children inherit it)
    started = time.perf_counter()
    _spawn(str(folder), _family_worker, family)
    ranks = [json.loads((folder / f"{family}{r}.json").read_text()) for r in range(WORLD_SIZE)]
    assert ranks[0] == ranks[1]  # same losses, validation scores, SLGM labels and parameters on both ranks
    print(f"{family}: 2 processes in {time.perf_counter() - started:.1f} s")
    return ranks[0], run()


def _gap(a, b) -> float:
    gap = float(np.abs(np.asarray(a, dtype=float) - np.asarray(b, dtype=float)).max())
    print(f"  largest difference {gap:.2e}")
    return gap


def test_heads_and_end_to_end_two_processes_match_one_process(tmp_path):
    from xrec_lib.models.interaction import HEADS
    from xrec_lib.studies.paper000 import head_training, tasks as task_lib

    main, single = _two_processes(tmp_path, "heads")
    for name in ("head", "e2e"):
        assert len(main[f"{name}_loss"]) == len(single[f"{name}_loss"]) == 3
        assert _gap(main[f"{name}_loss"], single[f"{name}_loss"]) < FAMILY_TOLERANCE
        assert _gap(main[f"{name}_val"], single[f"{name}_val"]) < VALID_TOLERANCE
    fitting, user_emb, item_emb = _head_task()  # one process: the split validation is the plain two-stage ranking
    head = HEADS.build("BL", 8, 16)
    expected = task_lib.Method("BL", user_emb, item_emb, head).rank(fitting, [20], 50).summary()[20]
    assert head_training.RankingValidation(fitting, "BL", 50)(head, user_emb, item_emb) == \
        {"ndcg": expected["ndcg"], "map": expected["map"]}


def test_classifiers_two_processes_match_one_process(tmp_path):
    main, single = _two_processes(tmp_path, "classification")
    for name in ("GConv-Transform", "DNN"):
        assert len(main[name]["loss"]) == 2
        assert _gap(main[name]["loss"], single[name]["loss"]) < FAMILY_TOLERANCE
        assert _gap(main[name]["accuracy"], single[name]["accuracy"]) < VALID_TOLERANCE
        assert _gap(main[name]["auc"], single[name]["auc"]) < VALID_TOLERANCE


def test_sentiment_models_two_processes_match_one_process(tmp_path):
    from xrec_lib.models.multimodal import PROPOSED

    main, single = _two_processes(tmp_path, "regression")
    for name in (PROPOSED, "TFN"):
        assert len(main[name]["loss"]) == 3
        assert _gap(main[name]["loss"], single[name]["loss"]) < FAMILY_TOLERANCE
        assert _gap(main[name]["mae"], single[name]["mae"]) < VALID_TOLERANCE
    assert _gap(main[PROPOSED]["labels"], single[PROPOSED]["labels"]) < VALID_TOLERANCE  # SLGM: one label state
    assert main[PROPOSED]["moved"]  # the label updates ran (from epoch 2)
