"""The ``make data`` download step, run against a local ``file://`` mirror (never the network)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from xrec_lib.data.fetch import (DOWNLOADED, FAILED, NO_PUBLIC_URL, PRESENT, fetch_datasets, fetch_file, main,
                                 source_url)
from xrec_lib.data.manifest import DATA_DIR_ENV, load_manifest, sha256_of
from xrec_lib.errors import ChecksumError

DATA_ROOT = Path(os.environ.get(DATA_DIR_ENV, "/work/shared/data"))
pytestmark = pytest.mark.skipif(not DATA_ROOT.is_dir(), reason=f"real data root {DATA_ROOT} not found (it supplies "
                                                               f"the mirrored files): set {DATA_DIR_ENV}")
SMALL_DATASETS = ["bytedance-icme2019-sample", "cmu-mosi"]  # 11 kB + 193 kB, and one file without public URL


def make_mirror(mirror: Path, corrupt: bool = False) -> Path:
    """Copy the downloadable files of SMALL_DATASETS into ``mirror/<dataset>/<path>``."""
    for dataset in SMALL_DATASETS:
        for entry in load_manifest()[dataset].values():
            if entry.url is None:
                continue
            copy = entry.location(mirror)
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(entry.location(DATA_ROOT), copy)
            if corrupt:
                copy.write_bytes(copy.read_bytes() + b"\n")
    return mirror


def leftovers(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.name.endswith(".part")]


def test_fetch_downloads_verifies_and_then_skips(tmp_path, capsys):
    mirror, root = make_mirror(tmp_path / "mirror"), tmp_path / "data"
    argv = ["--data-dir", str(root), "--source-url-base", mirror.as_uri(), *SMALL_DATASETS]
    assert main(argv) == 0
    first = capsys.readouterr().out
    for dataset in SMALL_DATASETS:
        for entry in load_manifest()[dataset].values():
            if entry.url is not None:
                assert sha256_of(entry.location(root)) == entry.sha256
    assert first.count(f"  {DOWNLOADED}  ") == 2 and "thuiar/MMSA" in first
    assert f"3 files: 2 {DOWNLOADED}, 1 {NO_PUBLIC_URL}" in first
    assert main(argv) == 0
    second = capsys.readouterr().out
    assert second.count(f"  {PRESENT}  ") == 2 and f"3 files: 1 {NO_PUBLIC_URL}, 2 {PRESENT}" in second
    assert not leftovers(root)


def test_fetch_rejects_a_file_that_differs_and_leaves_nothing(tmp_path, capsys):
    mirror, root = make_mirror(tmp_path / "mirror", corrupt=True), tmp_path / "data"
    assert main(["--data-dir", str(root), "--source-url-base", mirror.as_uri(), "bytedance-icme2019-sample"]) == 1
    out = capsys.readouterr().out
    entry = load_manifest()["bytedance-icme2019-sample"]["byterec_sample.txt"]
    assert FAILED in out and entry.sha256 in out and "differs from the published file" in out
    assert not entry.location(root).exists() and not leftovers(root)
    with pytest.raises(ChecksumError, match="the download was deleted"):
        fetch_file(entry, root, source_url(entry, mirror.as_uri()))
    assert not leftovers(root)


def test_fetch_replaces_a_modified_local_copy_and_reports_unreachable_files(tmp_path):
    mirror, root = make_mirror(tmp_path / "mirror"), tmp_path / "data"
    entry = load_manifest()["bytedance-icme2019-sample"]["byterec_sample.txt"]
    entry.location(root).parent.mkdir(parents=True)
    entry.location(root).write_text("edited\n")
    [result] = fetch_datasets(root, ["bytedance-icme2019-sample"], mirror.as_uri())
    assert result.status == DOWNLOADED and sha256_of(entry.location(root)) == entry.sha256
    assert "replaced a local copy that differed" in result.detail
    results = fetch_datasets(root, ["ml-100k-recbole"], mirror.as_uri())
    assert [result.status for result in results] == [FAILED] * 3
    assert "ml-100k.inter" in results[0].detail


def test_source_urls_follow_the_mirror_layout():
    entry = load_manifest()["gowalla-lightgcn"]["test.txt"]
    assert source_url(entry) == entry.url
    assert source_url(entry, "file:///srv/mirror/") == "file:///srv/mirror/gowalla-lightgcn/test.txt"


def test_fetch_cli_rejects_unknown_datasets(tmp_path, capsys):
    with pytest.raises(SystemExit) as raised:
        main(["--data-dir", str(tmp_path), "imagenet"])
    assert raised.value.code == 2 and "unknown datasets ['imagenet']" in capsys.readouterr().err
