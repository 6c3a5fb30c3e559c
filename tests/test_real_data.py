"""Real-data loaders on the data root, the checksum manifest, and bad-input cases on files written here."""

from __future__ import annotations

import os
import pickle
import shutil
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from xrec_lib.data import manifest as manifest_module
from xrec_lib.data import amazon as amazon_data
from xrec_lib.data.amazon import STANDARD_PAIRS, load_amazon_pair, read_interaction_file, sample_negatives
from xrec_lib.data.bytedance import COLUMNS, load_bytedance_sample, read_byterec
from xrec_lib.data.crossdomain import SOURCE, TARGET, CrossDomainDataset
from xrec_lib.data.generic import load_interactions
from xrec_lib.data.gowalla import load_gowalla
from xrec_lib.data.manifest import (DATA_DIR_ENV, cached_sha256, data_root, dataset_path, load_manifest,
                                    sha256_of)
from xrec_lib.data.microlens import load_microlens_50k, read_titles
from xrec_lib.data.movielens import INTER_HEADER, load_movielens_100k, read_atomic, read_inter
from xrec_lib.data.mosi import load_mmsa_features, load_mosi_labels, read_labels
from xrec_lib.data.parsing import read_id_lists
from xrec_lib.errors import ChecksumError, ConfigError, DataError, MissingDataError

DATA_ROOT = Path(os.environ.get(DATA_DIR_ENV, "/work/shared/data"))
needs_data = pytest.mark.skipif(not DATA_ROOT.is_dir(),
                                reason=f"real data root {DATA_ROOT} not found: set {DATA_DIR_ENV} or run `make data`")


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- manifest and data root
@needs_data
def test_manifest_matches_every_downloadable_file_on_disk():
    checked = 0
    for files in load_manifest().values():
        for entry in files.values():
            if entry.url is None:
                continue
            location = entry.location(DATA_ROOT)
            assert location.stat().st_size == entry.size, location
            assert sha256_of(location) == entry.sha256, location
            checked += 1
    assert checked == 31


def test_manifest_urls_are_pinned_raw_github_files_or_explain_why_not():
    for files in load_manifest().values():
        for entry in files.values():
            assert len(entry.sha256) == 64
            if entry.url is None:
                assert "no public direct URL" in entry.note
            else:
                owner, repo, commit = entry.url.removeprefix("https://raw.githubusercontent.com/").split("/")[:3]
                assert len(commit) == 40 and all(c in "0123456789abcdef" for c in commit), entry.url


def test_gowalla_manifest_sizes_match_provenance():
    files = load_manifest()["gowalla-lightgcn"]
    assert [files[name].size for name in ("train.txt", "valid.txt", "test.txt")] == [4_132_444, 669_008, 1_372_559]


def test_data_root_needs_argument_or_environment(monkeypatch):
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    with pytest.raises(MissingDataError, match=r"XREC_DATA_DIR.*make data"):
        data_root()
    monkeypatch.setenv(DATA_DIR_ENV, "/nonexistent/xrec-data")
    with pytest.raises(MissingDataError, match="is not a folder"):
        load_gowalla()


def test_missing_dataset_file_says_make_data(tmp_path):
    with pytest.raises(MissingDataError, match=r"byterec_sample.txt is missing: run `make data`"):
        load_bytedance_sample(tmp_path)


def test_unknown_manifest_file_is_a_config_error():
    with pytest.raises(ConfigError, match="no file 'nope.txt'"):
        dataset_path("gowalla-lightgcn", "nope.txt", "/tmp")


@needs_data
def test_modified_file_raises_checksum_error_with_both_hashes(tmp_path):
    entry = load_manifest()["bytedance-icme2019-sample"]["byterec_sample.txt"]
    copy = entry.location(tmp_path)
    copy.parent.mkdir(parents=True)
    content = entry.location(DATA_ROOT).read_bytes()
    copy.write_bytes(content.replace(b"\t1\t", b"\t0\t", 1))
    with pytest.raises(ChecksumError) as raised:
        load_bytedance_sample(tmp_path)
    message = str(raised.value)
    assert str(copy) in message and entry.sha256 in message and sha256_of(copy) in message
    assert "differs from the published file" in message


def test_hash_is_cached_per_path_size_and_mtime(tmp_path, monkeypatch):
    calls = []
    real_sha256 = manifest_module.sha256_of
    monkeypatch.setattr(manifest_module, "sha256_of", lambda path: calls.append(path) or real_sha256(path))
    target = write(tmp_path / "f.txt", "abc")
    first = cached_sha256(target)
    assert cached_sha256(target) == first and len(calls) == 1
    write(target, "abcd")
    assert cached_sha256(target) != first and len(calls) == 2


# ------------------------------------------------------------------------- Amazon pairs
# (users, source products, target products, source train rows, target train rows, target test rows), PROVENANCE.md
AMAZON_COUNTS = {
    "elec->phone": (3_325, 38_706, 17_709, 115_554, 50_407, 2_559),
    "sport->cloth": (9_928, 30_796, 39_008, 92_612, 87_829, 7_540),
    "sport->phone": (4_998, 20_845, 13_655, 50_558, 42_446, 3_999),
    "elec->cloth": (15_761, 51_447, 48_781, 210_865, 121_083, 12_526),
}


@lru_cache(maxsize=None)
def amazon_pair(pair: str) -> CrossDomainDataset:
    return load_amazon_pair(*STANDARD_PAIRS[pair], data_dir=DATA_ROOT, seed=3)


@needs_data
@pytest.mark.parametrize("pair", sorted(STANDARD_PAIRS))
def test_amazon_pair_counts(pair):
    dataset = amazon_pair(pair)
    users, n_src, n_tgt, src_rows, tgt_rows, test_rows = AMAZON_COUNTS[pair]
    assert (dataset.n_users, dataset.n_products) == (users, n_src + n_tgt)
    assert (dataset.product_domain == SOURCE).sum() == n_src and (dataset.product_domain[n_src:] == TARGET).all()
    assert (dataset.train.domain == SOURCE).sum() == src_rows and (dataset.train.domain == TARGET).sum() == tgt_rows
    assert len(dataset.test) == test_rows and (dataset.test.domain == TARGET).all()
    assert dataset.sampled_negatives.shape == (test_rows, 999)
    assert not dataset.synthetic and dataset.n_suppliers == dataset.n_sellers == 0


@needs_data
def test_amazon_negatives_are_distinct_target_products_never_seen_by_the_user():
    dataset = amazon_pair("elec->phone")
    negatives = dataset.sampled_negatives
    assert (dataset.product_domain[negatives] == TARGET).all()
    assert all(len(np.unique(row)) == 999 for row in negatives)
    seen = dataset.interaction_matrix("train", TARGET) + dataset.interaction_matrix("test")
    assert seen[dataset.sampled_users[:, None], negatives].sum() == 0
    assert np.array_equal(dataset.sampled_users, dataset.test.user)
    assert set(dataset.meta["sha256"]) == {"electronic_phone/train.txt", "phone_electronic/train.txt",
                                           "phone_electronic/test.txt"}


def test_negative_sampler_skips_excluded_items_and_is_seeded():
    train_user, train_item = np.array([0, 0, 1]), np.array([3, 9, 4])
    test_user, test_item = np.array([0, 1]), np.array([0, 5])
    everything_left = sample_negatives(test_user, train_user, train_item, test_item, 10, 7, seed=0)
    assert sorted(everything_left[0]) == [1, 2, 4, 5, 6, 7, 8]
    assert set(everything_left[1]) < {0, 1, 2, 3, 6, 7, 8, 9} and len(set(everything_left[1])) == 7
    draw = sample_negatives(test_user, train_user, train_item, test_item, 1000, 50, seed=1)
    assert np.array_equal(draw, sample_negatives(test_user, train_user, train_item, test_item, 1000, 50, seed=1))
    assert not np.array_equal(draw, sample_negatives(test_user, train_user, train_item, test_item, 1000, 50, seed=2))
    with pytest.raises(DataError, match="only 7 items left"):
        sample_negatives(test_user, train_user, train_item, test_item, 10, 8, seed=0)


def test_amazon_pairs_are_named_as_the_standard_pairs():
    assert amazon_data.amazon_pair("sport->cloth") == ("sport_cloth", "cloth_sport")
    assert amazon_data.amazon_label("sport->cloth") == "Sport->Cloth"
    with pytest.raises(ConfigError, match="unknown Amazon pair 'elec->books'; choose one of"):
        amazon_data.amazon_pair("elec->books")


def test_amazon_pair_must_be_two_sides_of_one_pair():
    with pytest.raises(ConfigError, match="is not the other side"):
        load_amazon_pair("electronic_phone", "cloth_sport", data_dir="/tmp")
    with pytest.raises(ConfigError, match="unknown Amazon source directory"):
        load_amazon_pair("books_movies", "movies_books", data_dir="/tmp")


# ------------------------------------------------------------------ other real datasets
@needs_data
def test_gowalla_counts_match_lightgcn():
    gowalla = load_gowalla(DATA_ROOT)
    assert (gowalla.n_users, gowalla.n_items) == (29_858, 40_981)
    assert (gowalla.train.nnz, gowalla.test.nnz) == (810_128, 217_242)
    assert gowalla.train.multiply(gowalla.test).nnz == 0
    assert set(np.unique(gowalla.train.data)) == {1.0}


@needs_data
def test_movielens_100k():
    movielens = load_movielens_100k(DATA_ROOT)
    inter = movielens.interactions
    assert len(inter) == 100_000 and inter["user"].nunique() == 943 and inter["item"].nunique() == 1_682
    assert len(movielens.users) == 943 and len(movielens.items) == 1_682
    assert set(inter["rating"].unique()) == {1.0, 2.0, 3.0, 4.0, 5.0}
    toy_story = movielens.items.set_index("item").loc[1]
    assert (toy_story["title"], toy_story["release_year"]) == ("Toy Story", 1995)
    assert toy_story["genres"] == ["Animation", "Children's", "Comedy"]
    assert movielens.items["release_year"].isna().sum() == 2


@needs_data
def test_microlens_50k():
    microlens = load_microlens_50k(DATA_ROOT)
    pairs = microlens.pairs
    assert len(pairs) == 359_708 and pairs["user"].nunique() == 50_000 and pairs["item"].nunique() == 19_220
    per_user = pairs.groupby("user").size()
    assert (per_user.min(), per_user.max()) == (5, 218)
    assert (pairs.groupby("user")["position"].max() + 1).equals(per_user)
    assert len(microlens.titles) == 19_220 and microlens.titles["title"].str.len().min() > 0


@needs_data
def test_mosi_labels():
    labels = load_mosi_labels(DATA_ROOT)
    assert labels["mode"].value_counts().to_dict() == {"train": 1_281, "valid": 229, "test": 685}
    assert labels["video_id"].nunique() == 93 and labels["label"].between(-3, 3).all()
    first = labels.iloc[0]
    assert (first["video_id"], first["clip_id"], first["text"], first["label"]) == (
        "03bSnISJMiM", 1, "anyhow it was really good", 2.4)
    assert "5W7Z1C_fDaE" in set(labels["video_id"])  # a video id that itself contains "_"
    from xrec_lib.data.synthetic_multimodal import MOSI_TRAIN_LABEL_COUNTS
    train_counts = labels.loc[labels["mode"] == "train", "label"].round(4).value_counts().to_dict()
    assert train_counts == MOSI_TRAIN_LABEL_COUNTS  # the synthetic generator's label distribution


@needs_data
def test_bytedance_sample():
    sample = load_bytedance_sample(DATA_ROOT)
    assert sample.shape == (200, 12) and tuple(sample.columns) == COLUMNS
    assert set(sample["finish"]) <= {0, 1} and set(sample["like"]) <= {0, 1}


# ---------------------------------------------------------------- MMSA feature pickles
def mmsa_split(n: int, text_len: int = 4, audio_len: int = 6, vision_len: int = 5) -> dict:
    rng = np.random.default_rng(n)
    audio = rng.normal(size=(n, audio_len, 5)).astype(np.float32)
    audio[0, -1] = -np.inf
    return {"text_bert": rng.integers(0, 100, size=(n, 3, text_len)).astype(np.float32),
            "audio": audio, "vision": rng.normal(size=(n, vision_len, 20)),
            "audio_lengths": [audio_len] * n, "vision_lengths": [vision_len - 1] * n,
            "regression_labels": rng.uniform(-3, 3, size=n), "id": [f"v{i}$_$1" for i in range(n)],
            "raw_text": ["some words"] * n}


def write_pickle(path: Path, content) -> Path:
    path.write_bytes(pickle.dumps(content))
    return path


def test_mmsa_features_round_trip(tmp_path):
    splits = load_mmsa_features(write_pickle(tmp_path / "unaligned_50.pkl",
                                             {"train": mmsa_split(6), "valid": mmsa_split(2), "test": mmsa_split(3)}))
    assert [len(splits[name]) for name in ("train", "valid", "test")] == [6, 2, 3]
    train = splits["train"]
    assert train.text_is_token_ids and train.text.shape == (6, 3, 4)
    assert train.audio.shape == (6, 6, 5) and train.vision.shape == (6, 5, 20)
    assert np.isfinite(train.audio).all() and train.audio[0, -1].tolist() == [0.0] * 5
    assert train.vision_lengths.tolist() == [4] * 6 and train.ids[0] == "v0$_$1"


@pytest.mark.parametrize("corrupt, message", [
    (lambda data: data.pop("valid"), "expected a dict with splits"),
    (lambda data: data["train"].pop("audio"), r"\[train\]: missing key 'audio'"),
    (lambda data: data["test"].update(vision=np.zeros((3, 20))), r"\[test\]: vision must have shape"),
    (lambda data: data["train"].update(audio_lengths=[99] * 6), r"audio_lengths must be 6 values in \[0, 6\]"),
    (lambda data: data["valid"].update(audio=np.zeros((2, 6, 7))), "audio feature dimension differs"),
    (lambda data: data["test"]["regression_labels"].__setitem__(0, np.nan), "NaN"),
    (lambda data: data["train"].update(vision=[[[1.0]], [[1.0, 2.0]]]), "vision is not a numeric array"),
])
def test_mmsa_features_reject_bad_content(tmp_path, corrupt, message):
    data = {"train": mmsa_split(6), "valid": mmsa_split(2), "test": mmsa_split(3)}
    corrupt(data)
    with pytest.raises(DataError, match=message):
        load_mmsa_features(write_pickle(tmp_path / "bad.pkl", data))


class _Executes:
    def __reduce__(self):
        return (os.system, ("echo unpickled",))


def test_mmsa_loader_refuses_code_in_pickles(tmp_path):
    with pytest.raises(DataError, match="refusing to unpickle"):
        load_mmsa_features(write_pickle(tmp_path / "evil.pkl", {"train": _Executes()}))
    with pytest.raises(MissingDataError, match="MMSA processed features"):
        load_mmsa_features(tmp_path / "absent.pkl")


# ------------------------------------------------------------ bad input in each format
def test_empty_file_names_the_file(tmp_path):
    for reader in (read_interaction_file, read_id_lists, read_byterec):
        empty = write(tmp_path / f"empty_{reader.__name__}.txt", "\n \n")
        with pytest.raises(DataError, match=f"{empty.name} is empty"):
            reader(empty)


@pytest.mark.parametrize("content, message", [
    ("0\t5\t1\n1\t7\n", r"bad.txt, line 2: expected 3 fields, found 2"),
    ("0\t5\t1\n\n1\tnan\t1\n", r"bad.txt, line 3: item id 'nan' is not an integer >= 0"),
    ("0\t5\t1\nx\t6\t1\n", r"bad.txt, line 2: user id 'x' is not an integer"),
    ("0\t5\t1\n1\t-6\t1\n", r"line 2: item id '-6' is not an integer >= 0"),
    ("0\t5.5\t1\n", r"line 1: item id '5.5'"),
])
def test_amazon_rows_are_validated_with_line_numbers(tmp_path, content, message):
    with pytest.raises(DataError, match=message):
        read_interaction_file(write(tmp_path / "bad.txt", content))


def test_id_list_rows_are_validated_with_line_numbers(tmp_path):
    with pytest.raises(DataError, match=r"lists.txt, line 2: id 'NaN' is not a non-negative integer"):
        read_id_lists(write(tmp_path / "lists.txt", "0 1 2\n1 NaN 3\n"))
    user, item, position = read_id_lists(write(tmp_path / "ok.txt", "0 4 5\n1\n2\t7 \n"))
    assert (user.tolist(), item.tolist(), position.tolist()) == ([0, 0, 2], [4, 5, 7], [0, 1, 0])


def test_missing_input_file_is_missing_data_error(tmp_path):
    with pytest.raises(MissingDataError, match="absent.txt does not exist"):
        read_interaction_file(tmp_path / "absent.txt")


def test_other_formats_check_headers_and_values(tmp_path):
    with pytest.raises(DataError, match="differs from the expected"):
        read_atomic(write(tmp_path / "x.inter", "user_id:token\titem_id:token\n1\t2\n"), INTER_HEADER)
    with pytest.raises(DataError, match=r"line 3: timestamp 'soon' is not a finite number"):
        read_inter(write(tmp_path / "y.inter", "\t".join(INTER_HEADER) + "\n1\t2\t3\t10\n1\t3\t4\tsoon\n"))
    with pytest.raises(DataError, match=r"line 2: mode 'holdout'"):
        read_labels(write(tmp_path / "label.csv", "id,text,label,mode\nabc_1,hi,0.5,holdout\n"))
    with pytest.raises(DataError, match=r"line 2: label 4.0 is outside"):
        read_labels(write(tmp_path / "label2.csv", "id,text,label,mode\nabc_1,\"hi, there\",4.0,test\n"))
    with pytest.raises(DataError, match="header"):
        read_titles(write(tmp_path / "titles.csv", "id,name\n1,a\n"))
    row = "\t".join(["1"] * 6 + ["2"] + ["1"] * 5)
    with pytest.raises(DataError, match=r"line 1: finish 2 is not 0 or 1"):
        read_byterec(write(tmp_path / "byte.txt", row + "\n"))


# --------------------------------------------------------------------- generic format
def test_generic_format_maps_raw_ids_to_contiguous_ints(tmp_path):
    train = write(tmp_path / "train.csv", "user,item,timestamp,domain\n10,500,1.0,source\n7,500,2,target\n"
                                          "10,42,3,1\n")
    test = write(tmp_path / "test.csv", "user,item,timestamp,domain\n7,42,4,target\n")
    table = load_interactions(train, test)
    assert table.user_ids.tolist() == [7, 10] and table.item_ids.tolist() == [42, 500]
    assert table.train["user"].tolist() == [1, 0, 1] and table.train["item"].tolist() == [1, 1, 0]
    assert table.train["domain"].tolist() == [SOURCE, TARGET, TARGET]
    assert table.test[["user", "item"]].values.tolist() == [[0, 0]]
    assert table.matrix("test").toarray().tolist() == [[1.0, 0.0], [0.0, 0.0]]
    tsv = load_interactions(write(tmp_path / "plain.tsv", "item\tuser\n3\t1\n"))
    assert (tsv.n_users, tsv.n_items, list(tsv.train.columns)) == (1, 1, ["user", "item"])


@pytest.mark.parametrize("name, content, message", [
    ("a.json", "user,item\n1,2\n", "unknown extension '.json'"),
    ("b.csv", "", "b.csv is empty"),
    ("c.csv", "1,2\n3,4\n", r"must name the columns user,item"),
    ("d.csv", "user,item,price\n1,2,5\n", r"unknown \['price'\]"),
    ("e.csv", "user,item\n1,2\n3,4,5\n", "e.csv, line 3: expected 2 fields, found 3"),
    ("f.csv", "user,item\n1,2\nNaN,4\n", "f.csv, line 3: user id 'NaN' is empty or missing"),
    ("f2.csv", "user,item\n1,2\n\n3, \n", "f2.csv, line 4: item id '' is empty or missing"),
    ("f3.csv", "user,item\n1\n", "f3.csv, line 2: item id .. is empty or missing"),
    ("g.csv", "user,item,timestamp\n1,2,nan\n", "g.csv, line 2: timestamp 'nan' is neither a finite number"),
    ("g2.csv", "user,item,timestamp\n1,2,2021-02-30\n", "g2.csv, line 2: timestamp '2021-02-30' is neither"),
    ("g3.csv", "user,item,rating\n1,2,five\n", "g3.csv, line 2: rating 'five' is not a number"),
    ("h.csv", "user,item,domain\n1,2,b2b\n", "h.csv, line 2: domain 'b2b'"),
])
def test_generic_format_rejects_bad_files(tmp_path, name, content, message):
    with pytest.raises(DataError, match=message):
        load_interactions(write(tmp_path / name, content))


def test_generic_test_file_rejects_unknown_ids_naming_id_and_line(tmp_path):
    train = write(tmp_path / "train.tsv", "user\titem\n1\t2\n3\t4\n")
    with pytest.raises(DataError, match=r"test.tsv, line 3: item id 9 does not occur in the training file"):
        load_interactions(train, write(tmp_path / "test.tsv", "user\titem\n1\t4\n3\t9\n"))
    with pytest.raises(DataError, match="differs from the training file"):
        load_interactions(train, write(tmp_path / "test2.tsv", "item\tuser\n2\t1\n"))
    with pytest.raises(DataError, match="no 'test' interactions"):
        load_interactions(train).matrix("test")


@needs_data
def test_loaders_read_any_root_holding_the_published_files(tmp_path):
    for entry in load_manifest()["bytedance-icme2019-sample"].values():
        entry.location(tmp_path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(entry.location(DATA_ROOT), entry.location(tmp_path))
    assert len(load_bytedance_sample(tmp_path)) == 200


def test_generic_format_takes_string_ids_dates_markets_and_ratings(tmp_path):
    train = write(tmp_path / "shop.csv", "user,item,timestamp,market,rating\n"
                                         "AEHPZ,B00DQ,2016-07-03,uk,5\nu42,B00IM,2018-01-12T10:00:00,de,2\n"
                                         "AEHPZ,B00DQ,2016-07-04,uk,4\nu42,B00DQ,2018-01-13,de,4\n")
    table = load_interactions(train)
    assert table.user_ids.tolist() == ["AEHPZ", "u42"] and table.item_ids.tolist() == ["B00DQ", "B00IM"]
    assert len(table.train) == 3  # the repeated (AEHPZ, B00DQ) row collapses into the first
    assert table.train["timestamp"].iloc[0] == pytest.approx(1467504000.0)  # 2016-07-03 UTC
    assert table.train["market"].tolist() == ["uk", "de", "de"]
    implicit = load_interactions(train, rating_threshold=4)
    assert implicit.item_ids[implicit.train["item"]].tolist() == ["B00DQ", "B00DQ"]
    with pytest.raises(DataError, match="needs a 'rating' column"):
        load_interactions(write(tmp_path / "plain.csv", "user,item\na,b\n"), rating_threshold=3)
    test = write(tmp_path / "shop_test.csv", "user,item,timestamp,market,rating\nu42,NOPE,2019-01-01,de,5\n")
    with pytest.raises(DataError, match="shop_test.csv, line 2: item id NOPE does not occur"):
        load_interactions(train, test)


@needs_data
def test_gowalla_validation_split_trains_on_train_txt_and_evaluates_valid_txt():
    full, validation = load_gowalla(DATA_ROOT), load_gowalla(DATA_ROOT, validation=True)
    assert validation.train.shape == full.train.shape == validation.test.shape
    assert (validation.train.nnz, validation.test.nnz, full.train.nnz) == (719_081, 91_047, 810_128)
    assert (validation.train + validation.test - full.train).count_nonzero() == 0  # train.txt + valid.txt
    assert "validation" in validation.name
