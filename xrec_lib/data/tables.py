"""From one's own interaction table (:mod:`xrec_lib.data.generic`) to paper 000's heterogeneous graph.

:func:`to_crossdomain` turns an :class:`~xrec_lib.data.generic.InteractionTable` into the
:class:`~xrec_lib.data.crossdomain.CrossDomainDataset` every paper-000 model reads, built as
:func:`xrec_lib.data.xmarket.load_xmarket` builds an XMarket pair:

* **sides**: ``source`` and ``target`` are two values of the ``market`` column (``by="market"``, e.g.
  ``source="ca"``, ``target="de"``) or of the ``domain`` column (``by="domain"``: ``"source"`` / ``"target"``);
  rows of any other market are left out. ``by=None`` picks ``market`` when the table has a market column holding
  both labels, else ``domain``;
* **users**: one node per raw user id (an id with rows on both sides is one user: the user bridge);
* **products**: one listing per (side, raw item id); the source side's listings are the source domain (paper 000's
  B2B side), the target side's the target domain (B2C);
* **suppliers**: the raw item ids; an item listed on both sides links a source listing to a target listing (the
  item bridge, as an ASIN sold in two markets);
* **sellers**: the two sides; a side "sells" its listings and "sources from" the items it lists.

Splits (only target-side rows are ever tested; source-side rows all train):

* ``"file"``: the table's own test file (its target-side rows; its source-side rows are left out);
* ``"leave-last-out"``: per target user with at least two target rows, the last by ``timestamp`` (ties: the later
  row of the file) is the test row; needs a ``timestamp`` column. Each test user's item is also ranked against
  ``n_negatives`` sampled target listings (seeded; fewer when the catalogue is small), as FOREC's protocol does;
* ``"random"``: a seeded ``test_fraction`` (0.4: paper 000's 6:4) of the target rows is the test set.

``meta`` keeps the raw ids: ``user_ids[u]`` is user node ``u``'s id in the file, ``item_ids[s]`` supplier ``s``'s
item id, ``product_item[p]`` the supplier (item) of listing ``p``; and ``source``, ``target``, ``by``, ``split``,
the counts and the shared items.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from xrec_lib.data.amazon import sample_negatives
from xrec_lib.data.crossdomain import SOURCE, TARGET, CrossDomainDataset, Interactions
from xrec_lib.data.generic import DOMAIN_CODES, InteractionTable
from xrec_lib.errors import ConfigError, DataError

SPLITS = ("file", "leave-last-out", "random")
BY = ("market", "domain")
N_SAMPLED_NEGATIVES = 99


def choose_by(table: InteractionTable, source: str, target: str, by: str | None = None) -> str:
    """``"market"`` or ``"domain"``: the column whose values ``source`` and ``target`` are (module docstring)."""
    if by is not None and by not in BY:
        raise ConfigError(f"by={by!r}: choose one of {BY} (or None to pick it from the table)")
    if str(source) == str(target):
        raise ConfigError(f"source and target are both {source!r}; choose two sides")
    columns = table.train.columns
    if by is None:
        if "market" in columns and {str(source), str(target)} <= set(table.train["market"].unique()):
            return "market"
        if "domain" in columns:
            return "domain"
        if "market" in columns:
            return "market"
        raise DataError("the table has neither a 'market' nor a 'domain' column: add one to say which rows are "
                        "the source side and which the target side")
    if by not in columns:
        raise DataError(f"by={by!r} but the table has no {by!r} column (columns: {list(columns)})")
    return by


def side_of(frame: pd.DataFrame, by: str, source: str, target: str) -> np.ndarray:
    """SOURCE / TARGET of each row, -1 for rows of neither side."""
    if by == "market":
        values = frame["market"].to_numpy().astype(str)
        codes = (str(source), str(target))
    else:
        values = frame["domain"].to_numpy()
        codes = tuple(_domain_code(v) for v in (source, target))
    return np.select([values == codes[0], values == codes[1]], [SOURCE, TARGET], default=-1)


def _domain_code(value) -> int:
    code = DOMAIN_CODES.get(str(value).strip().lower())
    if code is None:
        raise ConfigError(f"with by='domain', source and target are one of {sorted(DOMAIN_CODES)}; got {value!r}")
    return code


def _check_sides(table: InteractionTable, by: str, source: str, target: str, side: np.ndarray) -> None:
    for code, label in ((SOURCE, source), (TARGET, target)):
        if not (side == code).any():
            known = sorted(map(str, table.train[by].unique()))
            raise DataError(f"no training row has {by} {label!r} (values present: {known})")


def leave_last_out(rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(train, test)`` of target rows: per user with >= 2 rows the last by timestamp (ties: later in the file)
    is the test row."""
    if "timestamp" not in rows:
        raise DataError("split='leave-last-out' needs a 'timestamp' column; use split='random' or a test file")
    ordered = rows.assign(_order=np.arange(len(rows))).sort_values(["user", "timestamp", "_order"], kind="stable")
    last = ordered.groupby("user").cumcount(ascending=False) == 0
    enough = ordered.groupby("user")["user"].transform("size") >= 2
    test = ordered[last & enough]
    train = ordered[~(last & enough)].sort_values("_order")
    return train.drop(columns="_order"), test.drop(columns="_order")


def random_split(rows: pd.DataFrame, test_fraction: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(train, test)``: a seeded ``test_fraction`` of the rows is the test set."""
    if not 0 < test_fraction < 1:
        raise ConfigError(f"test_fraction must lie in (0, 1), got {test_fraction}")
    is_test = np.zeros(len(rows), dtype=bool)
    is_test[np.random.default_rng(seed).permutation(len(rows))[: int(round(test_fraction * len(rows)))]] = True
    return rows[~is_test], rows[is_test]


def to_crossdomain(table: InteractionTable, source: str, target: str, by: str | None = None,
                   split: str = "leave-last-out", seed: int = 0, test_fraction: float = 0.4,
                   n_negatives: int = N_SAMPLED_NEGATIVES, name: str | None = None,
                   synthetic: bool = False) -> CrossDomainDataset:
    """The ``source`` -> ``target`` sides of ``table`` as paper 000's heterogeneous graph (module docstring)."""
    if split not in SPLITS:
        raise ConfigError(f"unknown split {split!r}; choose one of {SPLITS}")
    by = choose_by(table, source, target, by)
    train_side = side_of(table.train, by, source, target)
    _check_sides(table, by, source, target, train_side)
    rows = table.train.assign(side=train_side)
    rows = rows[rows["side"] >= 0]
    source_rows, target_rows = rows[rows["side"] == SOURCE], rows[rows["side"] == TARGET]
    if split == "file":
        if table.test is None:
            raise DataError("split='file' needs a test file (load_interactions(train_path, test_path))")
        test_side = side_of(table.test, by, source, target) if by in table.test else np.full(len(table.test), -1)
        target_train, target_test = target_rows, table.test[test_side == TARGET].assign(side=TARGET)
    elif split == "leave-last-out":
        target_train, target_test = leave_last_out(target_rows)
    else:
        target_train, target_test = random_split(target_rows, test_fraction, seed)
    if target_test.empty:
        raise DataError(f"split={split!r} leaves no target-side ({target!r}) test row")

    every = pd.concat([source_rows, target_train, target_test])
    user_raw = np.unique(every["user"].to_numpy())  # table ids of the users present
    items = {side: np.unique(every.loc[every["side"] == side, "item"].to_numpy()) for side in (SOURCE, TARGET)}
    suppliers = np.union1d(items[SOURCE], items[TARGET])  # table item ids
    n_src = len(items[SOURCE])
    n_products = n_src + len(items[TARGET])
    product_domain = np.r_[np.full(n_src, SOURCE), np.full(len(items[TARGET]), TARGET)].astype(np.int64)
    product_item = np.r_[items[SOURCE], items[TARGET]].astype(np.int64)

    def interactions(frame: pd.DataFrame) -> Interactions:
        users = np.searchsorted(user_raw, frame["user"].to_numpy()).astype(np.int64)
        side = frame["side"].to_numpy()
        local = np.where(side == SOURCE, np.searchsorted(items[SOURCE], frame["item"].to_numpy()),
                         np.searchsorted(items[TARGET], frame["item"].to_numpy()) + n_src).astype(np.int64)
        return Interactions(users, local, product_domain[local])

    train = interactions(pd.concat([source_rows, target_train]))
    test = interactions(target_test)
    supplier_of_product = np.searchsorted(suppliers, product_item).astype(np.int64)
    seller_supplier = np.unique(np.c_[product_domain, supplier_of_product], axis=0).T
    user_market = np.zeros(len(user_raw), dtype=np.int64)
    user_market[np.unique(np.r_[train.user[train.domain == TARGET], test.user])] = TARGET
    sampled_users = negatives = None
    if split == "leave-last-out" and n_negatives > 0:
        sampled_users, negatives = _sampled(train, test, n_src, len(items[TARGET]), n_negatives, seed)
    label = {SOURCE: str(source), TARGET: str(target)}
    return CrossDomainDataset(
        name=name or f"table/{source}->{target}", synthetic=synthetic, n_users=len(user_raw),
        n_products=n_products, n_suppliers=len(suppliers), n_sellers=2, product_domain=product_domain,
        user_market=user_market, product_market=product_domain.copy(), supplier_of_product=supplier_of_product,
        seller_product=np.vstack([product_domain, np.arange(n_products)]).astype(np.int64),
        seller_supplier=seller_supplier.astype(np.int64), train=train, test=test,
        sampled_users=sampled_users, sampled_negatives=negatives,
        meta={"source": str(source), "target": str(target), "by": by, "split": split, "seed": seed,
              "test_fraction": test_fraction if split == "random" else None,
              "n_source_products": n_src, "n_target_products": len(items[TARGET]),
              "n_shared_items": int(len(np.intersect1d(items[SOURCE], items[TARGET]))),
              "n_users_both_sides": int(len(np.intersect1d(source_rows["user"], target_rows["user"]))),
              "user_ids": table.user_ids[user_raw], "item_ids": table.item_ids[suppliers],
              "product_item": supplier_of_product,
              "product_ids": np.array([f"{label[d]}:{i}" for d, i in
                                       zip(product_domain, table.item_ids[product_item])], dtype=object)},
    )


def _sampled(train: Interactions, test: Interactions, n_src: int, n_target: int, n_negatives: int,
             seed: int) -> tuple[np.ndarray, np.ndarray] | tuple[None, None]:
    """Test users and their sampled target negatives (:func:`xrec_lib.data.amazon.sample_negatives`), with at most
    as many negatives as every test user has products left to draw from (None when that is zero)."""
    in_target = train.domain == TARGET
    seen_user, seen_local = train.user[in_target], train.product[in_target] - n_src
    counts = pd.Series(seen_local).groupby(seen_user).nunique().reindex(test.user).fillna(0).to_numpy()
    n = int(min(n_negatives, n_target - counts.max() - 1))
    if n < 1:
        return None, None
    negatives = sample_negatives(test.user, seen_user, seen_local, test.product - n_src, n_target, n, seed)
    return test.user, negatives + n_src
