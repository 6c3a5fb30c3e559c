"""Encoders of paper 000: shapes, Siamese weight sharing, CSR path == edge_index / subgraph path."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from torch_geometric.nn import GCNConv, LGConv, SAGEConv

from xrec_lib.data.crossdomain import CrossDomainDataset, Interactions
from xrec_lib.errors import ConfigError, DataError
from xrec_lib.models import (GCN, RGCN, CrossDomainViews, GraphData, GraphSAGE, LightGCN, MatrixFactorization,
                             SiameseGCN)

torch.set_num_threads(1)


def tiny_dataset(seed: int = 0, n_users: int = 12, n_products: int = 15) -> CrossDomainDataset:
    """A hand-built cross-domain dataset: products 0-7 source domain, 8-14 target domain, 3 suppliers, 2 sellers."""
    rng = np.random.default_rng(seed)
    domain = (np.arange(n_products) >= 8).astype(np.int64)
    pairs = np.unique(np.stack([rng.integers(0, n_users, 60), rng.integers(0, n_products, 60)]), axis=1)
    test = rng.random(pairs.shape[1]) < 0.3
    split = lambda mask: Interactions(pairs[0][mask], pairs[1][mask], domain[pairs[1][mask]])  # noqa: E731
    return CrossDomainDataset(
        name="tiny", synthetic=True, n_users=n_users, n_products=n_products, n_suppliers=3, n_sellers=2,
        product_domain=domain, user_market=np.zeros(n_users, np.int64), product_market=np.zeros(n_products, np.int64),
        supplier_of_product=np.arange(n_products) % 3, seller_product=np.array([[0, 0, 1], [8, 9, 10]]),
        seller_supplier=np.array([[0, 1], [0, 2]]), train=split(~test), test=split(test))


@pytest.fixture(scope="module")
def graph() -> GraphData:
    return GraphData.from_dataset(tiny_dataset())


@pytest.mark.parametrize("cls", [MatrixFactorization, LightGCN, GCN, GraphSAGE, RGCN, SiameseGCN])
def test_encoders_return_user_and_item_embeddings(graph, cls):
    user_emb, item_emb = cls(graph, dim=8)()
    assert user_emb.shape == (12, 8) and item_emb.shape == (15, 8)
    assert torch.isfinite(user_emb).all() and torch.isfinite(item_emb).all()


def test_graph_holds_side_nodes_and_typed_relations(graph):
    assert graph.n_nodes == 12 + 15 + 3 + 2
    assert graph.n_relations == 8  # interacts, supplied_by, sells, sources_from and their reverses
    assert (graph.adjacency != graph.adjacency.T).nnz == 0 and graph.adjacency.diagonal().sum() == 0
    bipartite = GraphData.from_dataset(tiny_dataset(), include_side_nodes=False)
    assert bipartite.n_nodes == 27 and bipartite.n_relations == 2


def test_set_graph_refuses_another_node_set(graph):
    model = GCN(graph, dim=4)
    with pytest.raises(DataError, match="nodes"):
        model.set_graph(GraphData.from_dataset(tiny_dataset(), include_side_nodes=False))
    with pytest.raises(ConfigError):
        GCN(graph, dim=0)


def test_siamese_branches_are_one_module_and_both_sides_train_it(graph):
    model = SiameseGCN(graph, dim=8, n_layers=2)
    assert model.user_branch is model.item_branch
    assert len(list(model.parameters())) == 1 + 2 * 2  # ID embeddings + (weight, bias) per shared layer
    for side in (model.embed_users(torch.tensor([0, 3])), model.embed_items(torch.tensor([1, 9]))):
        model.zero_grad()
        side.sum().backward()
        assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.branch.parameters())


def test_subgraph_path_equals_full_graph_path(graph):
    torch.manual_seed(0)
    model = SiameseGCN(graph, dim=8, n_layers=2)
    user_emb, item_emb = model()
    users, items = torch.tensor([0, 5, 11]), torch.tensor([2, 8, 14])
    assert torch.allclose(model.embed_users(users), user_emb[users], atol=1e-5)
    assert torch.allclose(model.embed_items(items), item_emb[items], atol=1e-5)


def test_csr_propagation_equals_edge_index_propagation(graph):
    torch.manual_seed(0)
    x = torch.randn(graph.n_nodes, 6)
    edge_index = torch.from_numpy(np.stack(graph.adjacency.nonzero()).astype(np.int64))
    gcn = GCN(graph, dim=6, n_layers=1)
    assert torch.allclose(gcn.propagate(x), _gcn_reference(gcn.convs[0], x, edge_index), atol=1e-5)
    sage = GraphSAGE(graph, dim=6, n_layers=1)
    reference = SAGEConv(6, 6, aggr="mean")
    reference.load_state_dict(sage.convs[0].state_dict())
    assert torch.allclose(sage.propagate(x), reference(x, edge_index), atol=1e-5)
    light = LightGCN(graph, dim=6, n_layers=2)
    layer = LGConv()  # normalises edge_index itself
    expected = (x + layer(x, edge_index) + layer(layer(x, edge_index), edge_index)) / 3
    assert torch.allclose(light.propagate(x), expected, atol=1e-5)


def _gcn_reference(conv: GCNConv, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
    """The same weights in a normalising GCNConv on edge_index (adds self-loops, symmetric normalisation)."""
    reference = GCNConv(x.shape[1], conv.out_channels)
    reference.load_state_dict(conv.state_dict())
    return reference(x, edge_index)


def test_alignment_loss_is_positive_and_needs_both_views():
    data = tiny_dataset()
    views = CrossDomainViews.from_interactions(data.interaction_matrix("train"), data.product_domain)
    assert np.allclose(np.asarray(views.source.sum(axis=1)).ravel()[views.users_with_both()], 1.0)
    model = SiameseGCN(GraphData.from_dataset(data), dim=8, views=views, alignment_weight=1.0)
    user_emb, item_emb = model()
    loss = model.auxiliary_loss(user_emb, item_emb, torch.arange(12))
    assert loss.item() > 0
    loss.backward()
    assert model.embedding.weight.grad.abs().sum() > 0
    off = SiameseGCN(GraphData.from_dataset(data), dim=8)
    assert off.auxiliary_loss(user_emb, item_emb, torch.arange(12)).item() == 0


def test_interaction_graph_from_matrix():
    matrix = sp.csr_matrix(np.array([[1, 0, 1], [0, 1, 0]], dtype=np.float32))
    graph = GraphData.from_interactions(matrix)
    assert (graph.n_users, graph.n_items, graph.n_nodes) == (2, 3, 5)
    assert graph.adjacency.nnz == 6
    normalized = graph.normalized_adjacency(self_loops=False).toarray()
    assert normalized[0, 2] == pytest.approx(1 / np.sqrt(2 * 1))


def test_symmetric_spmm_gradient_equals_autograd(graph):
    from xrec_lib.models.encoders import symmetric_spmm, to_torch_csr

    adjacency = to_torch_csr(graph.normalized_adjacency(self_loops=True))
    x = torch.randn(graph.n_nodes, 4, requires_grad=True)
    weights = torch.randn(graph.n_nodes, 4)
    (symmetric_spmm(adjacency, x) * weights).sum().backward()
    ours, x.grad = x.grad.clone(), None
    (torch.sparse.mm(adjacency.to_sparse_coo(), x) * weights).sum().backward()
    assert torch.allclose(ours, x.grad, atol=1e-6)


def test_layer_mean_propagation_matches_explicit_layers_and_their_gradient(graph):
    from xrec_lib.models.encoders import layer_mean_propagation, to_torch_csr

    adjacency = to_torch_csr(graph.normalized_adjacency(self_loops=False))
    assert adjacency.crow_indices().dtype == torch.int32
    dense = adjacency.to_dense()
    x = torch.randn(graph.n_nodes, 4, requires_grad=True)
    weights = torch.randn(graph.n_nodes, 4)
    out = layer_mean_propagation(adjacency, x, 3)
    (out * weights).sum().backward()
    ours, x.grad = x.grad.clone(), None
    expected = (x + dense @ x + dense @ dense @ x + dense @ dense @ dense @ x) / 4
    (expected * weights).sum().backward()
    assert torch.allclose(out, expected, atol=1e-6) and torch.allclose(ours, x.grad, atol=1e-6)


def test_registry_builds_every_encoder_from_its_sizes(graph):
    from types import SimpleNamespace

    from xrec_lib.models.encoders import ENCODERS

    sizes = SimpleNamespace(dim=4, n_layers=1, lightgcn_layers=2, rgcn_bases=2, alignment_weight=0.1,
                            temperature=0.2)
    assert set(ENCODERS) == {"MF", "LightGCN", "GCN", "GraphSAGE", "RGCN", "Siamese GCN"}
    built = {name: ENCODERS.build(name, graph, sizes) for name in ENCODERS}
    assert isinstance(built["Siamese GCN"], SiameseGCN) and built["LightGCN"].n_layers == 2
    assert all(model()[0].shape == (12, 4) for model in built.values())
    with pytest.raises(ConfigError, match="unknown encoder"):
        ENCODERS.build("GAT", graph, sizes)
