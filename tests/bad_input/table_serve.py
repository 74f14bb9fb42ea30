"""Bad-input rows of the web tool (``dentpy.serve``): upload checks, config, segmenter, store,
queue, app and server."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from bad_input import bad, documented
from dentpy.serve import app, config, jobs, segmenter, server, store, validate

NAN = float("nan")
GREY = np.zeros((8, 8), np.float32)
LABELS = np.zeros((8, 8), np.uint8)
CFG = config.TrainConfig(steps=1, width=2, depth=2)


def _png(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(array).save(out, format="PNG")
    return out.getvalue()


def _file(name: str = "taken") -> str:
    Path(name).write_text("a file, not a folder")
    return name


V, C, S, ST = ("dentpy.serve.validate.", "dentpy.serve.config.", "dentpy.serve.segmenter.",
               "dentpy.serve.store.")

ROWS = [
    # ------------------------------------------------------------------- validate.read_image
    bad(V + "read_image", "wrong type", lambda: validate.read_image(None),
        r"data must be the bytes of a file"),
    bad(V + "read_image", "empty", lambda: validate.read_image(b"", name="scan.png"),
        r"scan\.png: the file is empty"),
    bad(V + "read_image", "bad path", lambda: validate.read_image(b"%PDF-1.4 ..."),
        r"image: not a PNG file"),
    bad(V + "read_image", "bad path", lambda: validate.read_image(_png(LABELS)[:20]),
        r"image: a corrupt or truncated PNG"),
    bad(V + "read_image", "out of range",
        lambda: validate.read_image(_png(LABELS), max_bytes=10), r"over the limit of 10 bytes"),
    bad(V + "read_image", "not an integer",
        lambda: validate.read_image(_png(LABELS), max_bytes=2.5), r"max_bytes must be an integer"),
    bad(V + "read_image", "wrong dtype",
        lambda: validate.read_image(_png(np.zeros((4, 4, 3), np.uint8))),
        r"image: a RGB image; upload a greyscale PNG"),
    bad(V + "read_image", "wrong type", lambda: validate.read_image(b"x", name=3),
        r"name must be a non-empty string"),
    # -------------------------------------------------------------------- validate.read_mask
    bad(V + "read_mask", "out of range",
        lambda: validate.read_mask(_png(LABELS + 255)), r"mask: mask values must be class "
        r"labels 0 to 1, found 255 \(a 0/255 picture"),
    bad(V + "read_mask", "out of range",
        lambda: validate.read_mask(_png(LABELS), num_classes=1), r"num_classes must be an integer"),
    bad(V + "read_mask", "not an integer",
        lambda: validate.read_mask(_png(LABELS), num_classes=2.0), r"num_classes must be an "),
    bad(V + "read_mask", "empty", lambda: validate.read_mask(b""), r"mask: the file is empty"),
    bad(V + "read_mask", "wrong type", lambda: validate.read_mask("mask.png"),
        r"data must be the bytes of a file"),
    bad(V + "read_mask", "wrong dtype",
        lambda: validate.read_mask(_png(np.zeros((4, 4, 3), np.uint8))), r"mask: a RGB mask"),
    # ------------------------------------------------------------------- validate.check_pair
    bad(V + "check_pair", "mismatched lengths",
        lambda: validate.check_pair(GREY, LABELS[:4]),
        r"the image is 8 x 8 pixels but its mask is 4 x 8"),
    bad(V + "check_pair", "wrong rank", lambda: validate.check_pair(GREY[None], LABELS),
        r"image must be 2-dim"),
    bad(V + "check_pair", "wrong type", lambda: validate.check_pair(GREY, None),
        r"mask must be an array"),
    # ------------------------------------------------------------------- validate.encode_png
    bad(V + "encode_png", "wrong rank", lambda: validate.encode_png(GREY[None]),
        r"array must be 2-dim"),
    bad(V + "encode_png", "nan or inf", lambda: validate.encode_png(np.full((2, 2), NAN)),
        r"array must be finite"),
    bad(V + "encode_png", "out of range", lambda: validate.encode_png(np.full((2, 2), 300)),
        r"array of integers must hold values 0\.\.255"),
    bad(V + "encode_png", "empty", lambda: validate.encode_png(np.zeros((0, 3))),
        r"array must be non-empty"),
    # ------------------------------------------------------------------------ TrainConfig
    bad(C + "TrainConfig", "not an integer", lambda: config.TrainConfig(steps=2.5),
        r"steps must be an integer"),
    bad(C + "TrainConfig", "out of range", lambda: config.TrainConfig(lr=0),
        r"lr must be a finite number in \(0\.0, 1\.0\]"),
    bad(C + "TrainConfig", "nan or inf", lambda: config.TrainConfig(val_fraction=NAN),
        r"val_fraction must be a finite number"),
    bad(C + "TrainConfig", "unknown option", lambda: config.TrainConfig(norm="group"),
        r"norm must be one of"),
    bad(C + "TrainConfig", "unknown option",
        lambda: config.TrainConfig.from_dict({"epochs": 3}), r"unknown setting 'epochs'"),
    bad(C + "TrainConfig", "wrong type", lambda: config.TrainConfig.from_dict([1]),
        r"the config must be a JSON object"),
    bad(C + "TrainConfig", "wrong type", lambda: config.TrainConfig(batch_size="4"),
        r"batch_size must be an integer"),
    # ------------------------------------------------------------------------- segmenter
    bad(S + "build_model", "wrong type", lambda: segmenter.build_model({"width": 4}),
        r"config must be a TrainConfig"),
    bad(S + "split_indices", "out of range", lambda: segmenter.split_indices(0, 0.2, 0),
        r"n must be an integer >= 1"),
    bad(S + "split_indices", "out of range", lambda: segmenter.split_indices(5, 1.5, 0),
        r"val_fraction must be a finite number in \[0, 0\.9\]"),
    bad(S + "split_indices", "not an integer", lambda: segmenter.split_indices(5, 0.2, 1.5),
        r"seed must be an integer"),
    bad(S + "predict_masks", "wrong type", lambda: segmenter.predict_masks(None, GREY),
        r"model must be a torch module"),
    bad(S + "predict_masks", "wrong rank",
        lambda: segmenter.predict_masks(segmenter.build_model(CFG), GREY[None, None]),
        r"images must be 2- or 3-dim|images must be .*dim"),
    bad(S + "predict_masks", "wrong dtype",
        lambda: segmenter.predict_masks(segmenter.build_model(CFG), LABELS),
        r"images must be an array of float values"),
    bad(S + "mean_dice", "mismatched lengths", lambda: segmenter.mean_dice(LABELS, LABELS[:3]),
        r"pred and target must have the same shape"),
    bad(S + "mean_dice", "wrong dtype", lambda: segmenter.mean_dice(GREY, LABELS),
        r"pred must be an array of integer values"),
    bad(S + "mean_dice", "wrong type", lambda: segmenter.mean_dice(None, LABELS),
        r"pred must be an array"),
    documented(S + "mean_dice", "degenerate", lambda: segmenter.mean_dice(LABELS, LABELS),
               check=lambda r: r == 1.0),
    bad(S + "train_segmenter", "mismatched lengths",
        lambda: segmenter.train_segmenter(GREY[None], LABELS[None, :4], CFG),
        r"images and masks must have the same shape"),
    bad(S + "train_segmenter", "out of range",
        lambda: segmenter.train_segmenter(GREY[None], LABELS[None] + 2, CFG),
        r"masks must hold labels 0\.\.1"),
    bad(S + "train_segmenter", "wrong rank",
        lambda: segmenter.train_segmenter(GREY, LABELS, CFG), r"images must be 3-dim"),
    bad(S + "train_segmenter", "nan or inf",
        lambda: segmenter.train_segmenter(np.full((1, 8, 8), NAN, np.float32), LABELS[None], CFG),
        r"images must be finite"),
    bad(S + "train_segmenter", "wrong type",
        lambda: segmenter.train_segmenter(GREY[None], LABELS[None], CFG, on_log=3),
        r"on_log must be a function"),
    bad(S + "train_segmenter", "empty",
        lambda: segmenter.train_segmenter(GREY[:0][None], LABELS[:0][None], CFG),
        r"images must be non-empty"),
    # ----------------------------------------------------------------------------- store
    bad(ST + "Store", "bad path", lambda: store.Store(_file()), r"root must be a directory"),
    bad(ST + "Store", "wrong type", lambda: store.Store(None), r"root must be"),
    bad(ST + "safe_name", "bad path", lambda: store.safe_name("../secret.png"),
        r"name must be a plain file name"),
    bad(ST + "safe_name", "wrong type", lambda: store.safe_name(None),
        r"name must be a plain file name"),
    bad(ST + "overlay_png", "mismatched lengths", lambda: store.overlay_png(GREY, LABELS[:2]),
        r"image and mask must have the same shape"),
    bad(ST + "overlay_png", "wrong dtype", lambda: store.overlay_png(LABELS, LABELS),
        r"image must be an array of float values"),
    # ------------------------------------------------------------------ queue, app, server
    bad("dentpy.serve.jobs.JobQueue", "wrong type", lambda: jobs.JobQueue("root"),
        r"store must be a dentpy\.serve\.store\.Store"),
    bad("dentpy.serve.app.create_app", "bad path", lambda: app.create_app(_file()),
        r"root must be a directory"),
    bad("dentpy.serve.app.create_app", "out of range",
        lambda: app.create_app("tool", max_upload_bytes=0), r"max_upload_bytes must be an "
        r"integer >= 1"),
    bad("dentpy.serve.app.create_app", "wrong type",
        lambda: app.create_app("tool", run_jobs="yes"), r"run_jobs must be True or False"),
    bad("dentpy.serve.server.start_server", "out of range",
        lambda: server.start_server("tool", port=70000), r"port must be an integer in"),
    bad("dentpy.serve.server.start_server", "not an integer",
        lambda: server.start_server("tool", port=80.5), r"port must be an integer"),
    bad("dentpy.serve.server.start_server", "out of range",
        lambda: server.start_server("tool", timeout=0), r"timeout must be a finite number > 0"),
    bad("dentpy.serve.server.start_server", "bad path",
        lambda: server.start_server(_file()), r"root must be a directory"),
]

EXEMPT = {
    "dentpy.serve.validate.UploadError": "an exception the checks raise, not called by users",
    "dentpy.serve.config.ConfigError": "an exception the config raises, not called by users",
    "dentpy.serve.store.NotFound": "an exception the store raises, not called by users",
    "dentpy.serve.server.free_port": "takes no argument",
    "dentpy.serve.server.ServerHandle": "only returned by start_server",
}
