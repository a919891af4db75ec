"""Importing the map packages (projections/umap_import.py, maps.py): numba's cache on while umap-learn is imported,
pynndescent deferred until a map needs it (a t-SNE never does), and a UMAP too large for the exact neighbours
still fitted through it."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile

import pytest

from aeviewer.projections.umap_import import caching_by_default

TEST_NUMBA = os.path.join(tempfile.gettempdir(), f"aeviewer-test-numba-{os.getuid()}")  # as test_map_worker.py


def _plain(x):
    return x + 1


def _twice(x):
    return x * 2


def _left_alone(x):
    return x - 1


@pytest.mark.filterwarnings("ignore::numba.NumbaPerformanceWarning")  # parallel=True on code with no loop
def test_jit_caches_by_default_inside_the_block_once_per_function_and_not_after():
    numba = pytest.importorskip("numba")
    original = numba.njit
    with caching_by_default():
        cached = numba.njit(_plain)
        serial, parallel = numba.njit(_twice, fastmath=True), numba.njit(parallel=True)(_twice)
        explicit = numba.njit(cache=False)(_left_alone)
        eager = numba.njit("f8(f8)")(lambda x: x)  # a signature: compiled at once, and lambdas cache too
    after = numba.njit(_left_alone)
    assert numba.njit is original
    kinds = {name: type(d._cache).__name__ for name, d in
             dict(cached=cached, serial=serial, parallel=parallel, explicit=explicit, eager=eager, after=after).items()}
    assert kinds == dict(cached="FunctionCache", serial="FunctionCache", parallel="NullCache",
                         explicit="NullCache", eager="FunctionCache", after="NullCache")
    assert cached(1) == 2 and parallel(3.0) == 6.0 and eager(2.5) == 2.5


def _run(code: str) -> str:
    env = dict(os.environ, NUMBA_CACHE_DIR=os.environ.get("NUMBA_CACHE_DIR", TEST_NUMBA), OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_a_new_process_imports_umap_without_pynndescent_and_caches_its_epoch():
    pytest.importorskip("umap")
    out = _run(
        "import sys\n"
        "from aeviewer.projections.umap_import import import_umap\n"
        "umap = import_umap()\n"
        "print('pynndescent' in sys.modules)\n"
        "print(type(umap.layouts._nb_optimize_layout_euclidean_single_epoch._cache).__name__)\n"
        "print(type(umap.umap_.smooth_knn_dist._cache).__name__)\n"
        "print(umap.umap_.NNDescent.__module__)\n")
    assert out.split() == ["False", "FunctionCache", "FunctionCache", "aeviewer.projections.umap_import"]


def test_a_tsne_map_in_a_new_process_never_imports_pynndescent():
    pytest.importorskip("openTSNE")
    out = _run(
        "import sys\n"
        "import numpy as np\n"
        "from aeviewer.projections.maps import fit_map\n"
        "z = np.random.default_rng(0).normal(size=(1000, 8)).astype(np.float32)\n"  # 1,000: Annoy, not exact
        "fitted = fit_map('tsne', z)\n"
        "print('pynndescent' in sys.modules, fitted.transform(z[:2]).shape)\n")
    assert out.split() == ["False", "(2,", "2)"]


@pytest.mark.slow
def test_a_map_too_large_for_exact_neighbours_is_fitted_with_the_real_pynndescent():
    pytest.importorskip("umap")
    out = _run(
        "import numpy as np\n"
        "from aeviewer.projections import neighbours\n"
        "from aeviewer.projections.maps import fit_map\n"
        "import umap\n"
        "neighbours.EXACT_MAX = 100\n"
        "z = np.random.default_rng(0).normal(size=(300, 8)).astype(np.float32)\n"
        "fitted = fit_map('umap', z)\n"
        "import pynndescent\n"
        "print(umap.umap_.NNDescent is pynndescent.NNDescent, fitted.coords.shape, bool(np.isfinite(fitted.coords).all()))\n")
    assert out.split() == ["True", "(300,", "2)", "True"]


def test_the_map_child_process_imports_no_torch():
    """The child is spawned and imports only the worker's modules: torch (seconds, and memory) stays out of it.
    (import-linter's contract in pyproject.toml checks the static imports; this checks the process.)"""
    out = _run(
        "import sys\n"
        "import aeviewer.projections, aeviewer.projections.worker, aeviewer.projections.maps\n"
        "import aeviewer.projections.cache, aeviewer.projections.neighbours, aeviewer.projections.umap_import\n"
        "print(sorted(name for name in sys.modules if name == 'torch' or name.startswith('torch.')))\n")
    assert out.strip() == "[]"
