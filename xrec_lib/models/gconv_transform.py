"""GConv-Transform (paper 002, Sec. III, Fig. 1) on behaviour ego-subgraphs.

Input unit. One example is the ego-subgraph of a (user, candidate product) pair: node 0 is the candidate product,
nodes ``1..n`` are the user's ``n <= S-1`` most recent earlier behaviours (product + behaviour type). Edges join the
candidate to every behaviour node (a star: the candidate gathers the user's history) and consecutive behaviours
(a chain in time order); both directions are present. A mini-batch is held densely: ``B x S x d`` node states,
a ``B x S`` mask of real nodes (a prefix of each row) and a ``B x S x S`` adjacency (:func:`subgraph_adjacency`)
that is zero in every row and column of a padding node. Graph convolutions and self-attention therefore only ever
mix the nodes of one example (the attention matrix of a batch is ``B x S x S``, never one matrix over all users and
products), and padding nodes never reach a real node: they have no edges, are masked as attention keys, and are
reset to zero after every block.

Node features (:class:`NodeInput`): a learned product-id embedding, the product's side features (categories,
attributes), and a one-hot behaviour type (code 0 = node 0 / view / cart / favourite / buy). Node 0 is the query
node of the purchase to predict (paper 002's next-category task: the padding product id, so no product feature)
or a candidate product (the binary fallback of :mod:`xrec_lib.studies.paper002.task`).

Output: ``C`` class logits per example, read at node 0 (``n_classes`` = C; softmax / cross-entropy in training).
The paper names no classifier; "decode to the original ground space" (Sec. III.E) is read as the last ChebConv
mapping to the C classes.

Model (Fig. 1)::

    x -> LayerNorm -> ChebConv(K) -> N x GConvTransformLayer -> LayerNorm -> ChebConv(K, out=C) -> C logits of node 0

``GConvTransformLayer`` is a pre-norm transformer encoder layer whose feed-forward part is a graph convolution
(Sec. III.C-E); as in every pre-norm transformer, the residual stream is normalised once more before the output
map::

    h = h + Dropout(MultiHeadSelfAttention(LayerNorm(h)))
    h = h + Dropout(ReLU(GraphConv(LayerNorm(h))))

The paper names the graph convolution "LAM-Gconv" without defining it and also calls it "the most common graph
convolution" (Sec. III.E); it is taken here as the standard GCN convolution of Kipf & Welling,
``D^-1/2 (A + I) D^-1/2 X W + b`` (:class:`torch_geometric.nn.DenseGCNConv`, the dense form of ``GCNConv``).
The Chebyshev convolution (Sec. III.B) is ``Y = sum_{k<K} T_k(L~) X W_k + b`` with ``T_0(L~) X = X``,
``T_1(L~) X = L~ X``, ``T_k = 2 L~ T_{k-1} - T_{k-2}`` and the scaled Laplacian ``L~ = 2 L / lambda_max - I``,
``L = I - D^-1/2 A D^-1/2``, ``lambda_max = 2`` — exactly :class:`torch_geometric.nn.ChebConv` with its default
symmetric normalisation, written for dense batched graphs (:class:`DenseChebConv`; PyG has no dense ChebConv).

Ablations (Table 2): ``use_cheb=False`` replaces both ChebConv layers with node-wise linear maps;
``use_graph=False`` replaces the graph convolution of every layer with a node-wise linear map (the layer becomes a
plain pre-norm transformer layer); ``use_attention=False`` removes the attention block of every layer.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch_geometric.nn import DenseGCNConv

from xrec_lib.errors import ConfigError, DataError

N_BEHAVIOUR_CODES = 5  # 0 = candidate, 1..4 = view, cart, favourite, buy (behaviour code + 1)
PAD_BEHAVIOUR = N_BEHAVIOUR_CODES
CHEB_LAMBDA_MAX = 2.0  # PyG ChebConv's value for the symmetric normalisation


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
            raise DataError(f"item_features must be n_items x f, got shape {tuple(item_features.shape)}")
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


def subgraph_adjacency(mask: torch.Tensor) -> torch.Tensor:
    """``B x S x S`` 0/1 adjacency of the star (node 0 <-> every history node) + chain (history node ``i`` <->
    ``i + 1``) subgraphs, restricted to the real nodes given by the ``B x S`` prefix ``mask``; no self-loops."""
    size = mask.shape[1]
    positions = torch.arange(size, device=mask.device)
    star = (positions[:, None] == 0) ^ (positions[None, :] == 0)
    chain = ((positions[:, None] - positions[None, :]).abs() == 1) & (positions[:, None] > 0) & (positions[None, :] > 0)
    real_pair = mask[:, :, None] & mask[:, None, :]
    return ((star | chain)[None] & real_pair).float()


def scaled_laplacian(adjacency: torch.Tensor, lambda_max: float = CHEB_LAMBDA_MAX) -> torch.Tensor:
    """``L~ = 2 L / lambda_max - I`` with ``L = I - D^-1/2 A D^-1/2`` for ``B x S x S`` adjacencies (isolated and
    padding nodes have a zero row in ``D^-1/2 A D^-1/2``), as in PyG ``ChebConv(normalization="sym")``."""
    degree = adjacency.sum(-1)
    inv_sqrt = degree.pow(-0.5).masked_fill(degree == 0, 0.0)
    normalised = inv_sqrt[..., :, None] * adjacency * inv_sqrt[..., None, :]
    identity = torch.eye(adjacency.shape[-1], device=adjacency.device)
    return (2.0 / lambda_max - 1.0) * identity - (2.0 / lambda_max) * normalised


class DenseChebConv(nn.Module):
    """Chebyshev spectral graph convolution on ``B x S x d_in`` node states with a ``B x S x S`` scaled Laplacian.

    ``Y = sum_{k<K} T_k(L~) X W_k + b`` (paper 002, Sec. III.B; Defferrard et al. 2016), with the parameters
    (``K`` bias-free ``d_in x d_out`` maps ``W_k`` + one bias) and initialisation (Glorot ``W_k``, zero bias) of PyG
    :class:`~torch_geometric.nn.ChebConv`. Since ``T_k(L~) X W_k = T_k(L~) (X W_k)``, all ``X W_k`` come from one
    matrix product and the sum is evaluated by Clenshaw's recurrence ``b_k = X W_k + 2 L~ b_{k+1} - b_{k+2}``,
    ``Y = X W_0 + L~ b_1 - b_2 + b``: ``K - 1`` products with ``L~`` at width ``d_out``.
    """

    def __init__(self, in_channels: int, out_channels: int, k: int):
        super().__init__()
        if k < 1:
            raise ConfigError(f"Chebyshev filter size K must be >= 1, got {k}")
        self.k, self.out_channels = k, out_channels
        self.weight = nn.Parameter(torch.empty(k, in_channels, out_channels))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        for order in range(k):
            nn.init.xavier_uniform_(self.weight[order])

    def forward(self, x: torch.Tensor, laplacian: torch.Tensor) -> torch.Tensor:
        projected = (x @ self.weight.permute(1, 0, 2).reshape(x.shape[-1], -1)).split(self.out_channels, dim=-1)
        following, after = torch.zeros_like(projected[0]), torch.zeros_like(projected[0])
        for order in range(self.k - 1, 0, -1):
            following, after = projected[order] + 2.0 * (laplacian @ following) - after, following
        return projected[0] + laplacian @ following - after + self.bias


class GConvTransformLayer(nn.Module):
    """One GConv-Transform layer (Sec. III.C-E): pre-norm self-attention block, then pre-norm graph conv block.

    Parameters (``d`` = ``hidden``): two LayerNorms ``4d``; attention ``4d^2 + 4d``; graph convolution (or its
    linear replacement) ``d^2 + d`` — ``5d^2 + 9d`` with attention, ``d^2 + 3d`` without (one LayerNorm).
    """

    def __init__(self, hidden: int, heads: int, dropout: float, use_attention: bool = True, use_graph: bool = True):
        super().__init__()
        self.attention_norm = nn.LayerNorm(hidden) if use_attention else None
        self.attention = nn.MultiheadAttention(hidden, heads, dropout=0.0, batch_first=True) if use_attention else None
        self.graph_norm = nn.LayerNorm(hidden)
        self.graph_conv = DenseGCNConv(hidden, hidden) if use_graph else nn.Linear(hidden, hidden)
        self.dropout = nn.Dropout(dropout)

    def forward(self, h: torch.Tensor, adjacency: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``B x S x d`` -> ``B x S x d``; padding nodes come out as zeros."""
        if self.attention is not None:
            normed = self.attention_norm(h)
            attended, _ = self.attention(normed, normed, normed, key_padding_mask=~mask, need_weights=False)
            h = h + self.dropout(attended)
        normed = self.graph_norm(h)
        if isinstance(self.graph_conv, DenseGCNConv):
            convolved = self.graph_conv(normed, adjacency, mask)
        else:
            convolved = self.graph_conv(normed)
        return (h + self.dropout(torch.relu(convolved))) * mask[..., None]


class GConvTransform(nn.Module):
    """ChebConv -> N x :class:`GConvTransformLayer` -> LayerNorm -> ChebConv, scoring each subgraph's candidate.

    Args:
        node_input: the node feature builder (its ``out_dim`` is the input size ``d_in``).
        hidden: width ``d`` of the layers.
        n_layers: N, the number of stacked GConv-Transform layers (Table 3).
        heads: attention heads (must divide ``hidden``).
        cheb_k: Chebyshev filter size K.
        dropout: dropout after attention and after the graph convolution.
        use_cheb / use_graph / use_attention: ablation switches (Table 2; see the module docstring).

        n_classes: C, the number of class logits read at node 0.

    Parameter count without the id embedding: input LayerNorm ``2 d_in``; first ChebConv ``K d_in d + d``
    (``d_in d + d`` as linear); N layers (see :class:`GConvTransformLayer`); output LayerNorm ``2 d``; last
    ChebConv ``K d C + C`` (``d C + C`` as linear).
    """

    def __init__(self, node_input: NodeInput, hidden: int = 32, n_layers: int = 2, heads: int = 4, cheb_k: int = 3,
                 dropout: float = 0.1, use_cheb: bool = True, use_graph: bool = True, use_attention: bool = True,
                 n_classes: int = 2):
        super().__init__()
        if n_classes < 2:
            raise ConfigError(f"n_classes must be >= 2, got {n_classes}")
        if n_layers < 0:
            raise ConfigError(f"n_layers must be >= 0, got {n_layers}")
        if hidden % heads:
            raise ConfigError(f"hidden={hidden} must be divisible by heads={heads}")
        self.node_input = node_input
        self.input_norm = nn.LayerNorm(node_input.out_dim)
        d_in = node_input.out_dim
        self.encoder = DenseChebConv(d_in, hidden, cheb_k) if use_cheb else nn.Linear(d_in, hidden)
        self.layers = nn.ModuleList(
            GConvTransformLayer(hidden, heads, dropout, use_attention, use_graph) for _ in range(n_layers)
        )
        self.output_norm = nn.LayerNorm(hidden)
        self.decoder = DenseChebConv(hidden, n_classes, cheb_k) if use_cheb else nn.Linear(hidden, n_classes)

    def forward(self, batch: SubgraphBatch) -> torch.Tensor:
        """``B x C`` logits: the decoder output at each subgraph's node 0."""
        mask = batch.mask
        keep = mask[..., None].float()
        adjacency = subgraph_adjacency(mask)
        laplacian = scaled_laplacian(adjacency)
        h = self._chebyshev(self.encoder, self.input_norm(self.node_input(batch)) * keep, laplacian) * keep
        for layer in self.layers:
            h = layer(h, adjacency, mask)
        return self._chebyshev(self.decoder, self.output_norm(h) * keep, laplacian)[:, 0]

    @staticmethod
    def _chebyshev(module: nn.Module, h: torch.Tensor, laplacian: torch.Tensor) -> torch.Tensor:
        return module(h, laplacian) if isinstance(module, DenseChebConv) else module(h)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
