"""What a script reaches on the main window: open a model trained outside aeviewer, read and set the current
point and the selected images (``aeviewer.show`` returns the window with these)."""
from __future__ import annotations

from typing import Any

from aeviewer.data.imageset import ImageSet
from aeviewer.errors import AeviewerError


class ScriptAccess:
    """Mixed into MainWindow; uses its ``session``, ``denoise_view`` and ``set_last_action``."""

    def open_foreign(self, model: Any, test_set: ImageSet, title: str | None = None,
                     dataset_name: str | None = None) -> None:
        """Explore ``model`` (an ``aeviewer.foreign.adapters.ForeignModel`` or one of ours) over ``test_set`` (called
        ``dataset_name``, default: the set's own name). Encoding the set may raise the model's
        ForeignModelError: the window is then left with no model. Later failures of the model become one
        line in the status bar."""
        name = title or getattr(model, "name", "your model")
        self.session.document.opened_foreign(None if model.trainable else name)
        try:
            self.session.set_model(model, dataset_name or test_set.name or "your data", test_set)
        except AeviewerError:
            self.session.set_model(None, "", None)
            raise
        if hasattr(model, "report"):
            model.report = self.set_last_action
        self.set_last_action(f"Opened {name} ({len(test_set):,} images in the scatter)")

    def current_point(self) -> Any:
        """The latent point the decoder shows, flat ``(L,)`` (None without a model)."""
        z = self.session.current_z
        return None if z is None else z.copy()

    def set_current_point(self, z: Any) -> None:
        """Make ``z`` (flat, or shaped like the model's latent) the current point."""
        self.session.set_current_z(z)
        self.session.flushRequested.emit()

    def selected_images(self) -> Any:
        """Indices of the test images in the denoise comparison."""
        return self.denoise_view.indices.copy()

    def set_selected_images(self, indices: Any) -> None:
        self.denoise_view.set_indices(indices)
