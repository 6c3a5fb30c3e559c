"""Neighbour-sampled propagation (xrec_lib.models.sampling): exactness with every neighbour, fanout bounds,
weights, determinism, training through the sampled path, clear errors."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from tests.test_encoders import tiny_dataset
from xrec_lib.errors import ConfigError
from xrec_lib.models import GCN, RGCN, CrossDomainViews, GraphData, GraphSAGE, LightGCN, MatrixFactorization, SiameseGCN
from xrec_lib.models.sampling import NeighbourSampler, parse_fanouts
from xrec_lib.training.encoders import EncoderTrainConfig, train_encoder

torch.set_num_threads(1)
ENCODERS = [MatrixFactorization, LightGCN, GCN, GraphSAGE, RGCN, SiameseGCN]


def build(cls, graph: GraphData, seed: int = 0):
    torch.manual_seed(seed)
    return cls(graph, dim=8)


@pytest.fixture(scope="module")
def graph() -> GraphData:
    return GraphData.from_dataset(tiny_dataset())


@pytest.mark.parametrize("cls", ENCODERS)
def test_every_neighbour_gives_the_full_graph_rows(graph, cls):
    model = build(cls, graph)
    with torch.no_grad():
        full = torch.cat(model())
        seeds = np.array([3, 0, 20, 13, 25])  # users and products, in no particular order
        sampler = NeighbourSampler(model.propagation_matrix(), [None] * model.n_propagation_layers)
        batch = sampler.sample(seeds)
        out = model(batch.nodes, batch.blocks)
    assert torch.equal(batch.nodes[: len(seeds)], torch.from_numpy(seeds))
    assert torch.allclose(out, full[seeds], atol=1e-6)


@pytest.mark.parametrize("cls", [GCN, GraphSAGE, RGCN, LightGCN])
def test_sampled_batch_embeddings_match_the_full_graph_where_the_loss_reads(graph, cls):
    model = build(cls, graph)
    sampler = NeighbourSampler(model.propagation_matrix(), [None] * model.n_propagation_layers)
    users, items = torch.tensor([1, 4, 4, 7]), torch.tensor([2, 9, 14])
    user_emb, item_emb = sampler.embed(model, users, items)
    full_users, full_items = model()
    assert torch.allclose(user_emb[users], full_users[users], atol=1e-6)
    assert torch.allclose(item_emb[items], full_items[items], atol=1e-6)
    assert (user_emb[0] == 0).all()  # rows outside the batch are not computed


def test_a_fanout_bounds_the_neighbours_and_keeps_each_rows_weight():
    rng = np.random.default_rng(0)
    adjacency = sp.random(200, 200, density=0.2, random_state=1, format="csr")
    adjacency = ((adjacency + adjacency.T) > 0).astype(np.float32)
    adjacency.setdiag(0)
    adjacency.eliminate_zeros()
    propagation = sp.csr_matrix(adjacency.multiply(rng.random(adjacency.shape)) + sp.identity(200) * 0.5,
                                dtype=np.float32)
    sampler = NeighbourSampler(propagation, [2, 3], seed=0)
    seeds = np.array([5, 17, 99])
    batch = sampler.sample(seeds)
    last = batch.blocks[-1]
    rows = sp.csr_matrix((last.matrix.values().numpy(), last.matrix.col_indices().numpy(),
                          last.matrix.crow_indices().numpy()), shape=tuple(last.matrix.shape))
    full_off = propagation - sp.diags(propagation.diagonal())
    for row, node in enumerate(seeds):
        cols = rows.indices[rows.indptr[row]: rows.indptr[row + 1]]
        values = rows.data[rows.indptr[row]: rows.indptr[row + 1]]
        neighbours = last.nodes[cols[cols != row]]
        assert len(neighbours) <= 2 and set(neighbours) <= set(adjacency[node].indices)
        assert values[cols == row][0] == pytest.approx(0.5)  # the diagonal is kept as it is
        assert values[cols != row].sum() == pytest.approx(full_off[node].sum(), rel=1e-5)
    assert len(batch.blocks[0].nodes) <= len(last.nodes) * (1 + 3)


def test_sampling_is_seeded():
    propagation = sp.random(300, 300, density=0.1, random_state=2, format="csr", dtype=np.float32)
    propagation = propagation + propagation.T
    draws = [NeighbourSampler(propagation, [4, 4], seed=7).sample(np.arange(10)) for _ in range(2)]
    assert torch.equal(draws[0].nodes, draws[1].nodes)
    other = NeighbourSampler(propagation, [4, 4], seed=8).sample(np.arange(10))
    assert not torch.equal(draws[0].nodes, other.nodes)


def test_training_with_every_neighbour_repeats_full_graph_training(graph):
    """Same rows, same gradients: the loss history of the sampled path equals the full-graph one."""
    dataset = tiny_dataset()
    train = sp.csr_matrix((np.ones(len(dataset.train.user), np.float32),
                           (dataset.train.user, dataset.train.product)), shape=(12, 15))
    views = CrossDomainViews.from_interactions(train, dataset.product_domain)
    histories = []
    for fanouts in (None, (None, None)):
        torch.manual_seed(0)
        model = SiameseGCN(graph, dim=8, views=views, alignment_weight=0.1)
        config = EncoderTrainConfig(epochs=3, batch_size=8, lr=0.01, seed=0, fanouts=fanouts)
        histories.append(train_encoder(model, train, None, config).history)
    for column in ("loss", "aux_loss"):
        assert np.allclose(histories[0][column], histories[1][column], rtol=1e-5, atol=1e-7)


def test_training_with_a_fanout_learns(graph):
    dataset = tiny_dataset()
    train = sp.csr_matrix((np.ones(len(dataset.train.user), np.float32),
                           (dataset.train.user, dataset.train.product)), shape=(12, 15))
    model = build(GCN, graph)
    config = EncoderTrainConfig(epochs=30, batch_size=16, lr=0.02, seed=0, fanouts=(2,))
    history = train_encoder(model, train, None, config).history
    assert history["loss"].iloc[-1] < 0.8 * history["loss"].iloc[0]


def test_one_fanout_setting_fits_every_depth_and_bad_values_name_the_problem():
    assert parse_fanouts([10, 5], 1) == (10,)
    assert parse_fanouts([10, 5], 3) == (10, 5, 5)
    assert parse_fanouts([0, None], 2) == (None, None)
    assert parse_fanouts(None, 2) is None
    with pytest.raises(ConfigError, match="positive integer"):
        parse_fanouts([5, -1], 2)
    with pytest.raises(ConfigError, match="at least one hop"):
        parse_fanouts([], 2)


def test_hop_one_uses_the_first_fanout():
    """fanouts[0] bounds the seeds' own neighbours (the last layer's block), fanouts[1] the next hop."""
    propagation = sp.random(400, 400, density=0.2, random_state=3, format="csr", dtype=np.float32)
    propagation = propagation + propagation.T
    batch = NeighbourSampler(propagation, [1, 6], seed=0).sample(np.array([0, 1, 2]))
    assert len(batch.blocks[-1].nodes) <= 3 * 2  # each seed + at most one neighbour
    assert len(batch.blocks[0].nodes) > len(batch.blocks[-1].nodes) + 6


def test_a_fanout_draws_distinct_neighbours_uniformly():
    """A node with 10 neighbours and a fanout of 3: 3 distinct neighbours per draw, each neighbour in about 3 of 10
    draws."""
    star = sp.csr_matrix((np.ones(20, np.float32), (np.r_[np.zeros(10, int), np.arange(1, 11)],
                                                    np.r_[np.arange(1, 11), np.zeros(10, int)])), shape=(11, 11))
    sampler = NeighbourSampler(star, [3], seed=0)
    counts = np.zeros(11)
    for _ in range(2000):
        block = sampler.sample(np.array([0])).blocks[0]
        neighbours = block.nodes[1:]
        assert len(neighbours) == 3 and len(set(neighbours)) == 3
        counts[neighbours] += 1
    assert np.allclose(counts[1:] / 2000, 0.3, atol=0.04)
