"""Keras's `keras.saving`: load_model, save_model, and the registry of a user's own classes
that configs name (`register_keras_serializable`, `get_custom_objects`)."""

from __future__ import annotations

from .models.saving import ModelFileError, load_model
from .models.saving import save_model as _save_model

_CUSTOM_OBJECTS: dict[str, type] = {}


def save_model(model, filepath, overwrite: bool = True) -> None:
    """model.save(filepath), as a function."""
    _save_model(model, filepath, overwrite=overwrite)


def register_keras_serializable(package: str = "Custom", name: str | None = None):
    """A class decorator: configs that name the class (`MyLayer`, or `package>MyLayer`) load
    without passing it in `custom_objects`.

    >>> @register_keras_serializable()
    ... class Scale(Layer):
    ...     pass
    """
    def register(cls):
        key = name or cls.__name__
        _CUSTOM_OBJECTS[key] = _CUSTOM_OBJECTS[f"{package}>{key}"] = cls
        return cls
    return register


def get_custom_objects() -> dict[str, type]:
    """The registry itself (Keras lets code add to it directly)."""
    return _CUSTOM_OBJECTS


__all__ = ["load_model", "save_model", "register_keras_serializable", "get_custom_objects",
           "ModelFileError"]
