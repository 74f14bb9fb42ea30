"""dentpy: the companion library of the Dent.py course (deep learning for dental imaging).

``import dentpy`` is quick: the runtime helpers are imported at once, and each submodule
(``dentpy.data``, ``dentpy.dac``, ``dentpy.train``, ...) is imported the first time it is used.
"""

import importlib

from dentpy.runtime import get_device, profile, seed_everything, show_versions

__version__ = "0.1.0"

SUBMODULES = (
    "dac", "data", "detect", "explain", "losses", "metrics", "models", "optim", "results",
    "chromophores", "topology", "train", "viz",
)

__all__ = ["__version__", "get_device", "profile", "seed_everything", "show_versions",
           *SUBMODULES]


def __getattr__(name: str):
    if name in SUBMODULES:
        return importlib.import_module(f"dentpy.{name}")
    raise AttributeError(f"module 'dentpy' has no attribute {name!r}")
