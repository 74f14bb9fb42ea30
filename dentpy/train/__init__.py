"""Training: one readable loop (``fit``), checkpoints, early stopping, cross-validation, DDP.

``from dentpy.train import fit`` is all a chapter needs; the submodules hold one idea each:
``loop`` (fit, predict, EarlyStopping), ``history`` (History), ``checkpoint`` (atomic
save/load, random states), ``cv`` (cross_validate) and ``distributed`` (torchrun helpers).
"""

from dentpy.train.checkpoint import load_checkpoint, save_checkpoint
from dentpy.train.cv import CVResult, FoldResult, cross_validate, fold_indices
from dentpy.train.distributed import init_distributed, is_main_process
from dentpy.train.history import History
from dentpy.train.loop import EarlyStopping, fit, predict

__all__ = [
    "CVResult", "EarlyStopping", "FoldResult", "History", "cross_validate", "fit",
    "fold_indices", "init_distributed", "is_main_process", "load_checkpoint", "predict",
    "save_checkpoint",
]
