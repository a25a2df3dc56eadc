"""fit's progress bar: `rnnkit.callbacks.ProgbarLogger` (its one implementation lives in
callbacks/progbar_logger.py); kept here for the names older code imports."""

from __future__ import annotations

from ..callbacks.progbar_logger import ProgbarLogger, resolve_verbose

__all__ = ["ProgbarLogger", "resolve_verbose"]
