"""One place for the wording of user-facing errors."""

from __future__ import annotations

from difflib import get_close_matches


def unknown_name(kind: str, name: object, known: list[str], where: str | None = None) -> ValueError:
    """A ValueError for an unknown string identifier, with a suggestion."""
    prefix = f"{where}: " if where else ""
    hint = get_close_matches(str(name), known, n=1)
    maybe = f" Did you mean '{hint[0]}'?" if hint else ""
    return ValueError(
        f"{prefix}unknown {kind} {name!r}.{maybe} Expected one of: {', '.join(sorted(known))}."
    )
