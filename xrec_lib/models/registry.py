"""Registries: one per model family, each beside its models, so that adding a model is its module plus one line.

    ENCODERS = Registry("encoder")

    @ENCODERS.register("LightGCN")
    def _lightgcn(graph, settings): ...

    ENCODERS.build("LightGCN", graph, settings)

An unknown name raises :class:`~xrec_lib.errors.ConfigError` listing the known ones.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

from xrec_lib.errors import ConfigError


class Registry:
    """Named builders of one model family (module docstring)."""

    def __init__(self, kind: str):
        self.kind = kind
        self._builders: dict[str, Callable[..., Any]] = {}

    def register(self, name: str, builder: Callable[..., Any] | None = None):
        """Register ``builder`` under ``name`` (usable as a decorator when ``builder`` is omitted)."""
        def add(function: Callable[..., Any]) -> Callable[..., Any]:
            if name in self._builders:
                raise ConfigError(f"{self.kind} {name!r} is registered twice")
            self._builders[name] = function
            return function
        return add if builder is None else add(builder)

    def check(self, name: str) -> str:
        """``name`` if registered, else a :class:`ConfigError` listing the known names."""
        if name not in self._builders:
            raise ConfigError(f"unknown {self.kind} {name!r}; choose one of {', '.join(self._builders)}")
        return name

    def build(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """The model ``name`` built from ``args``/``kwargs``."""
        return self._builders[self.check(name)](*args, **kwargs)

    def names(self) -> tuple[str, ...]:
        return tuple(self._builders)

    def __contains__(self, name: object) -> bool:
        return name in self._builders

    def __iter__(self) -> Iterator[str]:
        return iter(self._builders)

    def __len__(self) -> int:
        return len(self._builders)
