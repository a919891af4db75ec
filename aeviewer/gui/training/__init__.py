"""The training panel: its form (from spec.options), the data row, the worker, run display and loss plot."""
