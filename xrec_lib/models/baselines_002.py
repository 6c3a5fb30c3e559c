"""The neural baselines of paper 002, Table 1, on the same ego-subgraph input as GConv-Transform.

Every model maps a :class:`~xrec_lib.models.gconv_transform.SubgraphBatch` (candidate product at position 0, the
user's earlier behaviours at positions ``1..n``) to one logit per example, built on the same
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
* ``SVM`` (:class:`LinearSvm`): scikit-learn's ``LinearSVC`` (``C = 1``) on the flattened id-free node features;
  it has no learning rate and is fitted outside the training loop.

:data:`MODELS` builds the neural models of Table 1 by name (GConv-Transform included) from a
:class:`~xrec_lib.models.gconv_transform.NodeInput`, the subgraph size and the widths (:class:`ModelSizes`).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import torch
from sklearn.svm import LinearSVC
from torch import nn
from torch_geometric.nn import DenseGCNConv

from xrec_lib.models.gconv_transform import GConvTransform, NodeInput, SubgraphBatch, subgraph_adjacency
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


class DNN(nn.Module):
    """MLP on the flattened node features: ``S d_in -> hidden -> ... -> 1``."""

    def __init__(self, node_input: NodeInput, max_nodes: int, hidden: int = 64, n_layers: int = 2,
                 dropout: float = 0.1):
        super().__init__()
        self.node_input = node_input
        sizes = [max_nodes * node_input.out_dim] + [hidden] * n_layers
        blocks = [nn.Sequential(nn.Linear(a, b), nn.ReLU(), nn.Dropout(dropout)) for a, b in zip(sizes, sizes[1:])]
        self.mlp = nn.Sequential(*blocks, nn.Linear(sizes[-1], 1))

    def forward(self, batch: SubgraphBatch) -> torch.Tensor:
        return self.mlp(self.node_input(batch).flatten(1))[:, 0]


class DenseNet(nn.Module):
    """Densely connected MLP: layer ``j`` gets ``[x, h_1, ..., h_{j-1}]`` and adds ``growth`` features."""

    def __init__(self, node_input: NodeInput, max_nodes: int, growth: int = 32, n_layers: int = 3,
                 dropout: float = 0.1):
        super().__init__()
        self.node_input = node_input
        width = max_nodes * node_input.out_dim
        self.layers = nn.ModuleList()
        for _ in range(n_layers):
            self.layers.append(nn.Sequential(nn.Linear(width, growth), nn.ReLU(), nn.Dropout(dropout)))
            width += growth
        self.head = nn.Linear(width, 1)

    def forward(self, batch: SubgraphBatch) -> torch.Tensor:
        features = self.node_input(batch).flatten(1)
        for layer in self.layers:
            features = torch.cat([features, layer(features)], dim=1)
        return self.head(features)[:, 0]


def sequence_readout(maps: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``[feature map at position 0 | masked mean over positions]`` of ``B x C x S`` maps."""
    weights = mask.float()[:, None, :]
    mean = (maps * weights).sum(-1) / weights.sum(-1).clamp(min=1.0)
    return torch.cat([maps[:, :, 0], mean], dim=1)


class CNN(nn.Module):
    """1-D convolutions (kernel 3) along the sequence ``[candidate, history...]``."""

    def __init__(self, node_input: NodeInput, hidden: int = 64, n_layers: int = 2, dropout: float = 0.1):
        super().__init__()
        self.node_input = node_input
        channels = [node_input.out_dim] + [hidden] * n_layers
        self.convs = nn.Sequential(*(
            nn.Sequential(nn.Conv1d(a, b, kernel_size=3, padding=1), nn.ReLU(), nn.Dropout(dropout))
            for a, b in zip(channels, channels[1:])
        ))
        self.head = nn.Linear(2 * channels[-1], 1)

    def forward(self, batch: SubgraphBatch) -> torch.Tensor:
        maps = self.convs(self.node_input(batch).transpose(1, 2))
        return self.head(sequence_readout(maps, batch.mask))[:, 0]


class DenseCNN(nn.Module):
    """Densely connected 1-D convolution block: each conv sees all earlier feature maps (channel concat)."""

    def __init__(self, node_input: NodeInput, growth: int = 32, n_layers: int = 3, dropout: float = 0.1):
        super().__init__()
        self.node_input = node_input
        channels = node_input.out_dim
        self.convs = nn.ModuleList()
        for _ in range(n_layers):
            self.convs.append(nn.Sequential(nn.Conv1d(channels, growth, kernel_size=3, padding=1), nn.ReLU(),
                                            nn.Dropout(dropout)))
            channels += growth
        self.head = nn.Linear(2 * channels, 1)

    def forward(self, batch: SubgraphBatch) -> torch.Tensor:
        maps = self.node_input(batch).transpose(1, 2)
        for conv in self.convs:
            maps = torch.cat([maps, conv(maps)], dim=1)
        return self.head(sequence_readout(maps, batch.mask))[:, 0]


class GraphGCN(nn.Module):
    """GCN baseline ("Graph"): linear input map, ``n_layers`` x (GCN convolution, ReLU, dropout), linear head at
    node 0."""

    def __init__(self, node_input: NodeInput, hidden: int = 64, n_layers: int = 2, dropout: float = 0.1):
        super().__init__()
        self.node_input = node_input
        self.encoder = nn.Linear(node_input.out_dim, hidden)
        self.convs = nn.ModuleList(DenseGCNConv(hidden, hidden) for _ in range(n_layers))
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, 1)

    def forward(self, batch: SubgraphBatch) -> torch.Tensor:
        mask = batch.mask
        adjacency = subgraph_adjacency(mask)
        h = self.encoder(self.node_input(batch))
        for conv in self.convs:
            h = self.dropout(torch.relu(conv(h, adjacency, mask)))
        return self.head(h[:, 0])[:, 0]


class AttentionTransformer(nn.Module):
    """Transformer baseline ("Attention"): pre-norm encoder layers over the nodes, final LayerNorm, linear head at
    position 0."""

    def __init__(self, node_input: NodeInput, hidden: int = 64, n_layers: int = 2, heads: int = 4,
                 dropout: float = 0.1):
        super().__init__()
        self.node_input = node_input
        self.encoder = nn.Linear(node_input.out_dim, hidden)
        layer = nn.TransformerEncoderLayer(hidden, heads, dim_feedforward=2 * hidden, dropout=dropout,
                                           batch_first=True, norm_first=True)
        self.transformer = nn.TransformerEncoder(layer, n_layers, norm=nn.LayerNorm(hidden),
                                                 enable_nested_tensor=False)
        self.head = nn.Linear(hidden, 1)

    def forward(self, batch: SubgraphBatch) -> torch.Tensor:
        h = self.transformer(self.encoder(self.node_input(batch)), src_key_padding_mask=~batch.mask)
        return self.head(h[:, 0])[:, 0]


class LinearSvm:
    """scikit-learn ``LinearSVC`` (``C = 1``) on the flattened id-free node features (side features + behaviour
    one-hot); a scorer like the neural models: subgraph batch -> decision values."""

    def __init__(self, item_features: torch.Tensor, seed: int):
        self.node_input = NodeInput(item_features, id_dim=0)
        self.svm = LinearSVC(C=1.0, random_state=seed)

    def fit(self, batch: SubgraphBatch, labels: np.ndarray) -> LinearSvm:
        self.svm.fit(self._features(batch), labels)
        return self

    @property
    def n_parameters(self) -> int:
        return int(self.svm.coef_.size + self.svm.intercept_.size)

    def _features(self, batch: SubgraphBatch) -> np.ndarray:
        return self.node_input(batch).flatten(1).numpy()

    def __call__(self, batch: SubgraphBatch) -> torch.Tensor:
        return torch.from_numpy(self.svm.decision_function(self._features(batch))).float()


@MODELS.register("DNN")
def _dnn(node_input: NodeInput, max_nodes: int, sizes: ModelSizes) -> nn.Module:
    return DNN(node_input, max_nodes, sizes.baseline_hidden, 2, sizes.dropout)


@MODELS.register("CNN")
def _cnn(node_input: NodeInput, max_nodes: int, sizes: ModelSizes) -> nn.Module:
    return CNN(node_input, sizes.baseline_hidden, 2, sizes.dropout)


@MODELS.register("DenseNet")
def _densenet(node_input: NodeInput, max_nodes: int, sizes: ModelSizes) -> nn.Module:
    return DenseNet(node_input, max_nodes, sizes.baseline_hidden // 2, 3, sizes.dropout)


@MODELS.register("DenseCNN")
def _densecnn(node_input: NodeInput, max_nodes: int, sizes: ModelSizes) -> nn.Module:
    return DenseCNN(node_input, sizes.baseline_hidden // 2, 3, sizes.dropout)


@MODELS.register("Graph")
def _graph(node_input: NodeInput, max_nodes: int, sizes: ModelSizes) -> nn.Module:
    return GraphGCN(node_input, sizes.baseline_hidden, 2, sizes.dropout)


@MODELS.register("Attention")
def _attention(node_input: NodeInput, max_nodes: int, sizes: ModelSizes) -> nn.Module:
    return AttentionTransformer(node_input, sizes.baseline_hidden, 2, sizes.heads, sizes.dropout)


@MODELS.register("GConv-Transform")
def _gconv_transform(node_input: NodeInput, max_nodes: int, sizes: ModelSizes, use_cheb: bool = True,
                     use_graph: bool = True, use_attention: bool = True) -> nn.Module:
    """GConv-Transform, or one of its Table-2 ablations (``use_*`` switches)."""
    return GConvTransform(node_input, sizes.hidden, sizes.n_layers, sizes.heads, sizes.cheb_k, sizes.dropout,
                          use_cheb, use_graph, use_attention)
