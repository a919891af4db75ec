"""Latent-space exploration without Qt: encodings, walks, the regulariser's view, comparisons, exports, point history and session files."""
