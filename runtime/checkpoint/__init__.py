"""Checkpoint files: atomic writes and clear errors on load."""
