"""The cross-domain heterogeneous interaction dataset of paper 000 (Siamese GCN + bilinear attention).

Paper 000 abstracts cross-border e-commerce as a heterogeneous graph (its Fig. 1-2): users and products of a
dense B2B *source* domain and a sparse B2C *target* domain, suppliers that supply products, and cross-border
sellers that bridge suppliers to target-market products. :class:`CrossDomainDataset` is the one typed
representation every loader returns (the paper-shaped synthetic generator and the real Amazon cross-domain
pairs alike), and the converters turn it into what the models consume:

* :meth:`CrossDomainDataset.interaction_matrix` - users x products ``scipy.sparse.csr_matrix`` (train/test,
  optionally one domain), the input of :func:`xrec_lib.metrics.topk_metrics`;
* :meth:`CrossDomainDataset.to_hetero_data` - a PyG ``HeteroData`` with typed relations (and their reverses);
* :meth:`CrossDomainDataset.to_csr_adjacency` - a homogeneous, symmetric ``torch.sparse_csr_tensor`` over
  users + products (+ suppliers + sellers), the fast path for LightGCN / GCN / GraphSAGE propagation.

Node ids are contiguous integers per node type. Domains are encoded ``SOURCE = 0`` (B2B) and ``TARGET = 1`` (B2C).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

from xrec_lib.errors import DataError

SOURCE, TARGET = 0, 1
DOMAIN_NAMES = {SOURCE: "source (B2B)", TARGET: "target (B2C)"}


class DatasetError(DataError):
    """A dataset is malformed: the message names the field and the problem."""


@dataclass(frozen=True)
class Interactions:
    """User-product interactions as parallel integer arrays (one row per interaction)."""

    user: np.ndarray
    product: np.ndarray
    domain: np.ndarray

    def __len__(self) -> int:
        return len(self.user)

    def select(self, mask: np.ndarray) -> "Interactions":
        return Interactions(self.user[mask], self.product[mask], self.domain[mask])

    def in_domain(self, domain: int | None) -> "Interactions":
        return self if domain is None else self.select(self.domain == domain)


@dataclass(frozen=True)
class CrossDomainDataset:
    """Users, products, suppliers and sellers with their relations and a train/test split.

    Attributes:
        name: short identifier, e.g. ``"synthetic-000/smoke"`` or ``"amazon/electronic_phone"``.
        synthetic: True for generated data; every table and figure carries this label.
        n_users, n_products, n_suppliers, n_sellers: node counts (suppliers/sellers may be 0 for data without them).
        product_domain: ``(n_products,)`` domain of each product (SOURCE or TARGET).
        user_market, product_market: market / language id of each user and product.
        supplier_of_product: ``(n_products,)`` supplier id of each product, or -1 when unknown.
        seller_product: ``(2, E)`` seller -> product "sells" edges.
        seller_supplier: ``(2, E)`` seller -> supplier "sources from" edges.
        train, test: the interaction split.
        sampled_users: optional ``(n_test_users,)`` users of the sampled protocol; ``None`` when the data defines none.
        sampled_negatives: optional ``(n_test_users, N)`` negatives for the sampled protocol, row-aligned with
            ``sampled_users``; ``None`` when the data defines none.
        meta: free-form provenance (generator parameters, file checksums, ...).
    """

    name: str
    synthetic: bool
    n_users: int
    n_products: int
    n_suppliers: int
    n_sellers: int
    product_domain: np.ndarray
    user_market: np.ndarray
    product_market: np.ndarray
    supplier_of_product: np.ndarray
    seller_product: np.ndarray
    seller_supplier: np.ndarray
    train: Interactions
    test: Interactions
    sampled_users: np.ndarray | None = None
    sampled_negatives: np.ndarray | None = None
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.validate()

    # ------------------------------------------------------------------ checks
    def validate(self) -> None:
        """Raise :class:`DatasetError` naming the first inconsistency found."""
        _check_len("product_domain", self.product_domain, self.n_products)
        _check_len("user_market", self.user_market, self.n_users)
        _check_len("product_market", self.product_market, self.n_products)
        _check_len("supplier_of_product", self.supplier_of_product, self.n_products)
        _check_domains("product_domain", self.product_domain)
        for split_name, split in (("train", self.train), ("test", self.test)):
            if not (len(split.user) == len(split.product) == len(split.domain)):
                raise DatasetError(f"{split_name}: user/product/domain arrays differ in length")
            _check_ids(f"{split_name}.user", split.user, self.n_users)
            _check_ids(f"{split_name}.product", split.product, self.n_products)
            _check_domains(f"{split_name}.domain", split.domain)
            if len(split) and not np.array_equal(split.domain, self.product_domain[split.product]):
                raise DatasetError(f"{split_name}.domain disagrees with product_domain of the products")
        _check_ids("supplier_of_product", self.supplier_of_product[self.supplier_of_product >= 0], self.n_suppliers)
        _check_edges("seller_product", self.seller_product, self.n_sellers, self.n_products)
        _check_edges("seller_supplier", self.seller_supplier, self.n_sellers, self.n_suppliers)
        self._validate_sampled()
        if len(self.train) == 0:
            raise DatasetError("train split is empty")

    def _validate_sampled(self) -> None:
        if (self.sampled_users is None) != (self.sampled_negatives is None):
            raise DatasetError("sampled_users and sampled_negatives must be given together (or both None)")
        if self.sampled_users is None:
            return
        _check_ids("sampled_users", self.sampled_users, self.n_users)
        if self.sampled_negatives.ndim != 2 or len(self.sampled_negatives) != len(self.sampled_users):
            raise DatasetError(f"sampled_negatives must have shape ({len(self.sampled_users)}, N), "
                               f"one row per sampled user; got {self.sampled_negatives.shape}")
        _check_ids("sampled_negatives", self.sampled_negatives.ravel(), self.n_products)

    # ------------------------------------------------------------- matrices
    def interaction_matrix(self, split: str = "train", domain: int | None = None) -> sp.csr_matrix:
        """Binary users x products CSR matrix of one split (``"train"``/``"test"``), optionally one domain."""
        rows = self._split(split).in_domain(domain)
        data = np.ones(len(rows), dtype=np.float32)
        matrix = sp.csr_matrix((data, (rows.user, rows.product)), shape=(self.n_users, self.n_products))
        matrix.data[:] = 1.0  # duplicates collapse to one interaction
        return matrix

    def to_csr_adjacency(self, include_side_nodes: bool = True, split: str = "train") -> torch.Tensor:
        """Symmetric homogeneous adjacency as ``torch.sparse_csr_tensor`` (no self-loops, binary weights).

        Node order: users ``[0, U)``, products ``[U, U+P)``, then suppliers and sellers when
        ``include_side_nodes`` (see :meth:`node_offsets`). Edges: user-product interactions of ``split``,
        product-supplier, seller-product and seller-supplier relations.
        """
        offsets = self.node_offsets(include_side_nodes)
        blocks = [self._split(split).user + offsets["user"], self._split(split).product + offsets["product"]]
        src, dst = [blocks[0]], [blocks[1]]
        if include_side_nodes:
            for (a_type, b_type), (a, b) in self.side_relations().items():
                src.append(a + offsets[a_type])
                dst.append(b + offsets[b_type])
        n_nodes = offsets["_total"]
        u, v = np.concatenate(src), np.concatenate(dst)
        coo = sp.coo_matrix((np.ones(len(u), dtype=np.float32), (u, v)), shape=(n_nodes, n_nodes))
        sym = (coo + coo.T).tocsr()
        sym.data[:] = 1.0
        sym.setdiag(0)
        sym.eliminate_zeros()
        sym.sort_indices()
        return torch.sparse_csr_tensor(
            torch.from_numpy(sym.indptr.astype(np.int64)),
            torch.from_numpy(sym.indices.astype(np.int64)),
            torch.from_numpy(sym.data),
            size=(n_nodes, n_nodes),
        )

    def node_offsets(self, include_side_nodes: bool = True) -> dict[str, int]:
        """Start index of each node type in the homogeneous numbering (``"_total"`` = number of nodes)."""
        offsets = {"user": 0, "product": self.n_users}
        total = self.n_users + self.n_products
        if include_side_nodes:
            offsets["supplier"] = total
            offsets["seller"] = total + self.n_suppliers
            total += self.n_suppliers + self.n_sellers
        offsets["_total"] = total
        return offsets

    def side_relations(self) -> dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]:
        """Non-interaction relations as ``{(src_type, dst_type): (src_ids, dst_ids)}``."""
        known = self.supplier_of_product >= 0
        return {
            ("product", "supplier"): (np.flatnonzero(known), self.supplier_of_product[known]),
            ("seller", "product"): (self.seller_product[0], self.seller_product[1]),
            ("seller", "supplier"): (self.seller_supplier[0], self.seller_supplier[1]),
        }

    def to_hetero_data(self, split: str = "train"):
        """PyG ``HeteroData``: node types user/product/supplier/seller, each relation with its reverse.

        Relations: (user, interacts, product) of ``split``, (product, supplied_by, supplier),
        (seller, sells, product), (seller, sources_from, supplier), and ``rev_*`` reverses.
        Node attribute ``market`` on users and products, ``domain`` on products.
        """
        from torch_geometric.data import HeteroData

        data = HeteroData()
        data["user"].num_nodes = self.n_users
        data["user"].market = torch.from_numpy(self.user_market.astype(np.int64))
        data["product"].num_nodes = self.n_products
        data["product"].market = torch.from_numpy(self.product_market.astype(np.int64))
        data["product"].domain = torch.from_numpy(self.product_domain.astype(np.int64))
        data["supplier"].num_nodes = self.n_suppliers
        data["seller"].num_nodes = self.n_sellers
        rows = self._split(split)
        relation_names = {("product", "supplier"): "supplied_by", ("seller", "product"): "sells",
                          ("seller", "supplier"): "sources_from"}
        edges = {("user", "interacts", "product"): (rows.user, rows.product)}
        for (a_type, b_type), (a, b) in self.side_relations().items():
            edges[(a_type, relation_names[(a_type, b_type)], b_type)] = (a, b)
        for (a_type, rel, b_type), (a, b) in edges.items():
            index = torch.from_numpy(np.stack([a, b]).astype(np.int64))
            data[a_type, rel, b_type].edge_index = index
            data[b_type, f"rev_{rel}", a_type].edge_index = index.flip(0)
        return data

    # ------------------------------------------------------------ statistics
    def statistics(self) -> pd.DataFrame:
        """One-row-per-quantity table: node counts, interactions per split and domain, density, cold-start share."""
        train_counts = np.bincount(self.train.user, minlength=self.n_users)
        rows = [
            ("users", self.n_users), ("products", self.n_products),
            ("suppliers", self.n_suppliers), ("sellers", self.n_sellers),
            ("interactions", len(self.train) + len(self.test)),
            ("train interactions", len(self.train)), ("test interactions", len(self.test)),
        ]
        for domain, label in DOMAIN_NAMES.items():
            rows.append((f"train interactions, {label}", int((self.train.domain == domain).sum())))
        for domain, label in DOMAIN_NAMES.items():
            n_domain_products = int((self.product_domain == domain).sum())
            rows.append((f"density (train), {label}",
                         int((self.train.domain == domain).sum()) / max(self.n_users * n_domain_products, 1)))
        rows += [
            ("density (train)", len(self.train) / max(self.n_users * self.n_products, 1)),
            ("mean train interactions per user", float(train_counts.mean())),
            ("users with <= 4 train interactions (share)", float((train_counts <= 4).mean())),
        ]
        return pd.DataFrame(rows, columns=["quantity", "value"]).set_index("quantity")

    def _split(self, split: str) -> Interactions:
        if split not in ("train", "test"):
            raise DatasetError(f"unknown split {split!r}; expected 'train' or 'test'")
        return self.train if split == "train" else self.test


def _check_len(name: str, array: np.ndarray, expected: int) -> None:
    if len(array) != expected:
        raise DatasetError(f"{name} has {len(array)} entries, expected {expected}")


def _check_ids(name: str, ids: np.ndarray, n: int) -> None:
    if len(ids) and not np.issubdtype(ids.dtype, np.integer):
        raise DatasetError(f"{name} must hold integer ids, got dtype {ids.dtype}")
    if len(ids) and (ids.min() < 0 or ids.max() >= n):
        raise DatasetError(f"{name} holds ids outside [0, {n}): min {ids.min()}, max {ids.max()}")


def _check_domains(name: str, domains: np.ndarray) -> None:
    unknown = np.setdiff1d(domains, list(DOMAIN_NAMES))
    if len(unknown):
        raise DatasetError(f"{name} holds unknown domain codes {unknown[:5].tolist()}; use SOURCE=0 or TARGET=1")


def _check_edges(name: str, edges: np.ndarray, n_src: int, n_dst: int) -> None:
    if edges.ndim != 2 or edges.shape[0] != 2:
        raise DatasetError(f"{name} must have shape (2, E), got {edges.shape}")
    _check_ids(f"{name}[0]", edges[0], n_src)
    _check_ids(f"{name}[1]", edges[1], n_dst)
