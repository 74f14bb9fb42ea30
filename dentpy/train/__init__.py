"""Training: one readable loop (``fit``), checkpoints, early stopping, cross-validation, DDP.

``from dentpy.train import fit`` is all a chapter needs; the submodules hold one idea each:
``loop`` (fit, predict, EarlyStopping), ``history`` (History), ``checkpoint`` (atomic
save/load, random states), ``cv`` (cross_validate), ``evaluate`` (chance_level, and
score_test, which scores the test set once) and ``distributed`` (torchrun helpers).

The honest path: ``fit`` chooses the epoch on validation and restores its weights
(``history.best_epoch``, ``history.at_best("val_accuracy")``); ``chance_level`` says what a
model that learned nothing scores; ``score_test`` scores the chosen model on the test set once.
"""

from dentpy.train.checkpoint import load_checkpoint, save_checkpoint
from dentpy.train.cv import CVResult, FoldResult, cross_validate, fold_indices
from dentpy.train.distributed import init_distributed, is_main_process
from dentpy.train.evaluate import Chance, HeldOutScore, chance_level, score_test, scored_tests
from dentpy.train.history import History
from dentpy.train.loop import EarlyStopping, fit, predict

__all__ = [
    "CVResult", "Chance", "EarlyStopping", "FoldResult", "HeldOutScore", "History",
    "chance_level", "cross_validate", "fit", "fold_indices", "init_distributed",
    "is_main_process", "load_checkpoint", "predict", "save_checkpoint", "score_test",
    "scored_tests",
]
