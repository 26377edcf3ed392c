"""Helpers of bench/media_grid.py: synthetic clips, candidate and proctor load processes."""
