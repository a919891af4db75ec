"""The one exception type a user sees: its message is a single line that names the culprit."""


class AeviewerError(Exception):
    """A failure caused by the user's input or environment (bad file, missing data, bad argument).

    The CLI prints ``str(err)`` on one line and exits with status 2; the GUI shows it in a dialog.
    """


class DataError(AeviewerError):
    """A data set is missing, truncated, foreign or fails its checksum."""


class CheckpointError(AeviewerError):
    """A checkpoint file is truncated, foreign, from a newer version or does not match its config."""


class ConfigError(AeviewerError):
    """A model or training configuration asks for something that does not exist."""


class ForeignModelError(AeviewerError):
    """A model from outside aeviewer (Python object, callables, ONNX pair) cannot be explored: its encode
    or decode raised, returned NaN, the wrong shape or dtype, or was too slow; or its file is unusable."""


class Cancelled(AeviewerError):
    """A slow operation (loading a folder) was cancelled by its caller."""
