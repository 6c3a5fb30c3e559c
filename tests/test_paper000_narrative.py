"""Paper 000 narrative: computed verdict summaries, chance/ideal levels and the worked examples of notebooks 01-02."""

import math

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch

from xrec_lib.data.crossdomain import SOURCE, TARGET, CrossDomainDataset, Interactions
from xrec_lib.data.synthetic_crossdomain import generate_crossdomain
from xrec_lib.models.interaction import HEADS
from xrec_lib.studies.paper000 import narrative
from xrec_lib.studies.paper000.representation import (RepresentationSettings, run_representation,
                                                      scaled_synthetic_config)
from xrec_lib.studies.paper000.settings import InteractionSettings

torch.set_num_threads(1)


def verdicts() -> pd.DataFrame:
    rows = [
        ("A beats B on hr", "replicated", 0.10, 0.05, 0.15, 0.02, "fig6", None),
        ("A beats C on hr", "inconclusive", -0.30, -0.70, 0.10, math.nan, "fig6", None),
        ("A beats D on hr", "not comparable", 0.90, math.nan, math.nan, math.nan, "fig6", "both at chance"),
        ("A beats B on ndcg", "contradicted", -0.04, -0.06, -0.02, 0.01, "fig7", None),
        ("A beats B on cov", "not comparable", 0.5, math.nan, math.nan, math.nan, "fig8", "fewer than 2 pairs"),
    ]
    return pd.DataFrame(rows, columns=["claim", "verdict", "mean_diff", "ci_low", "ci_high", "paper_gap", "item",
                                       "reason"]).set_index("claim")


def test_family_summary_counts_outcomes_and_finds_the_largest_tested_gap():
    summary = narrative.family_summary(verdicts())
    assert list(summary.index) == ["fig6", "fig7", "fig8"]
    assert summary.loc["fig6", ["claims", "replicated", "inconclusive", "not comparable"]].tolist() == [3, 1, 1, 1]
    # the not-comparable claim has the largest |diff| but is skipped
    assert summary.loc["fig6", "largest_gap_claim"] == "A beats C on hr"
    assert summary.loc["fig6", "mean_diff"] == pytest.approx(-0.30)
    assert pd.isna(summary.loc["fig8", "largest_gap_claim"])
    grouped = narrative.family_summary(verdicts(), {"6-7": ["fig6", "fig7"], "none": ["fig9"]})
    assert list(grouped.index) == ["6-7"] and grouped.loc["6-7", "claims"] == 4


def test_family_markdown_states_counts_gap_ci_and_paper_gap():
    text = narrative.family_markdown(narrative.family_summary(verdicts()), "Fig. 6-8")
    assert "**fig6** (3 claims): 1 replicated, 1 inconclusive, 1 not comparable." in text
    assert "A beats C on hr: -30.0 points (95% CI [-70.0, +10.0]); the paper gives no value" in text
    assert "A beats B on ndcg: -4.0 points (95% CI [-6.0, -2.0]); the paper's gap is +1.0 points" in text
    assert "No claim of this family could be tested" in text
    # fig6's largest gap has no paper value, so the largest one the paper quantifies is named too
    assert "Largest gap where the paper prints both values: A beats B on hr: +10.0 points" in text
    assert text.count("Largest gap where the paper prints") == 1
    assert "5 claims, 1 replicated, 1 contradicted, 1 inconclusive, 2 not comparable" in text


def test_claims_markdown_filters_and_gives_reasons():
    text = narrative.claims_markdown(verdicts(), "on hr")
    assert text.count("\n- ") + text.startswith("- ") == 3
    assert "(both at chance)" in text and "ndcg" not in text
    assert "No claim matches" in narrative.claims_markdown(verdicts(), "nothing")
    only = narrative.claims_markdown(verdicts(), prefixes=["A beats B on", "A beats D"])
    assert "A beats B on hr" in only and "A beats B on ndcg" in only and "A beats D" in only
    assert "A beats C" not in only and "cov" in only


def test_levels_place_models_between_chance_and_ideal():
    table = narrative.levels_table({"good": 0.6, "bad": 0.11}, chance=0.1, ideal=0.6)
    assert table.index[0] in ("good", narrative.IDEAL_ROW)
    assert table.loc["good", "lift"] == pytest.approx(1.0)
    assert table.loc["bad", "lift"] == pytest.approx(0.02)
    text = narrative.levels_markdown(table, "NDCG@20")
    assert "a random ranking scores 0.1000 and a perfect one 0.6000" in text
    assert "Best: good" in text and "worst: bad" in text and "At chance (within 4% in lift): bad" in text


def test_study_and_run_levels_read_their_tables():
    class Run:
        metrics = pd.DataFrame({"seed": [0, 1, 0], "model": ["M", "M", "N"], "k": [20, 20, 10],
                                "ndcg": [0.2, 0.4, 0.9]})
        references = pd.DataFrame({"seed": [0, 1], "k": [20, 20], "metric": ["ndcg", "ndcg"],
                                   "chance": [0.1, 0.1], "ideal": [0.5, 0.7]})
        generator = pd.DataFrame()  # real data: no generator references
    table = narrative.representation_levels(Run())
    assert list(table.drop(index=[narrative.CHANCE_ROW, narrative.IDEAL_ROW]).index) == ["M"]
    assert table.loc["M", "value"] == pytest.approx(0.3) and table.loc["M", "lift"] == pytest.approx(0.4)

    class Study:
        metrics = pd.DataFrame({"group": ["heads", "heads", "methods"], "scenario": "standard", "slice": "all",
                                "k": 20, "metric": "ndcg", "model": ["BLA", "BL", "X"], "value": [0.3, 0.2, 0.9]})
        references = pd.DataFrame({"scenario": ["standard"], "slice": ["all"], "k": [20], "metric": ["ndcg"],
                                   "chance": [0.1], "ideal": [0.5]})
    heads = narrative.study_levels(Study(), "heads")
    assert set(heads.index) == {"BLA", "BL", narrative.CHANCE_ROW, narrative.IDEAL_ROW}
    assert heads.loc["BLA", "lift"] == pytest.approx(0.5)
    with pytest.raises(Exception, match="no hr@20"):
        narrative.study_levels(Study(), "heads", metric="hr")

    class Synthetic(Study):
        metrics = pd.concat([Study.metrics, pd.DataFrame({
            "group": "generator", "scenario": "standard", "slice": "all", "k": 20, "metric": "ndcg",
            "model": ["Oracle", "Popularity"], "value": [0.46, 0.15]})], ignore_index=True)
    levels = narrative.study_levels(Synthetic(), "heads")
    assert {"Oracle", "Popularity"} <= set(levels.index) and "X" not in levels.index
    text = narrative.levels_markdown(levels, "NDCG@20")
    assert "Best: BLA" in text and "worst: BL " in text  # the references are not ranked with the models
    assert "oracle" in text and "scores 0.4600 (90%), so BLA reaches 65% of the attainable level" in text


# --------------------------------------------------------------------------------------- notebook 01 example
DOMAIN = np.array([SOURCE, SOURCE, TARGET, TARGET, TARGET])


def rows(pairs):
    user, product = (np.array(c, dtype=np.int64) for c in zip(*pairs))
    return Interactions(user, product, DOMAIN[product])


def tiny() -> CrossDomainDataset:
    """4 users, 5 products (0-1 source, 2-4 target), 3 suppliers, 2 sellers."""
    return CrossDomainDataset(
        name="tiny", synthetic=True, n_users=4, n_products=5, n_suppliers=3, n_sellers=2, product_domain=DOMAIN,
        user_market=np.array([0, 1, 1, 0]), product_market=np.array([0, 1, 1, 2, 2]),
        supplier_of_product=np.array([0, 1, 2, 2, -1]), seller_product=np.array([[0, 1, 1], [2, 3, 0]]),
        seller_supplier=np.array([[0], [2]]),
        train=rows([(0, 0), (0, 1), (0, 2), (1, 1), (2, 3), (3, 2), (1, 4)]),
        test=rows([(0, 3), (0, 4), (2, 2), (1, 0)]))


def test_neighbourhood_counts_hops_by_domain():
    table = narrative.neighbourhood(tiny(), 0)
    assert table.loc["products (hop 1)"].tolist() == [2, 1, 3]
    assert table.loc["suppliers (hop 2)"].tolist() == [2, 1, 3]
    # product 0 (source) is sold by seller 1, product 2 (target) by seller 0
    assert table.loc["sellers (hop 2)"].tolist() == [1, 1, 2]
    # other users: user 1 via product 1 (source), user 3 via product 2 (target)
    assert table.loc["other users (hop 2)"].tolist() == [1, 1, 2]
    assert table.loc["markets of those products"].tolist() == [2, 1, 2]


def test_pick_user_needs_both_domains_and_a_target_test_item():
    assert narrative.pick_user(tiny()) == 0  # user 1 lacks a target training item, user 2 a source one


def test_top_k_lists_rank_target_products_exclude_training_and_mark_tests():
    data = tiny()
    user_emb = np.array([[1.0, 0.0]] * 4)
    item_emb = np.array([[9.0, 0], [8.0, 0], [7.0, 0], [1.0, 0], [2.0, 0]])
    lists = narrative.top_k_lists({"m": (user_emb, item_emb), "r": (user_emb, -item_emb)}, data, 0, k=2)
    m = lists[lists["model"] == "m"]
    assert m["product"].tolist() == [4, 3]  # source products 0-1 and training product 2 never appear
    assert m["in_test"].tolist() == [True, True]
    wide = narrative.top_k_wide(lists)
    assert list(wide.columns) == ["m", "r"] and wide.loc[1, "m"] == "4 ✓"
    assert "m 2, r 2" in narrative.top_k_markdown(lists, data, 0)


# --------------------------------------------------------------------------------------- notebook 02 example
def test_untrained_bla_attention_is_uniform_and_equals_bl():
    torch.manual_seed(0)
    head = HEADS.build("BLA", 8, 16).eval()
    u, p = torch.randn(8), torch.randn(8)
    table = narrative.attention_table(head, u, p)
    assert np.allclose(table["user weight a_u,j"], 1 / 8) and np.allclose(table["user d·a·u_j"], table["user u_j"])
    summary = narrative.attention_summary(head, u, p)
    assert summary["user_effective_dims"] == pytest.approx(8) and summary["logit"] == pytest.approx(
        summary["logit_uniform"])
    with torch.no_grad():
        head.user_attention.score[2].bias[3] = 5.0  # put weight on dimension 3
    summary = narrative.attention_summary(head, u, p)
    assert summary["user_top_dims"][0] == 3 and summary["user_max_weight"] > 0.5
    assert summary["user_effective_dims"] < 8 and summary["logit"] != pytest.approx(summary["logit_uniform"])
    assert "dimensions [3," in narrative.attention_markdown(summary, 0, 1)


def test_two_stage_table_retrieves_by_inner_product_and_reranks_by_the_head():
    class Reverse(torch.nn.Module):  # a head preferring the candidates the inner product ranks last
        def forward(self, user, product):
            return -(user * product).sum(-1)
    user_emb = torch.tensor([[1.0, 0.0]])
    item_emb = torch.tensor([[5.0, 0], [4.0, 0], [3.0, 0], [2.0, 0], [1.0, 0]])
    exclude = sp.csr_matrix(np.array([[1, 0, 0, 0, 0]], dtype=np.float32))
    test = sp.csr_matrix(np.array([[0, 0, 1, 0, 1]], dtype=np.float32))
    table = narrative.two_stage_table(Reverse(), user_emb, item_emb, 0, 3, exclude, test,
                                      items=np.array([10, 11, 12, 13, 14]))
    assert table["item"].tolist() == [3, 2, 1]  # candidates 1-3 by inner product (0 excluded), reversed
    assert table["retrieval rank"].tolist() == [3, 2, 1] and table["product"].tolist() == [13, 12, 11]
    assert table["in_test"].tolist() == [False, True, False]
    assert narrative.example_product(table) == 2
    text = narrative.two_stage_markdown(table, n_test=2, k=1)
    assert "1 of them are among the 3 candidates" in text and "top 1 holds 0" in text


def test_example_embeddings_reproduce_the_runs_vectors():
    dataset = generate_crossdomain(scaled_synthetic_config(0.01, "sparse"), seed=0)
    settings = RepresentationSettings(dim=8, n_layers=1, lightgcn_layers=1, epochs=2, batch_size=2048, lr=0.01)
    run = run_representation(dataset, settings, seeds=[0], label="tiny", models=["Siamese GCN"], ks=(20,))
    vectors = narrative.example_embeddings(dataset, settings, 0, ["Siamese GCN", "MF"])
    assert np.allclose(vectors["Siamese GCN"][1], run.embeddings[("Siamese GCN", 0)][1], atol=1e-6)
    lists = narrative.top_k_lists(vectors, dataset, narrative.pick_user(dataset), k=5)
    assert (lists.groupby("model").size() == 5).all()
    assert (dataset.product_domain[lists["product"]] == TARGET).all()


def test_example_head_trains_bla_on_the_studys_task():
    settings = InteractionSettings(synthetic_scale=0.01, dim=8, encoder_epochs=1, head_epochs=1, n_candidates=20,
                                   hidden=8, end_to_end=False)
    task, user_emb, item_emb, head = narrative.example_head(settings, 0)
    assert head.spec["name"] == "BLA" and not head.training
    assert user_emb.shape[0] == task.dataset.n_users and item_emb.shape[0] == len(task.items)


def test_scale_markdown_reports_the_values_run_and_the_data_counts():
    stats = tiny().statistics()
    text = narrative.scale_markdown({"synthetic_scale": 0.02, "epochs": 2}, ["synthetic_scale", "epochs", "dim"],
                                    [0, 1], "tiny data", stats)
    assert text.startswith("This run: seeds [0, 1]; `synthetic_scale` = 0.02, `epochs` = 2, `dim` not set.")
    assert "tiny data: 4 users, 5 products, 3 suppliers, 2 sellers, 7 training interactions." in text


def test_pairs_markdown_says_what_ran_and_why_not():
    assert "names no pair" in narrative.pairs_markdown("Amazon", [], [])
    assert "not run" in narrative.pairs_markdown("Amazon", ["elec->phone"], []) and "absent" in \
        narrative.pairs_markdown("Amazon", ["elec->phone"], [])
    assert "2 pair(s) ran" in narrative.pairs_markdown("Amazon", ["a", "b"], ["x", "y"])
