"""The text of notebook 04 that is computed from a run: a worked example through GConv-Transform, and the
interpretation of Tables 1-3 beside the paper's values.

* :func:`trace_example`: one ego-subgraph (the query node of the purchase to predict + the user's most recent
  behaviours) through a :class:`~xrec_lib.models.gconv_transform.GConvTransform` stage by stage: the tensor shape
  after every stage, the first block's attention weights of node 0 over the subgraph's nodes, and the predicted
  class probabilities beside the label (:class:`WorkedExample`, :func:`worked_example_markdown`);
* :func:`table1_interpretation`, :func:`table2_interpretation`, :func:`table3_interpretation`: Markdown built from
  the per-seed rows of the run (orderings, differences with their 95% bootstrap interval over seeds, the paper's
  own gap and trend);
* :func:`run_scale_markdown`: the scale this run actually used.

Accuracy differences are in percentage points; an interval needs at least two seeds. The verdicts (paired tests,
Holm's correction) are decided once at the end of the notebook (:func:`xrec_lib.studies.paper002.tables.verdicts`);
the intervals here are the same bootstrap intervals (:func:`xrec_lib.compare.bootstrap_interval`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from scipy import stats
from torch_geometric.nn import DenseGCNConv

from xrec_lib import papers
from xrec_lib.compare import bootstrap_interval, paired
from xrec_lib.data.synthetic_shopping import BEHAVIOUR_TYPES
from xrec_lib.errors import DataError
from xrec_lib.models.gconv_transform import (DenseChebConv, GConvTransform, SubgraphBatch, scaled_laplacian,
                                             subgraph_adjacency)
from xrec_lib.studies.paper002.settings import ABLATIONS, MODEL_NAMES, OURS
from xrec_lib.studies.paper002.tables import PAPER_VARIANTS, paper_depth
from xrec_lib.studies.paper002.task import ExampleSet

# ------------------------------------------------------------------------------------------- worked example


@dataclass(frozen=True)
class WorkedExample:
    """One ego-subgraph traced through GConv-Transform.

    Attributes:
        index: the example's row in its :class:`~xrec_lib.studies.paper002.task.ExampleSet`.
        nodes: one row per node: ``node`` (0 = the query node, or a candidate product, then the history, most
            recent first), ``role``, ``product`` (missing for the query node), ``behaviour`` and, when the
            products' categories are given, ``category``.
        edges: one row per undirected edge ``u < v`` with its ``kind`` (``star``: candidate-behaviour,
            ``chain``: consecutive behaviours).
        stages: one row per stage: ``stage``, ``code`` (the implementing function), ``shape`` of the batch tensor
            after it and ``node-0 norm`` (L2 norm of node 0's state).
        attention: the first block's attention weights of node 0 (the query) over every node (keys), one column
            per head and their ``mean``, with the node's role, product and behaviour; empty when the model has no
            attention.
        logits / probabilities: the model's ``C`` class logits at node 0 and their softmax; ``label``: the true
            class (a category; 1 = bought / 0 = not bought in the binary fallback).
        forward_logits: ``model(batch)`` on the padded example, which the trace must reproduce.
        class_names: names of the classes (empty: classes are shown by number).
    """

    index: int
    nodes: pd.DataFrame
    edges: pd.DataFrame
    stages: pd.DataFrame
    attention: pd.DataFrame
    logits: np.ndarray
    probabilities: np.ndarray
    label: int
    forward_logits: np.ndarray
    class_names: tuple[str, ...] = ()

    @property
    def predicted(self) -> int:
        """The class with the highest probability."""
        return int(np.argmax(self.probabilities))

    @property
    def n_classes(self) -> int:
        return len(self.probabilities)

    @property
    def matches_forward(self) -> bool:
        return bool(np.allclose(self.logits, self.forward_logits, rtol=1e-4, atol=1e-4))

    def class_name(self, k: int) -> str:
        return f"{self.class_names[k]} (class {k})" if self.class_names else f"class {k}"


def choose_example(examples: ExampleSet, label: int | None = None) -> int:
    """Index of the first example (of class ``label``; any class when None) with the most nodes."""
    lengths = examples.lengths.numpy()
    allowed = np.ones(len(lengths), bool) if label is None else examples.labels.numpy() == label
    if not allowed.any():
        raise DataError(f"no example with label {label}")
    return int(np.flatnonzero(allowed & (lengths == lengths[allowed].max()))[0])


def trained_model(runs, seed: int, model: str = OURS) -> torch.nn.Module:
    """The trained module of ``model``'s measured fit (label ``selected``) on ``seed`` among ``runs.fits``
    (a :class:`~xrec_lib.studies.paper002.protocol.Runs`)."""
    for run in runs.fits:
        labels = run.labels
        if labels.get("model") == model and labels.get("seed") == seed and labels.get("selected", True):
            return run.fit.module
    raise DataError(f"no measured fit of {model} on seed {seed}")


def _node_table(batch: SubgraphBatch, padding_id: int, categories: np.ndarray | None) -> pd.DataFrame:
    codes, items = batch.behaviours[0].tolist(), batch.items[0].tolist()
    query = items[0] == padding_id
    table = pd.DataFrame({
        "node": range(len(codes)),
        "role": [("query (next purchase)" if query else "candidate") if i == 0 else "history"
                 for i in range(len(codes))],
        "product": pd.array([None if i == 0 and query else item for i, item in enumerate(items)], dtype="Int64"),
        "behaviour": [("(to predict)" if query else "(candidate)") if code == 0 else BEHAVIOUR_TYPES[code - 1]
                      for code in codes],
    })
    if categories is not None:
        table["category"] = pd.array([None if i == 0 and query else int(categories[item])
                                      for i, item in enumerate(items)], dtype="Int64")
    return table


def _edge_table(adjacency: torch.Tensor) -> pd.DataFrame:
    u, v = torch.triu(adjacency[0], diagonal=1).nonzero(as_tuple=True)
    return pd.DataFrame({"u": u.tolist(), "v": v.tolist(),
                         "kind": ["star" if a == 0 else "chain" for a in u.tolist()]})


def trace_example(model: GConvTransform, examples: ExampleSet, index: int, categories: np.ndarray | None = None,
                  class_names: Sequence[str] = ()) -> WorkedExample:
    """Run example ``index`` of ``examples`` through ``model`` (in eval mode: no dropout) stage by stage, on its
    real nodes only (padding never reaches a real node, so the logits are the padded batch's; ``forward_logits``
    checks them). The stages follow :meth:`GConvTransform.forward` and :meth:`GConvTransformLayer.forward`.
    ``categories`` (each product's category) adds a ``category`` column to the node table."""
    if not 0 <= index < len(examples):
        raise DataError(f"example index {index} outside 0..{len(examples) - 1}")
    device = next(model.parameters()).device
    length = int(examples.lengths[index])
    padded = examples.batch(slice(index, index + 1)).to(device)
    batch = SubgraphBatch(padded.items[:, :length], padded.behaviours[:, :length], padded.lengths)
    was_training = model.training
    model.eval()
    stages, attention = [], None

    def stage(name: str, code: str, h: torch.Tensor) -> None:
        stages.append({"stage": name, "code": code, "shape": " × ".join(map(str, h.shape)),
                       "node-0 norm": float(h[0, 0].norm()) if h.dim() == 3 else float(h[0].norm())})

    try:
        with torch.no_grad():
            forward_logits = model(padded)[0].cpu().numpy()
            mask = batch.mask
            keep = mask[..., None].float()
            adjacency = subgraph_adjacency(mask)
            laplacian = scaled_laplacian(adjacency)
            x = model.node_input(batch)
            stage("node features [id | side features | behaviour one-hot]", "NodeInput.forward", x)
            h = model.input_norm(x) * keep
            stage("LayerNorm", "GConvTransform.input_norm", h)
            h = model._chebyshev(model.encoder, h, laplacian) * keep
            encoder = (f"DenseChebConv (K = {model.encoder.k})" if isinstance(model.encoder, DenseChebConv)
                       else "Linear (no ChebConv)")
            stage(f"encoder: {encoder}", "GConvTransform.encoder", h)
            for number, layer in enumerate(model.layers, start=1):
                if layer.attention is not None:
                    normed = layer.attention_norm(h)
                    attended, weights = layer.attention(normed, normed, normed, key_padding_mask=~mask,
                                                        need_weights=True, average_attn_weights=False)
                    h = h + layer.dropout(attended)
                    stage(f"block {number}: h + MultiHeadAttention(LayerNorm(h))", "GConvTransformLayer.forward", h)
                    if attention is None:
                        attention = weights[0, :, 0, :].cpu()
                normed = layer.graph_norm(h)
                convolved = (layer.graph_conv(normed, adjacency, mask) if isinstance(layer.graph_conv, DenseGCNConv)
                             else layer.graph_conv(normed))
                h = (h + layer.dropout(torch.relu(convolved))) * mask[..., None]
                stage(f"block {number}: h + ReLU(GCN(LayerNorm(h)))", "GConvTransformLayer.forward", h)
            h = model.output_norm(h) * keep
            stage("LayerNorm", "GConvTransform.output_norm", h)
            out = model._chebyshev(model.decoder, h, laplacian)
            n_classes = out.shape[-1]
            decoder = (f"DenseChebConv (K = {model.decoder.k}, out = C = {n_classes})"
                       if isinstance(model.decoder, DenseChebConv) else f"Linear (out = C = {n_classes})")
            stage(f"decoder: {decoder}", "GConvTransform.decoder", out)
            logits = out[:, 0]
            stage("class logits of node 0", "GConvTransform.forward", logits)
            probabilities = torch.softmax(logits, dim=-1)
            stage("class probabilities softmax(logits)", "torch.softmax", probabilities)
    finally:
        model.train(was_training)
    nodes = _node_table(batch.to("cpu"), model.node_input.item_features.shape[0] - 1, categories)
    if attention is None:
        weights_table = pd.DataFrame(columns=["node", "role", "product", "behaviour", "mean"])
    else:
        weights_table = nodes.copy()
        for head in range(attention.shape[0]):
            weights_table[f"head {head + 1}"] = attention[head].numpy()
        weights_table["mean"] = attention.mean(0).numpy()
    return WorkedExample(index=index, nodes=nodes, edges=_edge_table(adjacency.cpu()), stages=pd.DataFrame(stages),
                         attention=weights_table, logits=logits[0].cpu().numpy(),
                         probabilities=probabilities[0].cpu().numpy(), label=int(examples.labels[index]),
                         forward_logits=forward_logits, class_names=tuple(class_names))


def worked_example_markdown(example: WorkedExample, data: str = "") -> str:
    """What the worked example shows, in a few sentences computed from it."""
    history = example.nodes[example.nodes["node"] > 0]
    counts = history["behaviour"].value_counts()
    kinds = example.edges["kind"].value_counts()
    query = example.nodes.loc[0, "role"].startswith("query")
    where = f" ({data})" if data else ""
    head = ("the query node of the purchase to predict" if query
            else f"candidate product {int(example.nodes.loc[0, 'product'])}")
    lines = [
        f"**Example {example.index}{where}.** Node 0: {head}; {len(history)} history nodes, the "
        f"user's most recent behaviours ({', '.join(f'{n} {kind}' for kind, n in counts.items())}); "
        f"{len(example.edges)} undirected edges ({int(kinds.get('star', 0))} star edges node 0–behaviour, "
        f"{int(kinds.get('chain', 0))} chain edges between consecutive behaviours; node 1 is the most recent): "
        + "; ".join(f"{kind} " + ", ".join(f"{u}–{v}" for u, v in zip(group["u"], group["v"]))
                    for kind, group in example.edges.groupby("kind", sort=False)) + ".",
    ]
    if "category" in example.nodes:
        shown = history["category"].value_counts()
        same = int((history["category"] == example.label).sum())
        lines.append(f"**History categories:** {', '.join(f'{int(c)} ×{n}' for c, n in shown.items())}; "
                     f"{same} of {len(history)} history nodes are in the label's category.")
    top = np.argsort(-example.probabilities)[:3]
    lines.append(
        f"**Label:** {example.class_name(example.label)}. **Prediction:** {example.class_name(example.predicted)} "
        f"with probability {example.probabilities[example.predicted]:.3f} "
        f"({'correct' if example.predicted == example.label else 'wrong'}); the label's probability "
        f"{example.probabilities[example.label]:.3f}, a uniform guess {1 / example.n_classes:.3f} "
        f"(C = {example.n_classes}); top 3: "
        + ", ".join(f"{example.class_name(int(k))} {example.probabilities[k]:.3f}" for k in top) + ".")
    if not example.attention.empty:
        weights = example.attention.set_index("node")["mean"]
        top_node = int(weights.drop(index=0).idxmax()) if len(weights) > 1 else 0
        row = example.attention.set_index("node").loc[top_node]
        lines.append(
            f"**Attention (block 1, mean over {sum(c.startswith('head') for c in example.attention.columns)} "
            f"heads):** node 0 keeps {weights.loc[0]:.3f} on itself and puts most weight on node {top_node} "
            f"({row['behaviour']} of product {row['product']}, {weights.loc[top_node]:.3f}); uniform weights would "
            f"be {1 / len(weights):.3f} each.")
    if not example.matches_forward:
        gap = float(np.abs(example.logits - example.forward_logits).max())
        lines.append(f"Warning: the trace's logits differ from the model's forward pass by up to {gap:.4f}.")
    return "\n\n".join(lines)


# ------------------------------------------------------------------------------------------- differences


def paired_gap(per_seed: pd.DataFrame, by: str, better: object, worse: object,
               metric: str = "accuracy") -> dict:
    """Mean over seeds of ``better - worse`` on ``metric`` (paired by seed) with its 95% bootstrap interval
    (NaN with fewer than 2 seeds) and the number of seeds."""
    a, b = paired(per_seed, by, better, worse, metric)
    low, high = bootstrap_interval(a - b)
    return {"mean": float((a - b).mean()), "low": low, "high": high, "n": len(a)}


def _points(value: float) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{100 * value:+.1f}"


def reading(gap: dict) -> str:
    """Which side of 0 the interval lies on: ``"above 0"`` / ``"below 0"`` / ``"covers 0"`` / one seed."""
    if gap["n"] < 2 or math.isnan(gap["low"]):
        return "one seed: no interval"
    if gap["low"] > 0:
        return "interval above 0"
    if gap["high"] < 0:
        return "interval below 0"
    return "interval covers 0"


def _gap_text(gap: dict, paper_gap: float) -> str:
    interval = "" if math.isnan(gap["low"]) else f" [{_points(gap['low'])}, {_points(gap['high'])}]"
    paper = "the paper prints no value" if math.isnan(paper_gap) else f"paper {_points(paper_gap)}"
    agree = ""
    if not math.isnan(paper_gap) and gap["mean"] != 0:
        agree = "; same sign as the paper" if (gap["mean"] > 0) == (paper_gap > 0) else "; opposite sign to the paper"
    return f"{_points(gap['mean'])} points{interval} ({reading(gap)}); {paper}{agree}"


# ------------------------------------------------------------------------------------------- Table 1


def _paper_table1(metric: str, model: str) -> float:
    return papers.value(paper="002", source="Table 1", metric=metric, model=model)


def ordering(values: pd.Series, ascending: bool) -> list[str]:
    """Names sorted by value (NaN dropped; ties by name)."""
    frame = values.dropna().rename("v").rename_axis("name").reset_index()
    return frame.sort_values(["v", "name"], ascending=[ascending, True])["name"].tolist()


def _rank_text(ours: list[str], theirs: list[str], name: str) -> str:
    shared = [m for m in ours if m in theirs]
    tau = (stats.kendalltau([ours.index(m) for m in shared], [theirs.index(m) for m in shared]).statistic
           if len(shared) > 1 else math.nan)
    ours_rank = f"{ours.index(name) + 1} of {len(ours)}" if name in ours else "absent"
    theirs_rank = f"{theirs.index(name) + 1} of {len(theirs)}" if name in theirs else "absent"
    return f"{name} ranks {ours_rank} here, {theirs_rank} in the paper; Kendall's τ of the two orderings = {tau:.2f}"


def table1_orderings(per_seed: pd.DataFrame) -> pd.DataFrame:
    """Per quantity (accuracy best first, inference time fastest first, parameters fewest first): our ordering by
    the mean over seeds and the paper's Table 1 ordering."""
    means = per_seed.groupby("model")[["accuracy", "inference_ms", "params"]].mean()
    models = [m for m in MODEL_NAMES if m in means.index]
    rows = []
    for column, metric, ascending, label in (("accuracy", "accuracy", False, "accuracy (best first)"),
                                             ("inference_ms", "inference_time", True, "inference time (fastest first)"),
                                             ("params", "complexity", True, "parameters (fewest first)")):
        paper = pd.Series({m: _paper_table1(metric, m) for m in models})
        rows.append({"quantity": label, "ours": ordering(means.loc[models, column], ascending),
                     "paper": ordering(paper, ascending)})
    return pd.DataFrame(rows).set_index("quantity")


def size_sentence(per_seed: pd.DataFrame, n_layers: int, hidden: int | None = None) -> str:
    """The paper's GConv-Transform (its N from Table 3, its parameters from Table 1) beside the one this run
    trained (``n_layers``, the parameters recorded in its rows)."""
    paper_params = _paper_table1("complexity", OURS)
    ours = per_seed.loc[per_seed["model"] == OURS, "params"]
    if ours.empty:
        raise DataError(f"no {OURS} rows in the Table-1 results")
    params = float(ours.iloc[0])
    width = f", width d = {hidden}" if hidden is not None else ""
    return (f"The paper's GConv-Transform stacks N = {paper_depth()} layers and has {paper_params / 1e6:.1f} M "
            f"parameters; the one this run trained stacks N = {int(n_layers)}{width} and has "
            f"{params / 1e6:.3f} M parameters ({int(params):,}), {paper_params / params:,.0f}× fewer.")


def table1_interpretation(per_seed: pd.DataFrame, n_layers: int, hidden: int | None = None) -> str:
    """Markdown: our orderings against the paper's, GConv-Transform against each baseline on accuracy (mean
    difference over seeds, 95% bootstrap interval, the paper's gap) and the model's size against the paper's."""
    orders = table1_orderings(per_seed)
    n_seeds = per_seed["seed"].nunique()
    lines = [f"**Orderings ({n_seeds} seed{'s' if n_seeds != 1 else ''}; means over seeds).**"]
    for quantity, row in orders.iterrows():
        lines.append(f"- {quantity}: ours {', '.join(row['ours'])}; paper {', '.join(row['paper'])}. "
                     f"{_rank_text(row['ours'], row['paper'], OURS)}.")
    lines.append("")
    lines.append(f"**{OURS} minus each baseline, accuracy (points, 95% bootstrap interval over seeds; the paper's "
                 "Table 1 gap).**")
    paper_ours = _paper_table1("accuracy", OURS)
    for other in MODEL_NAMES:
        if other == OURS or other not in set(per_seed["model"]):
            continue
        gap = paired_gap(per_seed, "model", OURS, other)
        lines.append(f"- vs {other}: {_gap_text(gap, paper_ours - _paper_table1('accuracy', other))}.")
    lines += ["", size_sentence(per_seed, n_layers, hidden)]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------- Table 2


def _paper_variant(variant: str) -> float:
    if variant not in PAPER_VARIANTS:
        return math.nan
    return papers.value(paper="002", source="Table 2", metric="accuracy", model=OURS,
                        variant=PAPER_VARIANTS[variant])


def table2_interpretation(ablation: pd.DataFrame, table1: pd.DataFrame) -> str:
    """Markdown: what removing each part costs (full model minus the variant, accuracy points, interval over seeds)
    beside the paper's drop (its Table 1 accuracy minus its Table 2 row), and which removal hurts most here and in
    the paper."""
    rows = pd.concat([table1[table1["model"] == OURS], ablation], ignore_index=True)
    paper_full = _paper_table1("accuracy", OURS)
    variants = [v for v in ABLATIONS if v in set(ablation["model"])]
    if not variants:
        raise DataError("no ablation variant in the rows")
    gaps = {v: paired_gap(rows, "model", OURS, v) for v in variants}
    lines = ["**What each removal costs (full model minus the variant, accuracy points, 95% bootstrap interval "
             "over seeds; the paper's drop).**"]
    for variant, gap in gaps.items():
        lines.append(f"- {variant}: {_gap_text(gap, paper_full - _paper_variant(variant))}.")
    worst = max(gaps, key=lambda v: gaps[v]["mean"])
    paper_drops = {v: paper_full - _paper_variant(v) for v in variants if not math.isnan(_paper_variant(v))}
    paper_worst = max(paper_drops, key=paper_drops.get) if paper_drops else None
    lines.append("")
    sentence = f"The largest drop here comes {worst} ({_points(gaps[worst]['mean'])} points)"
    if paper_worst is not None:
        sentence += (f"; in the paper's Table 2 {paper_worst} ({_points(paper_drops[paper_worst])} points)"
                     f" — {'the same part' if worst == paper_worst else 'a different part'}")
    lines.append(sentence + ".")
    attention, graph = "without attention", "without graph convolution"
    if attention in gaps and graph in gaps:
        more = "more" if gaps[attention]["mean"] > gaps[graph]["mean"] else "less"
        lines.append(f"\nThe paper's text says attention matters more than graph convolution (no printed row "
                     f"isolates it): here removing attention costs {more} than removing the graph convolution "
                     f"({_points(gaps[attention]['mean'])} vs {_points(gaps[graph]['mean'])} points).")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------- Table 3


def trend(values: Sequence[float]) -> str:
    """``"rises"`` (every step up), ``"falls"`` (every step down), ``"mixed"`` or ``"single"`` (one value)."""
    steps = np.diff(np.asarray(values, dtype=float))
    if len(steps) == 0:
        return "single"
    if (steps > 0).all():
        return "rises"
    if (steps < 0).all():
        return "falls"
    return "mixed"


_TREND_WORDS = {"rises": "rises at every step", "falls": "falls at every step", "mixed": "does not change in one "
                "direction", "single": "has a single N, so no trend"}


def paper_depth_accuracy() -> pd.Series:
    """The paper's Table 3: accuracy by N."""
    values = papers.lookup(paper="002", source="Table 3", metric="accuracy", model=OURS)
    return pd.Series({int(v.setting["n_layers"]): v.value for v in values}).sort_index()


def table3_interpretation(depth: pd.DataFrame) -> str:
    """Markdown: accuracy by N in this run (each step with its interval over seeds), its trend against the
    paper's Table 3 trend, and whether the N values overlap."""
    ours = depth.groupby("n_layers")["accuracy"].mean().sort_index()
    paper = paper_depth_accuracy()
    n_seeds = depth["seed"].nunique()
    ours_trend, paper_trend = trend(ours.to_numpy()), trend(paper.to_numpy())
    lines = [f"**This run ({n_seeds} seed{'s' if n_seeds != 1 else ''}):** accuracy "
             + ", ".join(f"N = {n}: {value:.3f}" for n, value in ours.items())
             + f" — it {_TREND_WORDS[ours_trend]}.", ""]
    for shallow, deep in zip(ours.index, ours.index[1:]):
        gap = paired_gap(depth, "n_layers", deep, shallow)
        interval = "" if math.isnan(gap["low"]) else f" [{_points(gap['low'])}, {_points(gap['high'])}]"
        lines.append(f"- N = {shallow} → {deep}: {_points(gap['mean'])} points{interval} ({reading(gap)}).")
    steps = ", ".join(_points(s) for s in np.diff(paper.to_numpy()))
    lines.append("\n**The paper's Table 3:** " + ", ".join(f"N = {n}: {value:.3f}" for n, value in paper.items())
                 + f" — it {_TREND_WORDS[paper_trend]} ({steps} points).")
    agree = "the same trend as the paper" if ours_trend == paper_trend else "not the paper's trend"
    overlap = sorted(set(ours.index) & set(paper.index))
    where = (f"N = {', '.join(map(str, overlap))} appear in both" if overlap else
             f"our N ({', '.join(map(str, ours.index))}) and the paper's ({', '.join(map(str, paper.index))}) do not "
             "overlap, so only the direction can be compared")
    lines.append(f"\nHere: {agree}; {where}.")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------- scale


def run_scale_markdown(settings, statistics: pd.DataFrame) -> str:
    """The scale this run used: share of the paper's behaviours, the task sizes (from
    :func:`~xrec_lib.studies.paper002.task.task_statistics`), the model's size and the training cap."""
    paper_behaviours = papers.value(paper="002", metric="behaviours")
    first = statistics.iloc[0]
    task = ""
    if "classes" in statistics:
        task = (f"**Task:** {first['task']}: top-1 accuracy over C = {int(first['classes'])} classes, chance "
                f"1/C = {first['chance']:.1%}")
        if "majority class share (test)" in statistics:
            task += f"; the most frequent test class holds {first['majority class share (test)']:.1%} of seed " \
                    f"{statistics.index[0]}'s test examples"
        task += ".\n\n"
    return task + (
            f"**Scale of this run:** synthetic logs of {settings.scale:.2%} of the paper's {paper_behaviours:,.0f} "
            f"behaviours ({settings.scale * paper_behaviours:,.0f} per seed); {len(statistics)} seed(s); seed "
            f"{statistics.index[0]}: {int(first['users']):,} users, {int(first['products']):,} products, "
            f"{int(first['train examples']):,} / {int(first['validation examples']):,} / "
            f"{int(first['test examples']):,} train / validation / test examples, up to {settings.history_len} "
            f"behaviours per subgraph. GConv-Transform: N = {settings.n_layers}, d = {settings.hidden}, "
            f"{settings.heads} heads, K = {settings.cheb_k}; every fit at most {settings.max_epochs} epochs "
            f"(patience {settings.patience}); Table 3 sweeps N = {', '.join(map(str, settings.depth.values))}.")
