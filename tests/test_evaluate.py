"""Tests of xrec_lib.evaluate on small synthetic data: chunked full ranking, sampled protocol, AUC, slices."""

import math

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from xrec_lib.evaluate import (
    SampledCandidates,
    _floyd_sample,
    _nth_free_item,
    cold_start_user_mask,
    embedding_candidate_scorer,
    evaluate_embeddings,
    evaluate_full_ranking,
    evaluate_sampled,
    global_auc,
    long_tail_item_mask,
    long_tail_metrics,
    mean_per_user_auc,
    per_user_auc,
    roc_points,
    sample_candidates,
    sampled_positive_ranks,
    tpr_at_fpr,
    user_slice_metrics,
)
from xrec_lib.metrics import EvaluationInputError, per_user_topk_metrics
from matrices import binary, random_binary


@pytest.fixture(scope="module")
def synthetic_problem():
    """Synthetic embeddings and interactions; 6,037 items exercise the block top-k path with a partial block."""
    generator = torch.Generator().manual_seed(0)
    n_users, n_items = 150, 6037
    user_emb, item_emb = torch.randn(n_users, 16, generator=generator), torch.randn(n_items, 16, generator=generator)
    train, test = random_binary(n_users, n_items, 0.01, seed=1), random_binary(n_users, n_items, 0.002, seed=2)
    return user_emb, item_emb, train, test


# ------------------------------------------------------------------------------------------------ full ranking
def test_chunk_size_does_not_change_results(synthetic_problem):
    user_emb, item_emb, train, test = synthetic_problem
    results = [evaluate_embeddings(user_emb, item_emb, test, train, ks=[5, 20], chunk_size=c) for c in (1, 7, 64, 500)]
    for other in results[1:]:
        np.testing.assert_array_equal(other.users, results[0].users)
        np.testing.assert_array_equal(other.top_items, results[0].top_items)
        assert other.summary() == results[0].summary()


def test_embedding_evaluator_matches_full_score_matrix(synthetic_problem):
    user_emb, item_emb, train, test = synthetic_problem
    chunked = evaluate_embeddings(user_emb, item_emb, test, train, ks=[20], chunk_size=32)
    full = per_user_topk_metrics(user_emb @ item_emb.T, test, [20], train)
    np.testing.assert_array_equal(chunked.top_items, full.top_items)
    assert chunked.summary()[20]["recall"] == pytest.approx(full.summary()[20]["recall"], abs=1e-12)


def test_callable_scorer_and_excluded_items(synthetic_problem):
    user_emb, item_emb, train, test = synthetic_problem
    result = evaluate_full_ranking(lambda users: user_emb[users] @ item_emb.T + 0.0, test, train, ks=[20])
    recommended_train = np.take_along_axis(train[result.users].toarray(), result.top_items, axis=1)
    assert recommended_train.sum() == 0
    assert set(result.users) == set(np.flatnonzero(np.diff(test.tocsr().indptr)))


def test_callable_with_wrong_shape_raises(synthetic_problem):
    user_emb, item_emb, train, test = synthetic_problem
    with pytest.raises(EvaluationInputError, match="score_users returned shape"):
        evaluate_full_ranking(lambda users: user_emb[users] @ item_emb[:10].T, test, train)


def test_embedding_shape_mismatch_raises(synthetic_problem):
    user_emb, item_emb, train, test = synthetic_problem
    with pytest.raises(EvaluationInputError, match="embeddings describe"):
        evaluate_embeddings(user_emb[:10], item_emb, test, train)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu(synthetic_problem):
    user_emb, item_emb, train, test = synthetic_problem
    on_cpu = evaluate_embeddings(user_emb, item_emb, test, train, ks=[20])
    on_gpu = evaluate_embeddings(user_emb.cuda(), item_emb.cuda(), test, train, ks=[20])
    assert on_gpu.summary()[20] == pytest.approx(on_cpu.summary()[20], abs=1e-6)


# -------------------------------------------------------------------------------------------- sampled protocol
def test_floyd_sample_is_distinct_and_uniform():
    rng = np.random.default_rng(0)
    draws = _floyd_sample(np.full(20000, 10), 3, rng)
    assert all(len(set(row)) == 3 for row in draws[:500])
    assert draws.min() == 0 and draws.max() == 9
    # each of the 10 values appears in a row with probability 3/10
    np.testing.assert_allclose(np.bincount(draws.ravel(), minlength=10) / 20000, 0.3, atol=0.015)


def test_nth_free_item_matches_brute_force():
    interacted = random_binary(30, 40, 0.3, seed=3)
    interacted.sort_indices()
    positions = np.tile(np.arange(5), (30, 1))
    expected = [np.setdiff1d(np.arange(40), interacted[u].indices)[:5] for u in range(30)]
    np.testing.assert_array_equal(_nth_free_item(interacted, positions), np.array(expected))


def test_sample_candidates_is_seeded_and_avoids_interactions():
    train, test = random_binary(80, 300, 0.1, seed=4), random_binary(80, 300, 0.02, seed=5)
    candidates = sample_candidates(test, train, n_negatives=50, seed=7)
    again = sample_candidates(test, train, n_negatives=50, seed=7)
    other = sample_candidates(test, train, n_negatives=50, seed=8)
    np.testing.assert_array_equal(candidates.negatives, again.negatives)
    assert not np.array_equal(candidates.negatives, other.negatives)
    interacted = (train + test).toarray() > 0
    assert not np.take_along_axis(interacted[candidates.users], candidates.negatives, axis=1).any()
    assert test.toarray()[candidates.users, candidates.positives].all()
    assert all(len(set(row)) == 50 for row in candidates.negatives)


def test_sample_candidates_rejects_too_many_negatives():
    with pytest.raises(EvaluationInputError, match="fewer than n_negatives"):
        sample_candidates(binary([[0]], 5), binary([[1, 2]], 5), n_negatives=3)


def test_sampled_ranks_and_metrics_by_hand():
    # item scores (same for every user): item i scores scores[i]
    scores = torch.tensor([0.9, 0.1, 0.5, 0.5, 0.3])
    candidates = SampledCandidates(
        users=np.array([0, 1, 2]),
        positives=np.array([0, 3, 1]),
        negatives=np.array([[1, 2], [2, 4], [2, 4]]),
    )
    # user 0: 0.9 beats both -> rank 0; user 1: item 2 ties item 3 with a lower index -> rank 1;
    # user 2: 0.1 is last -> rank 2.
    ranks = sampled_positive_ranks(lambda users, items: scores[items], candidates)
    np.testing.assert_array_equal(ranks, [0, 1, 2])
    # HR@2 = 2/3; NDCG@2 = (1 + 1/log2 3 + 0) / 3 = (1 + 0.630930) / 3 = 0.543643
    result = evaluate_sampled(lambda users, items: scores[items], candidates, ks=[1, 2])
    assert result[2]["hr"] == pytest.approx(2 / 3)
    assert result[2]["ndcg"] == pytest.approx(0.543643, abs=1e-6)
    assert result[1] == pytest.approx({"hr": 1 / 3, "ndcg": 1 / 3})


def test_embedding_candidate_scorer_matches_dot_products():
    user_emb, item_emb = torch.randn(4, 8), torch.randn(10, 8)
    users, items = torch.tensor([0, 3]), torch.tensor([[1, 2, 9], [0, 5, 5]])
    scores = embedding_candidate_scorer(user_emb, item_emb)(users, items)
    torch.testing.assert_close(scores[1, 1], user_emb[3] @ item_emb[5])
    torch.testing.assert_close(scores, torch.stack([item_emb[items[r]] @ user_emb[users[r]] for r in range(2)]))


# ------------------------------------------------------------------------------------------------------ AUC
def test_per_user_auc_matches_sklearn_per_group():
    rng = np.random.default_rng(9)
    users = rng.integers(0, 40, 2000)
    labels = rng.integers(0, 2, 2000)
    scores = np.round(rng.normal(size=2000) + labels, 1)  # rounding creates ties
    labels[users == 7] = 1  # a single-class user is left out
    ids, values = per_user_auc(labels, scores, users)
    assert 7 not in ids and len(ids) == 39
    expected = [roc_auc_score(labels[users == u], scores[users == u]) for u in ids]
    np.testing.assert_allclose(values, expected, atol=1e-12)
    assert mean_per_user_auc(labels, scores, users) == pytest.approx(np.mean(expected))
    assert global_auc(labels, scores) == pytest.approx(roc_auc_score(labels, scores))


def test_roc_and_tpr_at_fpr_by_hand():
    # descending scores: 0.9(+) 0.8(-) 0.7(+) 0.6(+) 0.2(-); 3 positives, 2 negatives.
    # thresholds give (fpr, tpr): (0, 1/3), (1/2, 1/3), (1/2, 1), (1, 1)
    labels, scores = np.array([1, 0, 1, 1, 0]), np.array([0.9, 0.8, 0.7, 0.6, 0.2])
    assert tpr_at_fpr(labels, scores, 0.0) == pytest.approx(1 / 3)
    assert tpr_at_fpr(labels, scores, 0.5) == pytest.approx(1.0)
    fpr, tpr, _ = roc_points(labels, scores)
    assert fpr[-1] == 1.0 and tpr[-1] == 1.0
    # AUC = pairs (pos > neg) / 6 = (2 + 1 + 1) / 6: the 0.9 positive beats both negatives, 0.7 and 0.6 beat only 0.2
    assert global_auc(labels, scores) == pytest.approx(4 / 6)


def test_auc_bad_inputs():
    with pytest.raises(EvaluationInputError, match="binary"):
        global_auc(np.array([0, 2]), np.array([0.1, 0.2]))
    with pytest.raises(EvaluationInputError, match="NaN"):
        global_auc(np.array([0, 1]), np.array([0.1, np.nan]))
    with pytest.raises(EvaluationInputError, match="both"):
        global_auc(np.array([1, 1]), np.array([0.1, 0.2]))


# ---------------------------------------------------------------------------------------------------- slices
def test_cold_start_and_long_tail_masks_by_hand():
    # train popularity per item: [3, 1, 1, 0, 2]; 5 items, head = ceil(0.4 * 5) = 2 items -> {0, 4}
    train = binary([[0, 1], [0, 4], [0, 2, 4], []], 5)
    np.testing.assert_array_equal(cold_start_user_mask(train, 2), [True, True, False, True])
    np.testing.assert_array_equal(long_tail_item_mask(train, 0.4), [False, True, True, True, False])
    # head = ceil(0.6 * 5) = 3: items 0, 4, then the tie between items 1 and 2 (popularity 1) goes to item 1
    np.testing.assert_array_equal(long_tail_item_mask(train, 0.6), [False, False, True, True, False])


def test_slice_metrics_by_hand():
    # users 0..2; k = 1 lists: user 0 -> [1], user 1 -> [0], user 2 -> [3]
    scores = np.array([[0.0, 1.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]])
    test = binary([[1, 2], [0], [2, 3]], 4)
    result = per_user_topk_metrics(scores, test, ks=[1])
    cold = np.array([True, False, True])
    # cold users 0 and 2 both hit -> hr 1; recall (1/2 + 1/2) / 2 = 1/2
    assert user_slice_metrics(result, cold)[1] == pytest.approx(
        {"hr": 1.0, "recall": 0.5, "precision": 1.0, "ndcg": 1.0, "map": 1.0, "mrr": 1.0, "n_users": 2}
    )
    # long tail = items {2, 3}: users with a long-tail test item are 0 ({2}) and 2 ({2, 3});
    # user 0 recommends 1 (head) -> miss; user 2 recommends 3 -> hit: hr = 1/2, recall = (0 + 1/2) / 2 = 1/4
    tail = np.array([False, False, True, True])
    assert long_tail_metrics(result, test, tail)[1] == pytest.approx({"hr": 0.5, "recall": 0.25, "n_users": 2})


def test_empty_user_slice_gives_nan():
    result = per_user_topk_metrics(np.eye(3), binary([[0], [1], [2]], 3), ks=[1])
    values = user_slice_metrics(result, np.zeros(3, dtype=bool))[1]
    assert values["n_users"] == 0 and math.isnan(values["hr"])
