"""GConv-Transform and the paper-002 neural baselines: shapes, depth, ablations, parameter formula, overfitting."""

import pytest
import torch
from torch import nn
from torch_geometric.nn import ChebConv, GCNConv

from xrec_lib.models.baselines_002 import CNN, DNN, AttentionTransformer, DenseCNN, DenseNet, GraphGCN
from xrec_lib.models.gconv_transform import (
    PAD_BEHAVIOUR,
    GConvTransform,
    NodeInput,
    SubgraphBatch,
    count_parameters,
    subgraph_edges,
)

N_ITEMS, N_FEATURES, MAX_NODES = 30, 6, 5
torch.set_num_threads(1)


def make_batch(size: int = 8, seed: int = 0) -> SubgraphBatch:
    generator = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, MAX_NODES + 1, (size,), generator=generator)
    lengths[0] = MAX_NODES
    mask = torch.arange(MAX_NODES)[None, :] < lengths[:, None]
    items = torch.where(mask, torch.randint(0, N_ITEMS, (size, MAX_NODES), generator=generator), N_ITEMS)
    codes = torch.randint(1, 5, (size, MAX_NODES), generator=generator)
    codes[:, 0] = 0
    return SubgraphBatch(items, torch.where(mask, codes, PAD_BEHAVIOUR), lengths)


def node_input(id_dim: int = 4) -> NodeInput:
    return NodeInput(torch.randn(N_ITEMS, N_FEATURES, generator=torch.Generator().manual_seed(1)), id_dim)


def test_node_input_shape_and_zero_padding():
    batch = make_batch()
    x = node_input()(batch)
    assert x.shape == (8, MAX_NODES, 4 + N_FEATURES + 5)
    assert torch.all(x[~batch.mask] == 0)


def test_subgraph_edges_are_star_plus_chain_within_each_graph():
    edges = subgraph_edges(torch.tensor([3, 1, 2]), max_nodes=3)
    pairs = set(map(tuple, edges.t().tolist()))
    # graph 0 = nodes 0..2 (star 0-1, 0-2, chain 1-2), graph 1 = node 3 alone, graph 2 = nodes 4, 5
    assert pairs == {(0, 1), (1, 0), (0, 2), (2, 0), (1, 2), (2, 1), (4, 5), (5, 4)}


@pytest.mark.parametrize("n_layers", [0, 1, 3])
def test_output_shape_and_layer_count(n_layers):
    model = GConvTransform(node_input(), hidden=8, n_layers=n_layers, heads=2, cheb_k=2)
    assert len(model.layers) == n_layers
    assert model(make_batch()).shape == (8,)


def test_parameter_count_grows_linearly_with_depth():
    counts = [count_parameters(GConvTransform(node_input(), hidden=8, n_layers=n, heads=2)) for n in (1, 2, 3, 5)]
    steps = {b - a for a, b in zip(counts, counts[1:3])}
    assert len(steps) == 1
    assert counts[3] - counts[0] == 4 * steps.pop()


def test_parameter_count_matches_hand_formula():
    d_in, d, k, n, id_dim = 4 + N_FEATURES + 5, 8, 3, 2, 4
    expected = (N_ITEMS + 1) * id_dim + 2 * d_in + (k * d_in * d + d) + n * (5 * d * d + 9 * d) + (k * d + 1)
    assert count_parameters(GConvTransform(node_input(id_dim), hidden=d, n_layers=n, heads=2, cheb_k=k)) == expected
    no_attention = GConvTransform(node_input(id_dim), hidden=d, n_layers=n, heads=2, cheb_k=k, use_attention=False)
    assert count_parameters(no_attention) == expected - n * (4 * d * d + 6 * d)  # attention + its LayerNorm


@pytest.mark.parametrize("switch", ["use_cheb", "use_graph", "use_attention"])
def test_ablation_switches_change_structure_and_output(switch):
    torch.manual_seed(0)
    full = GConvTransform(node_input(), hidden=8, n_layers=2, heads=2).eval()
    torch.manual_seed(0)
    ablated = GConvTransform(node_input(), hidden=8, n_layers=2, heads=2, **{switch: False}).eval()
    types = lambda m: sorted(type(x).__name__ for x in m.modules())  # noqa: E731
    assert types(full) != types(ablated)
    if switch == "use_cheb":
        assert not any(isinstance(m, ChebConv) for m in ablated.modules())
    if switch == "use_graph":
        assert not any(isinstance(m, GCNConv) for m in ablated.modules())
    if switch == "use_attention":
        assert not any(isinstance(m, nn.MultiheadAttention) for m in ablated.modules())
    batch = make_batch()
    assert not torch.allclose(full(batch), ablated(batch))


def test_output_ignores_padding_content():
    model = GConvTransform(node_input(), hidden=8, n_layers=2, heads=2).eval()
    batch = make_batch()
    other_padding = SubgraphBatch(torch.where(batch.mask, batch.items, N_ITEMS), batch.behaviours, batch.lengths)
    scrambled = torch.nn.functional.pad(batch.items, (0, 3), value=N_ITEMS)
    longer = SubgraphBatch(scrambled, torch.nn.functional.pad(batch.behaviours, (0, 3), value=PAD_BEHAVIOUR),
                           batch.lengths)
    assert torch.allclose(model(batch), model(other_padding))
    assert torch.allclose(model(batch), model(longer), atol=1e-5)


@pytest.mark.parametrize("build", [
    lambda x: DNN(x, MAX_NODES, 16), lambda x: CNN(x, 16), lambda x: DenseNet(x, MAX_NODES, 8),
    lambda x: DenseCNN(x, 8), lambda x: GraphGCN(x, 16), lambda x: AttentionTransformer(x, 16, heads=2),
])
def test_baselines_give_one_logit_per_example(build):
    assert build(node_input())(make_batch()).shape == (8,)


def test_tiny_overfit():
    """Label = whether the candidate product appears in the history; the model must learn it."""
    torch.manual_seed(0)
    batch = make_batch(size=32, seed=3)
    items = batch.items.clone()
    labels = (torch.arange(32) % 2).float()
    items[labels == 1, 0] = items[labels == 1, 1]
    items[(labels == 0) & (batch.lengths == 1), 0] = 0
    batch = SubgraphBatch(items, batch.behaviours, torch.where(labels == 1, batch.lengths.clamp(min=2), batch.lengths))
    batch = SubgraphBatch(torch.where(batch.mask, batch.items, N_ITEMS),
                          torch.where(batch.mask, batch.behaviours.clamp(max=4), PAD_BEHAVIOUR), batch.lengths)
    model = GConvTransform(node_input(8), hidden=16, n_layers=1, heads=2, dropout=0.0)
    optimiser = torch.optim.Adam(model.parameters(), lr=0.02)
    losses = []
    for _ in range(60):
        optimiser.zero_grad()
        loss = nn.functional.binary_cross_entropy_with_logits(model(batch), labels)
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    accuracy = ((model.eval()(batch) >= 0).float() == labels).float().mean()
    assert losses[-1] < 0.5 * losses[0]
    assert accuracy > 0.9


def test_bad_configuration_raises():
    with pytest.raises(ValueError, match="divisible"):
        GConvTransform(node_input(), hidden=10, heads=3)
    with pytest.raises(ValueError, match="n_items x f"):
        NodeInput(torch.zeros(5), 2)
