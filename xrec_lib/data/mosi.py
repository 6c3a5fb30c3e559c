"""CMU-MOSI (Zadeh et al., IEEE Intelligent Systems 2016): transcripts, sentiment labels and MMSA features,
dataset ``cmu-mosi``.

``label.csv`` (header ``id,text,label,mode``): ``id`` is ``<video_id>_<clip_no>`` (video ids may contain
``_``), ``text`` the lower-cased transcript, ``label`` the sentiment in [-3, 3], ``mode`` the
CMU-MultimodalSDK fold ``train`` / ``dev`` / ``test`` (``dev`` is returned as ``valid``).

MMSA processed features (``Processed/unaligned_50.pkl``, thuiar/MMSA README "Datasets"): a pickled dict
``{"train" | "valid" | "test": {...}}`` whose split dicts hold, for N segments,
``text`` (N, L_t, 768) BERT features and/or ``text_bert`` (N, 3, L_t) BERT input ids / mask / segment ids,
``audio`` (N, L_a, D_a), ``vision`` (N, L_v, D_v), ``audio_lengths`` / ``vision_lengths`` (N,) valid frames
(unaligned files only), ``regression_labels`` (N,) in [-3, 3], ``id`` (``video_id$_$clip_id``), ``raw_text``.
For MOSI: D_a = 5 (COVAREP), D_v = 20 (Facet), L = 50 / 500 / 375 unaligned.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from xrec_lib.data.manifest import dataset_path
from xrec_lib.data.parsing import float_column, read_table, require_file
from xrec_lib.errors import DataError

DATASET = "cmu-mosi"
LABEL_FILE, FEATURE_FILE = "label.csv", "Processed/unaligned_50.pkl"
SPLITS = ("train", "valid", "test")
MODE_NAMES = {"train": "train", "dev": "valid", "valid": "valid", "test": "test"}
LABEL_RANGE = (-3.0, 3.0)
_NUMPY_PICKLE_GLOBALS = {
    (module, name)
    for module in ("numpy.core.multiarray", "numpy._core.multiarray")
    for name in ("_reconstruct", "scalar")
} | {("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.numeric", "_frombuffer"),
     ("numpy._core.numeric", "_frombuffer"), ("_codecs", "encode")}


def read_labels(path: Path) -> pd.DataFrame:
    """``label.csv`` as columns ``video_id, clip_id, text, label, mode`` (mode in train/valid/test)."""
    table = read_table(path, delimiter=",", has_header=True, quoted=True)
    if table.header != ["id", "text", "label", "mode"]:
        raise DataError(f"{path}: header {table.header} differs from the expected ['id', 'text', 'label', 'mode']")
    labels = float_column(table, 2, "label")
    for position, (segment, label, mode) in enumerate(zip(table.column(0), labels, table.column(3))):
        problem = _label_row_problem(segment, label, mode)
        if problem:
            raise DataError(f"{path}, line {table.line_numbers[position]}: {problem}")
    video, clip = zip(*(segment.rsplit("_", 1) for segment in table.column(0)))
    return pd.DataFrame({"video_id": list(video), "clip_id": np.asarray(clip, dtype=np.int64),
                         "text": table.column(1), "label": labels,
                         "mode": [MODE_NAMES[mode] for mode in table.column(3)]})


def _label_row_problem(segment: str, label: float, mode: str) -> str:
    video, _, clip = segment.rpartition("_")
    if not video or not clip.isdigit():
        return f"id {segment!r} is not <video_id>_<clip number>"
    if not LABEL_RANGE[0] <= label <= LABEL_RANGE[1]:
        return f"label {label} is outside {list(LABEL_RANGE)}"
    if mode not in MODE_NAMES:
        return f"mode {mode!r} is not one of {sorted(MODE_NAMES)}"
    return ""


def load_mosi_labels(data_dir: Path | str | None = None) -> pd.DataFrame:
    """CMU-MOSI transcripts and labels: 2,195 segments of 93 videos (train 1,281 / valid 229 / test 685)."""
    return read_labels(dataset_path(DATASET, LABEL_FILE, data_dir))


@dataclass(frozen=True)
class MultimodalSplit:
    """One split of an MMSA feature file (N segments; shapes as in the module docstring).

    ``text`` holds ``text_bert`` (N, 3, L_t) when the file has it, else the BERT features ``text``
    (N, L_t, 768); ``text_is_token_ids`` says which. ``audio`` has MMSA's ``-inf`` padding replaced by 0.
    ``audio_lengths`` / ``vision_lengths`` are ``None`` for aligned files.
    """

    text: np.ndarray
    text_is_token_ids: bool
    audio: np.ndarray
    vision: np.ndarray
    audio_lengths: np.ndarray | None
    vision_lengths: np.ndarray | None
    labels: np.ndarray
    ids: list[str]

    def __len__(self) -> int:
        return len(self.labels)


def load_mosi_features(data_dir: Path | str | None = None) -> dict[str, MultimodalSplit]:
    """MMSA's MOSI ``Processed/unaligned_50.pkl`` from the data root, checked against its published sha256."""
    return load_mmsa_features(dataset_path(DATASET, FEATURE_FILE, data_dir))


def load_mmsa_features(path: Path | str) -> dict[str, MultimodalSplit]:
    """Read and validate an MMSA feature pickle: ``{"train", "valid", "test"}`` -> :class:`MultimodalSplit`.

    Only numpy arrays and plain Python containers are unpickled (other globals are refused). Raises
    :class:`DataError` naming the split and key that is missing or has an inconsistent shape, and when the
    feature dimensions differ between splits.
    """
    path = require_file(path, hint="download the MMSA processed features (see the cmu-mosi manifest entry)")
    raw = _restricted_unpickle(path)
    if not isinstance(raw, dict) or any(split not in raw for split in SPLITS):
        found = sorted(raw) if isinstance(raw, dict) else type(raw).__name__
        raise DataError(f"{path}: expected a dict with splits {list(SPLITS)}, found {found}")
    splits = {split: _parse_split(path, split, raw[split]) for split in SPLITS}
    for name in ("text", "audio", "vision"):
        dims = {split: getattr(data, name).shape[2] for split, data in splits.items()}
        if len(set(dims.values())) > 1:
            raise DataError(f"{path}: {name} feature dimension differs between splits: {dims}")
    return splits


class _NumpyOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) not in _NUMPY_PICKLE_GLOBALS:
            raise pickle.UnpicklingError(f"refusing to unpickle {module}.{name}: only numpy arrays are expected")
        return super().find_class(module, name)


def _restricted_unpickle(path: Path):
    try:
        with path.open("rb") as handle:
            return _NumpyOnlyUnpickler(handle, encoding="latin1").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as error:
        raise DataError(f"{path} is not an MMSA feature pickle: {error}") from error


def _parse_split(path: Path, split: str, data) -> MultimodalSplit:
    where = f"{path} [{split}]"
    if not isinstance(data, dict):
        raise DataError(f"{where}: expected a dict of arrays, found {type(data).__name__}")
    text_key = "text_bert" if "text_bert" in data else "text"
    for key in (text_key, "audio", "vision", "regression_labels"):
        if key not in data:
            raise DataError(f"{where}: missing key {key!r} (has {sorted(data)})")
    labels = _numeric(where, "regression_labels", data["regression_labels"], np.float32).reshape(-1)
    n = len(labels)
    arrays = {key: _feature_array(where, key, data[key], n) for key in (text_key, "audio", "vision")}
    if text_key == "text_bert" and arrays[text_key].shape[1] != 3:
        raise DataError(f"{where}: text_bert must be (N, 3, L) ids/mask/segments, got {arrays[text_key].shape}")
    lengths = {key: _lengths(where, key, data.get(key), n, arrays[key.split("_")[0]].shape[1])
               for key in ("audio_lengths", "vision_lengths")}
    if not np.isfinite(labels).all():
        raise DataError(f"{where}: regression_labels contain NaN or infinite values")
    audio = arrays["audio"].copy()
    audio[np.isneginf(audio)] = 0.0
    ids = [str(segment) for segment in data.get("id", range(n))]
    if len(ids) != n:
        raise DataError(f"{where}: id has {len(ids)} entries, expected {n}")
    return MultimodalSplit(arrays[text_key], text_key == "text_bert", audio, arrays["vision"],
                           lengths["audio_lengths"], lengths["vision_lengths"], labels, ids)


def _numeric(where: str, key: str, value, dtype: type) -> np.ndarray:
    try:
        return np.asarray(value, dtype=dtype)
    except (ValueError, TypeError) as error:
        raise DataError(f"{where}: {key} is not a numeric array: {error}") from error


def _feature_array(where: str, key: str, value, n: int) -> np.ndarray:
    array = _numeric(where, key, value, np.float32)
    if array.ndim != 3 or array.shape[0] != n:
        raise DataError(f"{where}: {key} must have shape (N={n}, length, features), got {array.shape}")
    return array


def _lengths(where: str, key: str, value, n: int, max_length: int) -> np.ndarray | None:
    if value is None:
        return None
    lengths = _numeric(where, key, value, np.int64).reshape(-1)
    if len(lengths) != n or lengths.min(initial=0) < 0 or lengths.max(initial=0) > max_length:
        raise DataError(f"{where}: {key} must be {n} values in [0, {max_length}], got shape {lengths.shape} "
                        f"and range [{lengths.min(initial=0)}, {lengths.max(initial=0)}]")
    return lengths
