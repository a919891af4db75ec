"""The one list of 2-D views: each kind, what it needs, its parameters with their ranges and defaults.

The GUI builds its projection choices and parameter fields from :data:`KINDS`; the CLI, the worker and
the cache read parameters through :func:`checked_params`, so a value is validated in one place.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from aeviewer.errors import ConfigError

MAPS_EXTRA_HINT = "pip install 'aeviewer[maps]'"


@dataclass(frozen=True)
class Param:
    """One numeric parameter of a projection kind."""

    name: str
    label: str
    default: float
    minimum: float
    maximum: float
    integer: bool = False
    tooltip: str = ""

    def check(self, value: Any) -> float | int:
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{self.name} must be a number, got {value!r}") from None
        if self.integer and number != int(number):
            raise ConfigError(f"{self.name} must be a whole number, got {value!r}")
        if not self.minimum <= number <= self.maximum:
            raise ConfigError(f"{self.name} must be in {self.minimum:g}..{self.maximum:g}, got {number:g}")
        return int(number) if self.integer else number


@dataclass(frozen=True)
class Kind:
    """A projection kind. ``linear``: fitted at once on the GUI thread with an exact inverse (identity, pair,
    PCA); otherwise a map computed by the worker process and inverted by interpolation. ``module``: the
    package a map needs (installed by the ``maps`` extra)."""

    name: str
    label: str
    linear: bool
    tooltip: str
    params: tuple[Param, ...] = field(default=())
    module: str = ""


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("identity", "Latent axes", True, "The 2-dim latent itself, no projection"),
    Kind("pair", "Two dims", True, "Two chosen latent dims; the others stay where the current point has them"),
    Kind("pca", "PCA", True, "The plane of the two leading principal axes (exact inverse)"),
    Kind("umap", "UMAP", False,
         "Uniform manifold approximation (umap-learn): keeps neighbourhoods; clicks decode by interpolating "
         "the codes around the place",
         (Param("n_neighbors", "Neighbours", 15, 2, 200, True,
                "How many neighbours make a point's neighbourhood: small keeps local detail, large the global shape"),
          Param("min_dist", "Min distance", 0.1, 0.0, 1.0, False,
                "How tightly points may pack together on the map (0 = clumps, 1 = evenly spread)")),
         module="umap"),
    Kind("tsne", "t-SNE", False,
         "t-distributed stochastic neighbour embedding (openTSNE): keeps neighbourhoods; clicks decode by "
         "interpolating the codes around the place",
         (Param("perplexity", "Perplexity", 30, 2, 200, False,
                "The effective number of neighbours each point attends to (5-50 is usual)"),),
         module="openTSNE"),
)}

MAP_KINDS = tuple(name for name, kind in KINDS.items() if not kind.linear)


def kind_of(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        raise ConfigError(f"unknown projection {name!r}; choose one of {', '.join(KINDS)}") from None


def default_params(name: str) -> dict[str, float | int]:
    return {p.name: (int(p.default) if p.integer else float(p.default)) for p in kind_of(name).params}


def checked_params(name: str, params: Mapping[str, Any] | None = None) -> dict[str, float | int]:
    """The kind's defaults overridden by ``params``, each validated; an unknown name is an error."""
    kind = kind_of(name)
    given = dict(params or {})
    unknown = sorted(set(given) - {p.name for p in kind.params})
    if unknown:
        raise ConfigError(f"{kind.label} has no parameter {unknown[0]!r}; it takes {', '.join(p.name for p in kind.params) or 'none'}")
    return {p.name: p.check(given.get(p.name, p.default)) for p in kind.params}


def require_module(name: str) -> None:
    """Raise a one-line ConfigError naming the install command when the kind's package is missing."""
    import importlib.util

    kind = kind_of(name)
    if kind.module and importlib.util.find_spec(kind.module) is None:
        raise ConfigError(f"{kind.label} needs the {kind.module} package: {MAPS_EXTRA_HINT}")
