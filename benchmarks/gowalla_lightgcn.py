"""LightGCN (3 layers, 64 dims) on the LightGCN Gowalla split with our training loop and metrics.

train = ``train.txt`` + ``valid.txt``, test = ``test.txt`` (:func:`xrec_lib.data.gowalla.load_gowalla`).
Schedule for speed: large batches, a high learning rate decayed by ``--lr-decay`` per epoch, one CSR propagation
per step. Test Recall@20 and NDCG@20 (full ranking, training items excluded) are printed every ``--eval-every``
epochs as a time series (epoch, elapsed seconds, recall, ndcg), beside the published values of the original
implementation (:mod:`xrec_lib.papers`); the curve is a test-set curve, no model selection is made on it (the
last evaluation is the result). Training stops when ``--minutes`` are spent, or after ``--epochs``. The time to
come within 3% of the published values is projected from the last evaluations by fitting
``metric = a + b / elapsed`` (a saturating curve; the fit is printed, and it is only a projection).

``--select-on-valid`` chooses the number of epochs without the test set: first LightGCN trains on ``train.txt``
alone with early stopping on ``valid.txt`` (NDCG@20, ``--patience`` evaluations), then a fresh model trains on
``train.txt`` + ``valid.txt`` for the best validation epoch and the test evaluation at that epoch is the result.

    python benchmarks/gowalla_lightgcn.py --select-on-valid --minutes 40 --negatives 32 --hard --lr-decay 0.98
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import pandas as pd
import torch

from xrec_lib import papers
from xrec_lib.data.gowalla import load_gowalla
from xrec_lib.models import GraphData, LightGCN
from xrec_lib.training.encoders import EncoderTrainConfig, train_encoder

WITHIN = 0.03


def published_values() -> dict[str, float]:
    """Recall@20 and NDCG@20 of 3-layer LightGCN from the original implementation's README (kuandeng/LightGCN)."""
    return {metric: next(v.value for v in papers.lookup(paper="lightgcn-gowalla", metric=metric, model="LightGCN",
                                                         k=20, n_layers=3) if v.source.startswith("kuandeng"))
            for metric in ("recall", "ndcg")}


def print_evaluation(row: dict) -> None:
    """One line of the time series for an evaluated epoch."""
    if not math.isnan(row.get("val_ndcg", math.nan)):
        print(f"epoch {row['epoch']:4d}  elapsed {row['elapsed_s']:7.1f} s  loss {row['loss']:.4f}  "
              f"recall@20 {row['val_recall']:.4f}  ndcg@20 {row['val_ndcg']:.4f}", flush=True)


def projected_seconds(elapsed: np.ndarray, values: np.ndarray, goal: float) -> tuple[float, float, float]:
    """``(a, b, t)``: least-squares fit of ``value = a + b / elapsed`` and the elapsed time ``t`` at which it
    reaches ``goal`` (inf when the fitted asymptote ``a`` stays below it)."""
    design = np.column_stack([np.ones_like(elapsed), 1.0 / elapsed])
    (a, b), *_ = np.linalg.lstsq(design, values, rcond=None)
    return a, b, (b / (goal - a) if a > goal and b < 0 else math.inf)


def report_projection(history: pd.DataFrame, published: dict[str, float], points: int) -> None:
    """Projected time to ``(1 - WITHIN)`` of each published metric from the last ``points`` evaluations."""
    recent = history.tail(points)
    for metric, column in (("recall", "val_recall"), ("ndcg", "val_ndcg")):
        goal = (1 - WITHIN) * published[metric]
        a, b, seconds = projected_seconds(recent["elapsed_s"].to_numpy(), recent[column].to_numpy(), goal)
        when = f"{seconds / 60:.0f} min" if math.isfinite(seconds) else "not reached (asymptote below the goal)"
        print(f"{metric}@20: last {recent[column].iloc[-1]:.4f}, goal {goal:.4f} ({1 - WITHIN:.0%} of "
              f"{published[metric]:.4f}); fit {a:.4f} {b:+.1f}/t over the last {len(recent)} evaluations -> {when}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="data root (default: $XREC_DATA_DIR)")
    parser.add_argument("--minutes", type=float, default=10.0, help="training budget (stops after the epoch)")
    parser.add_argument("--batch-size", type=int, default=16384)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--lr-decay", type=float, default=0.97, help="per-epoch learning-rate factor")
    parser.add_argument("--l2", type=float, default=1e-4)
    parser.add_argument("--negatives", type=int, default=1, help="negatives drawn per training interaction")
    parser.add_argument("--hard", action="store_true",
                        help="train on the highest-scoring of the negatives (dynamic negative sampling)")
    parser.add_argument("--eval-every", type=int, default=2)
    parser.add_argument("--fit-points", type=int, default=4, help="evaluations used by the projection")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--epochs", type=int, default=100_000, help="epoch cap")
    parser.add_argument("--select-on-valid", action="store_true",
                        help="choose the number of epochs on valid.txt first (module docstring)")
    parser.add_argument("--patience", type=int, default=2, help="evaluations without improvement (validation)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    published = published_values()
    epochs = args.epochs
    if args.select_on_valid:
        print("1) number of epochs chosen on valid.txt (trained on train.txt alone)")
        chosen = train(load_gowalla(args.data_dir, validation=True), args, epochs, args.patience)
        epochs = int(chosen.best_epoch)
        print(f"best validation NDCG@20 {chosen.best_score:.4f} at epoch {epochs}\n"
              f"2) train.txt + valid.txt for {epochs} epochs; the test evaluation at epoch {epochs} is the result")
    history = train(load_gowalla(args.data_dir), args, epochs, 100_000).history.dropna(subset=["val_ndcg"])
    print(f"published (3 layers): recall@20 {published['recall']:.4f}, ndcg@20 {published['ndcg']:.4f}")
    if args.select_on_valid:
        last = history.iloc[-1]
        print(f"result at epoch {int(last['epoch'])}: recall@20 {last['val_recall']:.4f} "
              f"({last['val_recall'] / published['recall']:.1%}), ndcg@20 {last['val_ndcg']:.4f} "
              f"({last['val_ndcg'] / published['ndcg']:.1%})")
    elif len(history) >= 2:
        report_projection(history, published, args.fit_points)


def train(data, args, epochs: int, patience: int):
    """LightGCN (3 layers, 64 dims) on ``data.train``, evaluated on ``data.test`` every ``--eval-every`` epochs
    (and at the last epoch); early stopping after ``patience`` evaluations without improvement."""
    torch.manual_seed(0)
    model = LightGCN(GraphData.from_interactions(data.train), dim=64, n_layers=3)
    config = EncoderTrainConfig(epochs=epochs, batch_size=args.batch_size, lr=args.lr, lr_decay=args.lr_decay,
                                l2=args.l2, n_negatives=args.negatives, hard_negatives=args.hard, patience=patience,
                                eval_every=args.eval_every, max_minutes=args.minutes, device=args.device,
                                on_epoch=print_evaluation)
    print(f"{data.name}: {data.train.shape[0]} users x {data.train.shape[1]} items, {data.train.nnz} training "
          f"interactions, {data.test.nnz} evaluated; batch {args.batch_size}, lr {args.lr} x {args.lr_decay}/epoch, "
          f"{args.negatives} negative(s){' (hardest)' if args.hard else ''}, l2 {args.l2}, {args.threads} threads, "
          f"{args.device}", flush=True)
    return train_encoder(model, data.train, data.test, config)


if __name__ == "__main__":
    main()
