"""The two-stage recommender (xrec_lib.serving): retrieval + reranking, cold start, bad input, save/load."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from xrec_lib.models.interaction import HEADS
from xrec_lib.serving import (ServingInputError, TwoStageRecommender, full_head_scores, retrieve_and_rerank,
                              two_stage_scores)

N_USERS, N_ITEMS, DIM = 12, 30, 8


@pytest.fixture()
def recommender():
    torch.manual_seed(0)
    torch.set_num_threads(1)
    seen = sp.random(N_USERS, N_ITEMS, density=0.2, format="csr", random_state=0)
    seen.data[:] = 1
    markets = np.arange(N_ITEMS) % 3
    return TwoStageRecommender(torch.randn(N_USERS, DIM), torch.randn(N_ITEMS, DIM), HEADS.build("BLA", DIM, 16),
                               n_candidates=10, seen=seen, item_market=markets)


def test_known_user_gets_k_unseen_items_ranked_by_the_head(recommender):
    result = recommender.recommend(3, k=5)
    assert not result.cold_start and len(result.items) == 5 and len(set(result.items)) == 5
    assert not set(result.items) & set(recommender.seen[3].indices)
    assert np.all(np.diff(result.scores) <= 0)
    expected = recommender.head(recommender.user_emb[[3] * 5], recommender.item_emb[result.items]).detach()
    np.testing.assert_allclose(result.scores, expected.numpy(), rtol=1e-5)


def test_candidates_are_the_top_inner_products_among_unseen(recommender):
    candidates, _ = retrieve_and_rerank(recommender.head, recommender.user_emb, recommender.item_emb,
                                        torch.tensor([3]), 10, recommender.seen)
    inner = (recommender.user_emb[3] @ recommender.item_emb.T).numpy()
    inner[recommender.seen[3].indices] = -np.inf
    assert set(candidates[0].tolist()) == set(np.argsort(-inner)[:10].tolist())


def test_all_candidates_reproduce_full_head_ranking(recommender):
    """With C = n_items the two-stage scores equal the head applied to every product."""
    users = torch.arange(N_USERS)
    two_stage = two_stage_scores(recommender.head, recommender.user_emb, recommender.item_emb, users, N_ITEMS)
    full = full_head_scores(recommender.head, recommender.user_emb, recommender.item_emb, users)
    torch.testing.assert_close(two_stage, full)


def test_unknown_user_gets_the_flagged_popularity_fallback_in_its_market(recommender):
    result = recommender.recommend(N_USERS + 5, k=4, market=1)
    assert result.cold_start
    assert np.all(recommender.item_market[result.items] == 1)
    assert np.all(np.diff(result.scores) <= 0)
    np.testing.assert_array_equal(result.scores, recommender.popularity[result.items])
    with pytest.raises(ServingInputError, match="market 7 has no products"):
        recommender.recommend(N_USERS + 5, k=4, market=7)


def test_k_larger_than_catalogue_returns_every_unseen_item(recommender):
    result = recommender.recommend(0, k=1000)
    assert sorted(result.items) == sorted(set(range(N_ITEMS)) - set(recommender.seen[0].indices))


@pytest.mark.parametrize("user_id", [-1, 2.0, "3", True, None])
def test_bad_ids_raise_clear_errors(recommender, user_id):
    with pytest.raises(ServingInputError, match="user_id must be"):
        recommender.recommend(user_id, k=5)


def test_bad_k_raises(recommender):
    with pytest.raises(ServingInputError, match="k must be"):
        recommender.recommend(0, k=0)


def test_save_load_round_trip_gives_identical_recommendations(recommender, tmp_path):
    loaded = TwoStageRecommender.load(recommender.save(tmp_path / "model"))
    for user in (0, 5, N_USERS + 1):
        a, b = recommender.recommend(user, k=7, market=2), loaded.recommend(user, k=7, market=2)
        np.testing.assert_array_equal(a.items, b.items)
        np.testing.assert_array_equal(a.scores, b.scores)
        assert a.cold_start == b.cold_start


def test_load_from_empty_directory_says_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="save a recommender there first"):
        TwoStageRecommender.load(tmp_path)
