"""Models: Sequential, and load_model for files written by `model.save()` (ModelFileError for
any file that cannot be read as one)."""

from .saving import ModelFileError, load_model
from .sequential import Sequential

__all__ = ["Sequential", "load_model", "ModelFileError"]
