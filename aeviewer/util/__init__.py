"""Helpers every layer may use, importing nothing of ours above them: atomic writes, the shipped and per-user folders, image arrays."""
