"""Synthetic shopping generator (paper 002's data shape) and the paper's 9:1 / 20 % validation split."""

import numpy as np
import pandas as pd
import pytest

from xrec_lib.data.synthetic_shopping import (
    BEHAVIOUR_TYPES,
    BUY,
    DEFAULT_SHARES,
    N_CATEGORIES,
    N_SUCCESSORS,
    PAPER_BEHAVIOURS,
    generate_shopping,
    split_behaviours,
)
from xrec_lib.errors import DataError

SCALE = 0.001


@pytest.fixture(scope="module")
def log():
    return generate_shopping(SCALE, seed=3)


def test_size_follows_scale_of_the_paper(log):
    assert len(log.behaviours) == round(SCALE * PAPER_BEHAVIOURS)
    assert log.synthetic and "synthetic" in log.name
    assert log.behaviours["user"].between(0, log.n_users - 1).all()
    assert log.behaviours["item"].between(0, log.n_items - 1).all()
    assert log.item_features.shape[0] == log.n_items and np.isfinite(log.item_features).all()


def test_behaviour_type_shares(log):
    shares = log.behaviours["behaviour"].value_counts(normalize=True)
    for name, share in DEFAULT_SHARES.items():
        assert shares[BEHAVIOUR_TYPES.index(name)] == pytest.approx(share, abs=1e-3)


def test_buys_carry_learnable_preference_signal(log):
    """Buyers repeat the categories they already browse: buys concentrate on a user's most-viewed category."""
    frame = log.behaviours.assign(category=log.item_category[log.behaviours["item"]])
    top = frame.groupby("user")["category"].agg(lambda c: c.value_counts().index[0])
    buys = frame[frame["behaviour"] == BUY]
    in_top = (buys["category"].to_numpy() == top.reindex(buys["user"]).to_numpy()).mean()
    views = frame[frame["behaviour"] == 0]
    assert in_top > (views["category"].to_numpy() == top.reindex(views["user"]).to_numpy()).mean()


def test_generator_is_deterministic(log):
    again = generate_shopping(SCALE, seed=3)
    pd.testing.assert_frame_equal(log.behaviours, again.behaviours)
    np.testing.assert_array_equal(log.item_features, again.item_features)
    assert not generate_shopping(SCALE, seed=4).behaviours.equals(log.behaviours)


def test_split_ratios_and_disjointness(log):
    numbered = log.behaviours.assign(row=np.arange(len(log.behaviours)))
    split = split_behaviours(numbered, seed=0)
    n = len(log.behaviours)
    assert len(split.test) == round(0.1 * n)
    assert len(split.validation) == round(0.2 * (n - len(split.test)))
    assert len(split.train) + len(split.validation) + len(split.test) == n
    rows = np.concatenate([split.train["row"], split.validation["row"], split.test["row"]])
    assert np.array_equal(np.sort(rows), np.arange(n))
    pd.testing.assert_frame_equal(split.test, split_behaviours(numbered, seed=0).test)


@pytest.mark.parametrize("kwargs, message", [
    ({"scale": 0.0}, "scale"),
    ({"scale": 2.0}, "scale"),
    ({"shares": {"view": 0.5, "buy": 0.5}}, "share"),
    ({"shares": {"view": 0.5, "cart": 0.1, "favourite": 0.1, "buy": 0.1}}, "sum to 1"),
])
def test_bad_generator_arguments(kwargs, message):
    with pytest.raises(DataError, match=message):
        generate_shopping(**{"scale": SCALE, **kwargs})


def test_bad_split_arguments(log):
    with pytest.raises(DataError, match="shares"):
        split_behaviours(log.behaviours, test_share=1.5)


def test_categories_are_the_feature_one_hot_and_c_classes(log):
    assert log.n_categories == N_CATEGORIES == 50
    np.testing.assert_array_equal(log.item_features[:, :N_CATEGORIES].argmax(1), log.item_category)
    assert set(np.unique(log.item_category)) == set(range(N_CATEGORIES))


def _buy_in_top_category(log) -> float:
    frame = log.behaviours.assign(category=log.item_category[log.behaviours["item"]])
    top = frame[frame["behaviour"] != BUY].groupby("user")["category"].agg(lambda c: c.value_counts().index[0])
    buys = frame[(frame["behaviour"] == BUY) & frame["user"].isin(top.index)]
    return float((buys["category"].to_numpy() == top.reindex(buys["user"]).to_numpy()).mean())


def test_knobs_move_in_the_direction_of_their_names():
    """More noise purchases or a flatter taste: buys fall less often in the user's most browsed category."""
    base = {"scale": SCALE, "seed": 5, "transition_share": 0.0}
    clean, noisy = (_buy_in_top_category(generate_shopping(**base, noise_share=v)) for v in (0.0, 0.8))
    assert noisy < clean - 0.1
    flat, sharp = (_buy_in_top_category(generate_shopping(**base, noise_share=0.0, taste_strength=v))
                   for v in (0.5, 3.0))
    assert flat < sharp - 0.1


def test_transitions_follow_the_previous_behaviour():
    """With every behaviour a transition (and no noise), each category is followed by one of its few successors."""
    log = generate_shopping(SCALE, seed=1, transition_share=1.0, noise_share=0.0)
    frame = log.behaviours.sort_values(["user", "time"])
    category = log.item_category[frame["item"].to_numpy()]
    same_user = frame["user"].to_numpy()[1:] == frame["user"].to_numpy()[:-1]
    pairs = pd.DataFrame({"previous": category[:-1][same_user], "next": category[1:][same_user]})
    assert pairs.groupby("previous")["next"].nunique().max() <= N_SUCCESSORS
    assert (pairs["previous"] != pairs["next"]).all()


def test_noise_share_replaces_that_share_of_buys():
    clean = generate_shopping(SCALE, seed=2, noise_share=0.0).behaviours
    noisy = generate_shopping(SCALE, seed=2, noise_share=0.5).behaviours
    buys = clean["behaviour"] == BUY
    assert (clean.loc[~buys, "item"] == noisy.loc[~buys, "item"]).all()
    assert 0.4 < (clean.loc[buys, "item"] != noisy.loc[buys, "item"]).mean() <= 0.5


@pytest.mark.parametrize("kwargs", [{"noise_share": 1.5}, {"transition_share": -0.1}, {"taste_strength": -1.0},
                                    {"n_categories": 1}])
def test_bad_knobs(kwargs):
    with pytest.raises(DataError):
        generate_shopping(SCALE, **kwargs)
