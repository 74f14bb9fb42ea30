"""Where and how a notebook runs: device, seeds, profile (problem size) and versions.

Every notebook starts with these four calls, so the same file runs unchanged on a laptop CPU,
on Colab and on a GPU box, at three sizes (``smoke`` for CI, ``standard`` for a laptop,
``full`` for a GPU at paper scale).
"""

from __future__ import annotations

import importlib
import os
import platform
import random
import sys
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import torch

from dentpy import _checks

PROFILES = ("smoke", "standard", "full")
PROFILE_ENV = "DENTPY_PROFILE"
DEVICES = ("auto", "cpu", "cuda", "mps")


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def get_device(name: str = "auto") -> torch.device:
    """Return the torch device to compute on.

    ``"auto"`` picks CUDA, then Apple's MPS, then the CPU. ``"cuda:1"`` selects one GPU.
    Asking for a device this machine lacks is a ``ValueError``, not a silent fallback.
    """
    if not isinstance(name, str):
        raise ValueError(f"name must be one of {DEVICES} (a string), got {name!r}")
    kind, _, index = name.partition(":")
    if kind not in DEVICES or (index and (kind != "cuda" or not index.isdigit())):
        raise ValueError(f"name must be one of {DEVICES} (or 'cuda:N'), got {name!r}")
    if kind == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps") if _mps_available() else torch.device("cpu")
    if kind == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"name={name!r}: CUDA is not available on this machine; use 'auto'")
        if index and int(index) >= torch.cuda.device_count():
            raise ValueError(
                f"name={name!r}: only {torch.cuda.device_count()} CUDA device(s) are visible"
            )
    if kind == "mps" and not _mps_available():
        raise ValueError("name='mps': Apple MPS is not available on this machine; use 'auto'")
    return torch.device(name)


def seed_everything(seed: int, *, deterministic: bool = True) -> None:
    """Seed Python's, NumPy's and torch's random generators (CPU and every GPU).

    With ``deterministic=True`` cuDNN picks deterministic kernels and stops benchmarking,
    which is cheap; fully deterministic CUDA matmuls would be slow, so they are left alone.
    """
    seed = _checks.integer("seed", seed, low=0, high=2**32 - 1)
    deterministic = _checks.flag("deterministic", deterministic)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    if deterministic:
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False


class ProfileConfig(Mapping):
    """The settings of one profile, read as ``cfg.epochs`` or ``cfg["epochs"]``.

    ``cfg.name`` is the resolved profile (``"smoke"``, ``"standard"`` or ``"full"``).
    """

    def __init__(self, name: str, settings: Mapping[str, Any]):
        _checks.choice("name", name, PROFILES)
        if not isinstance(settings, Mapping):
            raise _checks.ArgumentTypeError(
                f"settings must be a dict of settings, got {_checks.describe(settings)}")
        self._name = name
        self._settings = dict(settings)

    @property
    def name(self) -> str:
        return self._name

    def __getitem__(self, key: str) -> Any:
        return self._settings[key]

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        try:
            return self._settings[key]
        except KeyError:
            raise AttributeError(
                f"profile {self._name!r} has no setting {key!r}; it has {sorted(self._settings)}"
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._settings)

    def __len__(self) -> int:
        return len(self._settings)

    def __repr__(self) -> str:
        items = ", ".join(f"{k}={v!r}" for k, v in self._settings.items())
        return f"ProfileConfig({self._name!r}, {items})"


def resolve_profile(name: str = "auto") -> str:
    """Turn ``"auto"`` into a concrete profile.

    ``"auto"`` reads ``$DENTPY_PROFILE`` if set, else picks ``"full"`` with a CUDA GPU and
    ``"standard"`` without. An explicit name is returned as is (after checking it).
    """
    valid = ("auto", *PROFILES)
    if not isinstance(name, str) or name not in valid:
        raise ValueError(f"profile name must be one of {valid}, got {name!r}")
    if name != "auto":
        return name
    from_env = os.environ.get(PROFILE_ENV, "").strip()
    if from_env:
        if from_env not in PROFILES:
            raise ValueError(f"${PROFILE_ENV} must be one of {PROFILES}, got {from_env!r}")
        return from_env
    return "full" if torch.cuda.is_available() else "standard"


def profile(
    name: str = "auto",
    *,
    smoke: Mapping[str, Any],
    standard: Mapping[str, Any],
    full: Mapping[str, Any],
) -> ProfileConfig:
    """Pick the settings of one profile.

    The three mappings must have the same keys, so a notebook cannot forget a knob in one
    size. Example: ``cfg = profile(PROFILE, smoke=dict(epochs=1), standard=dict(epochs=5),
    full=dict(epochs=50))`` then ``cfg.epochs``.
    """
    options = {"smoke": smoke, "standard": standard, "full": full}
    for key, settings in options.items():
        if not isinstance(settings, Mapping):
            raise ValueError(f"{key} must be a dict of settings, got {type(settings).__name__}")
    keys = set(smoke)
    for key in ("standard", "full"):
        if set(options[key]) != keys:
            missing = sorted(keys - set(options[key]))
            extra = sorted(set(options[key]) - keys)
            raise ValueError(
                f"{key} must have the same settings as smoke: missing {missing}, extra {extra}"
            )
    resolved = resolve_profile(name)
    return ProfileConfig(resolved, options[resolved])


_VERSIONED = (
    "dentpy", "torch", "torchvision", "numpy", "scipy", "sklearn", "skimage",
    "monai", "matplotlib", "papermill",
)


def show_versions(*, file: Any = None) -> dict[str, str]:
    """Print (and return) Python, platform, library versions and the compute device.

    ``file``: a text stream to print to (default: standard output).
    """
    if file is not None and not callable(getattr(file, "write", None)):
        raise _checks.ArgumentTypeError(
            f"file must be a text stream with a write method (e.g. sys.stderr), got "
            f"{_checks.describe(file)}")
    info: dict[str, str] = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }
    for module in _VERSIONED:
        try:
            info[module] = str(getattr(importlib.import_module(module), "__version__", "?"))
        except ImportError:
            info[module] = "not installed"
    device = get_device("auto")
    info["device"] = str(device)
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
        info["cuda"] = str(torch.version.cuda)
    info["cpu threads"] = str(torch.get_num_threads())
    width = max(map(len, info))
    for key, value in info.items():
        print(f"{key:<{width}}  {value}", file=file or sys.stdout)
    return info
