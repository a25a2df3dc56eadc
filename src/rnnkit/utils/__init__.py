"""Small helpers: session-wide names, seeding, sequence arrays and Python datasets."""

from .naming import clear_session
from .py_dataset import PyDataset, Sequence, split_dataset
from .seeding import set_random_seed
from .sequences import normalize, pad_sequences, to_categorical
from .timeseries import timeseries_dataset_from_array

__all__ = ["clear_session", "set_random_seed", "PyDataset", "Sequence", "split_dataset",
           "normalize", "pad_sequences", "to_categorical", "timeseries_dataset_from_array"]
