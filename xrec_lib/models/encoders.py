"""Graph encoders of the entity-representation comparison of paper 000 (Fig. 6-8) and two reference models.

Every encoder is an ``nn.Module`` whose ``forward()`` propagates the whole graph once and returns
``(user_emb, item_emb)`` (``n_users x d`` and ``n_items x d``); a user-item score is their inner product.
Node features are learnable ID embeddings (``nn.Embedding`` over all nodes, the "ego" layer 0).

Models (``d`` = embedding size, ``L`` = number of layers, ``E^(0)`` = ID embeddings, ``A`` = binary symmetric
adjacency without self-loops, ``D`` its degree matrix):

* :class:`MatrixFactorization` (BPR-MF, Rendle et al. 2009): ``z = E^(0)``; no graph.
* :class:`LightGCN` (He et al. 2020): ``E^(l+1) = D^-1/2 A D^-1/2 E^(l)``, ``z = mean_l E^(l)`` (= PyG ``LGConv``).
* :class:`GCN` (Kipf & Welling 2017; the "Equation (1)" of paper 000):
  ``H^(l+1) = sigma(D~^-1/2 (A + I) D~^-1/2 H^(l) W^(l))``, ``D~`` the degree of ``A + I``, ``sigma`` = ReLU
  between layers and identity after the last; ``z = H^(L)`` (PyG ``GCNConv``).
* :class:`GraphSAGE` (Hamilton et al. 2017): ``h_v^(l+1) = sigma(W_1 h_v^(l) + W_2 mean_{u in N(v)} h_u^(l))``
  (PyG ``SAGEConv``, mean aggregation).
* :class:`RGCN` (Schlichtkrull et al. 2018): ``h_v^(l+1) = sigma(W_0 h_v + sum_r mean_{u in N_r(v)} W_r h_u)``
  with one relation per typed edge direction of the heterogeneous graph and basis decomposition
  (PyG ``RGCNConv`` on ``edge_index``/``edge_type``; torch.sparse is not supported by that layer).

Each model is registered in :data:`ENCODERS` under the name the studies use (``"MF"``, ``"LightGCN"``, ``"GCN"``,
``"GraphSAGE"``, ``"RGCN"``; ``"Siamese GCN"`` in :mod:`xrec_lib.models.siamese_gcn`):
``ENCODERS.build(name, graph, sizes, views)`` builds it from the hyper-parameters of :class:`EncoderSizes`
(``views``: the Siamese GCN's cross-domain views, ignored by the others).

LightGCN, GCN and GraphSAGE propagate with a ``torch.sparse_csr_tensor`` adjacency (one ``torch.sparse.mm`` per
layer, 32-bit indices), which computes exactly what the same layers compute on ``edge_index`` for a graph without
self-loops. GCN uses :func:`symmetric_spmm`, whose backward pass reuses the (symmetric) adjacency instead of
transposing it, about three times cheaper than autograd through ``torch.sparse.mm``; LightGCN uses
:func:`layer_mean_propagation`, which also keeps no intermediate layer for the backward pass.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn
from torch_geometric.nn import GCNConv, RGCNConv, SAGEConv

from xrec_lib.data.crossdomain import CrossDomainDataset
from xrec_lib.errors import ConfigError, DataError
from xrec_lib.models.registry import Registry

warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
warnings.filterwarnings("ignore", message="Sparse invariant checks are implicitly disabled")

#: Graph encoders by name: ``ENCODERS.build(name, graph, sizes, views=None)`` (module docstring).
ENCODERS = Registry("encoder")


class EncoderSizes(Protocol):
    """The hyper-parameters :data:`ENCODERS` reads (e.g. a study's settings object)."""

    dim: int  # embedding size of the ID features and of every layer
    n_layers: int  # layers of GCN, GraphSAGE, RGCN and the Siamese GCN
    lightgcn_layers: int  # propagation steps of LightGCN
    rgcn_bases: int  # RGCN basis decomposition
    alignment_weight: float  # Siamese GCN: weight of the auxiliary alignment loss
    temperature: float  # Siamese GCN: InfoNCE temperature


@dataclass(frozen=True)
class GraphData:
    """A user-item graph, optionally with side nodes, in homogeneous numbering.

    Users occupy node ids ``[0, n_users)``, items ``[n_users, n_users + n_items)``, side nodes (suppliers,
    sellers) the rest. ``edge_index``/``edge_type`` list each typed relation in both directions (relation ids
    ``0..n_relations-1``); ``adjacency`` is the binary symmetric ``scipy.sparse.csr_matrix`` of the same edges.
    """

    n_users: int
    n_items: int
    n_nodes: int
    adjacency: sp.csr_matrix
    edge_index: torch.Tensor
    edge_type: torch.Tensor
    n_relations: int

    @classmethod
    def from_interactions(cls, train: sp.spmatrix) -> "GraphData":
        """Bipartite user-item graph of a binary ``n_users x n_items`` matrix (relations: user->item, item->user)."""
        coo = sp.coo_matrix(train)
        n_users, n_items = coo.shape
        users, items = coo.row.astype(np.int64), coo.col.astype(np.int64) + n_users
        return cls._build(n_users, n_items, n_users + n_items, [(users, items)])

    @classmethod
    def from_dataset(cls, dataset: CrossDomainDataset, include_side_nodes: bool = True) -> "GraphData":
        """The training graph of a :class:`CrossDomainDataset` (paper 000, Fig. 2).

        With ``include_side_nodes`` the heterogeneous graph holds users, products, suppliers and sellers and the
        relations interacts / supplied_by / sells / sources_from (plus reverses); otherwise only user-product
        interactions. Node numbering follows :meth:`CrossDomainDataset.node_offsets`.
        """
        offsets = dataset.node_offsets(include_side_nodes)
        pairs = [(dataset.train.user + offsets["user"], dataset.train.product + offsets["product"])]
        if include_side_nodes:
            pairs += [(a + offsets[a_type], b + offsets[b_type])
                      for (a_type, b_type), (a, b) in dataset.side_relations().items() if len(a)]
        return cls._build(dataset.n_users, dataset.n_products, offsets["_total"], pairs)

    @classmethod
    def _build(cls, n_users: int, n_items: int, n_nodes: int,
               relations: list[tuple[np.ndarray, np.ndarray]]) -> "GraphData":
        """Deduplicate each relation, add its reverse as its own relation, and build the binary adjacency."""
        edges, types = [], []
        for index, (src, dst) in enumerate(relations):
            key = np.unique(src.astype(np.int64) * n_nodes + dst.astype(np.int64))
            src, dst = key // n_nodes, key % n_nodes
            edges += [np.stack([src, dst]), np.stack([dst, src])]
            types += [np.full(len(key), 2 * index), np.full(len(key), 2 * index + 1)]
        edge_index = np.concatenate(edges, axis=1)
        adjacency = sp.csr_matrix((np.ones(edge_index.shape[1], dtype=np.float32), (edge_index[0], edge_index[1])),
                                  shape=(n_nodes, n_nodes))
        adjacency.sum_duplicates()
        adjacency.data[:] = 1.0
        adjacency.setdiag(0)
        adjacency.eliminate_zeros()
        return cls(n_users, n_items, n_nodes, adjacency, torch.from_numpy(edge_index),
                   torch.from_numpy(np.concatenate(types)), 2 * len(relations))

    def normalized_adjacency(self, self_loops: bool) -> sp.csr_matrix:
        """``D^-1/2 A D^-1/2`` (LightGCN), or with ``self_loops`` ``D~^-1/2 (A + I) D~^-1/2`` (GCN).

        Rows of isolated nodes are zero (without self-loops).
        """
        matrix = self.adjacency + sp.identity(self.n_nodes, dtype=np.float32, format="csr") if self_loops \
            else self.adjacency
        degree = np.asarray(matrix.sum(axis=1)).ravel()
        scale = np.divide(1.0, np.sqrt(degree), out=np.zeros_like(degree), where=degree > 0)
        return sp.csr_matrix(sp.diags(scale) @ matrix @ sp.diags(scale), dtype=np.float32)


def to_torch_csr(matrix: sp.csr_matrix, device: str | torch.device = "cpu") -> torch.Tensor:
    """A ``scipy.sparse.csr_matrix`` as ``torch.sparse_csr_tensor`` (sorted indices) on ``device``.

    Indices are 32-bit when the matrix allows it (about 20% faster ``torch.sparse.mm`` on CPU), else 64-bit.
    """
    matrix = sp.csr_matrix(matrix, dtype=np.float32)
    matrix.sort_indices()
    index_type = np.int32 if max(matrix.nnz, *matrix.shape) < np.iinfo(np.int32).max else np.int64
    return torch.sparse_csr_tensor(torch.from_numpy(matrix.indptr.astype(index_type)),
                                   torch.from_numpy(matrix.indices.astype(index_type)),
                                   torch.from_numpy(matrix.data), size=matrix.shape).to(device)


def to_weighted_edge_index(matrix: sp.csr_matrix) -> tuple[torch.Tensor, torch.Tensor]:
    """``(edge_index, edge_weight)`` of a sparse matrix (row = target, column = source of each message)."""
    coo = sp.coo_matrix(matrix)
    edge_index = torch.from_numpy(np.stack([coo.col, coo.row]).astype(np.int64))
    return edge_index, torch.from_numpy(coo.data.astype(np.float32))


class _SymmetricSparseMatmul(torch.autograd.Function):
    """``A @ x`` for a symmetric sparse ``A``: the gradient ``A^T @ g`` is computed as ``A @ g``."""

    @staticmethod
    def forward(ctx, adjacency: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        ctx.adjacency = adjacency
        return torch.sparse.mm(adjacency, x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[None, torch.Tensor]:
        return None, torch.sparse.mm(ctx.adjacency, grad)


def symmetric_spmm(adjacency: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``adjacency @ x`` with a cheap backward; ``adjacency`` must be symmetric (all graphs here are)."""
    return _SymmetricSparseMatmul.apply(adjacency, x)


class _LayerMeanPropagation(torch.autograd.Function):
    """``(x + A x + ... + A^L x) / (L + 1)`` for a symmetric sparse ``A``; the gradient
    ``(g + A g + ... + A^L g) / (L + 1)`` is computed by Horner's rule, ``h <- g + A h`` applied ``L`` times."""

    @staticmethod
    def forward(ctx, adjacency: torch.Tensor, x: torch.Tensor, n_layers: int) -> torch.Tensor:
        ctx.adjacency, ctx.n_layers = adjacency, n_layers
        out, layer = x.clone(), x
        for _ in range(n_layers):
            layer = torch.sparse.mm(adjacency, layer)
            out += layer
        return out.div_(n_layers + 1)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[None, torch.Tensor, None]:
        out = grad
        for _ in range(ctx.n_layers):
            out = torch.sparse.mm(ctx.adjacency, out).add_(grad)
        return None, out.div(ctx.n_layers + 1), None


def layer_mean_propagation(adjacency: torch.Tensor, x: torch.Tensor, n_layers: int) -> torch.Tensor:
    """LightGCN's layer combination ``mean_{l=0..L} A^l x`` for a symmetric ``adjacency``, without storing the
    intermediate layers (``n_layers`` sparse products forward and ``n_layers`` backward)."""
    return _LayerMeanPropagation.apply(adjacency, x, n_layers)


def block_pattern(block) -> sp.csr_matrix:
    """The edges of a sampled block as a SciPy CSR matrix (rows: the block's outputs, columns: its inputs)."""
    matrix = block.matrix.cpu()
    return sp.csr_matrix((matrix.values().numpy(), matrix.col_indices().numpy(), matrix.crow_indices().numpy()),
                         shape=tuple(matrix.shape))


def block_gcn_layer(conv: GCNConv, x: torch.Tensor, block) -> torch.Tensor:
    """:func:`gcn_layer` on a sampled block (:class:`xrec_lib.models.sampling.Block`, ``n_dst x n_src``)."""
    out = torch.sparse.mm(block.matrix, conv.lin(x))
    return out if conv.bias is None else out + conv.bias


def gcn_layer(conv: GCNConv, x: torch.Tensor, adjacency: torch.Tensor) -> torch.Tensor:
    """``GCNConv(normalize=False)`` on a symmetric normalized CSR adjacency: ``A (x W) + b`` (the layer's own
    ``lin`` and ``bias``, the propagation by :func:`symmetric_spmm`)."""
    out = symmetric_spmm(adjacency, conv.lin(x))
    return out if conv.bias is None else out + conv.bias


class GraphEncoder(nn.Module):
    """Base class: ID embeddings over all nodes, a propagation, and the user/item split of the output.

    Subclasses implement :meth:`propagate` (``x`` = all node features -> all node outputs) and
    :meth:`set_graph` (store the graph tensors they need). :meth:`forward` returns ``(user_emb, item_emb)``.
    """

    def __init__(self, graph: GraphData, dim: int):
        super().__init__()
        if dim < 1:
            raise ConfigError(f"embedding dim must be >= 1, got {dim}")
        self.n_users, self.n_items, self.n_nodes = graph.n_users, graph.n_items, graph.n_nodes
        self.embedding = nn.Embedding(graph.n_nodes, dim)
        nn.init.normal_(self.embedding.weight, std=0.1)
        self.graph = graph

    def set_graph(self, graph: GraphData) -> None:
        """Use ``graph`` (same node set) from now on, e.g. the full training graph after validation."""
        if graph.n_nodes != self.n_nodes or graph.n_users != self.n_users:
            raise DataError(f"graph has {graph.n_nodes} nodes / {graph.n_users} users; the encoder was built for "
                            f"{self.n_nodes} / {self.n_users}")
        self.graph = graph

    def propagate(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    # ---- the sampled path (xrec_lib.models.sampling) ----
    #: Propagation layers, i.e. the number of fanouts the sampled path takes (0: no propagation).
    n_propagation_layers: int = 0

    def propagation_matrix(self) -> sp.csr_matrix:
        """``P`` of the sampled path: the matrix one layer propagates by (:mod:`xrec_lib.models.sampling`)."""
        raise ConfigError(f"{type(self).__name__} has no neighbour-sampled path; train it on the full graph "
                          "(fanouts: null)")

    def propagate_sampled(self, x: torch.Tensor, blocks: list) -> torch.Tensor:
        """The seeds' outputs from the inputs ``x`` of ``V_0`` through the sampled ``blocks`` (first layer
        first); equals ``propagate`` restricted to the seeds when every neighbour is kept."""
        raise ConfigError(f"{type(self).__name__} has no neighbour-sampled path")

    def batch_items(self, users: torch.Tensor) -> torch.Tensor:
        """Items (besides the batch's own) whose vectors :meth:`auxiliary_loss` reads for ``users``; none here."""
        return users.new_zeros(0)

    def forward(self, nodes: torch.Tensor | None = None, blocks: list | None = None):
        """``(user_emb, item_emb)`` of the full-graph pass; with ``nodes`` and ``blocks`` (a
        :class:`~xrec_lib.models.sampling.SampledBatch`'s) the seeds' outputs of the sampled path instead."""
        if nodes is not None:
            return self.propagate_sampled(self.embedding.weight[nodes], blocks)
        out = self.propagate(self.embedding.weight)
        return out[: self.n_users], out[self.n_users: self.n_users + self.n_items]

    def ego_embeddings(self, users: torch.Tensor, items: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Layer-0 (ID) embeddings of the given users and items (the target of the L2 regulariser)."""
        return self.embedding.weight[users], self.embedding.weight[items + self.n_users]

    def auxiliary_loss(self, user_emb: torch.Tensor, item_emb: torch.Tensor, users: torch.Tensor) -> torch.Tensor:
        """Model-specific term added to the ranking loss of a batch; zero by default."""
        return user_emb.new_zeros(())

    def _device(self) -> torch.device:
        return self.embedding.weight.device

    def _apply(self, fn, recurse: bool = True):
        """Move graph tensors along with parameters (``.to(device)``)."""
        super()._apply(fn, recurse)
        for name, value in list(vars(self).items()):
            if isinstance(value, torch.Tensor) and name.startswith("graph_"):
                setattr(self, name, fn(value))
        return self


class MatrixFactorization(GraphEncoder):
    """BPR-MF: ``z_u = e_u``, ``z_i = e_i`` (no propagation).

    The user rows and the item rows are initialised by Xavier-uniform, each block as its own table (as RecBole's
    BPR): against RecBole 1.2.1 on one ML-100K split, MF from ``N(0, 0.1^2)`` ends about 6% below RecBole's test
    NDCG@20 and MF from Xavier within 1.5% (``benchmarks/recbole_crosscheck.py``).
    """

    def __init__(self, graph: GraphData, dim: int = 64):
        super().__init__(graph, dim)
        with torch.no_grad():
            nn.init.xavier_uniform_(self.embedding.weight[: graph.n_users])
            nn.init.xavier_uniform_(self.embedding.weight[graph.n_users: graph.n_users + graph.n_items])

    def propagate(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def propagation_matrix(self) -> sp.csr_matrix:
        return sp.csr_matrix((self.n_nodes, self.n_nodes), dtype=np.float32)

    def propagate_sampled(self, x: torch.Tensor, blocks: list) -> torch.Tensor:
        return x


class LightGCN(GraphEncoder):
    """LightGCN: ``n_layers`` parameter-free propagations by the precomputed ``D^-1/2 A D^-1/2`` (what PyG's
    ``LGConv`` computes), mean over layers 0..L."""

    def __init__(self, graph: GraphData, dim: int = 64, n_layers: int = 3):
        super().__init__(graph, dim)
        if n_layers < 1:
            raise ConfigError(f"n_layers must be >= 1, got {n_layers}")
        self.n_layers = n_layers
        self.set_graph(graph)

    def set_graph(self, graph: GraphData) -> None:
        super().set_graph(graph)
        self.graph_adj = to_torch_csr(graph.normalized_adjacency(self_loops=False), self._device())

    def propagate(self, x: torch.Tensor) -> torch.Tensor:
        return layer_mean_propagation(self.graph_adj, x, self.n_layers)

    @property
    def n_propagation_layers(self) -> int:
        return self.n_layers

    def propagation_matrix(self) -> sp.csr_matrix:
        return self.graph.normalized_adjacency(self_loops=False)

    def propagate_sampled(self, x: torch.Tensor, blocks: list) -> torch.Tensor:
        n_seeds = blocks[-1].n_dst
        total = x[:n_seeds]
        for block in blocks:
            x = torch.sparse.mm(block.matrix, x)
            total = total + x[:n_seeds]
        return total / (len(blocks) + 1)


class _ConvStack(GraphEncoder):
    """``n_layers`` message-passing layers with ReLU between them; subclasses build ``self.convs``."""

    def propagate(self, x: torch.Tensor) -> torch.Tensor:
        for layer, conv in enumerate(self.convs):
            x = self._layer(conv, x)
            if layer < len(self.convs) - 1:
                x = torch.relu(x)
        return x

    def _layer(self, conv: nn.Module, x: torch.Tensor) -> torch.Tensor:
        return conv(x, self.graph_adj)

    @property
    def n_propagation_layers(self) -> int:
        return len(self.convs)

    def propagate_sampled(self, x: torch.Tensor, blocks: list) -> torch.Tensor:
        for layer, (conv, block) in enumerate(zip(self.convs, blocks)):
            x = self._block_layer(conv, x, block)
            if layer < len(self.convs) - 1:
                x = torch.relu(x)
        return x

    def _block_layer(self, conv: nn.Module, x: torch.Tensor, block) -> torch.Tensor:
        raise ConfigError(f"{type(self).__name__} has no neighbour-sampled path")


class GCN(_ConvStack):
    """GCN (eq. 1 of paper 000): ``GCNConv(normalize=False)`` on the precomputed ``D~^-1/2 (A+I) D~^-1/2``."""

    def __init__(self, graph: GraphData, dim: int = 64, n_layers: int = 2):
        super().__init__(graph, dim)
        self.convs = nn.ModuleList(GCNConv(dim, dim, normalize=False) for _ in range(n_layers))
        self.set_graph(graph)

    def set_graph(self, graph: GraphData) -> None:
        super().set_graph(graph)
        self.graph_adj = to_torch_csr(graph.normalized_adjacency(self_loops=True), self._device())

    def _layer(self, conv: nn.Module, x: torch.Tensor) -> torch.Tensor:
        return gcn_layer(conv, x, self.graph_adj)

    def propagation_matrix(self) -> sp.csr_matrix:
        return self.graph.normalized_adjacency(self_loops=True)

    def _block_layer(self, conv: nn.Module, x: torch.Tensor, block) -> torch.Tensor:
        return block_gcn_layer(conv, x, block)


class GraphSAGE(_ConvStack):
    """GraphSAGE with mean aggregation (``SAGEConv``) on the binary adjacency."""

    def __init__(self, graph: GraphData, dim: int = 64, n_layers: int = 2):
        super().__init__(graph, dim)
        self.convs = nn.ModuleList(SAGEConv(dim, dim, aggr="mean") for _ in range(n_layers))
        self.set_graph(graph)

    def set_graph(self, graph: GraphData) -> None:
        super().set_graph(graph)
        self.graph_adj = to_torch_csr(graph.adjacency, self._device())

    def propagation_matrix(self) -> sp.csr_matrix:
        degree = np.asarray(self.graph.adjacency.sum(axis=1)).ravel()
        scale = np.divide(1.0, degree, out=np.zeros_like(degree, dtype=np.float64), where=degree > 0)
        return sp.csr_matrix(sp.diags(scale) @ self.graph.adjacency, dtype=np.float32)

    def _block_layer(self, conv: nn.Module, x: torch.Tensor, block) -> torch.Tensor:
        """``SAGEConv``: ``lin_l(mean over the sampled neighbours) + lin_r(x_v)``, by the layer's own modules."""
        return conv.lin_l(torch.sparse.mm(block.matrix, x)) + conv.lin_r(x[: block.n_dst])


class RGCN(_ConvStack):
    """R-GCN over the typed relations of the heterogeneous graph (``RGCNConv``, basis decomposition)."""

    def __init__(self, graph: GraphData, dim: int = 64, n_layers: int = 2, n_bases: int | None = 4):
        super().__init__(graph, dim)
        bases = None if n_bases is None else min(n_bases, graph.n_relations)
        self.convs = nn.ModuleList(RGCNConv(dim, dim, graph.n_relations, num_bases=bases, aggr="mean")
                                   for _ in range(n_layers))
        self.set_graph(graph)

    def set_graph(self, graph: GraphData) -> None:
        super().set_graph(graph)
        self.graph_edge_index = graph.edge_index.to(self._device())
        self.graph_edge_type = graph.edge_type.to(self._device())

    def _layer(self, conv: nn.Module, x: torch.Tensor) -> torch.Tensor:
        return conv(x, self.graph_edge_index, self.graph_edge_type)

    def propagation_matrix(self) -> sp.csr_matrix:
        """``D^-1 A``: neighbours are sampled over all relations together; each relation's mean is then taken
        over its sampled neighbours."""
        degree = np.asarray(self.graph.adjacency.sum(axis=1)).ravel()
        scale = np.divide(1.0, degree, out=np.zeros_like(degree, dtype=np.float64), where=degree > 0)
        return sp.csr_matrix(sp.diags(scale) @ self.graph.adjacency, dtype=np.float32)

    def _block_layer(self, conv: nn.Module, x: torch.Tensor, block) -> torch.Tensor:
        """``RGCNConv`` on the block's sampled edges, each with its relation (looked up by global ids)."""
        coo = sp.coo_matrix(block_pattern(block))
        keep = coo.row != coo.col  # the diagonal carries no relation (the root weight covers the node itself)
        dst, src = coo.row[keep], coo.col[keep]
        edge_type = self._relations(block.nodes[dst], block.nodes[src])
        edge_index = torch.from_numpy(np.stack([src, dst]).astype(np.int64)).to(x.device)
        return conv((x, x[: block.n_dst]), edge_index, torch.from_numpy(edge_type).to(x.device))

    def _relations(self, dst: np.ndarray, src: np.ndarray) -> np.ndarray:
        """Relation id of each edge ``src -> dst`` of the graph."""
        if getattr(self, "_relation_keys", None) is None or self._relation_graph is not self.graph:
            edge_index = self.graph.edge_index.numpy()
            keys = edge_index[1] * self.n_nodes + edge_index[0]
            order = np.argsort(keys)
            self._relation_keys, self._relation_types = keys[order], self.graph.edge_type.numpy()[order]
            self._relation_graph = self.graph
        return self._relation_types[np.searchsorted(self._relation_keys, dst * self.n_nodes + src)]


@ENCODERS.register("MF")
def _matrix_factorization(graph: GraphData, sizes: EncoderSizes, views=None) -> GraphEncoder:
    return MatrixFactorization(graph, sizes.dim)


@ENCODERS.register("LightGCN")
def _lightgcn(graph: GraphData, sizes: EncoderSizes, views=None) -> GraphEncoder:
    return LightGCN(graph, sizes.dim, sizes.lightgcn_layers)


@ENCODERS.register("GCN")
def _gcn(graph: GraphData, sizes: EncoderSizes, views=None) -> GraphEncoder:
    return GCN(graph, sizes.dim, sizes.n_layers)


@ENCODERS.register("GraphSAGE")
def _graphsage(graph: GraphData, sizes: EncoderSizes, views=None) -> GraphEncoder:
    return GraphSAGE(graph, sizes.dim, sizes.n_layers)


@ENCODERS.register("RGCN")
def _rgcn(graph: GraphData, sizes: EncoderSizes, views=None) -> GraphEncoder:
    return RGCN(graph, sizes.dim, sizes.n_layers, sizes.rgcn_bases)
