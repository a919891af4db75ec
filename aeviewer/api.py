"""The Python API: ``aeviewer.show(...)`` opens any autoencoder in the main window with one call.

    import aeviewer
    window = aeviewer.show(model, images)                          # an object with encode/decode
    window = aeviewer.show(encode=enc, decode=dec, data=images)    # two callables
    window = aeviewer.show(aeviewer.onnx_model("enc.onnx", "dec.onnx"), "mnist")

Everything about the model is checked on one batch of the data before any window opens (a
:class:`~aeviewer.errors.ForeignModelError` otherwise); see :mod:`aeviewer.foreign.adapters` for what a model may
bring and :mod:`aeviewer.foreign.api_data` for what data may be.
"""
from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Callable, Sequence

from aeviewer.foreign.api_data import as_image_set
from aeviewer.foreign.adapters import adapt

if TYPE_CHECKING:
    from aeviewer.gui.window.main_window import MainWindow

_OPEN_WINDOWS: list[Any] = []  # windows shown with block=False live until closed, even if the caller drops them


def show(model: Any = None, data: Any = None, *, encode: Callable[[Any], Any] | None = None,
         decode: Callable[[Any], Any] | None = None, labels: Any = None, class_names: Sequence[str] | None = None,
         title: str | None = None, block: bool = True) -> "MainWindow":
    """Open ``model`` (or ``encode=``/``decode=``) over ``data`` in the main window and return the window.

    From a script this blocks until the window is closed. With ``block=False``, or when a Qt event loop
    already runs (IPython/Jupyter after ``%gui qt``, or a call from inside a Qt app), it returns at once
    and the window stays live: ``window.current_point()``, ``window.set_current_point(z)``,
    ``window.selected_images()`` and ``window.set_selected_images(indices)`` read and set it.
    An aeviewer model (``aeviewer.load_model(path)``) opens as it is, trainable.
    """
    from aeviewer.models.base import Autoencoder

    if data is None:
        raise TypeError("show() needs data: images to encode (an array, tensor, ImageSet, data set name or Dataset)")
    images, layout = as_image_set(data, labels, class_names)
    explorable = model if isinstance(model, Autoencoder) else adapt(model, images, encode=encode, decode=decode,
                                                                     data_layout=layout)
    return open_window(explorable, images, title, block)


def open_window(model: Any, images: Any, title: str | None, block: bool) -> "MainWindow":
    """The main window exploring ``model`` over ``images``; runs the event loop when ``block`` and none runs."""
    from aeviewer.gui.app import create_main_window, ensure_app

    app = ensure_app()
    # Encoded before show() returns, unlike the app: a model that fails on the whole set raises here, in the
    # caller's notebook cell, instead of a status line in a window already open.
    window = create_main_window(open_default=False, background_encoding=False)
    try:
        window.open_foreign(model, images, title)
    except BaseException:
        window.deleteLater()  # never shown
        raise
    window.show()
    window.raise_()
    if block and not event_loop_running(app):
        app.exec()
    else:
        _OPEN_WINDOWS[:] = [w for w in _OPEN_WINDOWS if w.isVisible()] + [window]
    return window


def event_loop_running(app: Any) -> bool:
    """Whether a Qt event loop already runs: IPython's ``%gui qt`` input hook, or an ``exec`` further up."""
    if app.thread().loopLevel() > 0:
        return True
    shell = sys.modules.get("IPython")
    ip = shell.get_ipython() if shell is not None and hasattr(shell, "get_ipython") else None
    return str(getattr(ip, "active_eventloop", "") or "").startswith("qt")
