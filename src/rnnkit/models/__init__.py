"""Models: Sequential, and load_model for files written by `model.save()`."""

from .saving import load_model
from .sequential import Sequential

__all__ = ["Sequential", "load_model"]
