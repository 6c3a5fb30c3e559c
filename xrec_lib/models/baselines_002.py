"""The neural baselines of paper 002, Table 1, on the same ego-subgraph input as GConv-Transform.

Every model maps a :class:`~xrec_lib.models.gconv_transform.SubgraphBatch` (the query node, or a candidate
product, at position 0; the user's earlier behaviours at positions ``1..n``) to ``C`` class logits per example
(``n_classes``; softmax / cross-entropy in training, the same for every model), built on the same
:class:`~xrec_lib.models.gconv_transform.NodeInput` features. The paper names the baselines only; the definitions
below are the standard members of each family:

* ``DNN``: MLP on the flattened padded ``S x d_in`` node features (ReLU, dropout).
* ``CNN``: 1-D convolutions (kernel 3, same padding) along the behaviour sequence, then the candidate position's
  features and the masked mean over positions feed a linear head.
* ``DenseNet``: densely connected MLP (Huang et al. 2017 connectivity: each layer sees the concatenation of the
  input and every earlier layer's output) on the flattened features.
* ``DenseCNN``: densely connected 1-D convolution block (feature maps concatenated along channels), same head as CNN.
* ``Graph``: stacked GCN convolutions (ReLU, dropout) on the star + chain subgraph, read out at the candidate node
  (the same dense PyG ``DenseGCNConv`` as inside GConv-Transform).
* ``Attention``: pre-norm transformer encoder over the subgraph's nodes (padding masked) with its final LayerNorm,
  read out at position 0.
* ``SVM`` (:class:`LinearSvm`): scikit-learn's ``LinearSVC`` (``C = 1``, one-vs-rest over the classes) on the
  flattened id-free node features; it has no learning rate and is fitted outside the training loop.

:data:`MODELS` builds the neural models of Table 1 by name (GConv-Transform included) from a
:class:`~xrec_lib.models.gconv_transform.NodeInput`, the subgraph size, the widths (:class:`ModelSizes`) and C.
Each model's width is ``hidden`` (GConv-Transform) or ``baseline_hidden`` (the baselines) unless the sizes'
``widths`` mapping names it: an integer width, or ``"paper"`` for the largest width whose parameter count stays
within the paper's Table 1 "complexity" of that model (:func:`width_for_parameters`; e.g. GConv-Transform 23.4 M,
DenseNet 123.2 M, Attention 327 M).
"""

from __future__ import annotations

from typing import Protocol

from collections.abc import Callable

import numpy as np
import torch
from sklearn.svm import LinearSVC
from torch import nn
from torch_geometric.nn import DenseGCNConv

from xrec_lib.errors import ConfigError
from xrec_lib.models.gconv_transform import (GConvTransform, NodeInput, SubgraphBatch, count_parameters,
                                             subgraph_adjacency)
from xrec_lib.models.registry import Registry

MODELS = Registry("model")


class ModelSizes(Protocol):
    """The widths :data:`MODELS` reads (e.g. a study's settings object)."""

    hidden: int  # GConv-Transform width d
    n_layers: int  # GConv-Transform depth N
    heads: int
    cheb_k: int
    dropout: float
    baseline_hidden: int  # width of the baselines (DenseNet / DenseCNN grow by half of it per layer)
    # optional ``widths``: model name -> width (int) or "paper" (see the module docstring)


class DNN(nn.Module):
    """MLP on the flattened node features: ``S d_in -> hidden -> ... -> C``."""

    def __init__(self, node_input: NodeInput, max_nodes: int, hidden: int = 64, n_layers: int = 2,
                 dropout: float = 0.1, n_classes: int = 2):
        super().__init__()
        self.node_input = node_input
        sizes = [max_nodes * node_input.out_dim] + [hidden] * n_layers
        blocks = [nn.Sequential(nn.Linear(a, b), nn.ReLU(), nn.Dropout(dropout)) for a, b in zip(sizes, sizes[1:])]
        self.mlp = nn.Sequential(*blocks, nn.Linear(sizes[-1], n_classes))

    def forward(self, batch: SubgraphBatch) -> torch.Tensor:
        return self.mlp(self.node_input(batch).flatten(1))


class DenseNet(nn.Module):
    """Densely connected MLP: layer ``j`` gets ``[x, h_1, ..., h_{j-1}]`` and adds ``growth`` features."""

    def __init__(self, node_input: NodeInput, max_nodes: int, growth: int = 32, n_layers: int = 3,
                 dropout: float = 0.1, n_classes: int = 2):
        super().__init__()
        self.node_input = node_input
        width = max_nodes * node_input.out_dim
        self.layers = nn.ModuleList()
        for _ in range(n_layers):
            self.layers.append(nn.Sequential(nn.Linear(width, growth), nn.ReLU(), nn.Dropout(dropout)))
            width += growth
        self.head = nn.Linear(width, n_classes)

    def forward(self, batch: SubgraphBatch) -> torch.Tensor:
        features = self.node_input(batch).flatten(1)
        for layer in self.layers:
            features = torch.cat([features, layer(features)], dim=1)
        return self.head(features)


def sequence_readout(maps: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``[feature map at position 0 | masked mean over positions]`` of ``B x C x S`` maps."""
    weights = mask.float()[:, None, :]
    mean = (maps * weights).sum(-1) / weights.sum(-1).clamp(min=1.0)
    return torch.cat([maps[:, :, 0], mean], dim=1)


class CNN(nn.Module):
    """1-D convolutions (kernel 3) along the sequence ``[candidate, history...]``."""

    def __init__(self, node_input: NodeInput, hidden: int = 64, n_layers: int = 2, dropout: float = 0.1,
                 n_classes: int = 2):
        super().__init__()
        self.node_input = node_input
        channels = [node_input.out_dim] + [hidden] * n_layers
        self.convs = nn.Sequential(*(
            nn.Sequential(nn.Conv1d(a, b, kernel_size=3, padding=1), nn.ReLU(), nn.Dropout(dropout))
            for a, b in zip(channels, channels[1:])
        ))
        self.head = nn.Linear(2 * channels[-1], n_classes)

    def forward(self, batch: SubgraphBatch) -> torch.Tensor:
        maps = self.convs(self.node_input(batch).transpose(1, 2))
        return self.head(sequence_readout(maps, batch.mask))


class DenseCNN(nn.Module):
    """Densely connected 1-D convolution block: each conv sees all earlier feature maps (channel concat)."""

    def __init__(self, node_input: NodeInput, growth: int = 32, n_layers: int = 3, dropout: float = 0.1,
                 n_classes: int = 2):
        super().__init__()
        self.node_input = node_input
        channels = node_input.out_dim
        self.convs = nn.ModuleList()
        for _ in range(n_layers):
            self.convs.append(nn.Sequential(nn.Conv1d(channels, growth, kernel_size=3, padding=1), nn.ReLU(),
                                            nn.Dropout(dropout)))
            channels += growth
        self.head = nn.Linear(2 * channels, n_classes)

    def forward(self, batch: SubgraphBatch) -> torch.Tensor:
        maps = self.node_input(batch).transpose(1, 2)
        for conv in self.convs:
            maps = torch.cat([maps, conv(maps)], dim=1)
        return self.head(sequence_readout(maps, batch.mask))


class GraphGCN(nn.Module):
    """GCN baseline ("Graph"): linear input map, ``n_layers`` x (GCN convolution, ReLU, dropout), linear head at
    node 0."""

    def __init__(self, node_input: NodeInput, hidden: int = 64, n_layers: int = 2, dropout: float = 0.1,
                 n_classes: int = 2):
        super().__init__()
        self.node_input = node_input
        self.encoder = nn.Linear(node_input.out_dim, hidden)
        self.convs = nn.ModuleList(DenseGCNConv(hidden, hidden) for _ in range(n_layers))
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, n_classes)

    def forward(self, batch: SubgraphBatch) -> torch.Tensor:
        mask = batch.mask
        adjacency = subgraph_adjacency(mask)
        h = self.encoder(self.node_input(batch))
        for conv in self.convs:
            h = self.dropout(torch.relu(conv(h, adjacency, mask)))
        return self.head(h[:, 0])


class AttentionTransformer(nn.Module):
    """Transformer baseline ("Attention"): pre-norm encoder layers over the nodes, final LayerNorm, linear head at
    position 0."""

    def __init__(self, node_input: NodeInput, hidden: int = 64, n_layers: int = 2, heads: int = 4,
                 dropout: float = 0.1, n_classes: int = 2):
        super().__init__()
        self.node_input = node_input
        self.encoder = nn.Linear(node_input.out_dim, hidden)
        layer = nn.TransformerEncoderLayer(hidden, heads, dim_feedforward=2 * hidden, dropout=dropout,
                                           batch_first=True, norm_first=True)
        self.transformer = nn.TransformerEncoder(layer, n_layers, norm=nn.LayerNorm(hidden),
                                                 enable_nested_tensor=False)
        self.head = nn.Linear(hidden, n_classes)

    def forward(self, batch: SubgraphBatch) -> torch.Tensor:
        h = self.transformer(self.encoder(self.node_input(batch)), src_key_padding_mask=~batch.mask)
        return self.head(h[:, 0])


class LinearSvm:
    """scikit-learn ``LinearSVC`` (``C = 1``, one-vs-rest, solved in the primal: the examples outnumber the
    features) on the flattened id-free node features (side features + behaviour one-hot); a scorer like the neural
    models: subgraph batch -> ``B x n_classes`` decision values (a class absent from the training labels gets the
    lowest possible value)."""

    def __init__(self, item_features: torch.Tensor, seed: int, n_classes: int = 2):
        self.node_input = NodeInput(item_features, id_dim=0)
        self.svm = LinearSVC(C=1.0, dual=False, random_state=seed)
        self.n_classes = n_classes

    def fit(self, batch: SubgraphBatch, labels: np.ndarray) -> LinearSvm:
        self.svm.fit(self._features(batch), labels)
        return self

    @property
    def n_parameters(self) -> int:
        return int(self.svm.coef_.size + self.svm.intercept_.size)

    def _features(self, batch: SubgraphBatch) -> np.ndarray:
        return self.node_input(batch).flatten(1).numpy()

    def __call__(self, batch: SubgraphBatch) -> torch.Tensor:
        values = self.svm.decision_function(self._features(batch))
        classes = self.svm.classes_.astype(int)
        scores = np.full((len(values), self.n_classes), np.finfo(np.float32).min / 2, dtype=np.float32)
        if values.ndim == 1:  # two classes seen in training: one decision value, positive for classes[1]
            scores[:, classes[0]], scores[:, classes[1]] = -values / 2, values / 2
        else:
            scores[:, classes] = values
        return torch.from_numpy(scores)


def model_width(name: str, sizes: ModelSizes) -> int | str:
    """The width of ``name``: its entry in ``sizes.widths`` (an integer or ``"paper"``), else ``hidden`` for
    GConv-Transform and ``baseline_hidden`` for a baseline."""
    widths = getattr(sizes, "widths", None) or {}
    if name in widths:
        return widths[name]
    return sizes.hidden if name == "GConv-Transform" else sizes.baseline_hidden


def width_for_parameters(build: Callable[[int], nn.Module], target: float, step: int = 1) -> int:
    """The largest width (a multiple of ``step``) whose model ``build(width)`` has at most ``target`` parameters;
    the models are built on the meta device (no memory for the weights)."""
    def count(width: int) -> int:
        with torch.device("meta"):
            return count_parameters(build(width))

    low, high = step, step
    if count(low) > target:
        raise ConfigError(f"even width {low} has more than {target:,.0f} parameters")
    while count(high) <= target:
        low, high = high, 2 * high
    while high - low > step:
        middle = (low + high) // (2 * step) * step
        low, high = (middle, high) if count(middle) <= target else (low, middle)
    return low


def _register(name: str, step: Callable[[ModelSizes], int] = lambda sizes: 1):
    """Register ``builder(node_input, max_nodes, sizes, n_classes, width, **switches)`` under ``name`` in
    :data:`MODELS`, resolving the width (:func:`model_width`; ``"paper"``: :func:`width_for_parameters` against
    the paper's Table 1 parameters, counted with the same node input)."""
    def add(builder: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        def build(node_input: NodeInput, max_nodes: int, sizes: ModelSizes, n_classes: int = 2,
                  **switches) -> nn.Module:
            width = model_width(name, sizes)
            if width == "paper":
                from xrec_lib import papers
                target = papers.value(paper="002", source="Table 1", metric="complexity", model=name)
                width = width_for_parameters(
                    lambda w: builder(node_input, max_nodes, sizes, n_classes, w, **switches), target, step(sizes))
            return builder(node_input, max_nodes, sizes, n_classes, int(width), **switches)

        MODELS.register(name, build)
        return builder
    return add


@_register("DNN")
def _dnn(node_input: NodeInput, max_nodes: int, sizes: ModelSizes, n_classes: int, width: int) -> nn.Module:
    return DNN(node_input, max_nodes, width, 2, sizes.dropout, n_classes)


@_register("CNN")
def _cnn(node_input: NodeInput, max_nodes: int, sizes: ModelSizes, n_classes: int, width: int) -> nn.Module:
    return CNN(node_input, width, 2, sizes.dropout, n_classes)


@_register("DenseNet", step=lambda sizes: 2)
def _densenet(node_input: NodeInput, max_nodes: int, sizes: ModelSizes, n_classes: int, width: int) -> nn.Module:
    return DenseNet(node_input, max_nodes, width // 2, 3, sizes.dropout, n_classes)


@_register("DenseCNN", step=lambda sizes: 2)
def _densecnn(node_input: NodeInput, max_nodes: int, sizes: ModelSizes, n_classes: int, width: int) -> nn.Module:
    return DenseCNN(node_input, width // 2, 3, sizes.dropout, n_classes)


@_register("Graph")
def _graph(node_input: NodeInput, max_nodes: int, sizes: ModelSizes, n_classes: int, width: int) -> nn.Module:
    return GraphGCN(node_input, width, 2, sizes.dropout, n_classes)


@_register("Attention", step=lambda sizes: sizes.heads)
def _attention(node_input: NodeInput, max_nodes: int, sizes: ModelSizes, n_classes: int, width: int) -> nn.Module:
    return AttentionTransformer(node_input, width, 2, sizes.heads, sizes.dropout, n_classes)


@_register("GConv-Transform", step=lambda sizes: sizes.heads)
def _gconv_transform(node_input: NodeInput, max_nodes: int, sizes: ModelSizes, n_classes: int, width: int,
                     use_cheb: bool = True, use_graph: bool = True, use_attention: bool = True) -> nn.Module:
    """GConv-Transform, or one of its Table-2 ablations (``use_*`` switches)."""
    return GConvTransform(node_input, width, sizes.n_layers, sizes.heads, sizes.cheb_k, sizes.dropout,
                          use_cheb, use_graph, use_attention, n_classes)
