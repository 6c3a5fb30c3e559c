"""The paper-000 synthetic generator: exact counts, the documented structure, learnability, determinism, cache."""

import hashlib
import pickle
import time
from dataclasses import replace

import numpy as np
import pytest

from xrec_lib import papers
from xrec_lib.data.cache import cache_key, cache_path, cached
from xrec_lib.data.crossdomain import SOURCE, TARGET
from xrec_lib.data.synthetic_crossdomain import (
    BASE_TARGET_SHARE,
    SCENARIOS,
    SyntheticCrossDomainConfig,
    generate_crossdomain,
    generate_crossdomain_cached,
    latent_model,
)
from xrec_lib.errors import ConfigError

SEED = 3


@pytest.fixture(scope="module")
def smoke():
    return generate_crossdomain(SyntheticCrossDomainConfig.smoke("sparse"), SEED)


@pytest.fixture(scope="module")
def smoke_sufficient():
    return generate_crossdomain(SyntheticCrossDomainConfig.smoke("sufficient"), SEED)


def all_pairs(dataset):
    return (np.concatenate([dataset.train.user, dataset.test.user]),
            np.concatenate([dataset.train.product, dataset.test.product]))


def dataset_hash(dataset) -> str:
    digest = hashlib.sha256()
    arrays = [dataset.product_domain, dataset.user_market, dataset.product_market, dataset.supplier_of_product,
              dataset.seller_product, dataset.seller_supplier, dataset.train.user, dataset.train.product,
              dataset.test.user, dataset.test.product]
    for array in arrays:
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def hit_rate_at_20(scores: np.ndarray, dataset) -> float:
    """Share of users with a test interaction that have one among their 20 best-scored unseen products."""
    train, test = dataset.interaction_matrix("train").toarray() > 0, dataset.interaction_matrix("test").toarray() > 0
    users = np.flatnonzero(test.any(axis=1))
    masked = np.where(train[users], -np.inf, scores[users])
    top = np.argpartition(-masked, 20, axis=1)[:, :20]
    return float(np.take_along_axis(test[users], top, axis=1).any(axis=1).mean())


# ------------------------------------------------------------------------------------------ counts, split
def test_smoke_counts_are_exact(smoke):
    config = SyntheticCrossDomainConfig.smoke()
    assert (smoke.n_users, smoke.n_products, smoke.n_suppliers, smoke.n_sellers) == (2_000, 2_500, 200, 80)
    assert len(smoke.train) + len(smoke.test) == config.n_interactions
    assert len(smoke.train) == round(0.6 * config.n_interactions)


def test_pairs_are_unique_and_splits_disjoint(smoke):
    user, product = all_pairs(smoke)
    assert len(np.unique(user * smoke.n_products + product)) == len(user)


def test_name_label_and_meta(smoke):
    assert smoke.name == "synthetic-000/smoke/sparse"
    assert smoke.synthetic is True
    assert smoke.meta["seed"] == SEED
    assert SyntheticCrossDomainConfig.from_dict(smoke.meta["config"]) == SyntheticCrossDomainConfig.smoke()


def test_smoke_generates_well_under_a_second():
    start = time.perf_counter()
    generate_crossdomain(SyntheticCrossDomainConfig.smoke(), 11)
    assert time.perf_counter() - start < 1.0


def test_same_seed_same_arrays_other_seed_other_arrays(smoke):
    config = SyntheticCrossDomainConfig.smoke()
    assert dataset_hash(generate_crossdomain(config, SEED)) == dataset_hash(smoke)
    assert dataset_hash(generate_crossdomain(config, SEED + 1)) != dataset_hash(smoke)


def test_scenario_changes_interactions_not_catalogue(smoke, smoke_sufficient):
    for name in ("product_domain", "user_market", "product_market", "supplier_of_product", "seller_product"):
        np.testing.assert_array_equal(getattr(smoke, name), getattr(smoke_sufficient, name))
    assert smoke_sufficient.name == "synthetic-000/smoke/sufficient"


# ------------------------------------------------------------------------------------------- structure
def test_popularity_has_a_long_tail(smoke):
    counts = np.sort(np.bincount(all_pairs(smoke)[1], minlength=smoke.n_products))[::-1]
    assert counts[: smoke.n_products // 5].sum() / counts.sum() > 0.5


def test_cold_start_share_and_size(smoke):
    config = SyntheticCrossDomainConfig.smoke()
    totals = np.bincount(all_pairs(smoke)[0], minlength=smoke.n_users)
    cold = totals <= config.cold_start_interactions + 1
    assert cold.mean() == pytest.approx(config.cold_start_share, abs=0.01)
    assert totals[cold].mean() == pytest.approx(config.cold_start_interactions, abs=0.2)
    assert totals[~cold].min() >= config.warm_min_interactions


def domain_density(dataset, domain: int) -> float:
    n_interactions = (dataset.train.domain == domain).sum() + (dataset.test.domain == domain).sum()
    return n_interactions / (dataset.n_users * (dataset.product_domain == domain).sum())


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_target_domain_is_sparser_than_source(scenario, smoke, smoke_sufficient):
    dataset = {"sparse": smoke, "sufficient": smoke_sufficient}[scenario]
    assert domain_density(dataset, TARGET) < domain_density(dataset, SOURCE)


def test_sparse_scenario_has_fewer_target_interactions(smoke, smoke_sufficient):
    assert domain_density(smoke, TARGET) < 0.5 * domain_density(smoke_sufficient, TARGET)
    target_share = (smoke.train.domain == TARGET).mean()
    assert target_share == pytest.approx(BASE_TARGET_SHARE, abs=0.03)


def test_users_interact_within_their_market_unless_they_browse_across_markets(smoke):
    own_market = replace(SyntheticCrossDomainConfig.smoke(), home_market_bias=None)
    dataset = generate_crossdomain(own_market, SEED)
    user, product = all_pairs(dataset)
    np.testing.assert_array_equal(dataset.user_market[user], dataset.product_market[product])
    assert len(np.unique(dataset.user_market)) == own_market.n_markets
    browsing = replace(own_market, home_market_bias=1.0)
    user, product = all_pairs(generate_crossdomain(browsing, SEED))
    inside = (smoke.user_market[user] == smoke.product_market[product]).mean()
    catalogue_share = np.mean([(smoke.product_market == m).mean() for m in range(browsing.n_markets)])
    assert catalogue_share + 0.1 < inside < 0.95  # mostly the own market, not only


def test_sufficient_scenario_adds_target_data_and_keeps_the_source_domain():
    config = replace(SyntheticCrossDomainConfig.smoke(), sufficient_target_factor=3.0)
    counts = {}
    for scenario in SCENARIOS:
        user, product = all_pairs(generate_crossdomain(replace(config, scenario=scenario), SEED))
        domain = generate_crossdomain(replace(config, scenario=scenario), SEED).product_domain[product]
        counts[scenario] = {d: np.bincount(user[domain == d], minlength=config.n_users) for d in (SOURCE, TARGET)}
    np.testing.assert_array_equal(counts["sparse"][SOURCE], counts["sufficient"][SOURCE])
    ratio = counts["sufficient"][TARGET].sum() / counts["sparse"][TARGET].sum()
    assert ratio == pytest.approx(3.0, rel=0.1)
    assert (counts["sufficient"][TARGET] >= counts["sparse"][TARGET]).mean() > 0.95


def test_noise_share_makes_the_data_harder_to_predict():
    hit_rates = []
    for noise in (0.0, 0.4, 0.8):
        config = replace(SyntheticCrossDomainConfig.smoke(), noise_share=noise)
        dataset = generate_crossdomain(config, SEED)
        hit_rates.append(hit_rate_at_20(latent_model(config, SEED).log_probabilities(), dataset))
    assert hit_rates[0] > hit_rates[1] + 0.05 > hit_rates[2] + 0.1


def test_sellers_bridge_their_suppliers_to_target_products(smoke):
    sellers, products = smoke.seller_product
    assert (smoke.product_domain[products] == TARGET).all()
    assert len(products) == (smoke.product_domain == TARGET).sum()
    sourced = set(zip(*smoke.seller_supplier.tolist()))
    assert all((s, smoke.supplier_of_product[p]) in sourced for s, p in zip(sellers.tolist(), products.tolist()))
    markets_per_seller = [len(np.unique(smoke.product_market[products[sellers == s]])) for s in range(smoke.n_sellers)]
    assert markets_per_seller == [1] * smoke.n_sellers  # a seller lists in its one target market
    assert set(np.unique(smoke.supplier_of_product)) == set(range(smoke.n_suppliers))


def test_products_of_a_supplier_share_latent_traits():
    model = latent_model(SyntheticCrossDomainConfig.smoke(), SEED)
    factors = model.product_factors / np.linalg.norm(model.product_factors, axis=1, keepdims=True)
    a, b = np.random.default_rng(0).integers(0, len(factors), (2, 20_000))
    order = np.argsort(model.supplier_of_product, kind="stable")
    siblings = np.stack([order[:-1], order[1:]])[:, np.diff(model.supplier_of_product[order]) == 0]
    same_supplier = (factors[siblings[0]] * factors[siblings[1]]).sum(axis=1).mean()
    random_pairs = (factors[a] * factors[b]).sum(axis=1).mean()
    assert same_supplier > random_pairs + 0.3


# ------------------------------------------------------------------------------------------ learnability
def test_oracle_beats_popularity_beats_random(smoke):
    rng = np.random.default_rng(0)
    popularity = np.bincount(smoke.train.product, minlength=smoke.n_products).astype(float)
    tie_break = rng.random((smoke.n_users, smoke.n_products)) * 1e-3
    hr_random = hit_rate_at_20(rng.random((smoke.n_users, smoke.n_products)), smoke)
    hr_popularity = hit_rate_at_20(popularity[None, :] + tie_break, smoke)
    hr_oracle = hit_rate_at_20(latent_model(SyntheticCrossDomainConfig.smoke(), SEED).log_probabilities(), smoke)
    assert hr_popularity > hr_random + 0.2
    assert hr_oracle > hr_popularity + 0.2


def test_oracle_is_a_distribution_over_the_users_pool():
    own_market = replace(SyntheticCrossDomainConfig.smoke(), home_market_bias=None, noise_share=0.2)
    model = latent_model(own_market, SEED)
    log_p = model.log_probabilities(np.arange(10))
    np.testing.assert_allclose(np.exp(log_p).sum(axis=1), 1.0, rtol=1e-9)
    outside = model.user_market[:10, None] != model.product_market[None, :]
    assert np.isneginf(log_p[outside]).all() and np.isfinite(log_p[~outside]).all()
    browsing = latent_model(replace(own_market, home_market_bias=1.0), SEED).log_probabilities(np.arange(10))
    np.testing.assert_allclose(np.exp(browsing).sum(axis=1), 1.0, rtol=1e-9)
    assert np.isfinite(browsing).all()
    domain_mass = np.exp(browsing[:, model.product_domain == TARGET]).sum(axis=1)
    np.testing.assert_allclose(domain_mass, own_market.target_share, rtol=1e-9)


# --------------------------------------------------------------------------------------------- config
@pytest.mark.parametrize("change, message", [
    ({"scenario": "dense"}, "scenario"),
    ({"n_users": 0}, "n_users"),
    ({"n_products": 2.5}, "n_products"),
    ({"train_fraction": 1.0}, "train_fraction"),
    ({"cold_start_share": 1.0}, "cold_start_share"),
    ({"n_suppliers": 5_000}, "suppliers"),
    ({"n_interactions": 100}, "n_interactions"),
    ({"noise_share": 1.0}, "noise_share"),
    ({"home_market_bias": -1.0}, "home_market_bias"),
    ({"sufficient_target_factor": 0.5}, "sufficient_target_factor"),
])
def test_invalid_config_names_the_problem(change, message):
    with pytest.raises(ConfigError, match=message):
        replace(SyntheticCrossDomainConfig.smoke(), **change)


def test_unknown_config_name_and_bad_seed_are_refused():
    with pytest.raises(ConfigError, match="unknown synthetic-data parameters"):
        SyntheticCrossDomainConfig.from_dict({"n_user": 10})
    with pytest.raises(ConfigError, match="seed"):
        generate_crossdomain(SyntheticCrossDomainConfig.smoke(), -1)


def test_interactions_that_do_not_fit_the_pools_are_refused():
    with pytest.raises(ConfigError, match="do not fit"):
        generate_crossdomain(replace(SyntheticCrossDomainConfig.smoke(), n_interactions=3_000_000), 0)


@pytest.mark.slow
def test_paper_preset_has_the_papers_counts_in_under_30_seconds():
    start = time.perf_counter()
    dataset = generate_crossdomain(SyntheticCrossDomainConfig.paper(), 0)
    assert time.perf_counter() - start < 30
    stats = dataset.statistics()["value"]
    for row, metric in [("users", "users"), ("products", "products"), ("suppliers", "suppliers"),
                        ("interactions", "interactions"), ("train interactions", "train_interactions"),
                        ("test interactions", "test_interactions")]:
        assert stats[row] == papers.one(paper="000", source="Sec. Results, text", metric=metric).value, row


# ---------------------------------------------------------------------------------------------- cache
class Counter:
    def __init__(self):
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return {"built": self.calls}


def test_cache_miss_then_hit(tmp_path):
    build = Counter()
    assert cached({"a": 1}, build, tmp_path) == {"built": 1}
    assert cached({"a": 1}, build, tmp_path) == {"built": 1}
    assert build.calls == 1
    assert [p.name for p in tmp_path.iterdir()] == [f"{cache_key({'a': 1})}.pkl"]  # no temporary files left


def test_cache_key_is_order_free_and_distinguishes_values(tmp_path):
    assert cache_key({"a": 1, "b": [1, 2]}) == cache_key({"b": [1, 2], "a": 1})
    build = Counter()
    cached({"a": 1}, build, tmp_path)
    assert cached({"a": 2}, build, tmp_path) == {"built": 2}
    with pytest.raises(ConfigError, match="JSON"):
        cache_key({"a": np.arange(3)})


@pytest.mark.parametrize("content", [b"", b"not a pickle", pickle.dumps({"key": "other", "value": 7})])
def test_corrupted_cache_file_is_rebuilt(tmp_path, content):
    cache_path({"a": 1}, tmp_path).write_bytes(content)
    build = Counter()
    assert cached({"a": 1}, build, tmp_path) == {"built": 1}
    assert cached({"a": 1}, build, tmp_path) == {"built": 1} and build.calls == 1


def test_cache_dir_defaults_to_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("XREC_CACHE_DIR", str(tmp_path / "env"))
    assert cache_path({"a": 1}).parent == tmp_path / "env"


def test_cached_generator_returns_the_same_dataset(tmp_path, smoke):
    config = SyntheticCrossDomainConfig.smoke()
    first = generate_crossdomain_cached(config, SEED, tmp_path)
    second = generate_crossdomain_cached(config, SEED, tmp_path)
    assert dataset_hash(first) == dataset_hash(second) == dataset_hash(smoke)
    assert len(list(tmp_path.glob("*.pkl"))) == 1


@pytest.mark.slow
@pytest.mark.parametrize("scenario, figure", [("sparse", "Fig. 6(a)"), ("sufficient", "Fig. 6(b)")])
def test_calibrated_preset_puts_rgcn_at_the_papers_level(scenario, figure):
    """The calibration target (benchmarks/calibrate_synthetic_000.py): RGCN's HR@20 on the target domain at the
    paper profile's scale within 0.02 of the paper's value (one seed; about 2 minutes per scenario)."""
    from xrec_lib.config import load_config
    from xrec_lib.studies.paper000.representation import run_representation, scaled_synthetic_config
    from xrec_lib.studies.paper000.settings import RepresentationSettings
    from xrec_lib.tuning import load_tuned

    settings = RepresentationSettings.from_config(load_config("01_siamese_gcn", "paper", threads=1))
    dataset = generate_crossdomain(scaled_synthetic_config(settings.synthetic_scale, scenario), 0)
    run = run_representation(dataset, settings, [0], label=scenario, models=["RGCN"], ks=[20],
                             tuned=load_tuned("01_siamese_gcn"))
    target = papers.one(paper="000", source=figure, metric="hr", model="RGCN").value
    assert run.metrics["hr"].iloc[0] == pytest.approx(target, abs=0.02)
