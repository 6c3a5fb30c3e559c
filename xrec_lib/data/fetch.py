"""Download the real datasets of the manifest into a data root: the ``make data`` step.

Usage::

    python -m xrec_lib.data.fetch --data-dir DIR [--source-url-base URL] [dataset ...]

Each manifest file is fetched from its public URL (``urllib``: ``https://`` and ``file://`` alike) into
``DIR/<dataset>/<path>``, written to a temporary file next to the target, checked against the manifest's
sha256 and only then renamed into place. A file already present with the right hash is skipped; a download
whose hash differs is deleted and reported. ``--source-url-base`` replaces every public URL with
``URL/<dataset>/<path>`` (a mirror laid out like the data root). Files without a public URL are not
fetched; the summary lists them with the manifest's note on where to get them. The exit status is 1 when any
download failed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from xrec_lib.data.manifest import DATA_DIR_ENV, ManifestFile, load_manifest, sha256_of, verify_file
from xrec_lib.errors import ChecksumError, ConfigError, XrecError

PRESENT, DOWNLOADED, NO_PUBLIC_URL, FAILED = "present", "downloaded", "no public URL", "failed"


@dataclass(frozen=True)
class FetchResult:
    """What happened to one manifest file: ``status`` (present / downloaded / no public URL / failed)."""

    entry: ManifestFile
    status: str
    detail: str = ""


def source_url(entry: ManifestFile, url_base: str | None = None) -> str | None:
    """The file's download URL: the manifest's, or ``url_base/<dataset>/<path>`` when a mirror base is given.

    ``None`` for a file without a public URL (a mirror stands in for public sources only).
    """
    if url_base is None or entry.url is None:
        return entry.url
    return f"{url_base.rstrip('/')}/{entry.dataset}/{entry.path}"


def fetch_file(entry: ManifestFile, root: Path, url: str) -> None:
    """Download ``url`` to ``entry.location(root)`` atomically, verified against ``entry.sha256``.

    Raises :class:`ChecksumError` (after deleting the download) when the bytes differ from the manifest's.
    """
    target = entry.location(root)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    temporary = Path(temporary_name)
    try:
        with os.fdopen(handle, "wb") as sink, urllib.request.urlopen(url, timeout=60) as response:
            shutil.copyfileobj(response, sink)
        actual = sha256_of(temporary)
        if actual != entry.sha256:
            raise ChecksumError(f"{url} differs from the published file {entry.dataset}/{entry.path}: "
                                f"expected sha256 {entry.sha256}, got {actual}; the download was deleted")
        temporary.replace(target)
    finally:
        temporary.unlink(missing_ok=True)


def fetch_one(entry: ManifestFile, root: Path, url_base: str | None = None) -> FetchResult:
    """Fetch one file unless it is already present and valid; never raises for a per-file failure."""
    target = entry.location(root)
    replaced = ""
    if target.is_file():
        try:
            verify_file(target, entry)
            return FetchResult(entry, PRESENT)
        except ChecksumError:
            replaced = " (replaced a local copy that differed)"
    url = source_url(entry, url_base)
    if url is None:
        return FetchResult(entry, NO_PUBLIC_URL, entry.note)
    try:
        fetch_file(entry, root, url)
    except (XrecError, urllib.error.URLError, OSError) as error:
        return FetchResult(entry, FAILED, str(error))
    return FetchResult(entry, DOWNLOADED, url + replaced)


def fetch_datasets(root: Path, datasets: list[str] | None = None, url_base: str | None = None) -> list[FetchResult]:
    """Fetch every file of ``datasets`` (all manifest datasets when empty) into the data root ``root``."""
    manifest = load_manifest()
    chosen = datasets or sorted(manifest)
    unknown = [name for name in chosen if name not in manifest]
    if unknown:
        raise ConfigError(f"unknown datasets {unknown}; the manifest lists {sorted(manifest)}")
    return [fetch_one(entry, root, url_base) for name in chosen for entry in manifest[name].values()]


def summary_table(results: list[FetchResult]) -> str:
    """A fixed-width text table: dataset, file, status, size in bytes, detail."""
    rows = [("dataset", "file", "status", "bytes", "detail")]
    rows += [(r.entry.dataset, r.entry.path, r.status, str(r.entry.size or "?"), r.detail) for r in results]
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[4]
                     for row in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m xrec_lib.data.fetch", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=os.environ.get(DATA_DIR_ENV),
                        help=f"data root to fill (default: ${DATA_DIR_ENV})")
    parser.add_argument("--source-url-base", help="mirror base URL replacing the manifest URLs")
    parser.add_argument("datasets", nargs="*", help=f"datasets to fetch (default: all of {sorted(load_manifest())})")
    args = parser.parse_args(argv)
    if args.data_dir is None:
        parser.error(f"give --data-dir or set {DATA_DIR_ENV}")
    try:
        results = fetch_datasets(Path(args.data_dir), args.datasets, args.source_url_base)
    except ConfigError as error:
        parser.error(str(error))
    print(summary_table(results))
    counts = Counter(result.status for result in results)
    print(f"\n{len(results)} files: " + ", ".join(f"{count} {status}" for status, count in sorted(counts.items())))
    return 1 if counts[FAILED] else 0


if __name__ == "__main__":
    sys.exit(main())
