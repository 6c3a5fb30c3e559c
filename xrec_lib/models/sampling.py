"""Neighbour-sampled propagation: graph encoders trained on mini-batch subgraphs instead of the whole graph.

The full-graph path (:meth:`~xrec_lib.models.encoders.GraphEncoder.forward`) propagates every node at every
optimisation step: its cost and its activation memory grow with the whole graph. The sampled path computes the
``L``-layer outputs of a batch's nodes only (the *seeds*: the batch's users and products), from their sampled
``L``-hop neighbourhood, one bipartite *block* per layer (GraphSAGE, Hamilton et al. 2017, Alg. 2; the layout of
PyG's ``NeighborLoader`` and DGL's blocks):

* ``V_L`` = the seeds; ``V_{l-1}`` = ``V_l`` followed by the neighbours sampled for the nodes of ``V_l``, at most
  ``fanouts[h]`` per node at hop ``h + 1`` from the seeds (``h = L - l``; PyG's ``num_neighbors`` order), drawn
  without replacement; ``None``: every neighbour. Every ``V_{l-1}`` starts with ``V_l``, so a node's own row is
  always available to the next layer and the seeds are the first rows of every layer.
* ``block_l`` = ``P[V_l, V_{l-1}]`` restricted to the sampled edges and the diagonal, with ``P`` the encoder's
  propagation matrix (GCN and the Siamese GCN: ``D~^-1/2 (A + I) D~^-1/2``; LightGCN: ``D^-1/2 A D^-1/2``;
  GraphSAGE: ``D^-1 A``, the mean over neighbours). Each row's off-diagonal weights are rescaled to the total
  off-diagonal weight of the node's full row, so a sampled neighbourhood carries the weight of the whole one
  (for GraphSAGE: the mean over the sampled neighbours, as in its paper).

With every neighbour kept (``fanouts`` all ``None``), the seeds' outputs equal their rows of the full-graph
propagation: every message that reaches a seed within ``L`` layers starts inside its ``L``-hop neighbourhood and
carries the same weight (tested for every encoder that has a sampled path). With fanouts, a step costs at most
``prod(fanouts)`` neighbours per seed whatever the graph's size; the vectors used for validation and ranking are
still computed on the full graph without gradients (:func:`xrec_lib.training.encoders.embeddings`).

PyG's ``NeighborLoader`` needs ``pyg-lib`` or ``torch-sparse``, which the package's stack leaves out (neither has a
wheel for its pinned torch on PyPI); :class:`NeighbourSampler` is the vectorised NumPy equivalent on a SciPy CSR
matrix. :class:`~xrec_lib.training.encoders.EncoderTrainConfig` switches it on with ``fanouts``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import scipy.sparse as sp
import torch

from xrec_lib.errors import ConfigError


@dataclass(frozen=True)
class Block:
    """One layer's messages: ``matrix`` (``n_dst x n_src`` sparse CSR) maps the layer's inputs (nodes
    ``V_{l-1}``, global ids ``nodes``) to its outputs (nodes ``V_l``, the first ``n_dst`` of ``V_{l-1}``)."""

    matrix: torch.Tensor
    n_dst: int
    nodes: np.ndarray


@dataclass(frozen=True)
class SampledBatch:
    """The sampled neighbourhood of a batch: ``nodes`` = ``V_0`` (global node ids, seeds first), the blocks of
    layers ``1..L`` (first layer first) and the number of seeds."""

    nodes: torch.Tensor
    blocks: list[Block]
    n_seeds: int


def parse_fanouts(fanouts: Sequence[int | None] | None, n_layers: int) -> tuple[int | None, ...] | None:
    """``fanouts`` for an encoder of ``n_layers`` propagation layers: one entry per hop from the seeds (``None``
    or ``0``: every neighbour); a shorter list repeats its last entry, a longer one is cut, so that one setting
    serves encoders of different depths. None stays None (the full-graph path)."""
    if fanouts is None:
        return None
    fanouts = tuple(None if f in (None, 0) else f for f in fanouts)
    if not fanouts:
        raise ConfigError("fanouts must name at least one hop (or be null: the full graph)")
    for fanout in fanouts:
        if fanout is not None and (isinstance(fanout, bool) or not isinstance(fanout, (int, np.integer))
                                   or fanout < 1):
            raise ConfigError(f"every fanout must be a positive integer or null (every neighbour), got {fanout!r}")
    return (fanouts + fanouts[-1:] * n_layers)[:n_layers]


class NeighbourSampler:
    """Samples the blocks of a batch of seed nodes from a propagation matrix (module docstring).

    Args:
        propagation: ``P``, square ``scipy.sparse`` (its diagonal is a node's weight on itself, never sampled).
        fanouts: neighbours drawn per node at each hop from the seeds, one entry per propagation layer
            (``None``: every neighbour; :func:`parse_fanouts` fits a list to a depth).
        seed: seed of the sampler's random stream.
        device: where the blocks are built.
    """

    def __init__(self, propagation: sp.spmatrix, fanouts: Sequence[int | None], seed: int = 0,
                 device: str | torch.device = "cpu"):
        matrix = sp.csr_matrix(propagation, dtype=np.float32)
        if matrix.shape[0] != matrix.shape[1]:
            raise ConfigError(f"the propagation matrix must be square, got {matrix.shape}")
        self.fanouts = tuple(fanouts)
        self.diagonal = matrix.diagonal().astype(np.float32)
        off = matrix - sp.diags(self.diagonal)
        off = sp.csr_matrix(off, dtype=np.float32)
        off.eliminate_zeros()
        off.sort_indices()
        self.off_diagonal = off
        self.row_total = np.asarray(off.sum(axis=1), dtype=np.float64).ravel()
        self.rng = np.random.default_rng(seed)
        self.device = device
        self._position = np.full(self.n_nodes, -1, dtype=np.int64)  # work buffers of sample(), kept clean
        self._seen = np.zeros(self.n_nodes, dtype=bool)

    @property
    def n_nodes(self) -> int:
        return self.off_diagonal.shape[0]

    def sample(self, seeds: np.ndarray | torch.Tensor) -> SampledBatch:
        """The blocks of ``seeds`` (distinct global node ids)."""
        seeds = np.asarray(seeds.cpu() if isinstance(seeds, torch.Tensor) else seeds, dtype=np.int64)
        if len(seeds) and (seeds.min() < 0 or seeds.max() >= self.n_nodes):
            raise ValueError(f"seed nodes must lie in [0, {self.n_nodes})")
        position = self._position  # global id -> local index in the current layer's inputs (-1: absent)
        position[seeds] = np.arange(len(seeds))
        distinct = bool((position[seeds] == np.arange(len(seeds))).all())
        position[seeds] = -1
        if not distinct:
            raise ValueError("seed nodes must be distinct")
        layers, blocks = [seeds], []
        for fanout in self.fanouts:  # hop 1 (the seeds' neighbours, the last layer's messages) first
            dst = layers[0]
            rows, cols, weights = self._neighbours(dst, fanout)
            position[dst] = np.arange(len(dst))
            seen = self._seen
            seen[cols] = True
            seen[dst] = False
            new = np.flatnonzero(seen)  # the neighbours not yet in the layer, in id order
            seen[new] = False
            src = np.concatenate([dst, new])
            position[new] = np.arange(len(dst), len(src))
            local = position[cols]
            position[src] = -1
            diagonal = np.arange(len(dst))
            matrix = sp.csr_matrix((np.concatenate([weights, self.diagonal[dst]]),
                                    (np.concatenate([rows, diagonal]), np.concatenate([local, diagonal]))),
                                   shape=(len(dst), len(src)))
            matrix.eliminate_zeros()
            blocks.insert(0, Block(_torch_csr(matrix, self.device), len(dst), src))
            layers.insert(0, src)
        return SampledBatch(torch.from_numpy(layers[0]).to(self.device), blocks, len(seeds))

    def _neighbours(self, dst: np.ndarray, fanout: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(row in dst, neighbour id, rescaled weight)`` of the edges kept for the nodes ``dst``: every edge of a
        node with at most ``fanout`` neighbours, else ``fanout`` of them drawn uniformly without replacement
        (Floyd's algorithm, vectorised over the nodes: ``fanout`` draws per node, whatever its degree)."""
        indptr = self.off_diagonal.indptr
        starts = indptr[dst].astype(np.int64)
        degree = (indptr[dst + 1] - indptr[dst]).astype(np.int64)
        every = np.ones(len(dst), dtype=bool) if fanout is None else degree <= fanout
        rows = np.repeat(np.flatnonzero(every), degree[every])
        offsets = np.arange(len(rows)) - np.repeat(np.cumsum(degree[every]) - degree[every], degree[every])
        positions = np.repeat(starts[every], degree[every]) + offsets
        if not every.all():
            big = np.flatnonzero(~every)
            n = degree[big]
            chosen = np.empty((len(big), fanout), dtype=np.int64)
            for i in range(fanout):  # Floyd: for j = n - fanout .. n - 1, draw t in [0, j]; take j if t is taken
                j = n - fanout + i
                t = np.minimum((self.rng.random(len(big)) * (j + 1)).astype(np.int64), j)
                taken = (chosen[:, :i] == t[:, None]).any(axis=1)
                chosen[:, i] = np.where(taken, j, t)
            rows = np.concatenate([rows, np.repeat(big, fanout)])
            positions = np.concatenate([positions, (starts[big][:, None] + chosen).ravel()])
        cols = self.off_diagonal.indices[positions].astype(np.int64)
        weights = self.off_diagonal.data[positions].astype(np.float64)
        kept = np.bincount(rows, weights=weights, minlength=len(dst))
        scale = np.divide(self.row_total[dst], kept, out=np.zeros(len(dst)), where=kept != 0)
        return rows, cols, (weights * scale[rows]).astype(np.float32)

    def embed(self, model, users: torch.Tensor, items: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(user_emb, item_emb)`` of ``model`` in the full shapes, computed on the sampled neighbourhood of
        ``users`` and ``items`` (other rows zero): a drop-in for ``model()`` in a loss that reads those rows.
        ``model`` may be wrapped (data parallelism): the pass goes through its ``forward``."""
        users, items = torch.unique(users), torch.unique(items)
        seeds = torch.cat([users, items + model.n_users])
        batch = self.sample(seeds)
        out = model(batch.nodes, batch.blocks)
        user_emb = out.new_zeros(model.n_users, out.shape[1]).index_copy(0, users.to(out.device),
                                                                          out[: len(users)])
        item_emb = out.new_zeros(model.n_items, out.shape[1]).index_copy(0, items.to(out.device),
                                                                          out[len(users):])
        return user_emb, item_emb


def _torch_csr(matrix: sp.csr_matrix, device) -> torch.Tensor:
    matrix.sort_indices()
    return torch.sparse_csr_tensor(torch.from_numpy(matrix.indptr.astype(np.int64)),
                                   torch.from_numpy(matrix.indices.astype(np.int64)),
                                   torch.from_numpy(matrix.data.astype(np.float32)), size=matrix.shape).to(device)
