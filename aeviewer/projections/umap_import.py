"""Importing umap-learn without the compile waits it brings: numba's cache on, pynndescent deferred.

In a new process umap-learn 0.5 costs two waits that a map of up to
:data:`~aeviewer.projections.neighbours.EXACT_MAX` codes does not need:

- ``import umap`` imports pynndescent, which compiles its numba functions as it is imported (17 s here the
  first time, with an empty numba cache). Our neighbours are exact (:mod:`aeviewer.projections.neighbours`),
  so :func:`import_umap` hands umap-learn stand-ins for the three pynndescent names it imports, and
  :func:`use_pynndescent` puts the real ones in when a larger map needs its approximate search.
- umap-learn caches only ``rdist``: its layout epoch, ``fuzzy_simplicial_set``'s helpers and the rest
  compile again in every new process (10 s of a cold map). While umap is imported ``numba.njit`` /
  ``numba.jit`` default to ``cache=True`` (an explicit ``cache=`` is left as it is), so a new worker loads
  them from ``NUMBA_CACHE_DIR`` (:func:`aeviewer.util.paths.numba_cache_dir`).

Only the first dispatcher of a Python function is cached: umap jits its epoch twice (serial and
``parallel=True``) and numba's cache index does not tell the two apart, so the second could load the
first's code. Where no cache folder is writable numba refuses ``cache=True``; that function compiles as before.
"""
from __future__ import annotations

import contextlib
import sys
from types import ModuleType
from typing import Any, Callable, Iterator

PYNNDESCENT_NAMES = {  # what umap.umap_ imports from pynndescent, and where it lives there
    "NNDescent": ("pynndescent", "NNDescent"),
    "pynn_named_distances": ("pynndescent.distances", "named_distances"),
    "pynn_sparse_named_distances": ("pynndescent.sparse", "sparse_named_distances"),
}


def import_umap() -> ModuleType:
    """``umap`` (with ``umap.umap_`` and ``umap.layouts``); the first import goes as the module docstring says."""
    if "umap.umap_" not in sys.modules:
        with caching_by_default(), _pynndescent_deferred():
            import umap.layouts  # noqa: F401  (the epoch function lives here)
            import umap.umap_  # noqa: F401
    import umap

    return umap


def use_pynndescent() -> None:
    """Give umap-learn the real pynndescent (its nearest-neighbour search for maps too large for ours)."""
    import importlib

    umap_module = import_umap().umap_
    with caching_by_default():
        for name, (module, attribute) in PYNNDESCENT_NAMES.items():
            setattr(umap_module, name, getattr(importlib.import_module(module), attribute))


class _NotLoaded:
    """Stands in for pynndescent.NNDescent until :func:`use_pynndescent` (no instance is ever one of these)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("pynndescent is not loaded: call aeviewer.projections.umap_import.use_pynndescent() first")


@contextlib.contextmanager
def _pynndescent_deferred() -> Iterator[None]:
    if "pynndescent" in sys.modules:  # already paid for: nothing to defer
        yield
        return
    stand_ins = {name: ModuleType(name) for name in ("pynndescent", "pynndescent.distances", "pynndescent.sparse")}
    stand_ins["pynndescent"].NNDescent = _NotLoaded
    stand_ins["pynndescent.distances"].named_distances = {}  # euclidean is umap-learn's own metric
    stand_ins["pynndescent.sparse"].sparse_named_distances = {}
    sys.modules.update(stand_ins)
    try:
        yield
    finally:
        for name, module in stand_ins.items():
            if sys.modules.get(name) is module:
                del sys.modules[name]


@contextlib.contextmanager
def caching_by_default() -> Iterator[None]:
    """``numba.njit`` and ``numba.jit`` default to ``cache=True`` inside the block."""
    import numba

    seen: set[Any] = set()
    saved = numba.njit, numba.jit
    numba.njit, numba.jit = _caching(saved[0], seen), _caching(saved[1], seen)
    try:
        yield
    finally:
        numba.njit, numba.jit = saved


def _caching(decorator: Callable[..., Any], seen: set[Any]) -> Callable[..., Any]:
    def cached(*args: Any, **kws: Any) -> Any:
        if "cache" in kws:
            return decorator(*args, **kws)
        if args and callable(args[0]):  # numba.njit(func, **options)
            return _jit(decorator, args[0], args[1:], kws, seen)
        return lambda func: _jit(decorator, func, args, kws, seen)  # @numba.njit(signature, **options)

    return cached


def _jit(decorator: Callable[..., Any], func: Any, args: tuple, kws: dict, seen: set[Any]) -> Any:
    code = getattr(func, "__code__", None)
    if code is None or code in seen:
        return decorator(*args, **kws)(func)
    seen.add(code)
    try:
        return decorator(*args, cache=True, **kws)(func)
    except RuntimeError:  # "cannot cache function ...: no locator available"
        return decorator(*args, **kws)(func)
