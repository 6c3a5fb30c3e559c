"""LightGCN (3 layers, 64 dims) on the LightGCN Gowalla split with our training loop and metrics.

train = ``train.txt`` + ``valid.txt``, test = ``test.txt`` (:func:`xrec_lib.data.gowalla.load_gowalla`).
Schedule for speed: large batches, a high learning rate, one CSR propagation per step. Test Recall@20 and
NDCG@20 (full ranking, training items excluded) are printed every ``--eval-every`` epochs against wall time,
beside the published values of the original implementation (:mod:`xrec_lib.papers`); the curve is a test-set curve, no model selection is made
on it (the last evaluation is the result). Training stops when ``--minutes`` are spent; the projected time to
reach the published Recall@20 is extrapolated linearly from the last two evaluations.

    python benchmarks/gowalla_lightgcn.py --minutes 10 --batch-size 16384 --lr 5e-3
"""

from __future__ import annotations

import argparse

import torch

from xrec_lib import papers
from xrec_lib.data.gowalla import load_gowalla
from xrec_lib.models import GraphData, LightGCN
from xrec_lib.train import TrainConfig, fit


def published_values() -> dict[str, float]:
    """Recall@20 and NDCG@20 of 3-layer LightGCN from the original implementation's README (kuandeng/LightGCN)."""
    return {metric: next(v.value for v in papers.lookup(paper="lightgcn-gowalla", metric=metric, model="LightGCN",
                                                         k=20, n_layers=3) if v.source.startswith("kuandeng"))
            for metric in ("recall", "ndcg")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="data root (default: $XREC_DATA_DIR)")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--batch-size", type=int, default=16384)
    parser.add_argument("--lr", type=float, default=5e-3)
    parser.add_argument("--l2", type=float, default=1e-4)
    parser.add_argument("--eval-every", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    data = load_gowalla(args.data_dir)
    model = LightGCN(GraphData.from_interactions(data.train), dim=64, n_layers=3)
    config = TrainConfig(epochs=100_000, batch_size=args.batch_size, lr=args.lr, l2=args.l2, patience=100_000,
                         eval_every=args.eval_every, max_minutes=args.minutes, device=args.device, progress=False)
    published = published_values()
    history = fit(model, data.train, data.test, config).history.dropna(subset=["val_ndcg"])
    print(history[["epoch", "elapsed_s", "loss", "val_recall", "val_ndcg"]]
          .rename(columns={"val_recall": "test_recall@20", "val_ndcg": "test_ndcg@20"}).to_string(index=False))
    print(f"published (3 layers): recall@20 {published['recall']:.4f}, ndcg@20 {published['ndcg']:.4f}")
    if len(history) >= 2:
        (t0, r0), (t1, r1) = history[["elapsed_s", "val_recall"]].iloc[-2:].to_numpy()
        rate = (r1 - r0) / (t1 - t0)
        gap = published["recall"] - r1
        projection = f"{gap / rate / 60:.0f} more minutes at the last rate" if rate > 0 and gap > 0 else "n/a"
        print(f"last recall@20 {r1:.4f} after {t1 / 60:.1f} min; to the published value: {projection}")


if __name__ == "__main__":
    main()
