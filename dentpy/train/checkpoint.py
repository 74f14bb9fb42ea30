"""Checkpoints that survive a crash: atomic writes and the full random state of a run.

A checkpoint is a dict saved with ``torch.save``. It is first written to a temporary file in
the same folder, flushed to disk, then renamed over the old one with ``os.replace`` (atomic on
POSIX and Windows), so an interrupted save leaves the previous checkpoint intact.
"""

from __future__ import annotations

import os
import pickle
import random
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from dentpy import _checks


def save_checkpoint(state: Mapping[str, Any], path: str | os.PathLike) -> Path:
    """Write ``state`` to ``path`` atomically; returns the path. The folder must exist."""
    if not isinstance(state, Mapping):
        raise _checks.ArgumentTypeError(
            f"state must be a dict (a mapping of names to values), got {_checks.describe(state)}"
        )
    path = _checks.output_path("path", path, kind="file")
    if not path.parent.is_dir():
        raise ValueError(f"path: folder {str(path.parent)!r} does not exist")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            torch.save(dict(state), file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def load_checkpoint(path: str | os.PathLike, *, map_location: Any = "cpu") -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint` (trusted files only: it unpickles).

    A missing path, a directory, a corrupt file or a file that does not hold a dict raises
    ``ValueError`` naming the path.
    """
    path = _checks.existing_path("path", path, kind="file")
    try:
        state = torch.load(path, map_location=map_location, weights_only=False)
    except (pickle.UnpicklingError, EOFError, RuntimeError, ValueError, UnicodeDecodeError,
            AttributeError, ImportError) as err:
        raise _checks.ArgumentError(
            f"path: {str(path)!r} is not a readable checkpoint (corrupt, truncated or not "
            f"written by torch.save): {type(err).__name__}: {err}"
        ) from err
    if not isinstance(state, dict):
        raise _checks.ArgumentError(
            f"path: {str(path)!r} holds a {type(state).__name__}, not a checkpoint dict"
        )
    return state


def _generators(generators: Any) -> list[torch.Generator]:
    if isinstance(generators, torch.Generator):
        generators = [generators]
    if isinstance(generators, str | bytes | Mapping) or not isinstance(generators, Iterable):
        raise _checks.ArgumentTypeError(
            f"generators must be a list of torch.Generator, got {_checks.describe(generators)}"
        )
    generators = list(generators)
    for generator in generators:
        if not isinstance(generator, torch.Generator):
            raise _checks.ArgumentTypeError(
                f"generators must hold torch.Generator objects, got {_checks.describe(generator)}"
            )
    return generators


_RNG_KEYS = ("python", "numpy", "torch", "generators")


def rng_state(generators: Iterable[torch.Generator] = ()) -> dict[str, Any]:
    """Capture Python's, NumPy's, torch's (CPU and every CUDA device) and the given generators'."""
    generators = _generators(generators)
    state = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
        "generators": [g.get_state() for g in generators],
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: Mapping[str, Any], generators: Iterable[torch.Generator] = ()) -> None:
    """Restore what :func:`rng_state` captured (same generators, same order)."""
    missing = [key for key in _RNG_KEYS if key not in state] if isinstance(state, Mapping) else 0
    if not isinstance(state, Mapping) or missing:
        raise _checks.ArgumentError(
            f"state must be what rng_state() returned (keys {list(_RNG_KEYS)}), got "
            f"{_checks.describe(state)}"
        )
    generators = _generators(generators)
    if len(generators) != len(state["generators"]):
        raise ValueError(
            f"generators: the checkpoint holds {len(state['generators'])} data-loader generator "
            f"state(s) but {len(generators)} generator(s) were given; build the loaders as before"
        )
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"].cpu())
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])
    for generator, saved in zip(generators, state["generators"], strict=True):
        generator.set_state(saved.cpu())
