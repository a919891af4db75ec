"""Two or more models side by side."""
