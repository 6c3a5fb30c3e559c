"""On-disk cache for derived datasets, keyed by what they are built from.

``cached(key_parts, build)`` returns ``build()``'s result, stored once as a pickle at
``<cache_dir>/<key>.pkl`` with ``key = sha256(canonical JSON of {"key": key_parts, "xrec_version": ...})``.
Canonical JSON sorts keys and has no whitespace, so equal parts give equal keys whatever the dict order; the
package version is part of the key, so a new release never reads an older release's objects. Files are written
to a temporary file in the same folder and moved into place with ``os.replace`` (readers never see half a file).
A file that cannot be read back (truncated, corrupted, stored under another key) is rebuilt and overwritten.

The cache folder is ``cache_dir`` when given, else ``$XREC_CACHE_DIR``, else ``~/.cache/xrec``. Only the
package's own folder should be used: unpickling runs code stored in the file.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import tempfile
from pathlib import Path
from typing import Callable, TypeVar

from xrec_lib import __version__
from xrec_lib.errors import ConfigError

CACHE_ENV = "XREC_CACHE_DIR"
T = TypeVar("T")


def default_cache_dir() -> Path:
    """``$XREC_CACHE_DIR`` if set, else ``~/.cache/xrec``."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "xrec")


def cache_key(key_parts: dict) -> str:
    """sha256 hex digest of the canonical JSON of ``key_parts`` plus the package version."""
    try:
        text = json.dumps({"key": key_parts, "xrec_version": __version__}, sort_keys=True,
                          separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"cache key parts must be plain JSON values (str, int, float, bool, None, list, "
                          f"dict); {error}") from error
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def cache_path(key_parts: dict, cache_dir: str | Path | None = None) -> Path:
    """Where the object for ``key_parts`` is (or would be) stored."""
    return Path(cache_dir or default_cache_dir()) / f"{cache_key(key_parts)}.pkl"


def cached(key_parts: dict, build: Callable[[], T], cache_dir: str | Path | None = None) -> T:
    """``build()``'s result for ``key_parts``: read from the cache, or built, stored atomically and returned."""
    path = cache_path(key_parts, cache_dir)
    key = path.stem
    stored = _read(path, key)
    if stored is not None:
        return stored[0]
    value = build()
    _write_atomically(path, key, value)
    return value


def _read(path: Path, key: str) -> tuple | None:
    """``(value,)`` when ``path`` holds a readable entry for ``key``, else None."""
    try:
        with path.open("rb") as handle:
            entry = pickle.load(handle)
    except Exception:  # missing or unreadable (pickle raises many kinds): rebuild
        return None
    if not (isinstance(entry, dict) and entry.get("key") == key and "value" in entry):
        return None
    return (entry["value"],)


def _write_atomically(path: Path, key: str, value: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp", delete=False)
    try:
        with handle:
            pickle.dump({"key": key, "value": value}, handle, protocol=pickle.HIGHEST_PROTOCOL)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
