"""One configuration flows through a run: papermill parameters -> :class:`RunConfig` -> every function -> results.

Each notebook has a profile file ``xrec_lib/profiles/<notebook>.yaml``: a ``defaults`` mapping with the values
every profile shares, and one mapping per profile with only what differs::

    defaults:
      dim: 64
      amazon:           # values of one dataset, nested under its name
        epochs: 8
    smoke:              # CI: minutes on two CPU cores
      epochs: 2
      amazon: {epochs: 1}
    paper:              # the scale a 2-core CPU runs in one working session
      epochs: 200
    full:               # the papers' own scale, meant for a GPU
      epochs: 400

Nested mappings merge key by key (profile over defaults, overrides over both).

A notebook's parameters cell holds ``profile``, ``seed``, ``n_seeds``, ``data_dir``, ``reports_dir`` and
``overrides`` (a dict of notebook-specific values); :func:`load_config` merges the profile with the overrides,
refuses unknown names, and fixes seeds and thread count. Every profile runs the same code path.
"""

from __future__ import annotations

import os
import random
from dataclasses import MISSING, asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, ClassVar, Mapping

import numpy as np
import torch
import yaml

from xrec_lib.errors import ConfigError

PROFILES = ("smoke", "paper", "full")
#: Profiles every profile file must define; ``full`` (the papers' own scale, meant for a GPU) is defined by every
#: shipped file, but a file without it stays valid for the other two.
REQUIRED_PROFILES = ("smoke", "paper")
PROFILE_DIR = Path(__file__).parent / "profiles"
REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class RunConfig:
    """Everything a notebook run depends on; recorded verbatim in its results bundle.

    Attributes:
        notebook: notebook name, e.g. ``"01_siamese_gcn"`` (also the results folder name).
        profile: ``"smoke"``, ``"paper"`` or ``"full"``.
        seeds: the seeds every experiment repeats over (``seed, seed+1, ...``; ``n_seeds`` of them).
        threads: torch intra-op threads (numbers are reproducible for a fixed seed *and* thread count).
        device: ``"cpu"`` or ``"cuda"``.
        data_dir: root of the real public datasets, or None when absent (real-data sections are then skipped).
        reports_dir: where the results bundle goes (``<reports_dir>/<notebook>/``).
        params: the notebook-specific values of the profile after overrides.
    """

    notebook: str
    profile: str
    seeds: tuple[int, ...]
    threads: int
    device: str
    data_dir: Path | None
    reports_dir: Path
    params: Mapping[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Any:
        try:
            return self.params[name]
        except KeyError:
            known = ", ".join(sorted(self.params)) or "none"
            raise ConfigError(f"{self.notebook}: no parameter {name!r} (known: {known})") from None

    @property
    def seed(self) -> int:
        return self.seeds[0]

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["data_dir"] = str(self.data_dir) if self.data_dir else None
        out["reports_dir"] = str(self.reports_dir)
        out["params"] = dict(self.params)
        return out


def profile_defaults(notebook: str, profile: str) -> dict[str, Any]:
    """The notebook's parameter values under ``profile`` (from ``profiles/<notebook>.yaml``)."""
    if profile not in PROFILES:
        raise ConfigError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    path = PROFILE_DIR / f"{notebook}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in PROFILE_DIR.glob("*.yaml")))
        raise ConfigError(f"unknown notebook {notebook!r}: no {path.name} (known: {known})")
    table = yaml.safe_load(path.read_text()) or {}
    defined = set(table) - {"defaults"}
    if not set(REQUIRED_PROFILES) <= defined <= set(PROFILES):
        raise ConfigError(f"{path.name} must define the profiles {REQUIRED_PROFILES} (and defaults), optionally "
                          f"{tuple(p for p in PROFILES if p not in REQUIRED_PROFILES)}, found {sorted(table)}")
    if profile not in defined:
        raise ConfigError(f"unknown profile {profile!r} for {path.name}; it defines {', '.join(sorted(defined))}")
    return merge(table.get("defaults") or {}, table[profile] or {}, where=path.name)


def merge(base: Mapping[str, Any], update: Mapping[str, Any], where: str = "profile",
          strict: bool = False) -> dict[str, Any]:
    """``base`` with ``update`` laid over it, nested mappings merged key by key. With ``strict``, a name that
    ``base`` lacks is a :class:`ConfigError` and values keep their kind (:func:`_coerce`)."""
    out = dict(base)
    for name, value in update.items():
        if strict and name not in base:
            known = ", ".join(sorted(base)) or "none"
            raise ConfigError(f"{where}: unknown parameter {name!r} in overrides (known: {known})")
        if isinstance(out.get(name), Mapping) and isinstance(value, Mapping):
            out[name] = merge(out[name], value, f"{where}.{name}", strict)
        elif strict:
            out[name] = _coerce(name, value, base[name])
        else:
            out[name] = value
    return out


def load_config(
    notebook: str,
    profile: str = "smoke",
    seed: int = 0,
    n_seeds: int | None = None,
    data_dir: str | Path | None = None,
    reports_dir: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    threads: int | None = None,
    device: str | None = None,
) -> RunConfig:
    """Build the run configuration, validate every name, and seed ``random``/NumPy/torch.

    ``n_seeds`` defaults to the profile's ``n_seeds`` (1 when absent). ``data_dir`` falls back to the
    ``XREC_DATA_DIR`` environment variable; ``reports_dir`` to ``XREC_REPORTS_DIR``, then ``<repo>/reports``.
    ``threads`` falls back to ``XREC_THREADS``, then 2. Unknown override names raise :class:`ConfigError`.
    """
    params = profile_defaults(notebook, profile)
    params = merge(params, overrides or {}, where=notebook, strict=True)
    profile_seeds = int(params.pop("n_seeds", 1))
    n_seeds = profile_seeds if n_seeds is None else int(n_seeds)
    if n_seeds < 1:
        raise ConfigError(f"n_seeds must be >= 1, got {n_seeds}")
    config = RunConfig(
        notebook=notebook,
        profile=profile,
        seeds=tuple(int(seed) + i for i in range(n_seeds)),
        threads=_resolve_threads(threads),
        device=_resolve_device(device),
        data_dir=_resolve_data_dir(data_dir),
        reports_dir=Path(reports_dir or os.environ.get("XREC_REPORTS_DIR") or REPO_ROOT / "reports").resolve(),
        params=params,
    )
    torch.set_num_threads(config.threads)
    seed_everything(config.seed)
    return config


@dataclass(frozen=True)
class Settings:
    """Base of every study's typed settings: a frozen dataclass whose fields are profile parameters.

    :meth:`from_config` is the one way to build one from a :class:`RunConfig`: it takes the top-level parameters
    that are fields, lays the nested mapping ``dataset`` (when given) over them, and refuses a field the profile
    lacks. Nested mappings named in ``DATASETS`` hold per-dataset values; any other top-level name that is not a
    field is an error (a misspelt profile key), unless listed in ``IGNORED`` (parameters another part of the
    notebook reads, e.g. ``n_seeds``).
    """

    DATASETS: ClassVar[tuple[str, ...]] = ()
    IGNORED: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def from_config(cls, config: "RunConfig | Mapping[str, Any]", dataset: str | None = None, **values: Any):
        """Settings from ``config``'s parameters (or a plain mapping), with ``dataset``'s nested values and then
        ``values`` laid over them."""
        params = dict(config.params if isinstance(config, RunConfig) else config)
        names = {f.name for f in fields(cls) if f.init}
        blocks = set(cls.DATASETS)
        unknown = sorted(set(params) - names - blocks - set(cls.IGNORED) - {"n_seeds"})
        if unknown:
            raise ConfigError(f"{cls.__name__}: unknown parameter(s) {unknown} (known: {sorted(names | blocks)})")
        if dataset is not None:
            if dataset not in blocks:
                raise ConfigError(f"{cls.__name__}: unknown dataset {dataset!r} (known: {sorted(blocks)})")
            block = params.get(dataset) or {}
            extra = sorted(set(block) - names)
            if extra:
                raise ConfigError(f"{cls.__name__}: {dataset}: unknown parameter(s) {extra}")
            params.update(block)
        params.update(values)
        missing = [f.name for f in fields(cls) if f.init and f.name not in params
                   and f.default is MISSING and f.default_factory is MISSING]
        if missing:
            raise ConfigError(f"{cls.__name__}: the profile lacks {missing}")
        return cls(**{name: params[name] for name in names if name in params})

    def for_model(self, model: str, tuned: Mapping[str, Mapping[str, Any]] | None):
        """These settings with ``model``'s tuned values (``xrec_lib.tuning.load_tuned``) laid over them; a tuned
        knob that is not a field of the settings is an error (it would silently not apply)."""
        values = dict((tuned or {}).get(model) or {})
        unknown = sorted(set(values) - {f.name for f in fields(self) if f.init})
        if unknown:
            raise ConfigError(f"{type(self).__name__}: tuned values {unknown} of {model!r} are not settings")
        return replace(self, **values)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _coerce(name: str, value: Any, default: Any) -> Any:
    """Keep overrides the same kind as the profile value (ints stay ints, lists stay lists; an int is accepted
    for a float and becomes a float; a bool is never taken for a number or the reverse)."""
    if default is None or value is None:
        return value
    if isinstance(value, type(default)) and isinstance(value, bool) == isinstance(default, bool):
        return value
    if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    raise ConfigError(
        f"parameter {name!r} expects {type(default).__name__} (profile value {default!r}), got {value!r}"
    )


def _resolve_threads(threads: int | None) -> int:
    value = threads if threads is not None else os.environ.get("XREC_THREADS", 2)
    try:
        count = int(value)
    except ValueError:
        count = 0
    if count < 1:
        raise ConfigError(f"threads must be a positive integer (argument or XREC_THREADS), got {value!r}")
    return count


def _resolve_device(device: str | None) -> str:
    device = device or os.environ.get("XREC_DEVICE") or ("cuda" if torch.cuda.is_available() else "cpu")
    if device not in ("cpu", "cuda"):
        raise ConfigError(f"unknown device {device!r}; use 'cpu' or 'cuda'")
    return device


def _resolve_data_dir(data_dir: str | Path | None) -> Path | None:
    value = data_dir or os.environ.get("XREC_DATA_DIR")
    if not value:
        return None
    path = Path(value).expanduser().resolve()
    return path if path.is_dir() else None
