"""GConv-Transform and the paper-002 baselines: shapes, depth, ablations, parameter formula, overfitting, registry."""

from types import SimpleNamespace

import pytest
import torch
from torch import nn
from torch_geometric.nn import ChebConv, DenseGCNConv, GCNConv
from torch_geometric.utils import dense_to_sparse

from xrec_lib.errors import ConfigError
from xrec_lib.models.baselines_002 import (
    CNN,
    DNN,
    MODELS,
    AttentionTransformer,
    DenseCNN,
    DenseNet,
    GraphGCN,
    LinearSvm,
)
from xrec_lib.models.gconv_transform import (
    PAD_BEHAVIOUR,
    DenseChebConv,
    GConvTransform,
    GConvTransformLayer,
    NodeInput,
    SubgraphBatch,
    count_parameters,
    scaled_laplacian,
    subgraph_adjacency,
)
from xrec_lib.training.loop import LoopConfig, Objective, fit

N_ITEMS, N_FEATURES, MAX_NODES, N_CLASSES = 30, 6, 5, 7
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


def test_subgraph_adjacency_is_star_plus_chain_over_real_nodes_only():
    mask = torch.arange(4)[None, :] < torch.tensor([4, 1, 2])[:, None]
    adjacency = subgraph_adjacency(mask)
    pairs = [set(map(tuple, a.nonzero().tolist())) for a in adjacency]
    star, chain = {(0, 1), (0, 2), (0, 3)}, {(1, 2), (2, 3)}
    assert pairs[0] == {(i, j) for i, j in star | chain} | {(j, i) for i, j in star | chain}
    assert pairs[1] == set()  # the candidate alone: no edge, no self-loop
    assert pairs[2] == {(0, 1), (1, 0)}  # padding nodes 2 and 3 have no edge


def make_graph(size: int = 6, seed: int = 0):
    """Dense node states of a random batch and the same graph flattened for PyG's sparse layers."""
    batch = make_batch(size, seed)
    x = torch.randn(size, MAX_NODES, 7, generator=torch.Generator().manual_seed(seed)) * batch.mask[..., None]
    adjacency = subgraph_adjacency(batch.mask)
    edge_index, _ = dense_to_sparse(adjacency, batch.mask)
    return batch.mask, x, adjacency, edge_index


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_dense_chebconv_equals_pyg_chebconv(k):
    """Same outputs at every real node as PyG ChebConv (sym normalisation, lambda_max = 2) with the same weights."""
    mask, x, adjacency, edge_index = make_graph()
    torch.manual_seed(k)
    reference, dense = ChebConv(7, 3, k), DenseChebConv(7, 3, k)
    with torch.no_grad():
        reference.bias.normal_()
        dense.bias.copy_(reference.bias)
        for order, lin in enumerate(reference.lins):
            dense.weight[order] = lin.weight.t()
    expected = reference(x[mask], edge_index)
    assert torch.allclose(dense(x, scaled_laplacian(adjacency))[mask], expected, atol=1e-5)
    assert count_parameters(dense) == count_parameters(reference)


def test_scaled_laplacian_of_a_star():
    """Star with 3 leaves: L~ = 2L/2 - I = -D^-1/2 A D^-1/2 (entries -1/sqrt(3) on the edges), spectrum in [-1, 1]."""
    mask = torch.ones(1, 4, dtype=torch.bool)
    adjacency = subgraph_adjacency(mask) * (torch.arange(4)[:, None] * torch.arange(4)[None, :] == 0)
    laplacian = scaled_laplacian(adjacency)[0]
    assert torch.allclose(laplacian[0, 1:], torch.full((3,), -3 ** -0.5))
    assert torch.allclose(laplacian.diagonal(), torch.zeros(4))
    eigenvalues = torch.linalg.eigvalsh(laplacian)
    assert eigenvalues.min() >= -1 - 1e-6 and eigenvalues.max() <= 1 + 1e-6


def test_graph_block_equals_sparse_gcnconv():
    """The dense GCN convolution of a layer equals PyG GCNConv (self-loops, symmetric normalisation) on the
    flattened batch, and leaves padding nodes at zero."""
    mask, x, adjacency, edge_index = make_graph()
    dense, sparse = DenseGCNConv(7, 4), GCNConv(7, 4)
    with torch.no_grad():
        sparse.lin.weight.copy_(dense.lin.weight)
        dense.bias.normal_()
        sparse.bias.copy_(dense.bias)
    out = dense(x, adjacency, mask)
    assert torch.allclose(out[mask], sparse(x[mask], edge_index), atol=1e-5)
    assert torch.all(out[~mask] == 0)


@pytest.mark.parametrize("n_layers", [0, 1, 3])
def test_output_shape_and_layer_count(n_layers):
    model = GConvTransform(node_input(), hidden=8, n_layers=n_layers, heads=2, cheb_k=2, n_classes=N_CLASSES)
    assert len(model.layers) == n_layers
    assert model(make_batch()).shape == (8, N_CLASSES)


def test_parameter_count_grows_linearly_with_depth():
    counts = [count_parameters(GConvTransform(node_input(), hidden=8, n_layers=n, heads=2)) for n in (1, 2, 3, 5)]
    steps = {b - a for a, b in zip(counts, counts[1:3])}
    assert len(steps) == 1
    assert counts[3] - counts[0] == 4 * steps.pop()


def test_parameter_count_matches_hand_formula():
    d_in, d, k, n, id_dim, c = 4 + N_FEATURES + 5, 8, 3, 2, 4, N_CLASSES
    expected = ((N_ITEMS + 1) * id_dim + 2 * d_in + (k * d_in * d + d) + n * (5 * d * d + 9 * d) + 2 * d
                + (k * d * c + c))
    assert count_parameters(GConvTransform(node_input(id_dim), hidden=d, n_layers=n, heads=2, cheb_k=k,
                                           n_classes=c)) == expected
    no_attention = GConvTransform(node_input(id_dim), hidden=d, n_layers=n, heads=2, cheb_k=k, use_attention=False,
                                  n_classes=c)
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
        assert not any(isinstance(m, DenseChebConv) for m in ablated.modules())
    if switch == "use_graph":
        assert not any(isinstance(m, DenseGCNConv) for m in ablated.modules())
    if switch == "use_attention":
        assert not any(isinstance(m, nn.MultiheadAttention) for m in ablated.modules())
    batch = make_batch()
    assert not torch.allclose(full(batch), ablated(batch))


def test_output_ignores_padding_content():
    """Real products and behaviour codes written into the padding positions, or extra padding columns, leave every
    score unchanged: padding never reaches attention keys, graph convolutions or the readout."""
    model = GConvTransform(node_input(), hidden=8, n_layers=2, heads=2).eval()
    batch = make_batch()
    garbage = SubgraphBatch(torch.where(batch.mask, batch.items, 7), torch.where(batch.mask, batch.behaviours, 3),
                            batch.lengths)
    longer = SubgraphBatch(nn.functional.pad(batch.items, (0, 3), value=N_ITEMS),
                           nn.functional.pad(batch.behaviours, (0, 3), value=PAD_BEHAVIOUR), batch.lengths)
    assert torch.allclose(model(batch), model(garbage), atol=1e-6)
    assert torch.allclose(model(batch), model(longer), atol=1e-5)


def test_layer_keeps_padding_nodes_at_zero():
    mask, x, adjacency, _ = make_graph()
    layer = GConvTransformLayer(7 + 1, heads=2, dropout=0.0).eval()
    out = layer(nn.functional.pad(x, (0, 1)), adjacency, mask)
    assert torch.all(out[~mask] == 0) and out[mask].abs().sum() > 0


def test_pre_norm_stacks_normalise_before_the_output_map():
    """Pre-norm transformers apply a final LayerNorm to the residual stream before the output map."""
    model = GConvTransform(node_input(), hidden=8, n_layers=2, heads=2).eval()
    seen = {}
    model.decoder.register_forward_pre_hook(lambda module, args: seen.update(h=args[0]))
    batch = make_batch()
    model(batch)
    real = seen["h"][batch.mask]
    assert torch.allclose(real.mean(-1), torch.zeros(len(real)), atol=1e-5)
    assert torch.allclose(real.std(-1, unbiased=False), torch.ones(len(real)), atol=1e-3)
    assert isinstance(AttentionTransformer(node_input(), 16, heads=2).transformer.norm, nn.LayerNorm)


@pytest.mark.parametrize("build", [
    lambda x: DNN(x, MAX_NODES, 16, n_classes=N_CLASSES), lambda x: CNN(x, 16, n_classes=N_CLASSES),
    lambda x: DenseNet(x, MAX_NODES, 8, n_classes=N_CLASSES), lambda x: DenseCNN(x, 8, n_classes=N_CLASSES),
    lambda x: GraphGCN(x, 16, n_classes=N_CLASSES), lambda x: AttentionTransformer(x, 16, heads=2, n_classes=N_CLASSES),
])
def test_baselines_give_c_logits_per_example(build):
    assert build(node_input())(make_batch()).shape == (8, N_CLASSES)


def test_tiny_overfit():
    """Label = whether the candidate product appears in the history (2 classes, softmax cross-entropy); the model
    must learn it."""
    torch.manual_seed(0)
    batch = make_batch(size=32, seed=3)
    items = batch.items.clone()
    labels = torch.arange(32) % 2
    items[labels == 1, 0] = items[labels == 1, 1]
    items[(labels == 0) & (batch.lengths == 1), 0] = 0
    batch = SubgraphBatch(items, batch.behaviours, torch.where(labels == 1, batch.lengths.clamp(min=2), batch.lengths))
    batch = SubgraphBatch(torch.where(batch.mask, batch.items, N_ITEMS),
                          torch.where(batch.mask, batch.behaviours.clamp(max=4), PAD_BEHAVIOUR), batch.lengths)
    model = GConvTransform(node_input(8), hidden=16, n_layers=1, heads=2, dropout=0.0)

    class WholeBatch(Objective):
        module = model

        def batches(self, epoch):
            yield batch

        def loss(self, batch):
            return nn.functional.cross_entropy(self.module(batch), labels)

    losses = fit(WholeBatch(), LoopConfig(max_epochs=60, lr=0.02)).history["loss"].tolist()
    accuracy = (model.eval()(batch).argmax(1) == labels).float().mean()
    assert losses[-1] < 0.5 * losses[0]
    assert accuracy > 0.9


def test_bad_configuration_raises():
    with pytest.raises(ValueError, match="divisible"):
        GConvTransform(node_input(), hidden=10, heads=3)
    with pytest.raises(ValueError, match="n_items x f"):
        NodeInput(torch.zeros(5), 2)


SIZES = SimpleNamespace(hidden=8, n_layers=2, heads=2, cheb_k=2, dropout=0.0, baseline_hidden=16, widths={})
NEURAL = ["DNN", "CNN", "DenseNet", "DenseCNN", "Graph", "Attention", "GConv-Transform"]


@pytest.mark.parametrize("name", NEURAL)
def test_registry_builds_every_neural_table1_model(name):
    model = MODELS.build(name, node_input(), MAX_NODES, SIZES, N_CLASSES)
    assert model(make_batch()).shape == (8, N_CLASSES)


@pytest.mark.parametrize("name", NEURAL)
def test_widths_come_from_the_sizes_and_paper_widths_stay_within_the_papers_parameters(name):
    from xrec_lib import papers
    wide = SimpleNamespace(**{**vars(SIZES), "widths": {name: 24}})
    assert count_parameters(MODELS.build(name, node_input(), MAX_NODES, wide, N_CLASSES)) > \
        count_parameters(MODELS.build(name, node_input(), MAX_NODES, SIZES, N_CLASSES))
    target = papers.value(paper="002", source="Table 1", metric="complexity", model=name)
    paper = SimpleNamespace(**{**vars(SIZES), "widths": {name: "paper"}})
    with torch.device("meta"):
        count = count_parameters(MODELS.build(name, node_input(), MAX_NODES, paper, N_CLASSES))
    assert 0.9 * target < count <= target


def test_width_for_parameters_is_the_largest_width_within_the_target():
    from xrec_lib.models.baselines_002 import width_for_parameters
    build = lambda width: nn.Linear(10, width)  # noqa: E731  11 * width parameters
    assert width_for_parameters(build, 11 * 37) == 37
    assert width_for_parameters(build, 11 * 37 + 10) == 37
    assert width_for_parameters(build, 11 * 40, step=4) == 40
    with pytest.raises(ConfigError):
        width_for_parameters(build, 5)


def test_registry_builds_the_ablations_and_refuses_unknown_names():
    ablated = MODELS.build("GConv-Transform", node_input(), MAX_NODES, SIZES, N_CLASSES, use_attention=False)
    assert not any(isinstance(m, nn.MultiheadAttention) for m in ablated.modules())
    assert len(ablated.layers) == SIZES.n_layers
    with pytest.raises(ConfigError, match="unknown model 'SVM'"):
        MODELS.build("SVM", node_input(), MAX_NODES, SIZES)


def test_linear_svm_scores_and_counts_its_parameters():
    batch = make_batch(size=16)
    labels = (batch.lengths > 2).float().numpy()
    features = torch.randn(N_ITEMS, N_FEATURES, generator=torch.Generator().manual_seed(1))
    svm = LinearSvm(features, seed=0).fit(batch, labels)
    assert svm(batch).shape == (16, 2) and svm(batch).dtype == torch.float32
    assert svm.n_parameters == MAX_NODES * (N_FEATURES + 5) + 1  # id-free node features, flattened, + intercept
    assert torch.equal(svm(batch).argmax(1), torch.from_numpy(svm.svm.predict(svm._features(batch))).long())


def test_linear_svm_is_one_vs_rest_over_c_classes():
    batch = make_batch(size=40, seed=2)
    labels = (batch.lengths.numpy() - 1) % 4  # classes 0..3 seen; 4..6 never
    features = torch.randn(N_ITEMS, N_FEATURES, generator=torch.Generator().manual_seed(1))
    svm = LinearSvm(features, seed=0, n_classes=N_CLASSES).fit(batch, labels)
    scores = svm(batch)
    assert scores.shape == (40, N_CLASSES) and (scores.argmax(1) < 4).all()
    assert svm.n_parameters == 4 * (MAX_NODES * (N_FEATURES + 5) + 1)
