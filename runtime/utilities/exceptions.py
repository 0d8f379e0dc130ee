"""Exceptions raised by the runtime (Lightning's names)."""


class MisconfigurationException(Exception):
    """A Trainer flag, a hook's return value or a user setting is wrong; the message says how to fix it."""
