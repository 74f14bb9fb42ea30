"""The web tool's HTTP routes (FastAPI): datasets, jobs, progress, inference and downloads.

``create_app(root)`` builds the application over a :class:`~dentpy.serve.store.Store` on
``root`` and a :class:`~dentpy.serve.jobs.JobQueue` that starts and stops with the app. Every
refusal is a 4xx answer whose JSON body is ``{"error": "<one sentence naming the problem>"}``
(plus ``"problems"``, one sentence each, for a config): 404 unknown id, 409 a job not done
yet, 413 a file over the size limit, 415 not a PNG, 422 anything else wrong with an upload or
a config. A refused upload writes nothing.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import PurePosixPath, PureWindowsPath
from typing import Annotated, Any

from fastapi import Body, FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse
from torch import nn

from dentpy import _checks
from dentpy.serve.config import ConfigError, TrainConfig
from dentpy.serve.jobs import JobQueue
from dentpy.serve.page import PAGE
from dentpy.serve.segmenter import predict_masks
from dentpy.serve.store import NotFound, Store, safe_name
from dentpy.serve.validate import DEFAULT_MAX_BYTES, UploadError, check_pair, read_image, read_mask

MAX_FILES = 500  #: most image/mask pairs in one dataset upload


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


async def _read(upload: UploadFile, max_bytes: int) -> bytes:
    """The bytes of an uploaded file, refused as soon as it passes ``max_bytes``."""
    data = await upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UploadError(f"{upload.filename}: the file is over the limit of {max_bytes} bytes",
                          status=413)
    return data


def _file_name(upload: UploadFile) -> str:
    raw = upload.filename or ""
    name = PureWindowsPath(PurePosixPath(raw).name).name
    try:
        return safe_name(name)
    except ValueError:
        raise UploadError(f"{raw!r}: file names may hold only letters, digits and _ . - "
                          "(rename the file)") from None


def create_app(root: str | os.PathLike, *, max_upload_bytes: int = DEFAULT_MAX_BYTES,
               run_jobs: bool = True) -> FastAPI:
    """The web tool over the files under ``root``.

    ``max_upload_bytes`` limits each uploaded file; ``run_jobs=False`` leaves jobs queued
    (no worker thread), for inspecting a store without training.
    """
    store = Store(root)
    max_upload_bytes = _checks.integer("max_upload_bytes", max_upload_bytes, low=1)
    run_jobs = _checks.flag("run_jobs", run_jobs)
    worker = JobQueue(store)
    models: dict[str, nn.Module] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if run_jobs:
            worker.start()
        yield
        worker.stop()

    app = FastAPI(title="dentpy segmentation tool", lifespan=lifespan)
    app.state.store, app.state.worker = store, worker

    @app.exception_handler(UploadError)
    async def upload_error(request: Request, error: UploadError) -> JSONResponse:
        return _error(error.status, str(error))

    @app.exception_handler(ConfigError)
    async def config_error(request: Request, error: ConfigError) -> JSONResponse:
        return _error(422, str(error), problems=error.problems)

    @app.exception_handler(NotFound)
    async def not_found(request: Request, error: NotFound) -> JSONResponse:
        return _error(404, str(error))

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = [f"{'.'.join(str(p) for p in e['loc'][1:]) or 'request'}: {e['msg']}"
                    for e in error.errors()]
        return _error(422, "; ".join(problems), problems=problems)

    @app.get("/", response_class=HTMLResponse)
    def page() -> str:
        return PAGE.replace("{{MAX_BYTES}}", str(max_upload_bytes))

    @app.get("/api/health")
    def health() -> dict:
        return {"ok": True, "jobs": len(store.jobs()), "max_upload_bytes": max_upload_bytes}

    @app.get("/api/datasets")
    def datasets() -> list[dict]:
        return store.datasets()

    @app.post("/api/datasets", status_code=201)
    async def add_dataset(images: Annotated[list[UploadFile], File()],
                          masks: Annotated[list[UploadFile], File()],
                          num_classes: Annotated[int, Form()] = 2) -> dict:
        if not 2 <= num_classes <= 255:
            raise UploadError(f"num_classes must be 2 to 255, got {num_classes}")
        if len(images) > MAX_FILES:
            raise UploadError(f"{len(images)} images: at most {MAX_FILES} per dataset", status=413)
        image_files = {_file_name(f): f for f in images}
        mask_files = {_file_name(f): f for f in masks}
        if len(image_files) != len(images) or len(mask_files) != len(masks):
            raise UploadError("two uploaded files share a name; give each image a unique name")
        unmatched = sorted(set(image_files) ^ set(mask_files))
        if unmatched:
            raise UploadError(f"images and masks are paired by file name; no partner for "
                              f"{', '.join(unmatched[:5])}")
        pairs, size = [], None
        for name in sorted(image_files):
            image_bytes = await _read(image_files[name], max_upload_bytes)
            mask_bytes = await _read(mask_files[name], max_upload_bytes)
            image = read_image(image_bytes, name=f"image {name}", max_bytes=max_upload_bytes)
            mask = read_mask(mask_bytes, name=f"mask {name}", num_classes=num_classes,
                             max_bytes=max_upload_bytes)
            check_pair(image, mask, name=name)
            if size is not None and image.shape != size:
                raise UploadError(f"{name}: {image.shape[0]} x {image.shape[1]} pixels, but the "
                                  f"first image is {size[0]} x {size[1]}; all images of a "
                                  "dataset must have one size")
            size = image.shape
            pairs.append((name, image_bytes, mask_bytes))
        return store.add_dataset(pairs, num_classes=num_classes)

    @app.get("/api/jobs")
    def jobs() -> list[dict]:
        return store.jobs()

    @app.post("/api/jobs", status_code=201)
    def add_job(dataset: Annotated[str, Body()],
                config: Annotated[dict | None, Body()] = None) -> dict:
        meta = store.dataset(dataset)
        parsed = TrainConfig.from_dict(config or {})
        if parsed.num_classes != meta["num_classes"]:
            raise ConfigError([f"num_classes is {parsed.num_classes} but dataset {dataset} "
                               f"has {meta['num_classes']} classes"])
        status = store.create_job(dataset, parsed)
        if run_jobs:
            worker.submit(status["id"])
        return status

    @app.get("/api/jobs/{job_id}")
    def job(job_id: str) -> dict:
        return {**store.status(job_id), "config": store.config(job_id).to_dict()}

    @app.get("/api/jobs/{job_id}/log", response_class=PlainTextResponse)
    def log(job_id: str) -> str:
        return (store.job_folder(job_id) / "log.txt").read_text()

    @app.get("/api/jobs/{job_id}/weights")
    def weights(job_id: str) -> FileResponse:
        path = store.job_folder(job_id) / "weights.pt"
        if not path.is_file():
            return _error(409, f"job {job_id} has no weights yet (state: "
                               f"{store.status(job_id)['state']})")
        return FileResponse(path, filename=f"{job_id}-weights.pt",
                            media_type="application/octet-stream")

    @app.post("/api/jobs/{job_id}/predict", status_code=201)
    async def predict(job_id: str, image: Annotated[UploadFile, File()]) -> dict:
        state = store.status(job_id)["state"]
        if state != "done":
            return _error(409, f"job {job_id} is {state}; inference needs a finished job")
        name = _file_name(image)
        data = await _read(image, max_upload_bytes)
        pixels = read_image(data, name=f"image {name}", max_bytes=max_upload_bytes)
        if job_id not in models:
            models[job_id] = store.load_model(job_id)
        mask = predict_masks(models[job_id], pixels)
        info = store.add_prediction(job_id, name, data, pixels, mask)
        base = f"/api/jobs/{job_id}/predictions/{info['id']}"
        return {**info, "mask_url": f"{base}/mask.png", "overlay_url": f"{base}/overlay.png",
                "input_url": f"{base}/input.png"}

    @app.get("/api/jobs/{job_id}/predictions")
    def predictions(job_id: str) -> list[dict]:
        return store.predictions(job_id)

    @app.get("/api/jobs/{job_id}/predictions/{pred_id}/{file}")
    def prediction_file(job_id: str, pred_id: str, file: str) -> FileResponse:
        path = store.prediction_file(job_id, pred_id, file)
        return FileResponse(path, filename=f"{job_id}-{pred_id}-{file}")

    return app

