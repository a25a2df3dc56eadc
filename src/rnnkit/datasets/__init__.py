"""Datasets that need no download, ready for `fit`: generated tasks (sine waves, the adding
problem, the copy task), real data shipped inside packages (see `real`), a sentiment corpus read
from an archive the user fetched once (see `sentiment`), and Keras's `imdb`, `reuters` and `mnist`
modules reading the files Keras keeps in its cache (`~/.keras/datasets/`), never downloading."""

from . import imdb, mnist, reuters
from .generated import sine_windows
from .memory import adding_problem, copy_task
from .real import load_co2, load_digits, load_mnist, load_sunspots, load_text
from .sentiment import load_sentiment

__all__ = ["sine_windows", "adding_problem", "copy_task", "load_sunspots", "load_co2",
           "load_digits", "load_mnist", "load_text", "load_sentiment", "imdb", "reuters", "mnist"]
