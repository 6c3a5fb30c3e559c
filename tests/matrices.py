"""Small sparse-matrix builders shared by the metric and evaluation tests."""

import numpy as np
import scipy.sparse as sp


def binary(rows: list[list[int]], n_items: int) -> sp.csr_matrix:
    """Binary CSR matrix whose row u holds the items rows[u]."""
    dense = np.zeros((len(rows), n_items), dtype=np.int64)
    for user, items in enumerate(rows):
        dense[user, items] = 1
    return sp.csr_matrix(dense)


def random_binary(n_users: int, n_items: int, density: float, seed: int) -> sp.csr_matrix:
    """Seeded random binary CSR matrix of the given density."""
    matrix = sp.random(n_users, n_items, density=density, random_state=seed, format="csr")
    matrix.data[:] = 1
    return matrix
