"""Base class of the callbacks that write checkpoints (they run after the module's epoch-end hooks)."""
from runtime.callbacks.callback import Callback


class Checkpoint(Callback):
    """Marker base: the trainer runs checkpoint callbacks last, after metrics logged at epoch end exist."""
