"""Datasets that need no download: generated series, ready for `fit`."""

from .generated import sine_windows

__all__ = ["sine_windows"]
