"""GConv-Transform (paper 002, Sec. III, Fig. 1) on behaviour ego-subgraphs.

Input unit. One example is the ego-subgraph of a (user, candidate product) pair: node 0 is the candidate product,
nodes ``1..n`` are the user's ``n <= S-1`` most recent earlier behaviours (product + behaviour type). Edges join the
candidate to every behaviour node (a star: the candidate gathers the user's history) and consecutive behaviours
(a chain in time order); both directions are present. A mini-batch is a PyG-style disjoint union of such
subgraphs, so graph convolutions and self-attention only ever see the nodes of one example: the attention matrix
of a batch is ``B x S x S`` (via :func:`torch_geometric.utils.to_dense_batch`), never one ``n x n`` matrix over
all users and products.

Node features (:class:`NodeInput`): a learned product-id embedding, the product's side features (categories,
attributes), and a one-hot behaviour type (candidate / view / cart / favourite / buy).

Model (Fig. 1)::

    x -> LayerNorm -> ChebConv(K) -> N x GConvTransformLayer -> ChebConv(K, out=1) -> logit of node 0

``GConvTransformLayer`` is a pre-norm transformer encoder layer whose feed-forward part is a graph convolution
(Sec. III.C-E)::

    h = h + Dropout(MultiHeadSelfAttention(LayerNorm(h)))
    h = h + Dropout(ReLU(GraphConv(LayerNorm(h))))

The paper names the graph convolution "LAM-Gconv" without defining it and also calls it "the most common graph
convolution" (Sec. III.E); it is taken here as the standard GCN convolution (:class:`torch_geometric.nn.GCNConv`,
Kipf & Welling, with self-loops and symmetric normalisation). ChebConv is :class:`torch_geometric.nn.ChebConv`:
``Y = sum_{k<K} T_k(L~) X W_k + b`` with the scaled Laplacian ``L~ = 2L/lambda_max - I`` (Sec. III.B).

Ablations (Table 2): ``use_cheb=False`` replaces both ChebConv layers with node-wise linear maps;
``use_graph=False`` replaces the GCNConv of every layer with a node-wise linear map (the layer becomes a plain
pre-norm transformer layer); ``use_attention=False`` removes the attention block of every layer.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch_geometric.nn import ChebConv, GCNConv
from torch_geometric.utils import to_dense_batch

N_BEHAVIOUR_CODES = 5  # 0 = candidate, 1..4 = view, cart, favourite, buy (behaviour code + 1)
PAD_BEHAVIOUR = N_BEHAVIOUR_CODES


@dataclass(frozen=True)
class SubgraphBatch:
    """A batch of ego-subgraphs in padded form.

    Attributes:
        items: ``B x S`` product ids; column 0 is the candidate; padding holds ``n_items`` (the padding id).
        behaviours: ``B x S`` behaviour codes: 0 for the candidate, ``1 + code`` for a history behaviour,
            ``PAD_BEHAVIOUR`` for padding.
        lengths: ``B`` number of real nodes (candidate + history) of each subgraph; real nodes form a prefix.
    """

    items: torch.Tensor
    behaviours: torch.Tensor
    lengths: torch.Tensor

    def to(self, device: torch.device | str) -> SubgraphBatch:
        return SubgraphBatch(self.items.to(device), self.behaviours.to(device), self.lengths.to(device))

    @property
    def mask(self) -> torch.Tensor:
        """``B x S`` True at real nodes."""
        positions = torch.arange(self.items.shape[1], device=self.items.device)
        return positions[None, :] < self.lengths[:, None]


class NodeInput(nn.Module):
    """Node features of a subgraph batch: ``[id embedding | product side features | one-hot behaviour type]``.

    Args:
        item_features: ``n_items x f`` float side features (``f`` may be 0); a zero row is appended for padding.
        id_dim: size of the learned product-id embedding (0 disables it).
    """

    def __init__(self, item_features: torch.Tensor, id_dim: int):
        super().__init__()
        if item_features.dim() != 2:
            raise ValueError(f"item_features must be n_items x f, got shape {tuple(item_features.shape)}")
        n_items = item_features.shape[0]
        padded = torch.cat([item_features.float(), item_features.new_zeros(1, item_features.shape[1]).float()])
        self.register_buffer("item_features", padded)
        self.embedding = nn.Embedding(n_items + 1, id_dim, padding_idx=n_items) if id_dim > 0 else None
        self.out_dim = id_dim + item_features.shape[1] + N_BEHAVIOUR_CODES

    def forward(self, batch: SubgraphBatch) -> torch.Tensor:
        """``B x S x out_dim`` features; padding nodes are all zeros."""
        one_hot = nn.functional.one_hot(batch.behaviours, N_BEHAVIOUR_CODES + 1)[..., :N_BEHAVIOUR_CODES].float()
        parts = [self.item_features[batch.items], one_hot]
        if self.embedding is not None:
            parts.insert(0, self.embedding(batch.items))
        return torch.cat(parts, dim=-1)


def subgraph_edges(lengths: torch.Tensor, max_nodes: int) -> torch.Tensor:
    """``2 x E`` edge index of the disjoint union of star + chain subgraphs with the given node counts.

    Nodes are numbered graph after graph (graph ``b`` occupies ``offset_b .. offset_b + lengths[b] - 1``).
    """
    hub = torch.arange(1, max_nodes, device=lengths.device)
    chain = torch.arange(1, max_nodes - 1, device=lengths.device)
    src = torch.cat([torch.zeros_like(hub), hub, chain, chain + 1])
    dst = torch.cat([hub, torch.zeros_like(hub), chain + 1, chain])
    template = torch.stack([src, dst])
    keep = template.max(dim=0).values[None, :] < lengths[:, None]
    offsets = torch.cumsum(lengths, 0) - lengths
    edges = template[:, None, :] + offsets[None, :, None]
    return edges[:, keep]


@dataclass(frozen=True)
class FlatGraph:
    """Flattened (PyG) form of a :class:`SubgraphBatch`: node features, edges, graph of each node, node-0 rows."""

    x: torch.Tensor
    edge_index: torch.Tensor
    batch: torch.Tensor
    candidates: torch.Tensor
    max_nodes: int


def flatten(x_dense: torch.Tensor, batch: SubgraphBatch) -> FlatGraph:
    """Turn ``B x S x d`` padded node features into the disjoint-union graph of the batch."""
    mask = batch.mask
    graph_of_node = torch.arange(len(batch.lengths), device=x_dense.device).repeat_interleave(batch.lengths)
    candidates = torch.cumsum(batch.lengths, 0) - batch.lengths
    return FlatGraph(x_dense[mask], subgraph_edges(batch.lengths, x_dense.shape[1]), graph_of_node, candidates,
                     x_dense.shape[1])


def attend(attention: nn.MultiheadAttention, h: torch.Tensor, graph: FlatGraph) -> torch.Tensor:
    """Self-attention among the nodes of each subgraph (padding masked out); returns flat node outputs."""
    dense, mask = to_dense_batch(h, graph.batch, max_num_nodes=graph.max_nodes)
    out, _ = attention(dense, dense, dense, key_padding_mask=~mask, need_weights=False)
    return out[mask]


class GConvTransformLayer(nn.Module):
    """One GConv-Transform layer (Sec. III.C-E): pre-norm self-attention block, then pre-norm graph conv block.

    Parameters (``d`` = ``hidden``): two LayerNorms ``4d``; attention ``4d^2 + 4d``; GCNConv (or its linear
    replacement) ``d^2 + d`` — ``5d^2 + 9d`` with attention, ``d^2 + 3d`` without (one LayerNorm).
    """

    def __init__(self, hidden: int, heads: int, dropout: float, use_attention: bool = True, use_graph: bool = True):
        super().__init__()
        self.attention_norm = nn.LayerNorm(hidden) if use_attention else None
        self.attention = nn.MultiheadAttention(hidden, heads, dropout=0.0, batch_first=True) if use_attention else None
        self.graph_norm = nn.LayerNorm(hidden)
        self.graph_conv = GCNConv(hidden, hidden) if use_graph else nn.Linear(hidden, hidden)
        self.dropout = nn.Dropout(dropout)

    def forward(self, h: torch.Tensor, graph: FlatGraph) -> torch.Tensor:
        if self.attention is not None:
            h = h + self.dropout(attend(self.attention, self.attention_norm(h), graph))
        normed = self.graph_norm(h)
        if isinstance(self.graph_conv, GCNConv):
            return h + self.dropout(torch.relu(self.graph_conv(normed, graph.edge_index)))
        return h + self.dropout(torch.relu(self.graph_conv(normed)))


class GConvTransform(nn.Module):
    """ChebConv -> N x :class:`GConvTransformLayer` -> ChebConv, scoring the candidate node of each subgraph.

    Args:
        node_input: the node feature builder (its ``out_dim`` is the input size ``d_in``).
        hidden: width ``d`` of the layers.
        n_layers: N, the number of stacked GConv-Transform layers (Table 3).
        heads: attention heads (must divide ``hidden``).
        cheb_k: Chebyshev filter size K.
        dropout: dropout after attention and after the graph convolution.
        use_cheb / use_graph / use_attention: ablation switches (Table 2; see the module docstring).

    Parameter count without the id embedding: input LayerNorm ``2 d_in``; first ChebConv ``K d_in d + d``
    (``d_in d + d`` as linear); N layers (see :class:`GConvTransformLayer`); last ChebConv ``K d + 1``.
    """

    def __init__(self, node_input: NodeInput, hidden: int = 32, n_layers: int = 2, heads: int = 4, cheb_k: int = 3,
                 dropout: float = 0.1, use_cheb: bool = True, use_graph: bool = True, use_attention: bool = True):
        super().__init__()
        if n_layers < 0:
            raise ValueError(f"n_layers must be >= 0, got {n_layers}")
        if hidden % heads:
            raise ValueError(f"hidden={hidden} must be divisible by heads={heads}")
        self.node_input = node_input
        self.input_norm = nn.LayerNorm(node_input.out_dim)
        d_in = node_input.out_dim
        self.encoder = ChebConv(d_in, hidden, cheb_k) if use_cheb else nn.Linear(d_in, hidden)
        self.layers = nn.ModuleList(
            GConvTransformLayer(hidden, heads, dropout, use_attention, use_graph) for _ in range(n_layers)
        )
        self.decoder = ChebConv(hidden, 1, cheb_k) if use_cheb else nn.Linear(hidden, 1)

    def forward(self, batch: SubgraphBatch) -> torch.Tensor:
        """``B`` logits: the decoder output at each subgraph's candidate node."""
        graph = flatten(self.input_norm(self.node_input(batch)), batch)
        h = self._conv(self.encoder, graph.x, graph)
        for layer in self.layers:
            h = layer(h, graph)
        return self._conv(self.decoder, h, graph)[graph.candidates, 0]

    @staticmethod
    def _conv(module: nn.Module, h: torch.Tensor, graph: FlatGraph) -> torch.Tensor:
        return module(h, graph.edge_index) if isinstance(module, ChebConv) else module(h)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
