"""XMarket loader: string ids, markets outside the manifest, leave-last-two-out by date, bad input, real pairs."""

import hashlib
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from xrec_lib.data.crossdomain import SOURCE, TARGET
from xrec_lib.data.xmarket import DATASET, leave_last_two_out, load_xmarket, read_market
from xrec_lib.errors import ConfigError, DataError, MissingDataError

HEADER = "userId itemId rate date\n"


def market(root: Path, name: str, rows: list[str]) -> Path:
    folder = root / DATASET
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}_5core.txt"
    path.write_text(HEADER + "".join(row + "\n" for row in rows))
    return path


@pytest.fixture
def root(tmp_path):
    # source market "aa": two reviewers; target market "zz": reviewer Z1 with 4 dated rows, Z2 with 3
    market(tmp_path, "aa", ["A1 B001 5.0 2015-01-01", "A1 B002 4.0 2015-02-01", "A2 B002 3.0 2016-01-01",
                            "A2 B003 5.0 2016-03-01"])
    market(tmp_path, "zz", ["Z1 B002 5.0 2017-01-04", "Z1 B009 4.0 2017-01-01", "Z1 B001 5.0 2017-01-03",
                            "Z1 B003 1.0 2017-01-02", "Z2 B009 5.0 2018-05-01", "Z2 B002 2.0 2018-04-01",
                            "Z2 B001 3.0 2018-06-01", "Z2 B001 3.0 2018-06-01", "Z3 B010 4.0 2019-01-01"])
    return tmp_path


def test_string_ids_markets_outside_the_manifest_and_the_graph(root):
    data = load_xmarket("aa", "zz", root, n_negatives=1)
    ids = list(data.meta["user_ids"])
    assert ids == ["aa:A1", "aa:A2", "zz:Z1", "zz:Z2", "zz:Z3"]
    assert data.n_products == 3 + 5 and data.n_suppliers == 5 and data.n_sellers == 2
    assert (data.product_domain == [SOURCE] * 3 + [TARGET] * 5).all()
    # an ASIN sold in both markets is one supplier of two listings
    products = list(data.meta["product_ids"])
    assert data.supplier_of_product[products.index("aa:B002")] == data.supplier_of_product[products.index("zz:B002")]
    assert data.meta["sha256"]["zz_5core.txt"] == hashlib.sha256(
        (root / DATASET / "zz_5core.txt").read_bytes()).hexdigest()
    # Z1's last row by date is B002 (test), second-last B001 (valid); Z2's duplicate row collapses
    test = {ids[u]: products[p] for u, p in zip(data.test.user, data.test.product)}
    valid = data.meta["valid"]
    assert test == {"zz:Z1": "zz:B002", "zz:Z2": "zz:B001"}
    assert {ids[u]: products[p] for u, p in zip(valid.user, valid.product)} == {"zz:Z1": "zz:B001",
                                                                              "zz:Z2": "zz:B009"}
    assert len(data.train) == 4 + 2 + 1 + 1  # Z3 has one row: it stays in training
    negative = products[data.sampled_negatives[list(data.sampled_users).index(ids.index("zz:Z1")), 0]]
    assert negative == "zz:B010"  # the only target listing Z1 never touched


def test_leave_last_two_out_keeps_short_histories_in_training():
    frame = pd.DataFrame({"user": ["u", "u", "v"], "item": ["a", "b", "a"], "rating": [5.0] * 3,
                          "date": pd.to_datetime(["2020-01-02", "2020-01-01", "2020-01-01"])})
    train, valid, test = leave_last_two_out(frame)
    assert len(train) == 3 and valid.empty and test.empty


@pytest.mark.parametrize("rows, message", [
    (["X1 B001 5.0 2017-13-01"], "line 2: date '2017-13-01'"),
    (["X1 B001 9.0 2017-01-01"], "line 2: rating"),
])
def test_bad_rows_name_file_and_line(tmp_path, rows, message):
    path = market(tmp_path, "bad", rows)
    with pytest.raises(DataError, match=message):
        read_market(path)


def test_missing_column_unknown_market_and_same_market(tmp_path, root):
    folder = tmp_path / DATASET
    folder.mkdir(exist_ok=True)
    (folder / "nocol_5core.txt").write_text("userId itemId date\nX B1 2017-01-01\n")
    with pytest.raises(DataError, match="header"):
        read_market(folder / "nocol_5core.txt")
    with pytest.raises(MissingDataError, match="no market 'qq'"):
        load_xmarket("aa", "qq", root)
    with pytest.raises(ConfigError, match="both 'aa'"):
        load_xmarket("aa", "aa", root)


@pytest.mark.skipif(not os.environ.get("XREC_DATA_DIR") or
                    not (Path(os.environ.get("XREC_DATA_DIR", "")) / DATASET).is_dir(), reason="no data root")
def test_real_pairs_match_the_published_counts():
    data = load_xmarket("uk", "de")
    assert data.n_users == 3352 + 1851 and data.meta["n_shared_asins"] == 1605
    assert len(data.test) == len(data.meta["valid"]) == 1851
    assert data.sampled_negatives.shape == (1851, 99)
    assert not np.isin(data.sampled_negatives, data.test.product[:, None]).all(axis=1).any()
