"""Neighbour-sampled against full-graph training of the paper-000 encoders: cost per step and quality reached.

Two measurements, both through notebook 01's own training path
(:func:`xrec_lib.studies.paper000.representation.run_representation`; ``fanouts`` of
:class:`~xrec_lib.studies.paper000.settings.RepresentationSettings`, :mod:`xrec_lib.models.sampling`):

1. **Cost per step at the paper's scale** (synthetic paper-000 data at the paper's counts, ``--scale``): for each
   encoder and each fanout setting, the seconds per optimisation step (mean over ``--steps`` steps after one
   warm-up step), the nodes whose vectors a step computes (``V_0``: the whole graph on the full-graph path) and the
   peak resident memory of a fresh process doing those steps, with the batch size of ``--batch-sizes``.
2. **Quality** at the paper profile's scale (``--quality-scale``, sparse scenario, seed 0): each encoder trained to
   early stopping with the paper profile's settings on the full graph and with each fanout setting; target-domain
   test HR@20 and NDCG@20 (full ranking), epochs and minutes.

Prints both tables; ``--out`` writes them as Markdown.

    python benchmarks/bench_sampled_training.py --threads 1 --out benchmarks/results/sampled_training.md
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

from xrec_lib.config import load_config
from xrec_lib.data.synthetic_crossdomain import generate_crossdomain_cached
from xrec_lib.models.encoders import ENCODERS, GraphData
from xrec_lib.models.sampling import NeighbourSampler
from xrec_lib.models.siamese_gcn import CrossDomainViews
from xrec_lib.studies.paper000.representation import run_representation, scaled_synthetic_config
from xrec_lib.studies.paper000.representation_tuning import load_tuned, NOTEBOOK as TUNED
from xrec_lib.studies.paper000.settings import RepresentationSettings
from xrec_lib.training.encoders import EncoderObjective

NOTEBOOK = "01_siamese_gcn"


def parse_fanouts(text: str):
    """``"full"`` -> None; ``"10,10"`` -> [10, 10]."""
    return None if text == "full" else [int(f) for f in text.split(",")]


def paper_settings(threads: int, **values) -> RepresentationSettings:
    config = load_config(NOTEBOOK, "paper", threads=threads, device="cpu")
    return RepresentationSettings.from_config(config, device="cpu", **values)


def step_worker(model_name: str, fanouts, scale: float, batch_size: int, steps: int, threads: int) -> dict:
    """Seconds per step and nodes per step of ``model_name`` on the data at ``scale`` (a fresh process)."""
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    data = generate_crossdomain_cached(scaled_synthetic_config(scale, "sufficient"), seed=0)
    settings = paper_settings(threads, batch_size=batch_size, fanouts=fanouts)
    train = sp.csr_matrix(data.interaction_matrix("train"))
    graph = GraphData.from_dataset(data, model_name not in ("MF", "LightGCN"))
    views = CrossDomainViews.from_interactions(train, data.product_domain) if model_name == "Siamese GCN" else None
    model = ENCODERS.build(model_name, graph, settings, views)
    objective = EncoderObjective(model, train, None, settings.train_config(0))
    optimiser = torch.optim.Adam(model.parameters(), lr=settings.lr)
    nodes, times = [], []
    if objective.sampler is not None:  # count the nodes of V_0 with the same draws as the steps
        counting = NeighbourSampler(model.propagation_matrix(), objective.sampler.fanouts, seed=0)
    for step, batch in enumerate(objective.batches(0)):
        if step > steps:
            break
        started = time.perf_counter()
        loss, _ = objective.loss(batch)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if step > 0:
            times.append(time.perf_counter() - started)
            if objective.sampler is None:
                nodes.append(graph.n_nodes)
            else:
                u, i, j = batch
                items = torch.unique(torch.cat([i, j.reshape(-1), model.batch_items(u)]))
                seeds = torch.cat([torch.unique(u), items + model.n_users])
                nodes.append(len(counting.sample(seeds).nodes))
    return {"model": model_name, "fanouts": "full graph" if fanouts is None else str(fanouts),
            "batch": batch_size, "s_per_step": round(float(np.mean(times)), 3),
            "nodes_per_step": int(np.mean(nodes)), "graph_nodes": graph.n_nodes,
            "peak_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)}


def quality(models, fanout_settings, scale: float, threads: int) -> pd.DataFrame:
    """HR@20 / NDCG@20 of each encoder trained to early stopping, full graph and each fanout setting."""
    torch.set_num_threads(threads)
    data = generate_crossdomain_cached(scaled_synthetic_config(scale, "sparse"), seed=0)
    rows = []
    for fanouts in [None, *fanout_settings]:
        settings = paper_settings(threads, fanouts=fanouts)
        for model in models:
            started = time.perf_counter()
            run = run_representation(data, settings, [0], label="synthetic", models=[model],
                                     tuned=load_tuned(TUNED))
            metrics = run.metrics[run.metrics["k"] == 20].iloc[0]
            history = run.fits[0][1]
            rows.append({"model": model, "fanouts": "full graph" if fanouts is None else str(fanouts),
                         "HR@20": round(float(metrics["hr"]), 4), "NDCG@20": round(float(metrics["ndcg"]), 4),
                         "epochs": len(history.history), "best_epoch": history.best_epoch,
                         "stopped_by": history.stopped_by,
                         "minutes": round((time.perf_counter() - started) / 60, 2)})
            print(rows[-1], flush=True)
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=["GCN", "LightGCN", "Siamese GCN"])
    parser.add_argument("--fanouts", nargs="*", default=["10,10", "5,5"],
                        help="settings to compare with the full graph: neighbours per hop, e.g. 10,10 (fitted to "
                             "each encoder's depth: xrec_lib.models.sampling.parse_fanouts)")
    parser.add_argument("--scale", type=float, default=1.0, help="data scale of the cost table")
    parser.add_argument("--batch-sizes", nargs="*", type=int, default=[8192, 1024])
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--quality-scale", type=float, default=0.1)
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--worker-fanouts", default="full", help=argparse.SUPPRESS)
    parser.add_argument("--worker-batch", type=int, default=8192, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(step_worker(args.worker, parse_fanouts(args.worker_fanouts), args.scale, args.worker_batch,
                                     args.steps, args.threads)))
        return
    cost_rows = []
    for model in args.models:
        for batch in args.batch_sizes:
            for text in ["full", *args.fanouts]:
                done = subprocess.run([sys.executable, __file__, "--worker", model, "--worker-fanouts", text,
                                       "--worker-batch", str(batch), "--scale", str(args.scale),
                                       "--steps", str(args.steps), "--threads", str(args.threads)],
                                      capture_output=True, text=True)
                if done.returncode != 0:
                    raise SystemExit(done.stderr)
                cost_rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
                print(cost_rows[-1], flush=True)
    cost = pd.DataFrame(cost_rows)
    full = cost[cost["fanouts"] == "full graph"].set_index(["model", "batch"])["s_per_step"]
    cost["speed-up"] = [round(full[(r.model, r.batch)] / r.s_per_step, 2) for r in cost.itertuples()]
    header = (f"{date.today()}, torch {torch.__version__}, CPU, {args.threads} thread(s); synthetic paper-000 data")
    print(header)
    print(cost.to_string(index=False))
    sections = [f"## Cost per step, scale {args.scale:g} (sufficient scenario; {args.steps} steps after a warm-up "
                f"step, each setting in a fresh process)\n\n{cost.to_markdown(index=False)}"]
    if not args.skip_quality:
        fanout_settings = [parse_fanouts(text) for text in args.fanouts]
        table = quality(args.models, fanout_settings, args.quality_scale, args.threads)
        print(table.to_string(index=False))
        sections.append(f"## Quality, scale {args.quality_scale:g} (sparse scenario, seed 0, the paper profile's "
                        f"settings and tuned values; target-domain test, full ranking)\n\n"
                        f"{table.to_markdown(index=False)}")
    if args.out:
        command = "python benchmarks/bench_sampled_training.py " + " ".join(sys.argv[1:])
        args.out.write_text("# Neighbour-sampled against full-graph training (paper-000 encoders)\n\n"
                            f"{header}.\n\n`{command}`\n\n" + "\n\n".join(sections) + "\n")


if __name__ == "__main__":
    main()
