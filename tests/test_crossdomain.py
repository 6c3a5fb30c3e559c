"""CrossDomainDataset: validation errors and the converters (interaction matrix, CSR adjacency, HeteroData)."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from xrec_lib.data.crossdomain import SOURCE, TARGET, CrossDomainDataset, DatasetError, Interactions
from xrec_lib.data.synthetic_crossdomain import SyntheticCrossDomainConfig, generate_crossdomain

PRODUCT_DOMAIN = np.array([SOURCE, SOURCE, TARGET, TARGET])


def interactions(pairs: list[tuple[int, int]]) -> Interactions:
    user, product = (np.array(column, dtype=np.int64) for column in zip(*pairs)) if pairs else (
        np.zeros(0, np.int64), np.zeros(0, np.int64))
    return Interactions(user, product, PRODUCT_DOMAIN[product])


def tiny(**changes) -> CrossDomainDataset:
    """3 users, 4 products (0-1 source, 2-3 target), 2 suppliers, 1 seller selling products 2 and 3."""
    values = dict(
        name="tiny", synthetic=True, n_users=3, n_products=4, n_suppliers=2, n_sellers=1,
        product_domain=PRODUCT_DOMAIN, user_market=np.array([0, 0, 1]), product_market=np.array([0, 0, 1, 1]),
        supplier_of_product=np.array([0, 0, 1, 1]), seller_product=np.array([[0, 0], [2, 3]]),
        seller_supplier=np.array([[0], [1]]),
        train=interactions([(0, 0), (0, 2), (1, 1), (2, 3)]), test=interactions([(1, 0), (2, 2)]),
    )
    values.update(changes)
    return CrossDomainDataset(**values)


# ------------------------------------------------------------------------------------------- validation
@pytest.mark.parametrize("changes, message", [
    ({"train": interactions([(3, 0)])}, r"train\.user holds ids outside \[0, 3\)"),
    ({"test": Interactions(np.array([0]), np.array([7]), np.array([0]))}, r"test\.product holds ids outside \[0, 4\)"),
    ({"product_domain": PRODUCT_DOMAIN[:3]}, "product_domain has 3 entries, expected 4"),
    ({"user_market": np.array([0, 1])}, "user_market has 2 entries, expected 3"),
    ({"train": Interactions(np.array([0, 1]), np.array([0]), np.array([0]))}, "differ in length"),
    ({"train": interactions([])}, "train split is empty"),
    ({"train": Interactions(np.array([0]), np.array([2]), np.array([SOURCE]))}, "disagrees with product_domain"),
    ({"train": Interactions(np.array([0.0]), np.array([0]), np.array([SOURCE]))}, "integer ids"),
    ({"product_domain": np.array([0, 0, 1, 2])}, "unknown domain codes"),
    ({"seller_product": np.array([0, 2])}, r"seller_product must have shape \(2, E\)"),
    ({"seller_supplier": np.array([[1], [0]])}, r"seller_supplier\[0\] holds ids outside \[0, 1\)"),
    ({"supplier_of_product": np.array([0, 0, 1, 5])}, "supplier_of_product holds ids outside"),
    ({"sampled_users": np.array([0, 1])}, "given together"),
    ({"sampled_users": np.array([0, 1]), "sampled_negatives": np.array([[1, 2]])}, r"shape \(2, N\)"),
])
def test_malformed_dataset_names_the_problem(changes, message):
    with pytest.raises(DatasetError, match=message):
        tiny(**changes)


def test_well_formed_tiny_dataset_passes_and_unknown_split_is_refused():
    dataset = tiny(sampled_users=np.array([1, 2]), sampled_negatives=np.array([[2, 3], [0, 1]]))
    assert dataset.sampled_negatives.shape == (2, 2)
    with pytest.raises(DatasetError, match="unknown split 'valid'"):
        dataset.interaction_matrix("valid")


# ------------------------------------------------------------------------------------------- converters
def test_interaction_matrix_per_split_and_domain():
    dataset = tiny()
    train = dataset.interaction_matrix("train")
    assert train.shape == (3, 4) and train.nnz == 4 and set(train.data) == {1.0}
    np.testing.assert_array_equal(dataset.interaction_matrix("train", TARGET).toarray(),
                                  [[0, 0, 1, 0], [0, 0, 0, 0], [0, 0, 0, 1]])
    assert dataset.interaction_matrix("test").nnz == 2


def dense_adjacency(adjacency: torch.Tensor) -> np.ndarray:
    return adjacency.to_dense().numpy()


@pytest.mark.parametrize("side_nodes, n_nodes, n_undirected", [(True, 3 + 4 + 2 + 1, 4 + 4 + 2 + 1), (False, 7, 4)])
def test_csr_adjacency_is_symmetric_binary_without_self_loops(side_nodes, n_nodes, n_undirected):
    adjacency = tiny().to_csr_adjacency(include_side_nodes=side_nodes)
    assert adjacency.layout == torch.sparse_csr and adjacency.shape == (n_nodes, n_nodes)
    dense = dense_adjacency(adjacency)
    np.testing.assert_array_equal(dense, dense.T)
    assert np.diag(dense).sum() == 0 and set(np.unique(dense)) <= {0.0, 1.0}
    assert dense.sum() == 2 * n_undirected


def test_csr_adjacency_places_relations_at_node_offsets():
    dataset = tiny()
    offsets = dataset.node_offsets()
    assert offsets == {"user": 0, "product": 3, "supplier": 7, "seller": 9, "_total": 10}
    dense = dense_adjacency(dataset.to_csr_adjacency())
    assert dense[0, offsets["product"] + 2] == 1  # user 0 - product 2 (train)
    assert dense[1, offsets["product"] + 0] == 0  # user 1 - product 0 is a test pair
    assert dense[offsets["product"] + 3, offsets["supplier"] + 1] == 1
    assert dense[offsets["seller"], offsets["product"] + 2] == 1
    assert dense[offsets["seller"], offsets["supplier"] + 1] == 1
    assert dense_adjacency(dataset.to_csr_adjacency(split="test"))[1, offsets["product"]] == 1


def test_hetero_data_edge_types_and_counts():
    data = tiny().to_hetero_data()
    counts = {edge_type: data[edge_type].edge_index.shape[1] for edge_type in data.edge_types}
    assert counts == {
        ("user", "interacts", "product"): 4, ("product", "rev_interacts", "user"): 4,
        ("product", "supplied_by", "supplier"): 4, ("supplier", "rev_supplied_by", "product"): 4,
        ("seller", "sells", "product"): 2, ("product", "rev_sells", "seller"): 2,
        ("seller", "sources_from", "supplier"): 1, ("supplier", "rev_sources_from", "seller"): 1,
    }
    assert {t: data[t].num_nodes for t in data.node_types} == {"user": 3, "product": 4, "supplier": 2, "seller": 1}
    forward = data["user", "interacts", "product"].edge_index
    assert torch.equal(forward.flip(0), data["product", "rev_interacts", "user"].edge_index)
    assert data["product"].domain.tolist() == PRODUCT_DOMAIN.tolist()


def test_converters_on_generated_data_keep_node_and_edge_counts():
    dataset = generate_crossdomain(SyntheticCrossDomainConfig.smoke(), 0)
    adjacency = dataset.to_csr_adjacency()
    assert adjacency.shape[0] == dataset.n_users + dataset.n_products + dataset.n_suppliers + dataset.n_sellers
    n_relations = len(dataset.train) + dataset.n_products + dataset.seller_product.shape[1] \
        + dataset.seller_supplier.shape[1]
    assert adjacency._nnz() == 2 * n_relations
    data = dataset.to_hetero_data()
    assert data["user", "interacts", "product"].edge_index.shape[1] == len(dataset.train)
    assert data["seller", "sells", "product"].edge_index.shape[1] == (dataset.product_domain == TARGET).sum()


def test_statistics_report_counts_and_domain_densities():
    stats = tiny().statistics()["value"]
    assert stats["interactions"] == 6 and stats["train interactions"] == 4
    assert stats["train interactions, target (B2C)"] == 2
    assert stats["density (train), source (B2B)"] == pytest.approx(2 / (3 * 2))
    assert stats["users with <= 4 train interactions (share)"] == 1.0


def test_select_keeps_rows_aligned():
    rows = tiny().train.select(np.array([False, True, False, True]))
    assert rows.user.tolist() == [0, 2] and rows.product.tolist() == [2, 3] and rows.domain.tolist() == [TARGET] * 2
    assert len(replace(tiny(), test=interactions([])).test) == 0
