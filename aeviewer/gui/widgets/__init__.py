"""Our pyqtgraph items and small Qt helpers shared by the views."""
