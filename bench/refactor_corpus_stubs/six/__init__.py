"""Offline stand-in for six (super_resolution's data.py imports `six.moves.urllib`; never used offline)."""
from six import moves  # noqa: F401
