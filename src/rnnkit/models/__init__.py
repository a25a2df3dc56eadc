"""Models: Model (the Functional API, `Model(inputs, outputs)`, and subclassed models),
Sequential, and load_model for files written by `model.save()` (ModelFileError for any file
that cannot be read as one)."""

from .functional import Functional
from .model import Model
from .saving import ModelFileError, load_model
from .sequential import Sequential

__all__ = ["Model", "Functional", "Sequential", "load_model", "ModelFileError"]
