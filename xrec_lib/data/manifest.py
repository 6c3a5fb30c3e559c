"""The data root and the checksum manifest of the real datasets.

``manifest.json`` (next to this module) lists, for each dataset, every file a loader reads::

    {"<dataset>": {"title": ..., "source": ..., "licence": ...,
                   "files": {"<path inside the dataset folder>":
                             {"sha256": ..., "size": <bytes or null>, "url": <public URL or null>,
                              "note": <how to obtain it when url is null>}}}}

The dataset name is also its folder under the data root, so a file lives at
``<data root>/<dataset>/<path>``. ``url`` is the raw download address at the pinned upstream commit;
``null`` means the file has no public direct download and ``note`` says where it is published.

The data root is the ``data_dir`` argument of every loader, or else the ``XREC_DATA_DIR`` environment variable.
:func:`dataset_path` resolves a file and checks its sha256 against the manifest; a file's hash is computed once
per process for a given (path, size, modification time), so repeated loads do not re-read it.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from xrec_lib.errors import ChecksumError, ConfigError, MissingDataError

MANIFEST_PATH = Path(__file__).with_name("manifest.json")
DATA_DIR_ENV = "XREC_DATA_DIR"
_HASH_CHUNK_BYTES = 1 << 20
_HASH_CACHE: dict[tuple[str, int, int], str] = {}


@dataclass(frozen=True)
class ManifestFile:
    """One published data file: where it goes, its sha256 and size, and where it is downloaded from."""

    dataset: str
    path: str
    sha256: str
    size: int | None
    url: str | None
    note: str = ""

    def location(self, root: Path) -> Path:
        """The file's path under the data root ``root``."""
        return root / self.dataset / self.path


@lru_cache(maxsize=1)
def load_manifest() -> dict[str, dict[str, ManifestFile]]:
    """``{dataset: {path: ManifestFile}}`` read from ``manifest.json``."""
    raw = json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))
    return {
        dataset: {
            path: ManifestFile(dataset, path, entry["sha256"], entry["size"], entry["url"], entry.get("note", ""))
            for path, entry in spec["files"].items()
        }
        for dataset, spec in raw.items()
    }


def manifest_entry(dataset: str, path: str) -> ManifestFile:
    """The manifest record of ``<dataset>/<path>``; :class:`ConfigError` if the manifest has none."""
    manifest = load_manifest()
    if dataset not in manifest:
        raise ConfigError(f"unknown dataset {dataset!r}; the manifest lists {sorted(manifest)}")
    if path not in manifest[dataset]:
        raise ConfigError(f"{dataset!r} has no file {path!r} in the manifest; it lists {sorted(manifest[dataset])}")
    return manifest[dataset][path]


def data_root(data_dir: Path | str | None = None) -> Path:
    """The data root: ``data_dir`` if given, else ``$XREC_DATA_DIR``; :class:`MissingDataError` if neither is set."""
    chosen = data_dir if data_dir is not None else os.environ.get(DATA_DIR_ENV)
    if not chosen:
        raise MissingDataError(
            f"no data root: pass data_dir or set {DATA_DIR_ENV} to the folder holding the real datasets "
            f"(create it with `make data`)"
        )
    root = Path(chosen).expanduser()
    if not root.is_dir():
        raise MissingDataError(f"data root {root} is not a folder; set {DATA_DIR_ENV} or run `make data`")
    return root


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def cached_sha256(path: Path) -> str:
    """:func:`sha256_of`, memoised in-process per (resolved path, size, modification time in ns)."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _HASH_CACHE:
        _HASH_CACHE[key] = sha256_of(path)
    return _HASH_CACHE[key]


def verify_file(path: Path, entry: ManifestFile) -> None:
    """Raise :class:`ChecksumError` naming the file and both hashes when ``path`` is not the published file."""
    actual = cached_sha256(path)
    if actual != entry.sha256:
        origin = entry.url or entry.note or "its upstream source"
        raise ChecksumError(
            f"{path} differs from the published file: expected sha256 {entry.sha256}, got {actual}. "
            f"Delete it and run `make data` (source: {origin})"
        )


def dataset_path(dataset: str, path: str, data_dir: Path | str | None = None) -> Path:
    """Path of ``<data root>/<dataset>/<path>``, checked to exist and to match the manifest's sha256.

    Raises :class:`MissingDataError` when the file is absent and :class:`ChecksumError` when it differs.
    """
    entry = manifest_entry(dataset, path)
    root = data_root(data_dir)
    location = entry.location(root)
    if not location.is_file():
        remedy = (entry.note if entry.url is None
                  else f"run `make data` (or `python -m xrec_lib.data.fetch --data-dir {root} {dataset}`)")
        raise MissingDataError(f"{location} is missing: {remedy}")
    verify_file(location, entry)
    return location


def dataset_checksums(dataset: str, paths: list[str]) -> dict[str, str]:
    """``{path: sha256}`` of the given manifest files of ``dataset`` (recorded in loaded datasets' ``meta``)."""
    return {path: manifest_entry(dataset, path).sha256 for path in paths}
