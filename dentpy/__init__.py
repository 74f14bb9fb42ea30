"""dentpy: the companion library of the Dent.py course (deep learning for dental imaging)."""

from dentpy.runtime import get_device, profile, seed_everything, show_versions

__version__ = "0.1.0"

__all__ = ["__version__", "get_device", "profile", "seed_everything", "show_versions"]
