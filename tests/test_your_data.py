"""Bringing one's own data: the generic loader, table -> paper 000's graph, and the recommender in the file's ids."""

from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from xrec_lib.config import PROFILE_DIR, load_config
from xrec_lib.data.crossdomain import SOURCE, TARGET
from xrec_lib.data.generic import load_interactions
from xrec_lib.data.tables import to_crossdomain
from xrec_lib.errors import ConfigError, DataError
from xrec_lib.models.interaction import HEADS
from xrec_lib.recommender import OwnDataRecommender
from xrec_lib.studies import your_data as yd

MARKETS = """user,item,timestamp,market
AEHPZWFYUBOYLUGIPZ63FPSB6ZBA,B00DQGBYDC,2016-07-03,ca
AEHPZWFYUBOYLUGIPZ63FPSB6ZBA,B00IMB47TY,2016-07-05,ca
u42,B00DQGBYDC,2017-01-01,ca
u42,B00ZZZ0001,2017-02-01,ca
u42,B00DQGBYDC,2018-01-12,de
u42,B00IMB47TY,2018-01-10,de
007,B00IMB47TY,2018-03-01,de
007,B00DQGBYDC,2018-02-01,de
7,B00IMB47TY,2018-03-01,de
x9,B00QQQ0001,2018-03-01,fr
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def test_string_ids_round_trip(tmp_path):
    table = load_interactions(write(tmp_path, "m.csv", MARKETS))
    raw = list(zip(table.user_ids[table.train["user"]], table.item_ids[table.train["item"]]))
    assert raw[0] == ("AEHPZWFYUBOYLUGIPZ63FPSB6ZBA", "B00DQGBYDC")
    assert ("007", "B00IMB47TY") in raw and ("7", "B00IMB47TY") in raw  # "007" and "7" stay two users
    assert len(set(table.user_ids)) == table.n_users == 5


@pytest.mark.parametrize("text, where, what", [
    ("user,item\nu1,B1\n,B2\n", "line 3", "user id ''"),
    ("user,item\nu1,B1\nu2,NaN\n", "line 3", "item id 'NaN'"),
    ("user,item,timestamp\nu1,B1,2016-07-03\nu2,B2,yesterday\n", "line 3", "timestamp 'yesterday'"),
    ("user,item,timestamp\nu1,B1,5\nu2,B2,nan\n", "line 3", "timestamp 'nan'"),
    ("user,item,colour\nu1,B1,red\n", "line 1", "unknown ['colour']"),
])
def test_bad_input_is_one_error_with_file_and_line(tmp_path, text, where, what):
    path = write(tmp_path, "bad.csv", text)
    with pytest.raises(DataError) as error:
        load_interactions(path)
    assert str(path) in str(error.value) and where in str(error.value) and what in str(error.value)


def test_market_selection_builds_the_bridged_graph(tmp_path):
    table = load_interactions(write(tmp_path, "m.csv", MARKETS))
    data = to_crossdomain(table, "ca", "de", split="leave-last-out")
    meta = data.meta
    assert meta["by"] == "market" and data.n_sellers == 2
    assert set(meta["user_ids"]) == {"AEHPZWFYUBOYLUGIPZ63FPSB6ZBA", "u42", "007", "7"}  # fr's x9 left out
    assert meta["n_source_products"] == 3 and meta["n_target_products"] == 2 and meta["n_shared_items"] == 2
    assert data.n_suppliers == 3  # one per item id: the shared ones bridge a ca and a de listing
    shared = meta["item_ids"][data.supplier_of_product]
    assert sorted(shared[data.product_domain == TARGET]) == ["B00DQGBYDC", "B00IMB47TY"]
    assert (data.test.domain == TARGET).all()
    with pytest.raises(DataError, match="values present"):
        to_crossdomain(table, "ca", "uk")


def test_domain_selection(tmp_path):
    text = "user,item,domain\nu1,b1,source\nu1,b2,source\nu2,b1,source\nu1,m1,target\nu2,m1,target\nu2,m2,target\n"
    table = load_interactions(write(tmp_path, "d.tsv", text.replace(",", "\t")))
    data = to_crossdomain(table, "source", "target", split="random", seed=1, test_fraction=0.4)
    assert data.meta["by"] == "domain" and data.meta["n_users_both_sides"] == 2
    assert (data.train.domain == SOURCE).sum() == 3 and len(data.test) == 1 and len(data.train) == 5
    with pytest.raises(ConfigError, match="source and target"):
        to_crossdomain(table, "source", "source")


def test_leave_last_out_by_timestamp(tmp_path):
    table = load_interactions(write(tmp_path, "m.csv", MARKETS))
    data = to_crossdomain(table, "ca", "de", split="leave-last-out")
    users, items = data.meta["user_ids"], data.meta["item_ids"][data.meta["product_item"]]
    test = {users[u]: items[p] for u, p in zip(data.test.user, data.test.product)}
    assert test == {"u42": "B00DQGBYDC", "007": "B00IMB47TY"}  # last by date, not by file order; "7" has one row
    no_time = load_interactions(write(tmp_path, "n.csv", "user,item,market\nu1,b1,ca\nu1,b2,de\nu1,b3,de\n"))
    with pytest.raises(DataError, match="timestamp"):
        to_crossdomain(no_time, "ca", "de", split="leave-last-out")


def test_test_file_split(tmp_path):
    train = write(tmp_path, "train.csv", MARKETS)
    test = write(tmp_path, "test.csv", "user,item,timestamp,market\nu42,B00IMB47TY,2019-01-01,de\n"
                                       "u42,B00ZZZ0001,2019-01-01,ca\n")
    data = to_crossdomain(load_interactions(train, test), "ca", "de", split="file")
    assert len(data.test) == 1 and data.meta["user_ids"][data.test.user[0]] == "u42"
    with pytest.raises(DataError, match="test file"):
        to_crossdomain(load_interactions(train), "ca", "de", split="file")


def test_recommender_save_load_and_cold_start(tmp_path):
    table = load_interactions(yd.write_example_file(tmp_path / "ex.csv", n_users=60, n_items=50))
    data = to_crossdomain(table, "ca", "de", split="leave-last-out")
    torch.manual_seed(0)
    user_emb, item_emb = torch.randn(data.n_users, 8), torch.randn(data.n_products, 8)
    head = HEADS.build("BLA", 8, 16)
    recommender = OwnDataRecommender.from_training(data, user_emb, item_emb, head, n_candidates=10)
    loaded = OwnDataRecommender.load(recommender.save(tmp_path / "rec"))
    user = data.meta["user_ids"][data.train.user[data.train.domain == TARGET][0]]
    before, after = recommender.recommend(user, 5), loaded.recommend(user, 5)
    assert not after.cold_start and list(after.items) == list(before.items)
    assert np.allclose(after.scores, before.scores)
    target_items = set(data.meta["item_ids"][data.meta["product_item"][data.product_domain == TARGET]])
    assert set(after.items) <= target_items and all(str(i).startswith("B0") for i in after.items)
    index = list(data.meta["user_ids"]).index(user)
    rows = (data.train.user == index) & (data.train.domain == TARGET)
    seen = set(data.meta["item_ids"][data.meta["product_item"][data.train.product[rows]]])
    assert not seen & set(after.items)  # training items are never recommended
    cold = loaded.recommend("somebody-new", 3)
    assert cold.cold_start and len(cold.items) == 3 and list(cold.scores) == sorted(cold.scores, reverse=True)
    assert list(cold.frame().columns) == ["rank", "item", "score", "cold_start"]


def test_profile_lists_the_same_keys_and_reads_as_settings():
    table = yaml.safe_load((PROFILE_DIR / "06_your_data.yaml").read_text())
    assert set(table["smoke"]) == set(table["paper"])
    cfg = load_config("06_your_data", "smoke", data_dir="/nonexistent", reports_dir="/tmp/unused")
    assert yd.data_settings(cfg).source == "ca" and yd.interaction_settings(cfg).head_epochs == 2
    with pytest.raises(ConfigError, match="Siamese GCN"):
        yd.data_settings({**cfg.params, "models": ["GCN"]})
