"""The verdict rule: Holm's correction, the four verdict kinds, intervals and the collapsed-seed flag."""

import math

import numpy as np
import pandas as pd
import pytest

from xrec_lib.compare import bootstrap_interval, claim_test, collapsed_seeds, decide, holm, paired
from xrec_lib.errors import DataError


def test_holm_on_a_hand_case():
    # sorted p: 0.01 (x4 = 0.04), 0.02 (x3 = 0.06), 0.03 (x2 = 0.06, monotone), 0.5 (x1 = 0.5)
    assert holm([0.03, 0.01, 0.5, 0.02]) == pytest.approx([0.06, 0.04, 0.5, 0.06])
    assert holm([0.9, 0.8]) == pytest.approx([1.0, 1.0])  # 0.8 x 2 capped at 1; monotone
    adjusted = holm([0.01, math.nan])
    assert adjusted[0] == pytest.approx(0.01) and math.isnan(adjusted[1])


def test_the_four_verdict_kinds_on_constructed_inputs():
    rng = np.random.default_rng(0)
    base = rng.normal(0.5, 0.01, 8)
    wins = claim_test("A beats B", base + rng.normal(0.05, 0.01, 8), base, unit="seed")
    losses = claim_test("A beats C", base - rng.normal(0.05, 0.01, 8), base, unit="seed")
    noise = claim_test("A beats D", base + np.array([0.012, -0.01] * 4), base, unit="seed")
    untestable = claim_test("A fuses modalities", base + 0.05, base, unit="seed", not_comparable="text only")
    verdicts = {v["claim"]: v for v in decide([wins, losses, noise, untestable])}
    assert verdicts["A beats B"]["verdict"] == "replicated"
    assert verdicts["A beats C"]["verdict"] == "contradicted"
    assert verdicts["A beats D"]["verdict"] == "inconclusive"
    assert verdicts["A fuses modalities"]["verdict"] == "not comparable"
    assert verdicts["A fuses modalities"]["reason"] == "text only"
    assert all(v["family_size"] == 3 for v in verdicts.values())
    low, high = verdicts["A beats D"]["ci_low"], verdicts["A beats D"]["ci_high"]
    assert low < verdicts["A beats D"]["mean_diff"] < high


def test_correction_can_turn_a_nominal_win_inconclusive():
    records = [dict(claim=f"c{i}", p_value=p, mean_diff=1.0, reason=None) for i, p in enumerate([0.04, 0.04, 0.04])]
    assert {v["verdict"] for v in decide(records)} == {"inconclusive"}
    assert decide(records[:1])[0]["verdict"] == "replicated"


def test_claims_without_pairs_or_differences_are_not_comparable():
    assert claim_test("x", [1.0], [0.0], unit="seed")["reason"] == "fewer than 2 pairs"
    assert claim_test("x", [1.0, 2.0], [1.0, 2.0], unit="user")["reason"] == "every paired difference is zero"
    with pytest.raises(DataError, match="NaN"):
        claim_test("x", [1.0, math.nan], [0.0, 0.0], unit="seed")


def test_bootstrap_interval_covers_the_mean_and_is_seeded():
    diff = np.random.default_rng(1).normal(0.1, 0.05, 50)
    low, high = bootstrap_interval(diff)
    assert low < diff.mean() < high and (low, high) == bootstrap_interval(diff)


def test_a_collapsed_seed_is_flagged():
    auc = pd.Series([0.71, 0.493, 0.70, 0.72, 0.69], index=[0, 1, 2, 3, 4])
    assert collapsed_seeds(auc, chance=0.5) == [1]
    assert collapsed_seeds(pd.Series([0.5, 0.51, 0.49]), chance=0.5) == []
    flagged = claim_test("MF beats GCN on AUC", auc, auc - 0.01, unit="seed", collapsed=[1])
    assert flagged["collapsed"] == ["1"]


def test_paired_pivots_one_pair_per_seed():
    frame = pd.DataFrame({"seed": [0, 0, 1, 1, 2], "model": ["A", "B", "A", "B", "A"], "ndcg": [3, 1, 4, 1, 5]})
    better, worse = paired(frame, "model", "A", "B", "ndcg")
    assert better.tolist() == [3, 4] and worse.tolist() == [1, 1]
    with pytest.raises(DataError, match="model='C'"):
        paired(frame, "model", "A", "C", "ndcg")
