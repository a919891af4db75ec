"""``--model-module my_pkg.my_file:make_model``: import the user's own code and call its model factory.

This runs code the user chose (a module on the Python path, or a .py file given by path). It is the
only way aeviewer runs a user's code; a checkpoint never does (safetensors holds no code).
"""
from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

from aeviewer.errors import ForeignModelError
from aeviewer.foreign.adapters import _one_line


def load_factory(spec: str) -> Any:
    """The callable ``spec`` names: ``module.path:function`` or ``path/to/file.py:function``."""
    where, sep, name = spec.rpartition(":")
    if not sep or not where or not name.isidentifier():
        raise ForeignModelError(f"--model-module wants MODULE:FUNCTION or FILE.py:FUNCTION, got {spec!r}")
    module = _import_file(Path(where)) if where.endswith(".py") else _import_module(where)
    factory = getattr(module, name, None)
    if not callable(factory):
        raise ForeignModelError(f"{where} has no function {name!r}")
    return factory


def make_model(spec: str) -> Any:
    """Import ``spec``'s module and call its factory with no arguments; the model it returns."""
    factory = load_factory(spec)
    try:
        return factory()
    except Exception as err:  # the user's code
        raise ForeignModelError(f"{spec} raised {_one_line(err)}") from None


def _import_module(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as err:
        raise ForeignModelError(f"cannot import {name!r} ({err}); is it on the Python path?") from None
    except Exception as err:
        raise ForeignModelError(f"importing {name!r} raised {_one_line(err)}") from None


def _import_file(path: Path) -> Any:
    if not path.is_file():
        raise ForeignModelError(f"{path}: no such file")
    name = f"aeviewer_user_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ForeignModelError(f"{path}: cannot be imported as a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look a module up by name
    sys.path.insert(0, str(path.parent.resolve()))  # so that it can import its neighbours
    try:
        spec.loader.exec_module(module)
    except Exception as err:
        sys.modules.pop(name, None)
        raise ForeignModelError(f"importing {path} raised {_one_line(err)}") from None
    finally:
        sys.path.remove(str(path.parent.resolve()))
    return module
