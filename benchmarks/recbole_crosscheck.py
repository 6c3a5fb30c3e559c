"""LightGCN and BPR-MF trained on one MovieLens-100K split by RecBole 1.2.1 and by ``xrec_lib``, side by side.

An independent implementation as an anchor for the training loop: the same split, model sizes, objective,
optimiser, batch size, early-stopping rule and full-ranking protocol, run once by RecBole and once by
:func:`xrec_lib.training.encoders.train_encoder`; test Recall@20 and NDCG@20 of both are printed in one table
with the ratio ours / RecBole, and the table is written with the command and the date to
``benchmarks/results/recbole_crosscheck.md``.

Data: ``ml-100k-recbole`` (:func:`xrec_lib.data.movielens.load_movielens_100k`; every rating is an implicit
interaction). Split: per user, a random 80/10/10 split (seed ``--split-seed``, default 0) with RecBole's own
counts for ``RS: [0.8, 0.1, 0.1]`` (``int(0.1 n)`` validation and test interactions, the rest training). The
three parts are written as RecBole benchmark files (``<dataset>.{train,valid,test}.inter``, tokens = our
contiguous user / item indices) under ``--work-dir`` (outside the repository), so RecBole trains on exactly the
split ours trains on.

Both sides: embeddings of 64 dimensions (LightGCN: 3 layers, mean over layers 0..3, ``D^-1/2 A D^-1/2`` of the
training graph), BPR loss with one uniform negative per training interaction (not one of the user's training
items), L2 penalty ``l2 / 2 * (|e_u|^2 + |e_i+|^2 + |e_i-|^2) / B`` on the batch's ID embeddings with
``l2 = 1e-4``, Adam at lr 0.001 without weight decay, batch 2048, an epoch cap of ``--epochs``; validation
NDCG@20 by full ranking after every epoch (training items excluded), training stops after ``--patience``
evaluations in a row without improvement and the best-validation parameters are tested; test metrics by full
ranking with training and validation items excluded. (On this split both implementations' LightGCN validation
NDCG@20 stays within about 0.001 for more than 10 epochs, around epochs 25-37, before it rises again: the
default patience of 10 can end either side's LightGCN run there, 20 takes both past it.) On RecBole's side the
penalty is its ``EmbLoss`` with ``require_pow=True`` (LightGCN's ``reg_weight``); RecBole's ``BPR`` has no such
term, so the BPR-MF run uses a subclass of it that adds the same ``EmbLoss`` term and changes nothing else.
RecBole's early stopping stops when its count of evaluations without improvement exceeds ``stopping_step``, so
``stopping_step = patience - 1``.
RecBole's full-ranking batch is set to 1024 users (ours scores 1024 users per chunk).

Initialisation: RecBole's LightGCN uses Xavier-uniform, its BPR Xavier-normal (the same variance), on separate
user and item tables. Ours: LightGCN ``N(0, 0.1^2)`` on one node table; BPR-MF is run both ways, from
``N(0, 0.1^2)`` and with the user rows and the item rows initialised by ``torch.nn.init.xavier_uniform_`` (each
block as its own table, as RecBole's; the package's default for MF).

Seeds: RecBole's ``seed`` (its ``init_seed``: initialisation, negatives, batch order); ours ``torch.manual_seed``
before construction and ``EncoderTrainConfig.seed``. The same number does not give the same random draws.

Metric check: the embeddings of RecBole's best model are scored again by
:func:`xrec_lib.evaluate.evaluate_embeddings` on the same test split; the table's last column is the largest
absolute difference from RecBole's own test Recall@20 / NDCG@20 (metrics reported unrounded). A second table
gives the validation NDCG@20 of the first seed of each model at fixed epochs, both sides, independent of where
early stopping ended each run.

RecBole runs in its own virtual environment (``--venv``, default ``.venv-recbole`` in the repository root,
created on first use with the pins in ``RECBOLE_PINS``; it is not a dependency of the package): this script
calls it as a subprocess with ``--recbole-worker JOB.json``, working directory inside ``--work-dir`` (where
RecBole writes its logs and checkpoints). Each side runs with ``torch.set_num_threads(--threads)``, one run
after the other. Seconds = training (with the per-epoch validation) + the test evaluation, dataset building
excluded.

    .venv/bin/python benchmarks/recbole_crosscheck.py --data-dir /work/shared/data --lightgcn-seeds 0 \\
        --mf-seeds 0 1 2
    .venv/bin/python benchmarks/recbole_crosscheck.py --data-dir /work/shared/data --patience 20 \\
        --lightgcn-seeds 0 --mf-seeds 0 --append

(``--append`` adds the run after those already in ``--out``.)
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RECBOLE_VERSION = "1.2.1"
# numpy < 2: RecBole 1.2.1 aliases np.float_ and friends; scipy < 1.12: its LightGCN builds the adjacency with
# dok_matrix._update; ray and plotly (hyper-parameter search) are not needed, so recbole itself is installed with
# --no-deps and its other runtime imports are listed here.
RECBOLE_PINS = ["torch==2.13.0", "numpy==1.26.4", "scipy==1.11.4", "pandas==2.2.3", "scikit-learn==1.9.1",
                "tensorboard==2.21.0", "colorlog==4.7.2", "colorama==0.4.4", "tqdm", "pyyaml", "texttable",
                "tabulate", "psutil", "thop"]
DATASET_NAME = "ml-100k-xrec-split"
PARTS = ("train", "valid", "test")
K = 20
DIM = 64
LAYERS = 3
L2 = 1e-4
LR = 1e-3
BATCH = 2048
EVAL_USERS_PER_BATCH = 1024


# ----------------------------------------------------------------------------------------------------------------
# RecBole side (runs inside the RecBole virtual environment; imports nothing from xrec_lib)
# ----------------------------------------------------------------------------------------------------------------

def recbole_worker(job_path: str) -> None:
    """Train one RecBole model as described by the job file and write its result JSON and embeddings."""
    job = json.loads(Path(job_path).read_text())
    import numpy as np
    import torch

    torch.set_num_threads(job["threads"])
    from recbole.config import Config
    from recbole.data import create_dataset, data_preparation
    from recbole.model.general_recommender import BPR, LightGCN
    from recbole.model.loss import EmbLoss
    from recbole.trainer import Trainer
    from recbole.utils import init_logger, init_seed

    class BPRWithL2(BPR):
        """RecBole's BPR plus LightGCN's ``reg_weight * EmbLoss(u, i+, i-)`` on the batch's embeddings."""

        def __init__(self, config, dataset):
            super().__init__(config, dataset)
            self.reg_weight = config["reg_weight"]
            self.require_pow = config["require_pow"]
            self.reg_loss = EmbLoss()

        def calculate_loss(self, interaction):
            user, pos, neg = interaction[self.USER_ID], interaction[self.ITEM_ID], interaction[self.NEG_ITEM_ID]
            user_e, pos_e = self.forward(user, pos)
            neg_e = self.get_item_embedding(neg)
            loss = self.loss(torch.mul(user_e, pos_e).sum(dim=1), torch.mul(user_e, neg_e).sum(dim=1))
            return loss + self.reg_weight * self.reg_loss(user_e, pos_e, neg_e, require_pow=self.require_pow)

    model_class = {"lightgcn": LightGCN, "mf": BPRWithL2}[job["model"]]
    n_items = job["n_items"] + 1  # RecBole's padding item 0
    # the configuration names the stock model (it is pickled into checkpoints); the subclass is built below
    config = Config(model={"lightgcn": "LightGCN", "mf": "BPR"}[job["model"]], dataset=DATASET_NAME, config_dict={
        "data_path": job["data_path"], "checkpoint_dir": job["checkpoint_dir"], "benchmark_filename": list(PARTS),
        "USER_ID_FIELD": "user_id", "ITEM_ID_FIELD": "item_id", "load_col": {"inter": ["user_id", "item_id"]},
        "gpu_id": "", "use_gpu": False, "seed": job["seed"], "reproducibility": True, "show_progress": False,
        "embedding_size": DIM, "n_layers": LAYERS, "reg_weight": L2, "require_pow": True,
        "epochs": job["epochs"], "train_batch_size": BATCH, "learner": "adam", "learning_rate": LR,
        "weight_decay": 0.0, "train_neg_sample_args": {"distribution": "uniform", "sample_num": 1},
        "eval_step": 1, "stopping_step": job["patience"] - 1,
        "eval_args": {"group_by": "user", "order": "RO", "mode": "full"},
        "metrics": ["Recall", "NDCG"], "topk": [K], "valid_metric": f"NDCG@{K}", "valid_metric_bigger": True,
        "metric_decimal_place": 17, "eval_batch_size": EVAL_USERS_PER_BATCH * n_items,
    })
    init_seed(config["seed"], config["reproducibility"])
    init_logger(config)
    dataset = create_dataset(config)
    train_data, valid_data, test_data = data_preparation(config, dataset)
    init_seed(config["seed"], config["reproducibility"])
    model = model_class(config, train_data._dataset).to(config["device"])
    trainer = Trainer(config, model)
    history: list[float] = []
    started = time.perf_counter()
    best_valid, _ = trainer.fit(train_data, valid_data, saved=True, show_progress=False,
                                callback_fn=lambda epoch, score: history.append(float(score)))
    checkpoint = torch.load(trainer.saved_model_file, map_location="cpu", weights_only=False)
    model.load_state_dict(checkpoint["state_dict"])
    model.load_other_parameter(checkpoint.get("other_parameter"))
    test = trainer.evaluate(test_data, load_best_model=False)
    seconds = time.perf_counter() - started

    model.eval()
    with torch.no_grad():
        if job["model"] == "lightgcn":
            user_e, item_e = model.forward()
        else:
            user_e, item_e = model.user_embedding.weight, model.item_embedding.weight
    user_e, item_e = user_e.detach(), item_e.detach()
    # rows in our index order: RecBole's internal id k holds the token written to the benchmark files
    user_tokens = dataset.field2id_token["user_id"]
    item_tokens = dataset.field2id_token["item_id"]
    users = np.zeros((job["n_users"], user_e.shape[1]), dtype=np.float32)
    items = np.zeros((job["n_items"], item_e.shape[1]), dtype=np.float32)
    for k in range(1, len(user_tokens)):
        users[int(user_tokens[k])] = user_e[k].numpy()
    for k in range(1, len(item_tokens)):
        items[int(item_tokens[k])] = item_e[k].numpy()
    np.save(job["user_emb"], users)
    np.save(job["item_emb"], items)

    best = max(history)
    best_epoch = max(i for i, score in enumerate(history) if score == best) + 1  # RecBole keeps ties (>=)
    stopped_by = "patience" if trainer.cur_step > trainer.stopping_step else "cap"
    Path(job["result"]).write_text(json.dumps({
        "best_epoch": best_epoch, "epochs": len(history), "stopped_by": stopped_by, "valid_ndcg": float(best_valid),
        "recall": float(test[f"recall@{K}"]), "ndcg": float(test[f"ndcg@{K}"]), "seconds": seconds, "curve": history,
        "n_users_recbole": int(dataset.user_num - 1), "n_items_recbole": int(dataset.item_num - 1),
        "train_rows": int(len(train_data._dataset.inter_feat)), "init": type(model).__name__,
    }))


# ----------------------------------------------------------------------------------------------------------------
# Orchestration and our side (runs in the project's virtual environment)
# ----------------------------------------------------------------------------------------------------------------

def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def ensure_recbole_venv(venv: Path) -> str:
    """Create ``venv`` if missing, install the pins and RecBole into it (a no-op when present) and check that
    RecBole imports; return the pip freeze lines of the pinned packages."""
    python = venv_python(venv)
    if not python.exists():
        print(f"creating {venv} (RecBole {RECBOLE_VERSION}) ...", flush=True)
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", str(venv)], check=True)
    pip = [str(python), "-m", "pip", "install", "-q"]
    subprocess.run(pip + RECBOLE_PINS, check=True)
    subprocess.run(pip + ["--no-deps", f"recbole=={RECBOLE_VERSION}"], check=True)
    check = [str(python), "-c", "import recbole, recbole.trainer, recbole.data; print(recbole.__version__)"]
    result = subprocess.run(check, capture_output=True, text=True)
    if result.stdout.strip() != RECBOLE_VERSION:
        raise SystemExit(f"RecBole does not import in {venv}:\n{result.stderr}")
    freeze = subprocess.run([str(python), "-m", "pip", "freeze"], capture_output=True, text=True).stdout
    names = {pin.split("=")[0].split("<")[0].lower() for pin in RECBOLE_PINS} | {"recbole"}
    return ", ".join(line for line in freeze.splitlines() if line.split("==")[0].lower() in names)


def per_user_split(users, items, n_users: int, n_items: int, seed: int):
    """``(train, valid, test)`` binary CSR matrices: per user a random permutation of its interactions, split
    with RecBole's counts for ratios 0.8/0.1/0.1 (``int(0.1 n)`` each for validation and test, at least one
    each when ``0 < 0.1 n < 1`` and a training interaction is left)."""
    import numpy as np
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    order = np.lexsort((items, users))
    users, items = users[order], items[order]
    bounds = np.flatnonzero(np.diff(np.r_[-1, users, n_users + 1]))
    parts = {name: ([], []) for name in PARTS}
    for start, stop in zip(bounds[:-1], bounds[1:]):
        n = stop - start
        counts = [0, int(0.1 * n), int(0.1 * n)]
        counts[0] = n - counts[1] - counts[2]
        for i in (1, 2):  # RecBole's _calcu_split_ids: the last parts first
            if counts[0] <= 1:
                break
            if 0 < 0.1 * n < 1:
                counts[-i] += 1
                counts[0] -= 1
        chosen = start + rng.permutation(n)
        cut = np.cumsum(counts)[:-1]
        for name, rows in zip(PARTS, np.split(chosen, cut)):
            parts[name][0].append(users[rows])
            parts[name][1].append(items[rows])
    return tuple(sp.csr_matrix((np.ones(sum(map(len, parts[name][0])), dtype=np.float32),
                                (np.concatenate(parts[name][0]), np.concatenate(parts[name][1]))),
                               shape=(n_users, n_items)) for name in PARTS)


def write_benchmark_files(matrices, folder: Path) -> None:
    """The split as RecBole atomic benchmark files ``<dataset>.<part>.inter`` (tokens = our indices)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, matrix in zip(PARTS, matrices):
        coo = matrix.tocoo()
        lines = ["user_id:token\titem_id:token"] + [f"{u}\t{i}" for u, i in zip(coo.row, coo.col)]
        (folder / f"{DATASET_NAME}.{name}.inter").write_text("\n".join(lines) + "\n")


def run_recbole(model: str, seed: int, args, venv: Path, work: Path, shape, split) -> dict:
    """One RecBole run in the throwaway environment; its result plus our metrics on its embeddings."""
    import numpy as np
    import scipy.sparse as sp
    import torch

    from xrec_lib.evaluate import evaluate_embeddings

    run_dir = work / f"recbole-{model}-seed{seed}"
    run_dir.mkdir(parents=True, exist_ok=True)
    job = {"model": model, "seed": seed, "threads": args.threads, "epochs": args.epochs, "patience": args.patience,
           "data_path": str(work / "data"), "checkpoint_dir": str(run_dir / "saved"), "n_users": shape[0],
           "n_items": shape[1], "user_emb": str(run_dir / "user_emb.npy"), "item_emb": str(run_dir / "item_emb.npy"),
           "result": str(run_dir / "result.json")}
    (run_dir / "job.json").write_text(json.dumps(job))
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "MKL_NUM_THREADS": str(args.threads)}
    with (run_dir / "worker.log").open("w") as log:
        done = subprocess.run([str(venv_python(venv)), str(Path(__file__).resolve()), "--recbole-worker",
                               str(run_dir / "job.json")], cwd=run_dir, env=env, stdout=log, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        tail = (run_dir / "worker.log").read_text().splitlines()[-30:]
        raise SystemExit(f"RecBole {model} seed {seed} failed (exit {done.returncode}):\n" + "\n".join(tail))
    result = json.loads((run_dir / "result.json").read_text())
    train, valid, test = split
    if (result["n_users_recbole"], result["n_items_recbole"]) != shape or result["train_rows"] != train.nnz:
        raise SystemExit(f"RecBole read a different dataset: {result}")
    ours = evaluate_embeddings(torch.from_numpy(np.load(job["user_emb"])), torch.from_numpy(np.load(job["item_emb"])),
                               test, sp.csr_matrix(train + valid), [K]).summary()[K]
    result["metric_diff"] = max(abs(ours["recall"] - result["recall"]), abs(ours["ndcg"] - result["ndcg"]))
    return result


def xavier_blocks_(model) -> None:
    """Re-initialise the user rows and the item rows of ``model.embedding`` by Xavier-uniform, each block as
    its own table (fans = block size and embedding width)."""
    import torch

    weight = model.embedding.weight
    with torch.no_grad():
        torch.nn.init.xavier_uniform_(weight[: model.n_users])
        torch.nn.init.xavier_uniform_(weight[model.n_users: model.n_users + model.n_items])


def run_ours(model_name: str, init: str, seed: int, args, split) -> dict:
    """One run of our loop: build, (re-)initialise, :func:`train_encoder`, :func:`evaluate_encoder` on test."""
    import scipy.sparse as sp
    import torch

    from xrec_lib.models import GraphData, LightGCN, MatrixFactorization
    from xrec_lib.training.encoders import EncoderTrainConfig, evaluate_encoder, train_encoder

    train, valid, test = split
    torch.manual_seed(seed)
    graph = GraphData.from_interactions(train)
    model = LightGCN(graph, dim=DIM, n_layers=LAYERS) if model_name == "lightgcn" else MatrixFactorization(graph, DIM)
    if init == "xavier":
        xavier_blocks_(model)
    else:  # N(0, 0.1^2) on the whole node table (LightGCN's own initialisation; MF's before it took Xavier)
        with torch.no_grad():
            torch.nn.init.normal_(model.embedding.weight, std=0.1)
    config = EncoderTrainConfig(epochs=args.epochs, batch_size=BATCH, lr=LR, loss="bpr", l2=L2,
                                patience=args.patience, eval_every=1, monitor_k=K, seed=seed)
    started = time.perf_counter()
    fitted = train_encoder(model, train, valid, config)
    summary = evaluate_encoder(model, test, sp.csr_matrix(train + valid), [K]).summary()[K]
    seconds = time.perf_counter() - started
    return {"best_epoch": fitted.best_epoch, "epochs": len(fitted.history), "stopped_by": fitted.stopped_by,
            "valid_ndcg": fitted.best_score, "recall": summary["recall"], "ndcg": summary["ndcg"], "seconds": seconds,
            "curve": [float(v) for v in fitted.history["val_ndcg"]]}


def ratio(a: float, b: float) -> str:
    return f"{a / b:.3f}" if b else "-"


def render(rows: list[dict]) -> list[str]:
    """Markdown table of the runs (ratios: ours / RecBole of the same model and seed)."""
    head = ["model", "implementation", "seed", "best epoch", "epochs", "stopped_by", f"valid NDCG@{K}",
            f"test Recall@{K}", f"test NDCG@{K}", "seconds", "ratio Recall", "ratio NDCG", "ratio seconds",
            "metric check"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        ref = row.get("reference")
        cells = [row["model"], row["implementation"], str(row["seed"]), str(row["best_epoch"]), str(row["epochs"]),
                 row["stopped_by"], f"{row['valid_ndcg']:.4f}", f"{row['recall']:.4f}", f"{row['ndcg']:.4f}",
                 f"{row['seconds']:.1f}",
                 ratio(row["recall"], ref["recall"]) if ref else "-", ratio(row["ndcg"], ref["ndcg"]) if ref else "-",
                 ratio(row["seconds"], ref["seconds"]) if ref else "-",
                 f"{row['metric_diff']:.1e}" if "metric_diff" in row else "-"]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


CURVE_EPOCHS = (1, 5, 10, 15, 20, 25, 30, 35, 40, 50, 60, 80, 100, 125, 150, 175, 200, 250, 300)


def render_curves(rows: list[dict]) -> list[str]:
    """Validation NDCG@K at fixed epochs for the first seed of each model, one column per implementation
    ("-": the run had stopped)."""
    lines = []
    for model in dict.fromkeys(row["model"] for row in rows):
        seed = min(row["seed"] for row in rows if row["model"] == model)
        runs = [row for row in rows if row["model"] == model and row["seed"] == seed]
        last = max(len(row["curve"]) for row in runs)
        epochs = [e for e in CURVE_EPOCHS if e <= last] + ([last] if last not in CURVE_EPOCHS else [])
        lines += [f"{model}, seed {seed}: validation NDCG@{K} by epoch", "",
                  "| epoch | " + " | ".join(row["implementation"] for row in runs) + " |",
                  "|" + "---|" * (len(runs) + 1)]
        for epoch in epochs:
            cells = [f"{row['curve'][epoch - 1]:.4f}" if epoch <= len(row["curve"]) else "-" for row in runs]
            lines.append(f"| {epoch} | " + " | ".join(cells) + " |")
        lines.append("")
    return lines


def summary_lines(rows: list[dict]) -> list[str]:
    """Per model and implementation: mean test metrics over seeds and the mean ratio to RecBole."""
    import numpy as np

    out = []
    for key in dict.fromkeys((row["model"], row["implementation"]) for row in rows):
        group = [row for row in rows if (row["model"], row["implementation"]) == key]
        text = (f"- {key[0]}, {key[1]} ({len(group)} seed{'s' if len(group) > 1 else ''}): Recall@{K} "
                f"{np.mean([r['recall'] for r in group]):.4f}, NDCG@{K} {np.mean([r['ndcg'] for r in group]):.4f}")
        refs = [row for row in group if row.get("reference")]
        if refs:
            r_recall = np.mean([r["recall"] / r["reference"]["recall"] for r in refs])
            r_ndcg = np.mean([r["ndcg"] / r["reference"]["ndcg"] for r in refs])
            within = all(abs(r["recall"] / r["reference"]["recall"] - 1) <= 0.05
                         and abs(r["ndcg"] / r["reference"]["ndcg"] - 1) <= 0.05 for r in refs)
            text += (f"; ours/RecBole Recall {r_recall:.3f}, NDCG {r_ndcg:.3f} (mean over seeds); every seed within "
                     f"5%: {'yes' if within else 'no'}")
        out.append(text)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="data root holding ml-100k-recbole/ (default: "
                                                         "$XREC_DATA_DIR)")
    parser.add_argument("--lightgcn-seeds", type=int, nargs="*", default=[0])
    parser.add_argument("--mf-seeds", type=int, nargs="*", default=[0, 1, 2])
    parser.add_argument("--split-seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=300, help="epoch cap (RecBole's default)")
    parser.add_argument("--patience", type=int, default=10,
                        help="validation evaluations without improvement before stopping (both sides)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--venv", type=Path, default=REPO / ".venv-recbole")
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/xrec-recbole-crosscheck"),
                        help="split files, RecBole logs and checkpoints (outside the repository)")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "recbole_crosscheck.md")
    parser.add_argument("--append", action="store_true", help="add this run after the runs already in --out")
    args = parser.parse_args()

    import numpy as np
    import torch

    from xrec_lib.data.movielens import load_movielens_100k

    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    freeze = ensure_recbole_venv(args.venv)
    print(f"RecBole environment: {freeze}", flush=True)

    ratings = load_movielens_100k(args.data_dir).interactions
    user_ids, users = np.unique(ratings["user"].to_numpy(), return_inverse=True)
    item_ids, items = np.unique(ratings["item"].to_numpy(), return_inverse=True)
    shape = (len(user_ids), len(item_ids))
    split = per_user_split(users.astype(np.int64), items.astype(np.int64), *shape, seed=args.split_seed)
    write_benchmark_files(split, args.work_dir / "data" / DATASET_NAME)
    print(f"split: {shape[0]} users x {shape[1]} items; train/valid/test "
          f"{'/'.join(str(m.nnz) for m in split)} interactions -> {args.work_dir / 'data' / DATASET_NAME}", flush=True)

    plan = [("lightgcn", seed) for seed in args.lightgcn_seeds] + [("mf", seed) for seed in args.mf_seeds]
    rows: list[dict] = []
    for model, seed in plan:
        label = {"lightgcn": "LightGCN", "mf": "BPR-MF"}[model]
        reference = run_recbole(model, seed, args, args.venv, args.work_dir, shape, split)
        reference.update(model=label, implementation=f"RecBole {RECBOLE_VERSION}", seed=seed)
        rows.append(reference)
        print(render([reference])[-1], flush=True)
        inits = ["normal(0.1)"] + (["xavier"] if model == "mf" else [])
        for init in inits:
            ours = run_ours(model, "xavier" if init == "xavier" else "normal", seed, args, split)
            ours.update(model=label, implementation=f"xrec_lib, init {init}", seed=seed, reference=reference)
            rows.append(ours)
            print(render([ours])[-1], flush=True)
    order = {"LightGCN": 0, "BPR-MF": 1}
    rows.sort(key=lambda r: (order[r["model"]], not r["implementation"].startswith("RecBole"),
                             r["implementation"], r["seed"]))
    table = render(rows)
    summary = summary_lines(rows)
    curves = render_curves(rows)
    total = time.perf_counter() - started
    print("\n" + "\n".join(table) + "\n\n" + "\n".join(summary) + "\n\n" + "\n".join(curves))

    command = "python " + " ".join(shlex.quote(a) for a in [os.path.relpath(__file__, REPO)] + sys.argv[1:])
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                            text=True).stdout.strip()
    text = [
        f"# RecBole cross-check: LightGCN and BPR-MF on one MovieLens-100K split (patience {args.patience})",
        "",
        f"- Date: {_dt.datetime.now().astimezone().isoformat(timespec='seconds')}; commit `{commit or '?'}`",
        f"- Command: `{command}`",
        f"- Ours: Python {platform.python_version()}, torch {torch.__version__}; "
        f"RecBole's environment: {freeze}",
        f"- Machine: {os.cpu_count()} CPU cores (shared), torch threads {args.threads} on each side, "
        f"runs one after the other; total {total / 60:.1f} min",
        f"- Split: per-user random 80/10/10 (seed {args.split_seed}), {shape[0]} users x {shape[1]} items, "
        f"train/valid/test {'/'.join(str(m.nnz) for m in split)} interactions, written as RecBole benchmark files",
        f"- Both: dim {DIM}, LightGCN {LAYERS} layers, BPR loss, one uniform negative, batch-embedding L2 {L2:g}, "
        f"Adam lr {LR:g}, batch {BATCH}, epoch cap {args.epochs}, early stopping on validation NDCG@{K} "
        f"(patience {args.patience} evaluations), full ranking, test excludes train + valid items",
        "- Seconds: training with per-epoch validation + test evaluation (dataset building excluded). "
        "Ratios: ours / RecBole, same model and seed. Metric check: largest |difference| between RecBole's own "
        f"test Recall@{K}/NDCG@{K} and `xrec_lib.evaluate.evaluate_embeddings` on RecBole's best embeddings.",
        "- Initialisation: RecBole LightGCN Xavier-uniform, RecBole BPR Xavier-normal (separate user and item "
        "tables); ours normal(0.1) (LightGCN's default), or `xavier` (BPR-MF's default) = user rows and item rows re-initialised by "
        "`torch.nn.init.xavier_uniform_`, each block as its own table. RecBole's BPR is run as a subclass adding "
        "the same `EmbLoss(require_pow=True)` L2 term that its LightGCN uses (stock BPR has none).",
        "",
        *table,
        "",
        *summary,
        "",
        *curves,
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    before = args.out.read_text().rstrip() + "\n\n" if args.append and args.out.exists() else ""
    args.out.write_text(before + "\n".join(text))
    print(f"\nwritten: {args.out}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--recbole-worker":
        recbole_worker(sys.argv[2])
    else:
        main()
