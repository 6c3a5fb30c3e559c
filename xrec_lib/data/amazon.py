"""Amazon cross-domain pairs of DisenCDR (Cao et al., SIGIR 2022), dataset ``amazon-cdr-disencdr``.

Files (``<data root>/amazon-cdr-disencdr/<X_Y>/{train,test}.txt``): directory ``X_Y`` holds the interactions of
domain X for the X-Y pair and ``Y_X`` those of domain Y; both share the same user ids. Each line is
``user_id<TAB>item_id<TAB>1`` (implicit feedback, non-negative integer ids, item ids per domain and not
contiguous). ``test.txt`` holds one held-out (leave-one-out) item per user.

Protocol (DisenCDR ``utils/loader.py``): items are those of the training file; test rows whose user or item
does not occur in training are dropped; each test user's held-out item is ranked against 999 sampled items the
user never interacted with, scored by HR@10 / NDCG@10 on the target domain. Upstream draws the negatives afresh
per run, unseeded and with replacement; here they are drawn once, seeded, without replacement, and exclude the
held-out item as well as the user's training items of the target domain.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from xrec_lib.data.crossdomain import SOURCE, TARGET, CrossDomainDataset, Interactions
from xrec_lib.data.manifest import dataset_checksums, dataset_path, load_manifest
from xrec_lib.data.parsing import read_id_rows
from xrec_lib.errors import ConfigError, DataError

DATASET = "amazon-cdr-disencdr"
N_SAMPLED_NEGATIVES = 999

#: The four scenarios of DisenCDR and its successors, as (source directory, target directory):
#: the denser domain is the source, the sparser the target.
STANDARD_PAIRS: dict[str, tuple[str, str]] = {
    "elec->phone": ("electronic_phone", "phone_electronic"),
    "sport->cloth": ("sport_cloth", "cloth_sport"),
    "sport->phone": ("sport_phone", "phone_sport"),
    "elec->cloth": ("electronic_cloth", "cloth_electronic"),
}


def amazon_pair(name: str) -> tuple[str, str]:
    """``(source directory, target directory)`` of a standard pair named as in :data:`STANDARD_PAIRS`
    (``"elec->phone"``)."""
    if name not in STANDARD_PAIRS:
        raise ConfigError(f"unknown Amazon pair {name!r}; choose one of {sorted(STANDARD_PAIRS)}")
    return STANDARD_PAIRS[name]


def amazon_label(name: str) -> str:
    """``"elec->phone"`` -> ``"Elec->Phone"`` (titles)."""
    return "->".join(part.capitalize() for part in name.split("->"))


def amazon_directories() -> list[str]:
    """The eight domain directories (``X_Y``) listed in the manifest."""
    return sorted({path.split("/")[0] for path in load_manifest()[DATASET]})


def read_interaction_file(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """``(user, item)`` int64 arrays of a ``user<TAB>item<TAB>1`` file (:class:`DataError` on bad rows)."""
    rows = read_id_rows(path, ("user id", "item id", "rating"))
    return rows[:, 0], rows[:, 1]


def load_amazon_pair(source: str = "electronic_phone", target: str = "phone_electronic",
                     data_dir: Path | str | None = None, seed: int = 0,
                     n_negatives: int = N_SAMPLED_NEGATIVES) -> CrossDomainDataset:
    """One source -> target pair as a :class:`CrossDomainDataset` (no suppliers or sellers).

    Products are numbered source-domain items first (``product_domain == SOURCE``), then target-domain items,
    each in increasing raw-id order; users keep their shared raw ids (which are contiguous from 0).
    ``train`` = source training rows + target training rows; ``test`` = the target ``test.txt`` rows whose user
    and item occur in training. ``sampled_users[k]`` is the k-th test user and ``sampled_negatives[k]`` its
    ``n_negatives`` distinct target products, drawn with ``numpy.random.default_rng(seed)``, none in the user's
    target training or test items. There is one market, so ``user_market`` and ``product_market`` are 0.
    ``meta`` holds the sha256 of the three files read (the source domain's ``test.txt`` is not used).
    """
    _check_pair(source, target)
    files = [f"{source}/train.txt", f"{target}/train.txt", f"{target}/test.txt"]
    src_user, src_item = read_interaction_file(dataset_path(DATASET, files[0], data_dir))
    tgt_user, tgt_item = read_interaction_file(dataset_path(DATASET, files[1], data_dir))
    test_user, test_item = read_interaction_file(dataset_path(DATASET, files[2], data_dir))
    n_users = int(max(src_user.max(), tgt_user.max())) + 1
    src_items, src_product = np.unique(src_item, return_inverse=True)
    tgt_items, tgt_local = np.unique(tgt_item, return_inverse=True)
    n_src, n_tgt = len(src_items), len(tgt_items)
    kept_user, kept_local = _keep_seen(test_user, test_item, tgt_user, tgt_items)
    tgt_product, test_product = tgt_local + n_src, kept_local + n_src
    product_domain = np.concatenate([np.full(n_src, SOURCE), np.full(n_tgt, TARGET)]).astype(np.int64)
    train = Interactions(np.concatenate([src_user, tgt_user]), np.concatenate([src_product, tgt_product]),
                         product_domain[np.concatenate([src_product, tgt_product])])
    test = Interactions(kept_user, test_product, product_domain[test_product])
    negatives = sample_negatives(kept_user, tgt_user, tgt_local, kept_local, n_tgt, n_negatives, seed) + n_src
    return CrossDomainDataset(
        name=f"amazon/{source}->{target}", synthetic=False, n_users=n_users, n_products=n_src + n_tgt,
        n_suppliers=0, n_sellers=0, product_domain=product_domain,
        user_market=np.zeros(n_users, dtype=np.int64), product_market=np.zeros(n_src + n_tgt, dtype=np.int64),
        supplier_of_product=np.full(n_src + n_tgt, -1, dtype=np.int64),
        seller_product=np.zeros((2, 0), dtype=np.int64), seller_supplier=np.zeros((2, 0), dtype=np.int64),
        train=train, test=test, sampled_users=kept_user, sampled_negatives=negatives,
        meta={"dataset": DATASET, "source": source, "target": target, "seed": seed,
              "n_source_products": n_src, "n_target_products": n_tgt,
              "test_rows_dropped_unseen": int(len(test_user) - len(kept_user)),
              "sha256": dataset_checksums(DATASET, files)},
    )


def _check_pair(source: str, target: str) -> None:
    directories = amazon_directories()
    for role, name in (("source", source), ("target", target)):
        if name not in directories:
            raise ConfigError(f"unknown Amazon {role} directory {name!r}; choose one of {directories}")
    if target.split("_") != source.split("_")[::-1]:
        raise ConfigError(f"target {target!r} is not the other side of source {source!r}: for X_Y use Y_X "
                          f"(standard pairs: {STANDARD_PAIRS})")


def _keep_seen(test_user: np.ndarray, test_item: np.ndarray, train_user: np.ndarray,
               train_items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Test rows whose user and item occur in training, with items mapped to their training index."""
    seen = np.isin(test_item, train_items) & np.isin(test_user, train_user)
    if not seen.any():
        raise DataError("no target test row has a user and item seen in training")
    return test_user[seen], np.searchsorted(train_items, test_item[seen])


def sample_negatives(test_user: np.ndarray, train_user: np.ndarray, train_item: np.ndarray,
                     test_item: np.ndarray, n_items: int, n_negatives: int, seed: int) -> np.ndarray:
    """``(len(test_user), n_negatives)`` distinct item indices in ``[0, n_items)`` per test row, seeded.

    Row k avoids every training item of ``test_user[k]`` and its held-out ``test_item[k]``. Sampling is
    uniform without replacement over the allowed items: draw ranks in ``[0, n_allowed)`` and shift each rank
    past the excluded items below it.
    """
    rng = np.random.default_rng(seed)
    order = np.argsort(train_user, kind="stable")
    bounds = np.searchsorted(train_user[order], [test_user, test_user + 1])
    negatives = np.empty((len(test_user), n_negatives), dtype=np.int64)
    for row, (start, stop) in enumerate(zip(*bounds)):
        excluded = np.unique(np.append(train_item[order[start:stop]], test_item[row]))
        n_allowed = n_items - len(excluded)
        if n_allowed < n_negatives:
            raise DataError(f"user {test_user[row]} has only {n_allowed} items left to sample "
                            f"{n_negatives} negatives from")
        ranks = rng.choice(n_allowed, size=n_negatives, replace=False)
        negatives[row] = ranks + np.searchsorted(excluded - np.arange(len(excluded)), ranks, side="right")
    return negatives
