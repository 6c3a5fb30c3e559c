"""Siamese GCN entity representations of paper 000 (Fig. 3, eqs. 1-5).

The paper's equations are absent from its text; this module implements their standard reading from the
surrounding descriptions:

* **Eq. (1), graph convolution** on the heterogeneous graph of Fig. 2 (users, products, suppliers, sellers)
  flattened to one node set: ``H^(l+1) = sigma(D~^-1/2 (A + I) D~^-1/2 H^(l) W^(l))`` with ``H^(0)`` the
  learnable ID embeddings, ``sigma`` = ReLU between layers and identity after the last.
* **Siamese branches** (Fig. 3): the user's and the product's neighbourhood subgraphs go through *the same*
  multi-layer GCN module (``user_branch is item_branch``): the weights are shared, not tied copies.
* **Eq. (5), entity representation**: the last-layer output of the entity's own node, ``z_v = H^(L)_v``.
* **Eq. (2), matching degree**: the inner product ``s(u, i) = z_u . z_i``.
* **Eq. (3)-(4), training objective** on ranking triplets ``(u, i+, i-)``: a pairwise ranking loss on
  ``s(u, i+) - s(u, i-)`` (BPR ``-ln sigmoid(.)`` or the margin ``max(0, m - .)``, see
  :mod:`xrec_lib.training.losses`) + an L2 penalty on the batch's ID embeddings + the auxiliary loss of Fig. 5.
* **Auxiliary loss** (Fig. 5, "guided by an auxiliary loss"): a cross-domain alignment term. A user's
  *source view* is the mean final representation of the source-domain (B2B) products the user interacted with,
  the *target view* the same over target-domain (B2C) products; an InfoNCE loss (temperature ``tau``, in-batch
  negatives, symmetric) pulls the two views of one user together and pushes those of different users apart,
  which carries preference knowledge across the bridge between the domains. Users lacking one view are skipped.

Full graph versus subgraphs: the paper feeds sampled neighbourhood subgraphs to the branches. With full
(unsampled) ``L``-hop neighbourhoods, the ``L``-layer output of a seed node computed on its ``L``-hop subgraph,
with the edge weights of the full normalized adjacency, equals its row of the full-graph propagation
(every message that reaches the seed within ``L`` layers starts inside the subgraph). :meth:`SiameseGCN.forward`
therefore propagates the whole graph once per step with a ``torch.sparse`` CSR adjacency, and
:meth:`SiameseGCN.embed_subgraph` is the per-subgraph path (``torch_geometric.utils.k_hop_subgraph``) that
gives the same vectors.

The model is registered as ``"Siamese GCN"`` in :data:`xrec_lib.models.encoders.ENCODERS`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.nn import GCNConv
from torch_geometric.utils import k_hop_subgraph

from xrec_lib.data.crossdomain import SOURCE, TARGET
from xrec_lib.errors import ConfigError
from xrec_lib.models.encoders import (ENCODERS, EncoderSizes, GraphData, GraphEncoder, block_gcn_layer, gcn_layer,
                                     to_torch_csr, to_weighted_edge_index)


class GCNBranch(nn.Module):
    """One Siamese branch: ``n_layers`` ``GCNConv(normalize=False)`` layers (eq. 1) with ReLU between them.

    ``graph`` is either a symmetric normalized sparse CSR adjacency (propagated by
    :func:`~xrec_lib.models.encoders.gcn_layer`), or an ``edge_index`` with ``edge_weight`` (``GCNConv`` itself).
    """

    def __init__(self, dim: int, n_layers: int):
        super().__init__()
        if n_layers < 1:
            raise ConfigError(f"n_layers must be >= 1, got {n_layers}")
        self.convs = nn.ModuleList(GCNConv(dim, dim, normalize=False) for _ in range(n_layers))

    def forward(self, x: torch.Tensor, graph: torch.Tensor, edge_weight: torch.Tensor | None = None) -> torch.Tensor:
        for layer, conv in enumerate(self.convs):
            x = gcn_layer(conv, x, graph) if graph.layout == torch.sparse_csr else conv(x, graph, edge_weight)
            if layer < len(self.convs) - 1:
                x = torch.relu(x)
        return x

    def forward_blocks(self, x: torch.Tensor, blocks: list) -> torch.Tensor:
        """The same layers on sampled blocks (:mod:`xrec_lib.models.sampling`), first layer first."""
        for layer, (conv, block) in enumerate(zip(self.convs, blocks)):
            x = block_gcn_layer(conv, x, block)
            if layer < len(self.convs) - 1:
                x = torch.relu(x)
        return x


@dataclass(frozen=True)
class CrossDomainViews:
    """Row-normalized user x item matrices averaging a user's source- and target-domain training items."""

    source: sp.csr_matrix
    target: sp.csr_matrix

    @classmethod
    def from_interactions(cls, train: sp.spmatrix, item_domain: np.ndarray) -> "CrossDomainViews":
        train = sp.csr_matrix(train, dtype=np.float32)
        return cls(_row_mean_operator(train, item_domain == SOURCE), _row_mean_operator(train, item_domain == TARGET))

    def users_with_both(self) -> np.ndarray:
        """Ids of the users that have at least one training item in each domain."""
        return np.flatnonzero((np.diff(self.source.indptr) > 0) & (np.diff(self.target.indptr) > 0))


def _row_mean_operator(train: sp.csr_matrix, columns: np.ndarray) -> sp.csr_matrix:
    kept = train @ sp.diags(columns.astype(np.float32))
    kept.eliminate_zeros()
    counts = np.asarray(kept.sum(axis=1)).ravel()
    return sp.csr_matrix(sp.diags(np.divide(1.0, counts, out=np.zeros_like(counts), where=counts > 0)) @ kept)


def alignment_loss(source_view: torch.Tensor, target_view: torch.Tensor, temperature: float) -> torch.Tensor:
    """Symmetric InfoNCE between row ``r`` of the two views (positives on the diagonal, cosine similarity)."""
    logits = F.normalize(source_view, dim=1) @ F.normalize(target_view, dim=1).T / temperature
    labels = torch.arange(len(logits), device=logits.device)
    return 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels))


class SiameseGCN(GraphEncoder):
    """Two weight-sharing GCN branches over the heterogeneous graph (module docstring; eqs. 1-5).

    Args:
        graph: the training graph (normally :meth:`GraphData.from_dataset` with side nodes).
        dim: embedding size of the ID features and of every layer.
        n_layers: graph-convolution layers per branch.
        views: source/target views for the auxiliary alignment loss (None: no auxiliary loss).
        alignment_weight: weight of the auxiliary loss.
        temperature: InfoNCE temperature ``tau``.
        max_alignment_users: batch users entering the InfoNCE term at most (bounds its ``B x B`` logits).
    """

    def __init__(self, graph: GraphData, dim: int = 64, n_layers: int = 2, views: CrossDomainViews | None = None,
                 alignment_weight: float = 0.1, temperature: float = 0.2, max_alignment_users: int = 1024):
        super().__init__(graph, dim)
        self.branch = GCNBranch(dim, n_layers)
        self.n_layers = n_layers
        self.alignment_weight = alignment_weight
        self.temperature = temperature
        self.max_alignment_users = max_alignment_users
        self.set_views(views)
        self.set_graph(graph)

    @property
    def user_branch(self) -> GCNBranch:
        """The branch encoding users' neighbourhood subgraphs (the same module as :attr:`item_branch`)."""
        return self.branch

    @property
    def item_branch(self) -> GCNBranch:
        """The branch encoding products' neighbourhood subgraphs (the same module as :attr:`user_branch`)."""
        return self.branch

    def set_graph(self, graph: GraphData) -> None:
        super().set_graph(graph)
        normalized = graph.normalized_adjacency(self_loops=True)
        self.graph_adj = to_torch_csr(normalized, self._device())
        self.graph_edge_index, self.graph_edge_weight = (t.to(self._device()) for t in to_weighted_edge_index(normalized))

    def set_views(self, views: CrossDomainViews | None) -> None:
        """Use ``views`` for the auxiliary loss (None switches it off)."""
        self.views = views
        self.graph_source_view = None if views is None else to_torch_csr(views.source, self._device())
        self.graph_target_view = None if views is None else to_torch_csr(views.target, self._device())
        self.aligned_users = None if views is None else torch.from_numpy(views.users_with_both())

    def propagate(self, x: torch.Tensor) -> torch.Tensor:
        """Full-graph path: one pass of the shared branch over every node (users, products and side nodes)."""
        return self.branch(x, self.graph_adj)

    @property
    def n_propagation_layers(self) -> int:
        return self.n_layers

    def propagation_matrix(self) -> sp.csr_matrix:
        return self.graph.normalized_adjacency(self_loops=True)

    def propagate_sampled(self, x: torch.Tensor, blocks: list) -> torch.Tensor:
        """Sampled path: the shared branch on the batch's sampled blocks (the paper's neighbourhood subgraphs)."""
        return self.branch.forward_blocks(x, blocks)

    def batch_items(self, users: torch.Tensor) -> torch.Tensor:
        """Every training item of ``users`` in either view: the auxiliary loss averages their vectors."""
        if self.views is None or self.alignment_weight == 0:
            return users.new_zeros(0)
        rows = np.unique(users.cpu().numpy())
        items = np.union1d(self.views.source[rows].indices, self.views.target[rows].indices)
        return torch.from_numpy(items.astype(np.int64)).to(users.device)

    def embed_subgraph(self, nodes: torch.Tensor, branch: GCNBranch | None = None) -> torch.Tensor:
        """Subgraph path: eq. 5 vectors of ``nodes`` (homogeneous ids) from their ``L``-hop subgraph.

        Equals ``propagate(embedding.weight)[nodes]`` (module docstring).
        """
        subset, edge_index, mapping, edge_mask = k_hop_subgraph(
            nodes.to(self._device()), self.n_layers, self.graph_edge_index, relabel_nodes=True,
            num_nodes=self.n_nodes)
        out = (branch or self.branch)(self.embedding.weight[subset], edge_index, self.graph_edge_weight[edge_mask])
        return out[mapping]

    def embed_users(self, users: torch.Tensor) -> torch.Tensor:
        """User representations through :attr:`user_branch` on the users' neighbourhood subgraphs."""
        return self.embed_subgraph(users, self.user_branch)

    def embed_items(self, items: torch.Tensor) -> torch.Tensor:
        """Product representations through :attr:`item_branch` on the products' neighbourhood subgraphs."""
        return self.embed_subgraph(items + self.n_users, self.item_branch)

    def auxiliary_loss(self, user_emb: torch.Tensor, item_emb: torch.Tensor, users: torch.Tensor) -> torch.Tensor:
        """``alignment_weight`` x InfoNCE between the source and target views of the batch's users."""
        if self.graph_source_view is None or self.alignment_weight == 0:
            return user_emb.new_zeros(())
        batch_users = torch.unique(users.cpu())
        batch_users = batch_users[torch.isin(batch_users, self.aligned_users)]
        batch_users = batch_users[torch.randperm(len(batch_users))[: self.max_alignment_users]]
        if len(batch_users) < 2:
            return user_emb.new_zeros(())
        batch_users = batch_users.to(self._device())
        source = torch.sparse.mm(self.graph_source_view, item_emb)[batch_users]
        target = torch.sparse.mm(self.graph_target_view, item_emb)[batch_users]
        return self.alignment_weight * alignment_loss(source, target, self.temperature)


@ENCODERS.register("Siamese GCN")
def _siamese_gcn(graph: GraphData, sizes: EncoderSizes, views: CrossDomainViews | None = None) -> GraphEncoder:
    return SiameseGCN(graph, sizes.dim, sizes.n_layers, views, sizes.alignment_weight, sizes.temperature)
