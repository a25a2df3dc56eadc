"""Datasets that need no download: generated series, ready for `fit`."""

from .generated import sine_windows
from .memory import adding_problem, copy_task

__all__ = ["sine_windows", "adding_problem", "copy_task"]
