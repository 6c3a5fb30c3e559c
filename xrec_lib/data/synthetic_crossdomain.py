"""Paper-shaped synthetic cross-border e-commerce data for paper 000 (always labelled ``synthetic=True``).

Paper 000 evaluates on a preprocessed Alibaba International (B2B source domain) + AliExpress (B2C target domain)
dataset, split at random into training and test records (Sec. "Performance verification of Siamese GCN ..."),
in a sparse (scenario 1) and a sufficient-data (scenario 2) setting. That data is not public in this form, so
:func:`generate_crossdomain` draws a dataset with exactly the paper's counts of users, products, suppliers,
interactions and training records (``SyntheticCrossDomainConfig.paper()``; the values are read from
:mod:`xrec_lib.papers`, paper ``"000"``) and the entities of the paper's Fig. 1-2, from the following
generative process. ``N(0, I)`` is a standard
normal vector in ``R^d``; every draw comes from a ``numpy`` generator seeded by ``seed``.

1. **Markets** (languages). ``M`` markets with shares ``pi_m ~ (m + 1)^(-market_skew)`` (normalised) and
   centroids ``c_m ~ N(0, I)``. Users, suppliers (home market) and sellers (target market) each draw their
   market from ``pi``.
2. **Suppliers.** Trait ``s_j = rho_s * c_home(j) + sqrt(1 - rho_s^2) * z_j`` with ``z_j ~ N(0, I)``
   (``rho_s = supplier_market_weight``); catalogue-size weight ``w_j ~ LogNormal(0, catalogue_size_sigma)``.
3. **Sellers** (the bridges). Seller ``k`` with target market ``t_k`` sources from
   ``n_k = 1 + Poisson(suppliers_per_seller - 1)`` suppliers, drawn without replacement with probability
   ``softmax_j(kappa * <s_j, c_t(k)> / sqrt(d))`` (Gumbel top-``n_k``): sellers pick suppliers that suit their
   market. Catalogue-size weight ``w_k ~ LogNormal(0, catalogue_size_sigma)``.
4. **Products.** A share ``source_product_share`` of the products is B2B *source* domain (ids first), the rest
   B2C *target* domain. Source product: supplier drawn with probability ``~ w_j`` (every supplier gets at least
   one), market = the supplier's home market. Target product: seller drawn with probability ``~ w_k`` (every
   seller gets at least one), supplier drawn uniformly from that seller's suppliers, market = the seller's
   target market. Latent factor ``v_i = rho_p * s_supplier(i) + sqrt(1 - rho_p^2) * z_i``
   (``rho_p = product_supplier_weight``): products of one supplier share traits across domains and markets.
   Popularity: a random permutation gives each product a rank ``r_i`` in ``1..P`` and a log-popularity
   ``b_i = -popularity_exponent * ln r_i`` (Zipf-like long tail).
5. **Users.** ``x_u = rho_u * c_market(u) + sqrt(1 - rho_u^2) * z_u`` (``rho_u = user_market_weight``).
   Affinity (logit) of user ``u`` for product ``i``: ``l(u, i) = kappa * <x_u, v_i> / sqrt(d) + b_i`` with
   ``kappa = preference_strength``.
6. **Activity.** Exactly ``round(cold_start_share * U)`` users are *cold-start* users with ``n_u`` drawn
   uniformly from ``{c - 1, c, c + 1}`` (``c = cold_start_interactions``, mean ``c``) interactions in total. The
   other interactions go to the warm users: ``n_u = warm_min_interactions + share of the rest proportional to
   a ~ LogNormal(0, activity_sigma)`` (largest-remainder rounding, so ``sum n_u`` equals ``n_interactions``
   exactly). A user's candidates in domain ``D`` (the *pool*) are every product of ``D``; products listed in the
   user's own market get ``+ home_market_bias`` on their logit (cross-market browsing; ``None``: the pool is the
   user's market only). No user takes more than ``max_pool_fill`` of a pool.
7. **Domain mix (the scenario knob).** ``t_u ~ Binomial(n_u, q)`` target-domain and ``s_u = n_u - t_u``
   source-domain interactions, ``q = BASE_TARGET_SHARE`` (0.15). In the ``"sparse"`` scenario (the paper's
   scenario 1) that is all. In the ``"sufficient"`` scenario (scenario 2) every user has the *same* ``s_u`` and
   more target-domain data: ``t_u + Binomial(n_u, q * (sufficient_target_factor - 1))``, i.e.
   ``sufficient_target_factor`` times as many B2C interactions on average, so the target domain is denser and the
   total grows (``n_interactions`` counts the sparse scenario). Counts are clipped to the pools' capacities.
   Catalogue, factors, popularity and the source domain are the same for one seed.
8. **Interactions.** Within each domain the user takes the top ``t_u`` (resp. ``s_u``) products of its pool by
   ``log p_u(i) + g_ui``, ``g_ui ~ Gumbel(0, 1)`` i.i.d. (Gumbel top-k: sequential sampling without replacement),
   where ``p_u = (1 - noise_share) * softmax(l(u, .) + home_market_bias * [same market]) + noise_share / |pool|``:
   a share ``noise_share`` of the draws ignores preference and popularity (accidental or exploratory clicks).
   Pairs are unique by construction.
9. **Split.** A uniformly random ``train_fraction`` of all interactions (rounded) is the training set, the rest
   the test set (the paper's random split; a user may end up with no training interaction).

**Difficulty.** ``preference_strength``, ``popularity_exponent``, ``home_market_bias`` and ``noise_share`` set
how predictable the data is, ``sufficient_target_factor`` how much denser scenario 2 is. The defaults are
calibrated on a *baseline* of the paper, never on the proposed model: with ``home_market_bias = 1`` and
``popularity_exponent = 0.3`` fixed, ``noise_share`` was bisected until RGCN (notebook 01's tuned settings, paper
profile budget, 10% scale, seed 0) scored HR@20 0.101 on the sparse target domain (paper Fig. 6(a): 0.107), then
``sufficient_target_factor`` until it scored 0.200 in scenario 2 (Fig. 6(b): 0.195); the generator's oracle scores
0.47 and 0.59 there, training popularity 0.073 and 0.104 (``benchmarks/calibrate_synthetic_000.py``, log in
``benchmarks/results/calibrate_synthetic_000.md``). Other scales use the same values uncalibrated.

Every quantity above is a model-agnostic property of the data (markets, supplier-shared traits, long tail,
sparse target domain, cold-start users); no parameter refers to a recommender. :func:`latent_model` rebuilds
steps 1-5 for a ``(config, seed)`` pair and gives the generator's true single-draw log-probabilities
``log P(i | u)`` (an oracle recommender). ``paper()`` uses ``n_sellers = 2,000`` (the paper gives no count).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
from scipy.special import logsumexp

from xrec_lib import papers
from xrec_lib.data.cache import cached
from xrec_lib.data.crossdomain import SOURCE, TARGET, CrossDomainDataset, Interactions
from xrec_lib.errors import ConfigError

SCENARIOS = ("sparse", "sufficient")
BASE_TARGET_SHARE = 0.15
GENERATOR_NAME = "synthetic-000"
_CHUNK_ELEMENTS = 1 << 22  # user x product scores drawn at once (16 MiB of float32)


def _paper_value(metric: str) -> float:
    return papers.one(paper="000", source="Sec. Results, text", metric=metric).value


_PAPER_COUNTS = {name: int(_paper_value(name)) for name in ("users", "products", "suppliers", "interactions")}


@dataclass(frozen=True)
class SyntheticCrossDomainConfig:
    """Parameters of the generative process in the module docstring (symbols in parentheses).

    The defaults are the paper scale (:meth:`paper`); ``preset`` only names the dataset
    (``"synthetic-000/<preset>/<scenario>"``).
    """

    preset: str = "custom"
    scenario: str = "sparse"
    n_users: int = _PAPER_COUNTS["users"]
    n_products: int = _PAPER_COUNTS["products"]
    n_suppliers: int = _PAPER_COUNTS["suppliers"]
    n_sellers: int = 2_000
    n_interactions: int = _PAPER_COUNTS["interactions"]
    train_fraction: float = _paper_value("train_share")
    n_markets: int = 10
    market_skew: float = 0.5
    latent_dim: int = 16
    user_market_weight: float = 0.5  # rho_u
    supplier_market_weight: float = 0.5  # rho_s
    product_supplier_weight: float = 0.8  # rho_p
    preference_strength: float = 2.5  # kappa
    popularity_exponent: float = 0.3  # calibrated preset (module docstring, "Difficulty")
    source_product_share: float = 0.35
    catalogue_size_sigma: float = 1.0
    suppliers_per_seller: float = 3.0
    cold_start_share: float = 0.15
    cold_start_interactions: int = 4
    warm_min_interactions: int = 8
    activity_sigma: float = 0.8
    max_pool_fill: float = 0.5
    home_market_bias: float | None = 1.0  # calibrated preset
    noise_share: float = 0.2812  # calibrated: RGCN HR@20 0.101 (paper 0.107), sparse, 10% scale
    sufficient_target_factor: float = 2.25  # calibrated: RGCN HR@20 0.200 (paper 0.195), sufficient, 10% scale

    def __post_init__(self) -> None:
        self._validate()

    @classmethod
    def paper(cls, scenario: str = "sparse") -> "SyntheticCrossDomainConfig":
        """The paper's counts of users, products, suppliers and interactions and its train share."""
        return cls(preset="paper", scenario=scenario)

    @classmethod
    def smoke(cls, scenario: str = "sparse") -> "SyntheticCrossDomainConfig":
        """Same process at 2,000 users x 2,500 products (generates in a fraction of a second)."""
        return cls(preset="smoke", scenario=scenario, n_users=2_000, n_products=2_500, n_suppliers=200,
                   n_sellers=80, n_interactions=40_000, n_markets=4)

    @property
    def target_factor(self) -> float:
        """Expected target-domain interactions relative to the sparse scenario (step 7)."""
        return self.sufficient_target_factor if self.scenario == "sufficient" else 1.0

    @property
    def target_share(self) -> float:
        """Expected share of the interactions that lie in the target (B2C) domain (before capacity clipping)."""
        target = BASE_TARGET_SHARE * self.target_factor
        return target / (1.0 - BASE_TARGET_SHARE + target)

    @property
    def n_source_products(self) -> int:
        return round(self.n_products * self.source_product_share)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "SyntheticCrossDomainConfig":
        """Inverse of :meth:`to_dict`; unknown names raise :class:`ConfigError`."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"unknown synthetic-data parameters {unknown}; known: {sorted(known)}")
        return cls(**values)

    def _validate(self) -> None:
        if self.scenario not in SCENARIOS:
            raise ConfigError(f"scenario {self.scenario!r} is unknown; use one of {list(SCENARIOS)}")
        for name in ("n_users", "n_products", "n_suppliers", "n_sellers", "n_interactions", "n_markets",
                     "latent_dim", "cold_start_interactions", "warm_min_interactions"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        for name in ("train_fraction", "source_product_share", "max_pool_fill", "user_market_weight",
                     "supplier_market_weight", "product_supplier_weight"):
            if not 0.0 < getattr(self, name) < 1.0:
                raise ConfigError(f"{name} must lie strictly between 0 and 1, got {getattr(self, name)!r}")
        if not 0.0 <= self.noise_share < 1.0:
            raise ConfigError(f"noise_share must lie in [0, 1), got {self.noise_share!r}")
        if self.home_market_bias is not None and not 0.0 <= self.home_market_bias < math.inf:
            raise ConfigError(f"home_market_bias must be a finite number >= 0 (None: own market only), got "
                              f"{self.home_market_bias!r}")
        if not 1.0 <= self.sufficient_target_factor < math.inf:
            raise ConfigError(f"sufficient_target_factor must be a finite number >= 1, got "
                              f"{self.sufficient_target_factor!r}")
        if not 0.0 <= self.cold_start_share < 1.0:
            raise ConfigError(f"cold_start_share must lie in [0, 1), got {self.cold_start_share!r}")
        if self.suppliers_per_seller < 1.0:
            raise ConfigError(f"suppliers_per_seller must be >= 1, got {self.suppliers_per_seller!r}")
        if self.n_source_products < self.n_suppliers:
            raise ConfigError(f"{self.n_source_products} source products cannot give each of the "
                              f"{self.n_suppliers} suppliers one; raise n_products or source_product_share")
        if self.n_products - self.n_source_products < self.n_sellers:
            raise ConfigError(f"{self.n_products - self.n_source_products} target products cannot give each of "
                              f"the {self.n_sellers} sellers one; raise n_products or lower source_product_share")
        n_cold = round(self.cold_start_share * self.n_users)
        minimum = n_cold * (self.cold_start_interactions + 1) + (self.n_users - n_cold) * self.warm_min_interactions
        if self.n_interactions < minimum:
            raise ConfigError(f"n_interactions={self.n_interactions} is below the {minimum} that the cold-start and "
                              f"warm minimum counts need; raise it or lower warm_min_interactions")


@dataclass(frozen=True)
class LatentModel:
    """Steps 1-5 of the generative process: the catalogue and the true factors behind the interactions."""

    config: SyntheticCrossDomainConfig
    user_market: np.ndarray
    product_market: np.ndarray
    product_domain: np.ndarray
    supplier_of_product: np.ndarray
    seller_of_product: np.ndarray  # -1 for source products
    seller_suppliers: np.ndarray  # (2, E) seller -> supplier
    user_factors: np.ndarray  # (U, d) float32, x_u
    product_factors: np.ndarray  # (P, d) float32, v_i
    product_log_popularity: np.ndarray  # (P,) float32, b_i

    def logits(self, users: np.ndarray) -> np.ndarray:
        """``l(u, i) = kappa * <x_u, v_i> / sqrt(d) + b_i`` for the given users and every product."""
        scale = np.float32(self.config.preference_strength / np.sqrt(self.config.latent_dim))
        return (self.user_factors[users] @ self.product_factors.T) * scale + self.product_log_popularity

    def log_probabilities(self, users: np.ndarray | None = None) -> np.ndarray:
        """True ``log P(i | u)`` of one draw: ``log q_D + log p_u(i)`` with ``p_u`` of step 8 over ``u``'s pool in
        domain ``D(i)`` and ``q_D`` the expected domain share (:attr:`SyntheticCrossDomainConfig.target_share`).

        Products outside the pool get ``-inf``. Ranking by these values is the oracle recommender of the synthetic
        data. Dense ``(len(users), P)`` float64 output.
        """
        users = np.arange(len(self.user_market)) if users is None else np.asarray(users)
        scores = np.empty((len(users), len(self.product_domain)))
        share = {TARGET: self.config.target_share, SOURCE: 1.0 - self.config.target_share}
        for domain, q in share.items():
            columns = np.flatnonzero(self.product_domain == domain)
            scores[:, columns] = _log_draw_probabilities(self, users, self.user_market[users], columns) + np.log(q)
        return scores


def latent_model(config: SyntheticCrossDomainConfig, seed: int) -> LatentModel:
    """Rebuild the catalogue and true factors (steps 1-5) that :func:`generate_crossdomain` uses for ``seed``."""
    return _build_catalogue(config, _streams(seed)[0])


def generate_crossdomain(config: SyntheticCrossDomainConfig, seed: int) -> CrossDomainDataset:
    """Draw one synthetic cross-domain dataset (module docstring).

    The same ``(config, seed)`` gives identical arrays on one platform; scores are float32 BLAS products, so
    another BLAS build may order a rare near-tie differently. ``meta`` holds the config dict and the seed.
    """
    catalogue_rng, activity_rng, sampling_rng, split_rng = _streams(seed)
    model = _build_catalogue(config, catalogue_rng)
    pools = _pools(model)
    target_counts, source_counts = _activity(config, model, pools, activity_rng)
    user, product = _sample_interactions(model, pools, {TARGET: target_counts, SOURCE: source_counts}, sampling_rng)
    in_train = np.zeros(len(user), dtype=bool)
    in_train[split_rng.permutation(len(user))[: round(config.train_fraction * len(user))]] = True
    sold = np.flatnonzero(model.seller_of_product >= 0)
    return CrossDomainDataset(
        name=f"{GENERATOR_NAME}/{config.preset}/{config.scenario}",
        synthetic=True,
        n_users=config.n_users,
        n_products=config.n_products,
        n_suppliers=config.n_suppliers,
        n_sellers=config.n_sellers,
        product_domain=model.product_domain,
        user_market=model.user_market,
        product_market=model.product_market,
        supplier_of_product=model.supplier_of_product,
        seller_product=np.stack([model.seller_of_product[sold], sold]),
        seller_supplier=model.seller_suppliers,
        train=_sorted_interactions(user[in_train], product[in_train], model.product_domain),
        test=_sorted_interactions(user[~in_train], product[~in_train], model.product_domain),
        meta={"generator": GENERATOR_NAME, "config": config.to_dict(), "seed": seed,
              "target_share": config.target_share},
    )


def generate_crossdomain_cached(config: SyntheticCrossDomainConfig, seed: int,
                                cache_dir: str | Path | None = None) -> CrossDomainDataset:
    """:func:`generate_crossdomain` through :func:`xrec_lib.data.cache.cached` (key: generator, config, seed)."""
    key = {"generator": GENERATOR_NAME, "config": config.to_dict(), "seed": seed}
    return cached(key, lambda: generate_crossdomain(config, seed), cache_dir)


def _streams(seed: int) -> list[np.random.Generator]:
    """Independent generators for catalogue, activity, sampling and split (the catalogue never shifts)."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}")
    return [np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(4)]


def _build_catalogue(config: SyntheticCrossDomainConfig, rng: np.random.Generator) -> LatentModel:
    d, scale = config.latent_dim, config.preference_strength / np.sqrt(config.latent_dim)
    shares = (np.arange(1, config.n_markets + 1) ** -config.market_skew).astype(np.float64)
    shares /= shares.sum()
    centroids = rng.standard_normal((config.n_markets, d))
    supplier_home = rng.choice(config.n_markets, config.n_suppliers, p=shares)
    seller_market = rng.choice(config.n_markets, config.n_sellers, p=shares)
    user_market = rng.choice(config.n_markets, config.n_users, p=shares)
    supplier_traits = _mix(centroids[supplier_home], config.supplier_market_weight, rng)
    seller_suppliers = _choose_seller_suppliers(config, supplier_traits @ centroids[seller_market].T * scale, rng)

    n_source = config.n_source_products
    source_supplier = _assign_with_each_once(n_source, _lognormal(config.n_suppliers, config, rng), rng)
    target_seller = _assign_with_each_once(config.n_products - n_source, _lognormal(config.n_sellers, config, rng), rng)
    target_supplier = _uniform_supplier_of_seller(target_seller, seller_suppliers, rng)
    supplier_of_product = np.concatenate([source_supplier, target_supplier])
    ranks = rng.permutation(config.n_products) + 1
    return LatentModel(
        config=config,
        user_market=user_market,
        product_market=np.concatenate([supplier_home[source_supplier], seller_market[target_seller]]),
        product_domain=np.repeat([SOURCE, TARGET], [n_source, config.n_products - n_source]).astype(np.int64),
        supplier_of_product=supplier_of_product,
        seller_of_product=np.concatenate([np.full(n_source, -1), target_seller]),
        seller_suppliers=seller_suppliers,
        user_factors=_mix(centroids[user_market], config.user_market_weight, rng).astype(np.float32),
        product_factors=_mix(supplier_traits[supplier_of_product], config.product_supplier_weight,
                             rng).astype(np.float32),
        product_log_popularity=(-config.popularity_exponent * np.log(ranks)).astype(np.float32),
    )


def _mix(anchor: np.ndarray, weight: float, rng: np.random.Generator) -> np.ndarray:
    """``weight * anchor + sqrt(1 - weight^2) * z`` with ``z ~ N(0, I)`` row-wise."""
    return weight * anchor + np.sqrt(1.0 - weight**2) * rng.standard_normal(anchor.shape)


def _lognormal(n: int, config: SyntheticCrossDomainConfig, rng: np.random.Generator) -> np.ndarray:
    return rng.lognormal(0.0, config.catalogue_size_sigma, n)


def _assign_with_each_once(n_items: int, owner_weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Owner of each item: every owner once, the remaining items drawn with probability ``~ owner_weights``."""
    n_owners = len(owner_weights)
    extra = rng.choice(n_owners, n_items - n_owners, p=owner_weights / owner_weights.sum())
    return rng.permutation(np.concatenate([np.arange(n_owners), extra]))


def _choose_seller_suppliers(config: SyntheticCrossDomainConfig, affinity: np.ndarray,
                             rng: np.random.Generator) -> np.ndarray:
    """``(2, E)`` seller -> supplier edges: Gumbel top-``n_k`` of ``affinity[:, k]`` (suppliers x sellers)."""
    n_per_seller = np.minimum(1 + rng.poisson(config.suppliers_per_seller - 1.0, config.n_sellers),
                              config.n_suppliers)
    keys = affinity.T + rng.gumbel(size=affinity.T.shape)
    ranked = _top_k_sorted(keys, int(n_per_seller.max()))
    taken = np.arange(ranked.shape[1])[None, :] < n_per_seller[:, None]
    sellers = np.broadcast_to(np.arange(config.n_sellers)[:, None], ranked.shape)
    return np.stack([sellers[taken], ranked[taken]]).astype(np.int64)


def _uniform_supplier_of_seller(seller: np.ndarray, seller_suppliers: np.ndarray,
                                rng: np.random.Generator) -> np.ndarray:
    """For each item sold by ``seller``, one of that seller's suppliers chosen uniformly."""
    counts = np.bincount(seller_suppliers[0], minlength=seller.max() + 1)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])  # edges are grouped by seller, in seller order
    pick = starts[seller] + np.floor(rng.random(len(seller)) * counts[seller]).astype(np.int64)
    return seller_suppliers[1][pick]


def _pools(model: LatentModel) -> dict[tuple[int, int], np.ndarray]:
    """Sorted product ids of each ``(market, domain)`` pool: the domain's products (own market only when
    ``home_market_bias`` is None)."""
    own_only = model.config.home_market_bias is None
    return {(m, d): np.flatnonzero(((model.product_market == m) | (not own_only)) & (model.product_domain == d))
            for m in range(model.config.n_markets) for d in (SOURCE, TARGET)}


def _log_draw_probabilities(model: LatentModel, users: np.ndarray, markets: np.ndarray,
                            products: np.ndarray) -> np.ndarray:
    """``log p_u(i)`` of step 8 for ``users`` (whose markets are ``markets``) over the candidate ``products`` of one
    domain (``-inf`` outside the pool); float64 ``(len(users), len(products))``."""
    config = model.config
    logits = _subset_logits(model, users, products).astype(np.float64)
    same = markets[:, None] == model.product_market[products][None, :]
    if config.home_market_bias is None:
        logits[~same] = -np.inf
    else:
        logits += config.home_market_bias * same
    with np.errstate(divide="ignore", invalid="ignore"):
        log_p = logits - logsumexp(logits, axis=1, keepdims=True)
        if config.noise_share > 0:
            pool_size = np.isfinite(logits).sum(axis=1, keepdims=True)
            log_p = np.where(np.isfinite(logits), np.logaddexp(np.log1p(-config.noise_share) + log_p,
                                                                np.log(config.noise_share / pool_size)), -np.inf)
    return log_p


def _activity(config: SyntheticCrossDomainConfig, model: LatentModel, pools: dict,
              rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Per-user target and source interaction counts (steps 6-7); they sum to ``n_interactions`` in the sparse
    scenario. The extra target-domain draw is made in both scenarios so that later streams do not shift."""
    capacity = {d: np.floor(config.max_pool_fill * np.array([len(pools[m, d]) for m in range(config.n_markets)]))
                .astype(np.int64)[model.user_market] for d in (SOURCE, TARGET)}
    room = capacity[SOURCE] + capacity[TARGET]
    cold = np.zeros(config.n_users, dtype=bool)
    cold[rng.permutation(config.n_users)[: round(config.cold_start_share * config.n_users)]] = True
    totals = np.zeros(config.n_users, dtype=np.int64)
    totals[cold] = np.maximum(config.cold_start_interactions + rng.integers(-1, 2, cold.sum()), 1)
    totals = np.minimum(totals, room)
    warm_base = np.where(cold, 0, np.minimum(config.warm_min_interactions, room))
    remaining = config.n_interactions - totals.sum() - warm_base.sum()
    activity = np.where(cold, 0.0, rng.lognormal(0.0, config.activity_sigma, config.n_users))
    totals += warm_base + _apportion(remaining, activity, np.where(cold, 0, room - warm_base))
    target = np.clip(rng.binomial(totals, BASE_TARGET_SHARE), totals - capacity[SOURCE], capacity[TARGET])
    source = totals - target
    extra = rng.binomial(totals, BASE_TARGET_SHARE * (config.sufficient_target_factor - 1.0))
    if config.scenario == "sufficient":
        target = np.minimum(target + extra, capacity[TARGET])
    return target, source


def _apportion(total: int, weights: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """Integers ``c`` with ``sum c = total``, ``0 <= c <= capacity``, ``c ~ weights`` (capped largest remainder)."""
    if total > capacity.sum():
        raise ConfigError(f"{total} interactions do not fit the users' pools (room for {capacity.sum()}); "
                          f"lower n_interactions or raise n_products / max_pool_fill")
    counts = np.zeros(len(weights), dtype=np.int64)
    while total > 0:
        open_weights = np.where(counts < capacity, weights, 0.0)
        ideal = open_weights / open_weights.sum() * total
        add = np.minimum(np.floor(ideal).astype(np.int64), capacity - counts)
        if add.sum() == 0:
            by_remainder = np.argsort(-(ideal - np.floor(ideal)), kind="stable")
            add[by_remainder[open_weights[by_remainder] > 0][:total]] = 1
        counts += add
        total -= int(add.sum())
    return counts


def _sample_interactions(model: LatentModel, pools: dict, counts: dict[int, np.ndarray],
                         rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Gumbel top-k over each ``(market, domain)`` pool (step 8); returns user and product arrays."""
    users_out, products_out = [], []
    for (market, domain), pool in pools.items():
        users = np.flatnonzero((model.user_market == market) & (counts[domain] > 0))
        rows = max(1, _CHUNK_ELEMENTS // max(len(pool), 1))
        for start in range(0, len(users), rows):
            chunk = users[start:start + rows]
            k = counts[domain][chunk]
            keys = _log_draw_probabilities(model, chunk, np.full(len(chunk), market), pool).astype(np.float32)
            keys += _gumbel(keys.shape, rng)
            ranked = _top_k_sorted(keys, int(k.max()))
            taken = np.arange(ranked.shape[1])[None, :] < k[:, None]
            users_out.append(np.broadcast_to(chunk[:, None], ranked.shape)[taken])
            products_out.append(pool[ranked[taken]])
    return np.concatenate(users_out).astype(np.int64), np.concatenate(products_out).astype(np.int64)


def _subset_logits(model: LatentModel, users: np.ndarray, products: np.ndarray) -> np.ndarray:
    scale = np.float32(model.config.preference_strength / np.sqrt(model.config.latent_dim))
    logits = model.user_factors[users] @ model.product_factors[products].T
    logits *= scale
    logits += model.product_log_popularity[products]
    return logits


def _gumbel(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Float32 ``Gumbel(0, 1)`` draws ``-log(-log U)``, ``U ~ Uniform(0, 1)`` (kept away from 0)."""
    draws = rng.random(shape, dtype=np.float32)
    np.maximum(draws, np.finfo(np.float32).tiny, out=draws)
    np.log(draws, out=draws)
    np.negative(draws, out=draws)
    np.log(draws, out=draws)
    return np.negative(draws, out=draws)


def _top_k_sorted(keys: np.ndarray, k: int) -> np.ndarray:
    """Column indices of the ``k`` largest keys of each row, largest first."""
    n = keys.shape[1]
    top = np.argpartition(keys, n - k, axis=1)[:, n - k:] if k < n else np.tile(np.arange(n), (len(keys), 1))
    order = np.argsort(-np.take_along_axis(keys, top, axis=1), axis=1, kind="stable")
    return np.take_along_axis(top, order, axis=1)


def _sorted_interactions(user: np.ndarray, product: np.ndarray, product_domain: np.ndarray) -> Interactions:
    order = np.lexsort((product, user))
    user, product = user[order], product[order]
    return Interactions(user=user, product=product, domain=product_domain[product])
