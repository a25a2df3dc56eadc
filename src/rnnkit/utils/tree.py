"""Nested structures of lists, tuples and dicts, flattened and rebuilt as Keras's `tree` does:
dict values in sorted key order, anything else a leaf."""

from __future__ import annotations


def is_nested(value) -> bool:
    return isinstance(value, (list, tuple, dict))


def flatten(structure) -> list:
    """The leaves of `structure`, depth first; dicts by sorted key."""
    if isinstance(structure, dict):
        return [leaf for key in sorted(structure) for leaf in flatten(structure[key])]
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in flatten(item)]
    return [structure]


def map_structure(fn, structure):
    """`structure` with every leaf replaced by fn(leaf)."""
    return pack_as(structure, [fn(leaf) for leaf in flatten(structure)])


def pack_as(structure, leaves):
    """`leaves` arranged as `structure` (the inverse of `flatten`)."""
    leaves = list(leaves)
    expected = len(flatten(structure))
    if len(leaves) != expected:
        raise ValueError(f"expected {expected} values to fill the structure, got {len(leaves)}.")
    it = iter(leaves)

    def fill(s):
        if isinstance(s, dict):
            values = {key: fill(s[key]) for key in sorted(s)}
            return {key: values[key] for key in s}
        if isinstance(s, (list, tuple)):
            items = [fill(item) for item in s]
            return type(s)(*items) if hasattr(s, "_fields") else type(s)(items)
        return next(it)

    return fill(structure)
