"""Datasets that need no download, ready for `fit`: generated tasks (sine waves, the adding
problem, the copy task) and real data shipped inside packages (see `real`)."""

from .generated import sine_windows
from .memory import adding_problem, copy_task
from .real import load_co2, load_digits, load_sunspots, load_text

__all__ = ["sine_windows", "adding_problem", "copy_task", "load_sunspots", "load_co2",
           "load_digits", "load_text"]
