"""One readable training loop: ``fit`` a model, epoch by epoch, with checkpoints.

Each epoch trains on ``train_loader``, evaluates on ``val_loader``, steps the scheduler,
appends losses and metrics to a :class:`History`, saves ``last.pt`` (and ``best.pt`` when the
monitored value improves) and checks early stopping. The best model is chosen on the
validation split, never on a test set. The same call runs unchanged under ``torchrun``.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

import dentpy
from dentpy import _checks
from dentpy.runtime import get_device
from dentpy.train import distributed as ddp
from dentpy.train.checkpoint import load_checkpoint, rng_state, save_checkpoint, set_rng_state
from dentpy.train.history import MODES, History

LAST, BEST = "last.pt", "best.pt"
Metric = Callable[[torch.Tensor, torch.Tensor], Any]


@dataclass(frozen=True)
class EarlyStopping:
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs."""

    patience: int = 5
    min_delta: float = 0.0

    def __post_init__(self) -> None:
        _checks.integer("patience", self.patience, low=1)
        _checks.number("min_delta", self.min_delta, low=0)


def _check_model(model: Any) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise _checks.ArgumentTypeError(
            f"model must be a torch.nn.Module, got {_checks.describe(model)}"
        )
    return model


def _check_device(device: Any) -> str:
    """``device`` as a name :func:`dentpy.runtime.get_device` reads; errors name ``device``."""
    if isinstance(device, torch.device):
        return str(device)
    if not isinstance(device, str):
        raise _checks.ArgumentTypeError(
            "device must be 'auto', 'cpu', 'cuda', 'cuda:N', 'mps' or a torch.device, got "
            f"{_checks.describe(device)}"
        )
    return device


def _get_device(device: Any) -> torch.device:
    name = _check_device(device)
    try:
        return get_device(name)
    except ValueError as err:
        raise _checks.ArgumentError(
            f"device must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps' (one this machine has), "
            f"got {name!r}: {err}"
        ) from err


def _resolve_eval_device(model: nn.Module, device: Any) -> torch.device:
    """``device``, or the device of the model's first parameter when ``None``."""
    if device is None:
        first = next(model.parameters(), None)
        return first.device if first is not None else torch.device("cpu")
    return _get_device(device)


def _split_batch(batch: Any, input_key: str, target_key: str) -> tuple[Any, Any]:
    """``(inputs, targets)`` from a ``(x, y)`` pair or a dict with ``input_key``/``target_key``."""
    if isinstance(batch, Mapping):
        missing = [key for key in (input_key, target_key) if key not in batch]
        if missing:
            raise ValueError(
                f"batch: dict batches need the keys {missing} (set input_key=/target_key=); "
                f"this batch has {sorted(batch)}"
            )
        return batch[input_key], batch[target_key]
    if isinstance(batch, (tuple, list)) and len(batch) == 2:
        return batch[0], batch[1]
    raise ValueError(
        "batch: expected an (inputs, targets) pair or a dict with input_key/target_key, "
        f"got {type(batch).__name__}" + (f" of length {len(batch)}" if hasattr(batch, "__len__")
                                         else "")
    )


def _to_device(obj: Any, device: torch.device) -> Any:
    if isinstance(obj, torch.Tensor):
        return obj.to(device, non_blocking=True)
    if isinstance(obj, Mapping):
        return {key: _to_device(value, device) for key, value in obj.items()}
    if isinstance(obj, (tuple, list)):
        return type(obj)(_to_device(value, device) for value in obj)
    return obj


def _batch_size(inputs: Any) -> int:
    if isinstance(inputs, torch.Tensor):
        return int(inputs.shape[0])
    if isinstance(inputs, Mapping):
        return _batch_size(next(iter(inputs.values())))
    if isinstance(inputs, (tuple, list)):
        return _batch_size(inputs[0]) if isinstance(inputs[0], torch.Tensor) else len(inputs)
    raise ValueError(f"batch: cannot tell the batch size of inputs of type {type(inputs).__name__}")


def _loader_generators(*loaders: DataLoader | None) -> list[torch.Generator]:
    """The distinct random generators a loader draws from (its own and its sampler's)."""
    found: list[torch.Generator] = []
    for loader in loaders:
        if loader is None:
            continue
        batch_sampler = getattr(loader, "batch_sampler", None)
        for holder in (loader, getattr(loader, "sampler", None),
                       getattr(batch_sampler, "sampler", None)):
            generator = getattr(holder, "generator", None)
            if isinstance(generator, torch.Generator) and all(g is not generator for g in found):
                found.append(generator)
    return found


def _progress_enabled(progress: bool) -> bool:
    quiet_ci = bool(os.environ.get("CI")) and not sys.stderr.isatty()
    return bool(progress) and ddp.is_main_process() and not quiet_ci


def _history_columns(has_val: bool, metrics: Mapping[str, Metric]) -> list[str]:
    splits = ("train", "val") if has_val else ("train",)
    return [f"{split}_{name}" for split in splits for name in ("loss", *metrics)]


def _resolve_device(device: str | torch.device, distributed: bool) -> torch.device:
    resolved = _get_device(device)
    if distributed and resolved.type == "cuda" and resolved.index is None:
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return resolved


def fit(
    model: nn.Module,
    train_loader: DataLoader,
    val_loader: DataLoader | None,
    loss_fn: Callable[[Any, Any], torch.Tensor],
    optimizer: torch.optim.Optimizer,
    epochs: int,
    *,
    scheduler: Any = None,
    scheduler_interval: str = "epoch",
    metrics: Mapping[str, Metric] | None = None,
    device: str | torch.device = "auto",
    amp: bool = False,
    compile: bool = False,
    max_grad_norm: float | None = None,
    checkpoint_dir: str | os.PathLike | None = None,
    resume: bool = False,
    early_stopping: EarlyStopping | int | None = None,
    monitor: str = "val_loss",
    mode: str = "min",
    restore_best: bool = True,
    input_key: str = "image",
    target_key: str = "label",
    config: Mapping[str, Any] | None = None,
    progress: bool = True,
) -> History:
    """Train ``model`` for ``epochs`` epochs and return its :class:`History`.

    Batches are ``(inputs, targets)`` pairs or dicts read at ``input_key``/``target_key``
    (default ``"image"``/``"label"``). ``loss_fn(outputs, targets)`` must return the batch
    mean; the epoch loss is the sample-weighted mean over batches. ``metrics`` maps a name to
    ``metric(outputs, targets)``, computed once per epoch on the concatenated raw outputs
    (e.g. logits, on the CPU) of each split; they appear as ``train_<name>`` and
    ``val_<name>``.

    ``monitor``/``mode`` choose the best epoch (default: lowest ``val_loss``); with
    ``restore_best`` the model ends with the best epoch's weights. ``early_stopping`` (an
    :class:`EarlyStopping` or a patience) stops when ``monitor`` stalls.
    ``scheduler`` steps once per epoch (``ReduceLROnPlateau`` gets the monitored value) or
    after every batch with ``scheduler_interval="batch"``.

    ``checkpoint_dir`` receives ``last.pt`` after every epoch and ``best.pt`` at each new best:
    weights, optimizer, scheduler, epoch, random states (Python, NumPy, torch, CUDA and the
    loaders' generators), history, config and the dentpy version. ``resume=True`` continues
    from ``last.pt`` (or starts afresh if there is none) and reaches the same weights as an
    uninterrupted run on the CPU.

    ``progress`` shows tqdm bars (epochs, and batches within an epoch); they stay quiet when
    ``$CI`` is set and stderr is not a terminal, so CI logs hold no bar noise.

    ``amp`` (float16 autocast with gradient scaling) and ``compile`` (``torch.compile``) act on
    CUDA only; elsewhere they are ignored. Under ``torchrun`` (``WORLD_SIZE > 1``) the model is
    wrapped in ``DistributedDataParallel``, each process reads its shard of the loaders
    (``batch_size`` is per process) and only rank 0 shows progress and writes checkpoints.
    """
    _check_model(model)
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise _checks.ArgumentTypeError(
            f"optimizer must be a torch.optim.Optimizer, got {_checks.describe(optimizer)}"
        )
    if not callable(loss_fn):
        raise _checks.ArgumentTypeError(
            f"loss_fn must be callable, got {_checks.describe(loss_fn)}"
        )
    epochs = _checks.integer("epochs", epochs, low=1)
    for name, loader in (("train_loader", train_loader), ("val_loader", val_loader)):
        if loader is None and name == "val_loader":
            continue
        if not isinstance(loader, DataLoader):
            raise _checks.ArgumentTypeError(
                f"{name} must be a torch DataLoader, got {_checks.describe(loader)}"
            )
        if len(loader) == 0:
            raise _checks.ArgumentError(f"{name} is empty (0 batches)")
    _checks.choice("mode", mode, MODES)
    _checks.choice("scheduler_interval", scheduler_interval, ("epoch", "batch"))
    if scheduler is not None and not callable(getattr(scheduler, "step", None)):
        raise _checks.ArgumentTypeError(
            "scheduler must be None or a learning-rate scheduler (with a step() method), got "
            f"{_checks.describe(scheduler)}"
        )
    for name, value in (("metrics", metrics), ("config", config)):
        if value is not None and not isinstance(value, Mapping):
            raise _checks.ArgumentTypeError(
                f"{name} must be None or a dict, got {_checks.describe(value)}"
            )
    for name, value in (("amp", amp), ("compile", compile), ("resume", resume),
                        ("restore_best", restore_best), ("progress", progress)):
        _checks.flag(name, value)
    for name, value in (("input_key", input_key), ("target_key", target_key)):
        if not isinstance(value, str):
            raise _checks.ArgumentTypeError(
                f"{name} must be a string (a dict batch's key), got {_checks.describe(value)}"
            )
    _check_device(device)
    metrics = dict(metrics or {})
    for name, metric in metrics.items():
        if not isinstance(name, str) or name == "loss" or not callable(metric):
            raise ValueError(f"metrics must map names (not 'loss') to callables, got {name!r}")
    columns = _history_columns(val_loader is not None, metrics)
    _checks.choice("monitor", monitor, columns)
    if isinstance(early_stopping, int) and not isinstance(early_stopping, bool):
        early_stopping = EarlyStopping(patience=early_stopping)
    if early_stopping is not None and not isinstance(early_stopping, EarlyStopping):
        raise ValueError(
            f"early_stopping must be None, an int or EarlyStopping, got {early_stopping!r}"
        )
    if max_grad_norm is not None:
        max_grad_norm = _checks.number("max_grad_norm", max_grad_norm, low=0, low_open=True)
    if resume and checkpoint_dir is None:
        raise _checks.ArgumentError(
            "resume=True needs checkpoint_dir (the folder holding last.pt)"
        )
    if checkpoint_dir is not None:
        checkpoint_dir = _checks.output_path("checkpoint_dir", checkpoint_dir, kind="dir")

    distributed = ddp.init_distributed()
    dev = _resolve_device(device, distributed)
    model.to(dev)
    net: nn.Module = model
    if distributed:
        train_loader = ddp.shard_loader(train_loader, train=True)
        if val_loader is not None:
            val_loader = ddp.shard_loader(val_loader, train=False)
        net = nn.parallel.DistributedDataParallel(
            model, device_ids=[dev.index] if dev.type == "cuda" else None
        )
    on_cuda = dev.type == "cuda"
    if compile and on_cuda:
        net = torch.compile(net)
    eval_net = model if distributed else net
    use_amp = bool(amp) and on_cuda
    scaler = torch.amp.GradScaler("cuda") if use_amp else None
    autocast = (
        (lambda: torch.autocast("cuda", dtype=torch.float16)) if use_amp else contextlib.nullcontext
    )

    generators = _loader_generators(train_loader, val_loader)
    history = History(monitor=monitor, mode=mode)
    folder = Path(checkpoint_dir) if checkpoint_dir is not None else None
    best_state: dict[str, torch.Tensor] | None = None
    if folder is not None and ddp.is_main_process():
        folder.mkdir(parents=True, exist_ok=True)
    ddp.barrier()
    if resume and (folder / LAST).is_file():
        state = load_checkpoint(folder / LAST, map_location=dev)
        missing = [key for key in ("model", "optimizer", "history", "rng") if key not in state]
        if missing:
            raise _checks.ArgumentError(
                f"checkpoint_dir: {str(folder / LAST)!r} was not written by fit "
                f"(it lacks {missing}); resume from a folder fit wrote, or use another folder"
            )
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if scheduler is not None and state.get("scheduler") is not None:
            scheduler.load_state_dict(state["scheduler"])
        if scaler is not None and state.get("scaler") is not None:
            scaler.load_state_dict(state["scaler"])
        history = History.from_dict(state["history"])
        if (history.monitor, history.mode) != (monitor, mode):
            raise ValueError(
                f"monitor/mode ({monitor!r}, {mode!r}) differ from the checkpoint's "
                f"({history.monitor!r}, {history.mode!r})"
            )
        set_rng_state(state["rng"], generators)
        if restore_best and (folder / BEST).is_file():
            best_state = load_checkpoint(folder / BEST)["model"]

    run_config = {
        "epochs": epochs, "monitor": monitor, "mode": mode, "device": str(dev),
        "amp": use_amp, "compile": bool(compile and on_cuda), "world_size": ddp.world_size(),
        "batch_size": train_loader.batch_size, "max_grad_norm": max_grad_norm,
        "early_stopping": asdict(early_stopping) if early_stopping else None,
        "model": type(model).__name__, "optimizer": type(optimizer).__name__,
        "scheduler": type(scheduler).__name__ if scheduler is not None else None,
        "loss_fn": getattr(loss_fn, "__name__", type(loss_fn).__name__),
        **dict(config or {}),
    }

    show = _progress_enabled(progress)
    sum_dtype = torch.float32 if dev.type == "mps" else torch.float64  # MPS has no float64

    def run_epoch(loader: DataLoader, train: bool, bar_label: str) -> dict[str, float]:
        module = net if train else eval_net
        module.train(train)
        total = torch.zeros((), dtype=sum_dtype, device=dev)
        count = 0
        outputs_seen: list[torch.Tensor] = []
        targets_seen: list[torch.Tensor] = []
        # iter() first: tqdm.auto would otherwise build a second iterator of the loader, which
        # spawns workers twice and draws once more from its shuffling generator
        batches = tqdm(iter(loader), total=len(loader), desc=bar_label, leave=False,
                       disable=not show, dynamic_ncols=True)
        with torch.set_grad_enabled(train):
            for batch in batches:
                inputs, targets = _split_batch(batch, input_key, target_key)
                inputs, targets = _to_device(inputs, dev), _to_device(targets, dev)
                with autocast():
                    outputs = module(inputs)
                    loss = loss_fn(outputs, targets)
                if train:
                    optimizer.zero_grad(set_to_none=True)
                    if scaler is not None:
                        scaler.scale(loss).backward()
                        if max_grad_norm is not None:
                            scaler.unscale_(optimizer)
                            nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
                        scaler.step(optimizer)
                        scaler.update()
                    else:
                        loss.backward()
                        if max_grad_norm is not None:
                            nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
                        optimizer.step()
                    if scheduler is not None and scheduler_interval == "batch":
                        scheduler.step()
                n = _batch_size(inputs)
                total += loss.detach().to(sum_dtype) * n
                count += n
                if metrics:
                    outputs_seen.append(outputs.detach().float().cpu())
                    targets_seen.append(targets.detach().cpu())
        count_tensor = torch.tensor(float(count), dtype=sum_dtype, device=dev)
        sums = ddp.all_reduce_sum(torch.stack([total, count_tensor]))
        split = "train" if train else "val"
        result = {f"{split}_loss": (sums[0] / sums[1]).item()}
        if metrics:
            parts = ddp.all_gather_objects((torch.cat(outputs_seen), torch.cat(targets_seen)))
            all_outputs = torch.cat([p[0] for p in parts])
            all_targets = torch.cat([p[1] for p in parts])
            for name, metric in metrics.items():
                result[f"{split}_{name}"] = float(metric(all_outputs, all_targets))
        return result

    epoch_bar = tqdm(total=epochs, initial=len(history), desc="epochs", disable=not show,
                     dynamic_ncols=True)
    for epoch in range(len(history) + 1, epochs + 1):
        if early_stopping is not None and len(history) > 0 and (
            history.epochs_without_improvement(early_stopping.min_delta) >= early_stopping.patience
        ):
            history.stopped_early = True
            break
        start = time.perf_counter()
        for loader in (train_loader, val_loader):
            sampler = getattr(loader, "sampler", None)
            if hasattr(sampler, "set_epoch"):
                sampler.set_epoch(epoch)
        record: dict[str, float] = {"epoch": epoch}
        record.update(run_epoch(train_loader, True, f"epoch {epoch} train"))
        if val_loader is not None:
            record.update(run_epoch(val_loader, False, f"epoch {epoch} val"))
        if not math.isfinite(record["train_loss"]):
            raise FloatingPointError(
                f"train_loss is {record['train_loss']} at epoch {epoch}; lower the learning rate "
                "or check the data (last.pt still holds the previous epoch)"
            )
        if scheduler is not None and scheduler_interval == "epoch":
            if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                scheduler.step(record[monitor])
            else:
                scheduler.step()
        record["lr"] = optimizer.param_groups[0]["lr"]
        record["time_s"] = time.perf_counter() - start
        history.append(record)

        is_best = history.best_epoch == epoch
        if is_best and restore_best:
            best_state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
        if folder is not None and ddp.is_main_process():
            state = {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict() if scheduler is not None else None,
                "scaler": scaler.state_dict() if scaler is not None else None,
                "epoch": epoch,
                "rng": rng_state(generators),
                "history": history.to_dict(),
                "config": run_config,
                "dentpy_version": dentpy.__version__,
            }
            if is_best:
                save_checkpoint(state, folder / BEST)
            save_checkpoint(state, folder / LAST)
        ddp.barrier()
        epoch_bar.update(1)
        epoch_bar.set_postfix({k: f"{v:.4g}" for k, v in record.items() if k.endswith("loss")})
    epoch_bar.close()

    if restore_best and best_state is not None:
        model.load_state_dict(best_state)
    return history


@torch.no_grad()
def predict(
    model: nn.Module,
    loader: DataLoader,
    *,
    device: str | torch.device | None = None,
    input_key: str = "image",
    target_key: str = "label",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Raw outputs and targets of ``model`` over ``loader``, in loader order, on the CPU.

    Returns ``(outputs, targets)`` concatenated over batches (outputs as float32). ``device``
    defaults to the device of the model's first parameter. The model is put in eval mode.
    """
    _check_model(model)
    if not isinstance(loader, DataLoader):
        raise _checks.ArgumentTypeError(
            f"loader must be a torch DataLoader, got {_checks.describe(loader)}"
        )
    if len(loader) == 0:
        raise _checks.ArgumentError("loader is empty (0 batches)")
    dev = _resolve_eval_device(model, device)
    model.to(dev).eval()
    outputs, targets = [], []
    for batch in loader:
        inputs, target = _split_batch(batch, input_key, target_key)
        outputs.append(model(_to_device(inputs, dev)).float().cpu())
        targets.append(torch.as_tensor(target).cpu())
    return torch.cat(outputs), torch.cat(targets)
