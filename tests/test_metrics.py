"""Tests of xrec_lib.metrics: hand-computed cases, tie and exclusion rules, input errors, and agreement with
torch_geometric.metrics on random (synthetic) inputs."""

import math

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from torch_geometric.metrics import (
    LinkPredCoverage,
    LinkPredHitRatio,
    LinkPredMAP,
    LinkPredMRR,
    LinkPredNDCG,
    LinkPredPrecision,
    LinkPredRecall,
)

from xrec_lib.metrics import (
    EvaluationInputError,
    per_user_topk_metrics,
    per_user_values,
    top_k_items,
    topk_metrics,
    topk_metrics_at,
)
from matrices import binary, random_binary

LOG2_3 = math.log2(3)


# Four users, six items, k = 3 (hand-worked example).
HAND_SCORES = np.array(
    [
        [0.9, 0.8, 0.7, 0.6, 0.5, 0.4],  # item 0 excluded -> top-3 = [1, 2, 3]
        [0.1, 0.5, 0.5, 0.2, 0.5, 0.0],  # three-way tie at 0.5 -> top-3 = [1, 2, 4] (lower index first)
        [0.0, 0.3, 0.2, 0.1, 0.4, 0.5],  # top-3 = [5, 4, 1]
        [0.5, 0.4, 0.3, 0.2, 0.1, 0.0],  # no test item -> not evaluated
    ]
)
HAND_TEST = binary([[2, 5], [4], [0], []], 6)
HAND_EXCLUDE = binary([[0], [], [], []], 6)


def test_hand_computed_example():
    # user 0: rel = [0, 1, 0], |T| = 2 -> hr 1, recall 1/2, precision 1/3,
    #         ndcg = (1/log2 3) / (1 + 1/log2 3) = 0.386853, map = (1/2) / min(2, 3) = 0.25, mrr = 1/2
    # user 1: rel = [0, 0, 1], |T| = 1 -> hr 1, recall 1, precision 1/3,
    #         ndcg = (1/log2 4) / 1 = 0.5, map = (1/3) / 1 = 1/3, mrr = 1/3
    # user 2: rel = [0, 0, 0] -> all metrics 0
    # user 3: no test item -> left out; averages are over 3 users.
    # coverage: recommended items {1, 2, 3} u {1, 2, 4} u {5, 4, 1} = 5 of 6 items.
    ndcg_user0 = (1 / LOG2_3) / (1 + 1 / LOG2_3)
    expected = {
        "hr": 2 / 3,
        "recall": (0.5 + 1.0) / 3,
        "precision": (1 / 3 + 1 / 3) / 3,
        "ndcg": (ndcg_user0 + 0.5) / 3,
        "map": (0.25 + 1 / 3) / 3,
        "mrr": (0.5 + 1 / 3) / 3,
        "coverage": 5 / 6,
    }
    result = topk_metrics(HAND_SCORES, HAND_TEST, k=3, exclude=HAND_EXCLUDE)
    assert result == pytest.approx(expected, abs=1e-12)
    assert expected["ndcg"] == pytest.approx(0.295618, abs=1e-6)


def test_hand_computed_top_lists_and_per_user_values():
    result = per_user_topk_metrics(HAND_SCORES, HAND_TEST, ks=[3], exclude=HAND_EXCLUDE)
    np.testing.assert_array_equal(result.users, [0, 1, 2])
    np.testing.assert_array_equal(result.top_items, [[1, 2, 3], [1, 2, 4], [5, 4, 1]])
    np.testing.assert_allclose(result.values[3]["mrr"], [1 / 2, 1 / 3, 0.0])
    np.testing.assert_allclose(result.values[3]["recall"], [1 / 2, 1.0, 0.0])


def test_per_user_values_two_hits():
    # rel = [1, 0, 1], |T| = 2, k = 3:
    # map = (1/1 + 2/3) / min(2, 3) = 0.833333
    # ndcg = (1 + 1/log2 4) / (1 + 1/log2 3) = 1.5 / 1.630930 = 0.919721
    # |T| = 5 (ideal over min(5, 3) = 3 ranks): ndcg = 1.5 / (1 + 0.630930 + 0.5) = 1.5 / 2.130930 = 0.703918, map = (5/3) / 3
    hits = np.array([[True, False, True], [True, False, True]])
    values = per_user_values(hits, np.array([2, 5]), k=3)
    np.testing.assert_allclose(values["map"], [5 / 6, 5 / 9])
    np.testing.assert_allclose(values["ndcg"], [0.919721, 0.703918], atol=1e-6)
    np.testing.assert_allclose(values["recall"], [1.0, 2 / 5])
    np.testing.assert_allclose(values["precision"], [2 / 3, 2 / 3])
    np.testing.assert_allclose(values["mrr"], [1.0, 1.0])


def test_fewer_candidates_than_k_leaves_empty_slots():
    # user 0 can only be recommended items 4 and 5: list [5, 4, -1]; hit on 4 -> precision = 1/3, not 1/2.
    test = binary([[4]], 6)
    exclude = binary([[0, 1, 2, 3]], 6)
    result = per_user_topk_metrics(np.arange(6.0)[None, :], test, ks=[3], exclude=exclude)
    np.testing.assert_array_equal(result.top_items, [[5, 4, -1]])
    assert result.values[3]["precision"][0] == pytest.approx(1 / 3)
    assert result.summary()[3]["coverage"] == pytest.approx(2 / 6)


def test_ties_rank_lower_index_first_on_wide_rows():
    generator = torch.Generator().manual_seed(0)
    for n_items in (50, 6000, 6037):  # direct top-k path and block path (with a partial last block)
        scores = torch.randint(0, 4, (40, n_items), generator=generator).double()
        reference = torch.sort(scores, dim=1, descending=True, stable=True).indices[:, :25]
        torch.testing.assert_close(top_k_items(scores.clone(), 25), reference)
        continuous = torch.randn(40, n_items, generator=generator)
        reference = torch.sort(continuous, dim=1, descending=True, stable=True).indices[:, :25]
        torch.testing.assert_close(top_k_items(continuous.clone(), 25), reference)


def test_all_equal_scores_recommend_lowest_indices():
    result = per_user_topk_metrics(np.zeros((2, 7000)), binary([[3], [6999]], 7000), ks=[5], exclude=None)
    np.testing.assert_array_equal(result.top_items, [[0, 1, 2, 3, 4], [0, 1, 2, 3, 4]])
    np.testing.assert_allclose(result.values[5]["hr"], [1.0, 0.0])


def test_excluded_items_are_never_recommended():
    rng = np.random.default_rng(1)
    exclude = random_binary(60, 7000, 0.05, seed=2)
    scores = rng.normal(size=(60, 7000)) + 100.0 * exclude.toarray()  # excluded items score highest
    test = random_binary(60, 7000, 0.01, seed=3)
    result = per_user_topk_metrics(scores, test, ks=[50], exclude=exclude)
    excluded_pairs = exclude[result.users].toarray()
    recommended = np.take_along_axis(excluded_pairs, result.top_items, axis=1)
    assert result.top_items.min() >= 0
    assert recommended.sum() == 0


def test_users_without_test_items_are_left_out():
    test = binary([[0], [], [1], []], 4)
    scores = np.array([[1.0, 0, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1], [0, 1, 0, 0]])
    result = per_user_topk_metrics(scores, test, ks=[1])
    np.testing.assert_array_equal(result.users, [0, 2])
    assert result.summary()[1]["hr"] == pytest.approx(0.5)  # user 0 hit, user 2 miss; users 1, 3 ignored
    assert result.summary()[1]["coverage"] == pytest.approx(2 / 4)  # items {0, 3}


def test_numpy_and_torch_inputs_agree():
    rng = np.random.default_rng(4)
    scores = rng.normal(size=(80, 300))
    test, exclude = random_binary(80, 300, 0.03, seed=5), random_binary(80, 300, 0.05, seed=6)
    from_numpy = topk_metrics_at(scores, test, [5, 20], exclude)
    from_torch = topk_metrics_at(torch.from_numpy(scores), test, [5, 20], exclude)
    assert from_numpy == from_torch


def test_several_ks_match_single_k_calls():
    rng = np.random.default_rng(7)
    scores = rng.normal(size=(70, 400)).astype(np.float32)
    test, exclude = random_binary(70, 400, 0.04, seed=8), random_binary(70, 400, 0.05, seed=9)
    together = topk_metrics_at(scores, test, [20, 1, 5], exclude)
    assert sorted(together) == [1, 5, 20]
    for k in (1, 5, 20):
        assert together[k] == pytest.approx(topk_metrics(scores, test, k, exclude), abs=1e-12)


def test_caller_scores_are_not_modified():
    scores = torch.tensor(HAND_SCORES)
    topk_metrics(scores, HAND_TEST, k=3, exclude=HAND_EXCLUDE)
    torch.testing.assert_close(scores, torch.tensor(HAND_SCORES))


@pytest.mark.parametrize(
    ("scores", "test", "exclude", "message"),
    [
        (np.full((2, 3), np.nan), binary([[0], [1]], 3), None, "NaN"),
        (np.zeros((2, 3)), binary([[0], [1], [2]], 3), None, "shape"),
        (np.zeros((2, 3)), binary([[0], [1]], 3), binary([[0], [1], [2]], 3), "exclude has shape"),
        (np.zeros(3), binary([[0]], 3), None, "2-D"),
        (np.zeros((2, 0)), sp.csr_matrix((2, 0)), None, "at least one item"),
        (np.zeros((2, 3)), np.eye(2, 3), None, "scipy.sparse"),
        (np.zeros((2, 3)), sp.csr_matrix(np.array([[0, 3, 0], [1, 0, 0]])), None, "binary"),
    ],
)
def test_bad_inputs_raise_clear_errors(scores, test, exclude, message):
    with pytest.raises(EvaluationInputError, match=message):
        topk_metrics(scores, test, k=2, exclude=exclude)


def test_nan_in_excluded_position_is_ignored_but_candidate_nan_raises():
    scores = np.array([[np.nan, 0.5, 0.2]])
    assert topk_metrics(scores, binary([[1]], 3), k=1, exclude=binary([[0]], 3))["hr"] == 1.0
    with pytest.raises(ValueError, match="NaN"):
        topk_metrics(scores, binary([[1]], 3), k=1)


def test_nan_in_wide_rows_raises():
    scores = np.random.default_rng(11).normal(size=(3, 7000))  # wide rows use the block search
    scores[1, 5000] = np.nan
    with pytest.raises(EvaluationInputError, match=r"NaN \(first affected chunk rows: \[1\]\)"):
        topk_metrics(scores, random_binary(3, 7000, 0.01, seed=12), k=20)


@pytest.mark.parametrize("ks", [[0, 3], [], [2.5], [True], ["3"]])
def test_invalid_k_raises(ks):
    with pytest.raises(EvaluationInputError, match="positive integers"):
        topk_metrics_at(HAND_SCORES, HAND_TEST, ks)


def test_non_integer_k_in_topk_metrics_raises_a_clear_error():
    with pytest.raises(EvaluationInputError, match="positive integers, got \\[2.5\\]"):
        topk_metrics(HAND_SCORES, HAND_TEST, k=2.5)


def test_hand_example_with_excluded_item_and_user_without_test_items():
    """k=3, 6 items. u0: item 0 excluded, list [1, 2, 3], test {2, 5}; u1: list [5, 4, 3], test {4}; u2: no test."""
    scores = np.array([[0.9, 0.8, 0.7, 0.6, 0.5, 0.4], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6], [0.5] * 6])
    test = binary([[2, 5], [4], []], 6)
    got = topk_metrics(scores, test, k=3, exclude=binary([[0], [], []], 6))
    d2 = 1 / LOG2_3  # discount of rank 2; both hits are at rank 2
    expected = {"hr": 1.0, "recall": (1 / 2 + 1) / 2, "precision": 1 / 3, "ndcg": (d2 / (1 + d2) + d2) / 2,
                "map": (0.5 / 2 + 0.5 / 1) / 2, "mrr": 0.5, "coverage": 5 / 6}
    assert got == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("seed", [0, 1])
def test_agrees_with_torch_geometric_link_pred_metrics(seed):
    """Same definitions as PyG for hr, recall, precision, ndcg, map, mrr and coverage when PyG is given our
    evaluated users' top-k lists. PyG works on precomputed top-k index lists: it neither masks excluded items nor
    fixes a tie rule, so the lists are built here independently with torch.topk on continuous random scores."""
    n_users, n_items, k = 120, 700, 10
    rng = np.random.default_rng(seed)
    scores = torch.from_numpy(rng.normal(size=(n_users, n_items)))
    test, exclude = random_binary(n_users, n_items, 0.02, seed + 10), random_binary(n_users, n_items, 0.05, seed + 20)
    ours = topk_metrics(scores, test, k, exclude)

    users = np.flatnonzero(np.diff(test.indptr) > 0)
    masked = scores.clone().masked_fill(torch.from_numpy(exclude.toarray().astype(bool)), -math.inf)
    pred_index_mat = torch.topk(masked[users], k, dim=1).indices
    coo = test[users].tocoo()
    edge_label_index = torch.from_numpy(np.vstack([coo.row, coo.col]).astype(np.int64))
    reference = {
        "hr": LinkPredHitRatio(k),
        "recall": LinkPredRecall(k),
        "precision": LinkPredPrecision(k),
        "ndcg": LinkPredNDCG(k),
        "map": LinkPredMAP(k),
        "mrr": LinkPredMRR(k),
        "coverage": LinkPredCoverage(k, num_dst_nodes=n_items),
    }
    for name, metric in reference.items():
        metric.update(pred_index_mat, edge_label_index)
        assert ours[name] == pytest.approx(float(metric.compute()), abs=1e-6), name
