"""Small helpers: session-wide names and seeding."""

from .naming import clear_session
from .seeding import set_random_seed

__all__ = ["clear_session", "set_random_seed"]
