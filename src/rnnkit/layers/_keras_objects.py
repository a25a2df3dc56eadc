"""A layer's Keras objects (`activation`, `*_initializer`, `*_regularizer`, `*_constraint`):
read from what the user passed, kept as attributes of the same names, and written back into the
config, in one place."""

from __future__ import annotations

from .. import activations, constraints, initializers, regularizers

_BY_SUFFIX = (("activation", activations), ("_initializer", initializers),
              ("_regularizer", regularizers), ("_constraint", constraints))


def _module(name: str):
    for suffix, module in _BY_SUFFIX:
        if name.endswith(suffix):
            return module
    raise KeyError(f"{name!r} names no activation, initializer, regularizer or constraint.")


def set_objects(layer, **values) -> None:
    """layer.<name> = the object `values[name]` names (a Keras name, config, instance or
    callable), checked by its module, whose errors name the layer."""
    for name, value in values.items():
        setattr(layer, name, _module(name).get(value, where=layer.name))


def objects_config(layer, *names) -> dict:
    """{name: the serialized layer.<name>} for a get_config."""
    return {name: _module(name).serialize(getattr(layer, name)) for name in names}
