"""Keras callbacks: hooks that fit/evaluate/predict call at the start and end of each phase."""

from .backup_and_restore import BackupAndRestore
from .base import (Callback, CallbackList, EarlyStopping, History, LambdaCallback,
                   ModelCheckpoint, MonitorCallback, TerminateOnNaN)
from .csv_logger import CSVLogger
from .learning_rate import LearningRateScheduler, ReduceLROnPlateau
from .progbar_logger import ProgbarLogger
from .tensorboard import TensorBoard

__all__ = ["Callback", "CallbackList", "History", "LambdaCallback", "TerminateOnNaN",
           "MonitorCallback", "EarlyStopping", "ModelCheckpoint", "LearningRateScheduler",
           "ReduceLROnPlateau", "CSVLogger", "ProgbarLogger", "BackupAndRestore", "TensorBoard"]
