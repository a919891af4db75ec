"""The decoder canvas and its tool tabs."""
