"""XMarket cross-market Amazon Electronics (FOREC release), dataset ``xmarket-forec-electronics``.

Files (``<data root>/xmarket-forec-electronics/<market>_5core.txt``): space separated, header
``userId itemId rate date``; ``userId`` a raw Amazon reviewer id (string), ``itemId`` a raw ASIN (string), ``rate``
1-5, ``date`` ``YYYY-MM-DD``. The same ASIN is sold in several markets; users are not shared across markets.

This is paper 000's cross-border setting (a dense source market, a sparse target market, a product catalogue
bridging them), and :func:`load_xmarket` maps it onto paper 000's heterogeneous graph (:class:`CrossDomainDataset`):

* **users**: the reviewers of both markets, one node per (market, reviewer id);
* **products**: market listings, one node per (market, ASIN); the source market's listings are the source domain
  (paper 000's B2B side), the target market's the target domain (B2C);
* **suppliers**: the ASINs, the upstream entity a listing belongs to (``supplier_of_product``); an ASIN sold in
  both markets links a source listing to a target listing, as a supplier links products of both sides in the paper;
* **sellers**: the two markets; a market "sells" its listings and "sources from" the ASINs it lists.

Protocol (FOREC's ``src/data.py``): each target user's rows are sorted by date (ties in file order); the last is the
test item, the second-last the validation item (``meta["valid"]``, kept out of training), the rest train. Each test
user's item is ranked against ``n_negatives`` (99) target listings the user never interacted with, drawn once,
seeded, without replacement (HR@10 / NDCG@10); full ranking over the target catalogue uses the same split. The
source market's rows are all training rows.

Market names are file names: any ``<market>_5core.txt`` of this format under the folder loads. The five markets of
the manifest (ca, de, fr, jp, uk) are checked against its sha256; another market's hash is computed and recorded in
``meta`` (no published value to check it against).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from xrec_lib.data.amazon import sample_negatives
from xrec_lib.data.crossdomain import SOURCE, TARGET, CrossDomainDataset, Interactions
from xrec_lib.data.manifest import data_root, dataset_path, load_manifest
from xrec_lib.errors import ConfigError, DataError, MissingDataError

DATASET = "xmarket-forec-electronics"
HEADER = ("userId", "itemId", "rate", "date")
N_SAMPLED_NEGATIVES = 99
#: Dense -> sparse pairs used by the notebooks (source, target).
STANDARD_PAIRS = (("uk", "de"), ("ca", "fr"), ("uk", "jp"))


def market_file(market: str, data_dir: Path | str | None = None) -> tuple[Path, str]:
    """``(path, sha256)`` of ``<market>_5core.txt``: checked against the manifest for a listed market, computed
    for any other market file present."""
    name = f"{market}_5core.txt"
    if name in load_manifest()[DATASET]:
        path = dataset_path(DATASET, name, data_dir)
        return path, load_manifest()[DATASET][name].sha256
    path = data_root(data_dir) / DATASET / name
    if not path.is_file():
        known = sorted(p.name.split("_")[0] for p in path.parent.glob("*_5core.txt")) if path.parent.is_dir() else []
        raise MissingDataError(f"{path} not found: no market {market!r} (markets present: {known}; make data)")
    return path, hashlib.sha256(path.read_bytes()).hexdigest()


def read_market(path: Path | str) -> pd.DataFrame:
    """The rows of one market file: columns ``user``, ``item`` (strings), ``rating`` (float), ``date``
    (datetime64), in file order. :class:`DataError` names the file and line of the first bad row (missing column,
    empty id, rating outside 1-5, unparseable date); repeated (user, item) rows keep the first."""
    path = Path(path)
    frame = pd.read_csv(path, sep=" ", dtype=str, keep_default_na=False)
    if tuple(frame.columns) != HEADER:
        raise DataError(f"{path}: header {list(frame.columns)} is not {' '.join(HEADER)}")
    for column in ("userId", "itemId"):
        empty = frame[column].str.strip() == ""
        if empty.any():
            raise DataError(f"{path}, line {int(empty.to_numpy().argmax()) + 2}: empty {column}")
    rating = pd.to_numeric(frame["rate"], errors="coerce")
    bad = rating.isna() | (rating < 1) | (rating > 5)
    if bad.any():
        line = int(bad.to_numpy().argmax())
        raise DataError(f"{path}, line {line + 2}: rating {frame['rate'].iloc[line]!r} is not a number in 1-5")
    date = pd.to_datetime(frame["date"], format="%Y-%m-%d", errors="coerce")
    if date.isna().any():
        line = int(date.isna().to_numpy().argmax())
        raise DataError(f"{path}, line {line + 2}: date {frame['date'].iloc[line]!r} is not YYYY-MM-DD")
    rows = pd.DataFrame({"user": frame["userId"], "item": frame["itemId"], "rating": rating, "date": date})
    return rows.drop_duplicates(["user", "item"], keep="first").reset_index(drop=True)


def leave_last_two_out(rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``(train, valid, test)``: per user, the last row by date is test and the second-last valid (ties in file
    order); users with fewer than 3 rows keep everything in training."""
    ordered = rows.assign(_order=np.arange(len(rows))).sort_values(["user", "date", "_order"], kind="stable")
    from_end = ordered.groupby("user").cumcount(ascending=False)
    enough = ordered.groupby("user")["user"].transform("size") >= 3
    test, valid = ordered[enough & (from_end == 0)], ordered[enough & (from_end == 1)]
    train = ordered[~(enough & (from_end <= 1))]
    return tuple(part.drop(columns="_order").reset_index(drop=True) for part in (train, valid, test))


def load_xmarket(source: str, target: str, data_dir: Path | str | None = None, seed: int = 0,
                 n_negatives: int = N_SAMPLED_NEGATIVES) -> CrossDomainDataset:
    """The ``source`` -> ``target`` market pair as paper 000's heterogeneous graph (module docstring).

    Numbering: source listings first (``product_domain == SOURCE``), then target listings, each in sorted ASIN
    order; users source-market reviewers first, then target-market reviewers, each in sorted id order; suppliers
    (ASINs) in sorted order; sellers 0 = source market, 1 = target market. ``meta`` holds the raw ids
    (``user_ids``, ``product_ids`` as ``market:id``), the validation interactions (``valid``), the files' sha256
    and the counts.
    """
    if source == target:
        raise ConfigError(f"source and target market are both {source!r}; choose two markets")
    (src_path, src_sha), (tgt_path, tgt_sha) = market_file(source, data_dir), market_file(target, data_dir)
    src_rows, tgt_rows = read_market(src_path), read_market(tgt_path)
    tgt_train, tgt_valid, tgt_test = leave_last_two_out(tgt_rows)
    src_users, tgt_users = np.unique(src_rows["user"]), np.unique(tgt_rows["user"])
    src_items, tgt_items = np.unique(src_rows["item"]), np.unique(tgt_rows["item"])
    asins = np.union1d(src_items, tgt_items)
    n_src_users, n_src = len(src_users), len(src_items)
    n_users, n_products = n_src_users + len(tgt_users), n_src + len(tgt_items)

    def source_pairs(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        return np.searchsorted(src_users, frame["user"]), np.searchsorted(src_items, frame["item"])

    def target_pairs(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        return (np.searchsorted(tgt_users, frame["user"]) + n_src_users,
                np.searchsorted(tgt_items, frame["item"]) + n_src)

    product_domain = np.r_[np.full(n_src, SOURCE), np.full(len(tgt_items), TARGET)].astype(np.int64)

    def interactions(*parts: tuple[np.ndarray, np.ndarray]) -> Interactions:
        users = np.concatenate([p[0] for p in parts]).astype(np.int64)
        products = np.concatenate([p[1] for p in parts]).astype(np.int64)
        return Interactions(users, products, product_domain[products])

    train = interactions(source_pairs(src_rows), target_pairs(tgt_train))
    valid, test = interactions(target_pairs(tgt_valid)), interactions(target_pairs(tgt_test))
    listing_asin = np.searchsorted(asins, np.r_[src_items, tgt_items]).astype(np.int64)
    market_of_product = product_domain.copy()
    seller_supplier = np.unique(np.c_[market_of_product, listing_asin], axis=0).T
    seen = np.r_[train.product[train.domain == TARGET], valid.product]
    seen_user = np.r_[train.user[train.domain == TARGET], valid.user]
    negatives = sample_negatives(test.user, seen_user, seen - n_src, test.product - n_src, len(tgt_items),
                                 n_negatives, seed) + n_src
    return CrossDomainDataset(
        name=f"xmarket/{source}->{target}", synthetic=False, n_users=n_users, n_products=n_products,
        n_suppliers=len(asins), n_sellers=2, product_domain=product_domain,
        user_market=np.r_[np.zeros(n_src_users), np.ones(len(tgt_users))].astype(np.int64),
        product_market=market_of_product, supplier_of_product=listing_asin,
        seller_product=np.vstack([market_of_product, np.arange(n_products)]).astype(np.int64),
        seller_supplier=seller_supplier.astype(np.int64), train=train, test=test,
        sampled_users=test.user, sampled_negatives=negatives,
        meta={"dataset": DATASET, "source": source, "target": target, "seed": seed,
              "n_source_products": n_src, "n_target_products": len(tgt_items), "n_shared_asins":
              int(len(np.intersect1d(src_items, tgt_items))), "valid": valid,
              "user_ids": np.r_[[f"{source}:{u}" for u in src_users], [f"{target}:{u}" for u in tgt_users]],
              "product_ids": np.r_[[f"{source}:{i}" for i in src_items], [f"{target}:{i}" for i in tgt_items]],
              "sha256": {src_path.name: src_sha, tgt_path.name: tgt_sha}},
    )
