"""Keras-style lookup of configurable objects (initializers, regularizers, constraints): from an
instance, a snake_case name, a class name or a `{"class_name", "config"}` dict, and back."""

from __future__ import annotations

from ._errors import unknown_name


def resolve(kind: str, identifier, base: type, classes: dict, names: dict, where: str | None = None):
    """The object `identifier` stands for. Instances of `base` and plain callables pass through;
    names and dicts make a new object (dicts from their config)."""
    if isinstance(identifier, base) or callable(identifier) and not isinstance(identifier, type):
        return identifier
    if isinstance(identifier, dict):
        cls = classes.get(identifier.get("class_name"))
        if cls is not None:
            return cls.from_config(identifier.get("config") or {})
        identifier = identifier.get("class_name")
    if isinstance(identifier, str) and identifier in names:
        return names[identifier]()
    if isinstance(identifier, str) and identifier in classes:
        return classes[identifier]()
    raise unknown_name(kind, identifier, list(names), where)


def serialize(obj, base: type, names: dict) -> str | dict:
    """The short name when the object has its class's default config, else
    `{"class_name", "config"}`; a plain function is recorded by its name (reading it back fails
    with an error that names it, as in Keras)."""
    if not isinstance(obj, base):
        return getattr(obj, "__name__", type(obj).__name__)
    for name, cls in names.items():
        if type(obj) is cls and obj.get_config() == cls().get_config():
            return name
    return {"class_name": type(obj).__name__, "config": obj.get_config()}
