"""Noisy inputs beside what the model makes of them, and the draw canvas."""
