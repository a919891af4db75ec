"""The desktop app (PySide6 + pyqtgraph): a view over the core; ``app.create_main_window`` builds it."""
