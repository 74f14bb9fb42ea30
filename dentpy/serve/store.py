"""The web tool's files on disk: datasets, jobs and predictions, one folder each.

Layout under ``root``::

    datasets/ds-0001/dataset.json              names, size, number of classes
    datasets/ds-0001/images/NAME.png           the uploaded bytes, unchanged
    datasets/ds-0001/masks/NAME.png
    jobs/job-0001/config.json                  the validated TrainConfig
    jobs/job-0001/status.json                  state, step, history, error, times
    jobs/job-0001/log.txt                      one line per event
    jobs/job-0001/weights.pt                   the trained state dict (when done)
    jobs/job-0001/predictions/pred-0001/       input.png, mask.png, overlay.png, info.json

Every new dataset, job or prediction gets a fresh id and is written into a temporary folder
that is renamed into place when complete, so a failed upload leaves nothing behind and nothing
existing is ever overwritten. Status files are replaced atomically, so a reader never sees half
of one. Everything lives on disk, so a new store on the same root sees all earlier work.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from dentpy import _checks
from dentpy.serve.config import TrainConfig
from dentpy.serve.segmenter import build_model
from dentpy.serve.validate import encode_png, read_image, read_mask

STATES = ("queued", "running", "done", "failed")
_ID = {"ds": re.compile(r"ds-\d{4,}"), "job": re.compile(r"job-\d{4,}"),
       "pred": re.compile(r"pred-\d{4,}")}
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}")


class NotFound(KeyError):
    """A dataset, job or prediction id that does not exist (the web tool answers 404)."""

    def __str__(self) -> str:
        return str(self.args[0])


def _write_json(path: Path, value: Any) -> None:
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    temporary.write_text(json.dumps(value, indent=1))
    os.replace(temporary, path)


def safe_name(name: Any) -> str:
    """``name`` when it is a plain file name (letters, digits, ``_ . -``; no folders)."""
    if not isinstance(name, str) or not _NAME.fullmatch(name) or ".." in name:
        raise _checks.ArgumentError(f"name must be a plain file name such as 'case_01.png' "
                                    f"(letters, digits, _ . -), got {_checks.describe(name)}")
    return name


class Store:
    """Datasets, jobs and predictions under one root folder (created when missing)."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = _checks.output_path("root", root, kind="dir")
        for part in ("datasets", "jobs", ".tmp"):
            (self.root / part).mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    # ---- ids and folders ------------------------------------------------------------------
    def _new_folder(self, parent: Path, prefix: str) -> tuple[str, Path]:
        """A fresh temporary folder and the id it will be renamed to (under the lock)."""
        numbers = [int(p.name.split("-")[1]) for p in parent.iterdir()
                   if _ID[prefix].fullmatch(p.name)] if parent.is_dir() else []
        new_id = f"{prefix}-{max(numbers, default=0) + 1:04d}"
        temporary = self.root / ".tmp" / f"{new_id}-{uuid.uuid4().hex}"
        temporary.mkdir(parents=True)
        return new_id, temporary

    def _commit(self, temporary: Path, target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():  # never replace existing work
            shutil.rmtree(temporary, ignore_errors=True)
            raise FileExistsError(f"{target} exists already")
        os.rename(temporary, target)

    def _folder(self, kind: str, item_id: Any, parent: Path) -> Path:
        if not isinstance(item_id, str) or not _ID[kind].fullmatch(item_id):
            raise NotFound(f"no {kind} {item_id!r}")
        folder = parent / item_id
        if not folder.is_dir():
            raise NotFound(f"no {kind} {item_id!r}")
        return folder

    # ---- datasets -------------------------------------------------------------------------
    def add_dataset(self, files: list[tuple[str, bytes, bytes]], *, num_classes: int) -> dict:
        """Store validated pairs ``(name, image PNG bytes, mask PNG bytes)`` as a new dataset."""
        with self._lock:
            dataset_id, temporary = self._new_folder(self.root / "datasets", "ds")
            try:
                (temporary / "images").mkdir()
                (temporary / "masks").mkdir()
                for name, image_bytes, mask_bytes in files:
                    (temporary / "images" / safe_name(name)).write_bytes(image_bytes)
                    (temporary / "masks" / safe_name(name)).write_bytes(mask_bytes)
                first = read_image(files[0][1])
                meta = {"id": dataset_id, "names": [f[0] for f in files],
                        "size": list(first.shape), "num_classes": num_classes,
                        "created": time.time()}
                _write_json(temporary / "dataset.json", meta)
                self._commit(temporary, self.root / "datasets" / dataset_id)
            except BaseException:
                shutil.rmtree(temporary, ignore_errors=True)
                raise
        return meta

    def datasets(self) -> list[dict]:
        """Every dataset's metadata, oldest first."""
        folders = sorted(p for p in (self.root / "datasets").iterdir()
                         if _ID["ds"].fullmatch(p.name))
        return [json.loads((p / "dataset.json").read_text()) for p in folders]

    def dataset(self, dataset_id: str) -> dict:
        """The metadata of one dataset (``NotFound`` when there is none)."""
        folder = self._folder("ds", dataset_id, self.root / "datasets")
        return json.loads((folder / "dataset.json").read_text())

    def load_dataset(self, dataset_id: str) -> tuple[np.ndarray, np.ndarray]:
        """Images ``(N, H, W)`` float32 in [0, 1] and masks ``(N, H, W)`` uint8."""
        meta = self.dataset(dataset_id)
        folder = self.root / "datasets" / dataset_id
        images = [read_image((folder / "images" / n).read_bytes(), max_bytes=2**40)
                  for n in meta["names"]]
        masks = [read_mask((folder / "masks" / n).read_bytes(), num_classes=meta["num_classes"],
                           max_bytes=2**40) for n in meta["names"]]
        return np.stack(images), np.stack(masks)

    # ---- jobs -----------------------------------------------------------------------------
    def create_job(self, dataset_id: str, config: TrainConfig) -> dict:
        """A new queued job training ``config`` on a dataset; returns its status."""
        meta = self.dataset(dataset_id)
        with self._lock:
            job_id, temporary = self._new_folder(self.root / "jobs", "job")
            status = {"id": job_id, "dataset": meta["id"], "state": "queued", "step": 0,
                      "steps": config.steps, "history": [], "error": None,
                      "created": time.time(), "started": None, "finished": None}
            _write_json(temporary / "config.json", config.to_dict())
            _write_json(temporary / "status.json", status)
            (temporary / "log.txt").write_text(f"{_now()} queued on {meta['id']}\n")
            self._commit(temporary, self.root / "jobs" / job_id)
        return status

    def job_folder(self, job_id: str) -> Path:
        """The folder of one job (``NotFound`` when there is none)."""
        return self._folder("job", job_id, self.root / "jobs")

    def jobs(self) -> list[dict]:
        """Every job's status, oldest first."""
        folders = sorted(p for p in (self.root / "jobs").iterdir()
                         if _ID["job"].fullmatch(p.name))
        return [json.loads((p / "status.json").read_text()) for p in folders]

    def status(self, job_id: str) -> dict:
        """The status of one job."""
        return json.loads((self.job_folder(job_id) / "status.json").read_text())

    def config(self, job_id: str) -> TrainConfig:
        """The config of one job."""
        return TrainConfig.from_dict(
            json.loads((self.job_folder(job_id) / "config.json").read_text()))

    def update(self, job_id: str, **changes: Any) -> dict:
        """Replace some fields of a job's status (atomically) and return the new status."""
        if "state" in changes:
            _checks.choice("state", changes["state"], STATES)
        folder = self.job_folder(job_id)
        status = {**json.loads((folder / "status.json").read_text()), **changes}
        _write_json(folder / "status.json", status)
        return status

    def log(self, job_id: str, line: str) -> None:
        """Append one line to the job's log."""
        with open(self.job_folder(job_id) / "log.txt", "a") as handle:
            handle.write(f"{_now()} {line}\n")

    def save_weights(self, job_id: str, model: nn.Module) -> None:
        """Write the model's state dict as ``weights.pt`` (atomically)."""
        target = self.job_folder(job_id) / "weights.pt"
        temporary = target.with_name(f".weights.{uuid.uuid4().hex}.tmp")
        torch.save(model.state_dict(), temporary)
        os.replace(temporary, target)

    def load_model(self, job_id: str) -> nn.Module:
        """The trained model of a finished job, in eval mode."""
        weights = self.job_folder(job_id) / "weights.pt"
        if not weights.is_file():
            raise NotFound(f"job {job_id!r} has no trained weights (yet)")
        model = build_model(self.config(job_id))
        model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
        return model.eval()

    # ---- predictions ----------------------------------------------------------------------
    def add_prediction(self, job_id: str, name: str, image_bytes: bytes, image: np.ndarray,
                       mask: np.ndarray) -> dict:
        """Store an inference: the uploaded image, the predicted mask and an overlay."""
        folder = self.job_folder(job_id)
        name = safe_name(name)
        with self._lock:
            pred_id, temporary = self._new_folder(folder / "predictions", "pred")
            try:
                (temporary / "input.png").write_bytes(image_bytes)
                (temporary / "mask.png").write_bytes(encode_png(mask))
                (temporary / "overlay.png").write_bytes(overlay_png(image, mask))
                info = {"id": pred_id, "job": job_id, "name": name,
                        "size": list(mask.shape),
                        "foreground": float((mask > 0).mean()), "created": time.time()}
                _write_json(temporary / "info.json", info)
                self._commit(temporary, folder / "predictions" / pred_id)
            except BaseException:
                shutil.rmtree(temporary, ignore_errors=True)
                raise
        return info

    def predictions(self, job_id: str) -> list[dict]:
        """Every prediction of one job, oldest first."""
        parent = self.job_folder(job_id) / "predictions"
        if not parent.is_dir():
            return []
        return [json.loads((p / "info.json").read_text()) for p in sorted(parent.iterdir())
                if _ID["pred"].fullmatch(p.name)]

    def prediction_file(self, job_id: str, pred_id: str, file: str) -> Path:
        """Path of ``input.png``, ``mask.png``, ``overlay.png`` or ``info.json`` of a prediction."""
        folder = self._folder("pred", pred_id, self.job_folder(job_id) / "predictions")
        if file not in ("input.png", "mask.png", "overlay.png", "info.json"):
            raise NotFound(f"no file {file!r} in a prediction")
        return folder / file


def overlay_png(image: np.ndarray, mask: np.ndarray) -> bytes:
    """PNG of the grey image ``(H, W)`` in [0, 1] with the foreground of the label mask
    ``(H, W)`` tinted orange (RGB)."""
    import io

    from PIL import Image

    image = _checks.array("image", image, ndim=2, kind="float")
    mask = _checks.array("mask", mask, ndim=2, kind="integer")
    if image.shape != mask.shape:
        raise _checks.ArgumentError(f"image and mask must have the same shape, got "
                                    f"{image.shape} and {mask.shape}")
    grey = np.clip(image.astype(np.float32), 0, 1)
    rgb = np.repeat(grey[..., None], 3, axis=2)
    tint = np.array([1.0, 0.55, 0.0], dtype=np.float32)
    on = np.asarray(mask) > 0
    rgb[on] = 0.5 * rgb[on] + 0.5 * tint
    out = io.BytesIO()
    Image.fromarray(np.round(rgb * 255).astype(np.uint8)).save(out, format="PNG")
    return out.getvalue()


def _now() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S")
