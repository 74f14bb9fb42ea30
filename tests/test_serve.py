"""The web tool of dentpy.serve through its HTTP API (FastAPI's TestClient, in process).

The data is a world of its own, built here and unlike the synthetic panoramics: bright discs
and squares on a noisy background, 32 x 32 pixels, saved as PNG bytes.
"""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient
from PIL import Image

from dentpy.serve.app import create_app
from dentpy.serve.config import ConfigError, TrainConfig
from dentpy.serve.jobs import JobQueue
from dentpy.serve.segmenter import mean_dice, predict_masks, split_indices, train_segmenter
from dentpy.serve.store import Store
from dentpy.serve.validate import UploadError, check_pair, encode_png, read_image, read_mask

SIZE = 32
FAST = {"steps": 12, "log_every": 4, "batch_size": 2, "width": 4, "depth": 2, "lr": 0.01}


def png(array: np.ndarray, mode: str | None = None) -> bytes:
    out = io.BytesIO()
    picture = Image.fromarray(array)
    if mode is not None:
        picture = picture.convert(mode)
    picture.save(out, format="PNG")
    return out.getvalue()


def shape_world(n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """n images (uint8) and masks: one bright disc or square each, on noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:SIZE, :SIZE]
    images, masks = [], []
    for i in range(n):
        cy, cx, r = rng.integers(10, 22), rng.integers(10, 22), rng.integers(5, 9)
        mask = ((yy - cy) ** 2 + (xx - cx) ** 2 <= r * r) if i % 2 == 0 else (
            (abs(yy - cy) <= r - 1) & (abs(xx - cx) <= r - 1))
        image = 50 + 140 * mask + rng.normal(0, 20, (SIZE, SIZE))
        images.append(np.clip(image, 0, 255).astype(np.uint8))
        masks.append(mask.astype(np.uint8))
    return np.stack(images), np.stack(masks)


def upload_files(images, masks, names=None) -> list:
    names = names or [f"case_{i}.png" for i in range(len(images))]
    return ([("images", (n, im if isinstance(im, bytes) else png(im), "image/png"))
             for n, im in zip(names, images, strict=True)]
            + [("masks", (n, m if isinstance(m, bytes) else png(m), "image/png"))
               for n, m in zip(names, masks, strict=True)])


def snapshot(root: Path) -> dict[str, str]:
    """Every file under root (but the server log) with the hash of its bytes."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


# ---- validation -------------------------------------------------------------------------------
def test_read_image_known_values() -> None:
    eight = np.array([[0, 51, 255]], dtype=np.uint8)
    np.testing.assert_allclose(read_image(png(eight)), [[0.0, 0.2, 1.0]], atol=1e-6)
    sixteen = np.array([[0, 65535, 13107]], dtype=np.uint16)
    np.testing.assert_allclose(read_image(png(sixteen)), [[0.0, 1.0, 0.2]], atol=1e-6)
    labels = np.array([[0, 1], [2, 0]], dtype=np.uint8)
    np.testing.assert_array_equal(read_mask(png(labels), num_classes=3), labels)
    assert read_mask(png(labels), num_classes=3).dtype == np.uint8
    # encode_png and read_image are inverses on 8-bit values
    np.testing.assert_array_equal(read_image(encode_png(eight)) * 255, eight)


@pytest.mark.parametrize(("make", "status", "pattern"), [
    (lambda: b"", 422, r"case\.png: the file is empty"),
    (lambda: b"GIF89a" + bytes(100), 415, r"not a PNG"),
    (lambda: png(np.zeros((4, 4), np.uint8))[:30], 422, r"corrupt or truncated"),
    (lambda: png(np.zeros((40, 40), np.uint8)) + bytes(500), 413, r"over the limit of 400"),
    (lambda: png(np.zeros((4, 4, 3), np.uint8)), 422, r"RGB image; upload a greyscale"),
])
def test_read_image_refuses_with_a_clear_message(make, status, pattern) -> None:
    with pytest.raises(UploadError, match=pattern) as caught:
        read_image(make(), name="case.png", max_bytes=400)
    assert caught.value.status == status


def test_read_mask_refuses_out_of_range_labels() -> None:
    with pytest.raises(UploadError, match=r"found 255 \(a 0/255 picture"):
        read_mask(png(np.array([[0, 255]], np.uint8)), name="m.png")
    with pytest.raises(UploadError, match=r"labels 0 to 2, found 3"):
        read_mask(png(np.array([[0, 3]], np.uint8)), num_classes=3)
    with pytest.raises(UploadError, match="the image is 2 x 3 pixels but its mask is 3 x 2"):
        check_pair(np.zeros((2, 3)), np.zeros((3, 2), np.uint8))


def test_config_reports_every_problem_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        TrainConfig.from_dict({"steps": 2.5, "lr": 0, "norm": "group", "epochs": 3})
    problems = caught.value.problems
    assert len(problems) == 4, problems
    assert any("unknown setting 'epochs'" in p for p in problems)
    assert any(p.startswith("steps must be an integer") for p in problems)
    assert any(p.startswith("lr must be") for p in problems)
    assert any(p.startswith("norm must be one of") for p in problems)
    assert TrainConfig.from_dict({"steps": 7}) == TrainConfig(steps=7)


# ---- the segmenter ----------------------------------------------------------------------------
def test_split_is_seeded_and_disjoint() -> None:
    train, val = split_indices(10, 0.3, 4)
    assert len(val) == 3 and not set(train) & set(val) and len(train) + len(val) == 10
    np.testing.assert_array_equal(split_indices(10, 0.3, 4)[1], val)
    assert len(split_indices(1, 0.5, 0)[1]) == 0  # one pair: nothing held out


def test_training_learns_and_is_deterministic() -> None:
    images, masks = shape_world(6)
    x = images.astype(np.float32) / 255
    config = TrainConfig(**{**FAST, "steps": 40, "log_every": 20, "val_fraction": 0.34})
    state = torch.random.get_rng_state()
    model, history = train_segmenter(x, masks, config)
    assert torch.equal(torch.random.get_rng_state(), state)  # the caller's RNG is untouched
    again, _ = train_segmenter(x, masks, config)
    for a, b in zip(model.state_dict().values(), again.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert history[-1]["loss"] < history[0]["loss"]
    # learned something: far better than predicting all background (Dice 0)
    assert history[-1]["val_dice"] > 0.6, history
    pred = predict_masks(model, x[:2])
    assert pred.shape == (2, SIZE, SIZE) and pred.dtype == np.uint8
    np.testing.assert_array_equal(predict_masks(model, x[0]), pred[0])
    # an odd size is padded and cropped back
    assert predict_masks(model, x[0, :29, :31]).shape == (29, 31)
    assert mean_dice(masks, masks) == 1.0


# ---- the API ----------------------------------------------------------------------------------
def test_upload_train_infer_download(tmp_path: Path) -> None:
    images, masks = shape_world(4)
    with TestClient(create_app(tmp_path)) as client:
        assert "dentpy segmentation tool" in client.get("/").text
        answer = client.post("/api/datasets", files=upload_files(images, masks))
        assert answer.status_code == 201, answer.json()
        dataset = answer.json()
        assert dataset["id"] == "ds-0001" and dataset["size"] == [SIZE, SIZE]
        # the uploaded bytes are stored unchanged
        assert (tmp_path / "datasets/ds-0001/images/case_0.png").read_bytes() == png(images[0])
        job = client.post("/api/jobs", json={"dataset": "ds-0001", "config": FAST}).json()
        assert job["state"] == "queued"
        status = client.app.state.worker.wait(job["id"], timeout=60)
        assert status["state"] == "done", status
        assert status["step"] == FAST["steps"] and len(status["history"]) == 3
        assert "done in" in client.get(f"/api/jobs/{job['id']}/log").text
        answer = client.post(f"/api/jobs/{job['id']}/predict",
                             files={"image": ("new.png", png(images[1]), "image/png")})
        assert answer.status_code == 201, answer.json()
        prediction = answer.json()
        mask = read_mask(client.get(prediction["mask_url"]).content)
        overlay = Image.open(io.BytesIO(client.get(prediction["overlay_url"]).content))
        assert overlay.size == (SIZE, SIZE) and overlay.mode == "RGB"
        weights = client.get(f"/api/jobs/{job['id']}/weights")
        assert weights.status_code == 200
    # the downloaded weights give the served prediction
    model = Store(tmp_path).load_model(job["id"])
    model.load_state_dict(torch.load(io.BytesIO(weights.content), weights_only=True))
    np.testing.assert_array_equal(predict_masks(model, images[1] / np.float32(255)), mask)
    for name in ("config.json", "status.json", "log.txt", "weights.pt"):
        assert (tmp_path / "jobs" / job["id"] / name).is_file()


def _bad_uploads() -> dict:
    images, masks = shape_world(2)
    small = np.zeros((16, 16), np.uint8)
    return {
        "empty image": (upload_files([b"", images[1]], masks), 422,
                        r"image case_0\.png: the file is empty"),
        "not a PNG": (upload_files([b"\xff\xd8\xff\xe0" + bytes(64), images[1]], masks), 415,
                      r"image case_0\.png: not a PNG"),
        "sizes differ": (upload_files([images[0], images[1]], [masks[0], small]), 422,
                         r"case_1\.png: the image is 32 x 32 pixels but its mask is 16 x 16"),
        "dataset sizes differ": (upload_files([images[0], small], [masks[0], small]), 422,
                                 r"all images of a dataset must have one size"),
        "mask out of range": (upload_files(images, [masks[0], masks[1] * 255]), 422,
                              r"mask case_1\.png: mask values must be class labels 0 to 1, "
                              r"found 255"),
        "colour image": (upload_files([np.stack([images[0]] * 3, -1), images[1]], masks), 422,
                         r"RGB image"),
        "unpaired names": (upload_files(images, masks, names=None)[:2]
                           + upload_files(images, masks, names=["a.png", "b.png"])[2:], 422,
                           r"paired by file name; no partner for a\.png, b\.png"),
        "huge file": (upload_files([np.random.default_rng(0).integers(0, 255, (200, 200),
                                                                      dtype=np.uint8),
                                    images[1]], masks), 413, r"over the limit of 20000 bytes"),
        "bad file name": (upload_files(images, masks, names=["scan #1.png", "b.png"]), 422,
                          r"file names may hold only"),
        "no masks": ([f for f in upload_files(images, masks) if f[0] == "images"], 422,
                     r"masks: Field required"),
    }


@pytest.mark.parametrize("kind", list(_bad_uploads()))
def test_bad_upload_gets_a_clear_4xx_and_writes_nothing(tmp_path: Path, kind: str) -> None:
    files, status, pattern = _bad_uploads()[kind]
    with TestClient(create_app(tmp_path, max_upload_bytes=20_000, run_jobs=False)) as client:
        before = snapshot(tmp_path)
        answer = client.post("/api/datasets", files=files)
        assert answer.status_code == status, answer.json()
        assert answer.headers["content-type"] == "application/json"
        assert re.search(pattern, answer.json()["error"]), answer.json()
        assert snapshot(tmp_path) == before
        assert client.get("/api/datasets").json() == []


def test_bad_jobs_and_inference_requests(tmp_path: Path) -> None:
    images, masks = shape_world(2)
    with TestClient(create_app(tmp_path, run_jobs=False)) as client:
        client.post("/api/datasets", files=upload_files(images, masks))
        before = snapshot(tmp_path)
        answer = client.post("/api/jobs", json={"dataset": "ds-0009", "config": {}})
        assert answer.status_code == 404 and "no ds 'ds-0009'" in answer.json()["error"]
        answer = client.post("/api/jobs", json={"dataset": "ds-0001",
                                                "config": {"steps": -1, "lr": "fast"}})
        assert answer.status_code == 422 and len(answer.json()["problems"]) == 2
        answer = client.post("/api/jobs", json={"dataset": "ds-0001", "config": {"num_classes": 3}})
        assert answer.status_code == 422 and "has 2 classes" in answer.json()["error"]
        assert client.get("/api/jobs/../etc").status_code == 404
        assert snapshot(tmp_path) == before
        job = client.post("/api/jobs", json={"dataset": "ds-0001", "config": FAST}).json()
        before = snapshot(tmp_path)
        answer = client.post(f"/api/jobs/{job['id']}/predict",
                             files={"image": ("x.png", png(images[0]), "image/png")})
        assert answer.status_code == 409 and "is queued" in answer.json()["error"]
        assert client.get(f"/api/jobs/{job['id']}/weights").status_code == 409
        assert snapshot(tmp_path) == before


def test_jobs_and_results_survive_a_restart(tmp_path: Path) -> None:
    images, masks = shape_world(3)
    with TestClient(create_app(tmp_path)) as client:
        client.post("/api/datasets", files=upload_files(images, masks))
        first = client.post("/api/jobs", json={"dataset": "ds-0001", "config": FAST}).json()
        client.app.state.worker.wait(first["id"])
        prediction = client.post(f"/api/jobs/{first['id']}/predict",
                                 files={"image": ("x.png", png(images[0]), "image/png")}).json()
        mask_bytes = client.get(prediction["mask_url"]).content
    # a server without a worker queues a job, then stops before running it
    with TestClient(create_app(tmp_path, run_jobs=False)) as client:
        second = client.post("/api/jobs", json={"dataset": "ds-0001", "config": FAST}).json()
    saved = snapshot(tmp_path)
    with TestClient(create_app(tmp_path)) as client:  # the restart
        jobs = {j["id"]: j for j in client.get("/api/jobs").json()}
        assert jobs[first["id"]]["state"] == "done"
        assert client.get(prediction["mask_url"]).content == mask_bytes
        assert [p["id"] for p in client.get(f"/api/jobs/{first['id']}/predictions").json()] == [
            prediction["id"]]
        assert client.app.state.worker.wait(second["id"])["state"] == "done"  # queue resumed
        again = client.post(f"/api/jobs/{first['id']}/predict",
                            files={"image": ("x.png", png(images[0]), "image/png")}).json()
        assert again["id"] != prediction["id"]
        assert client.get(again["mask_url"]).content == mask_bytes
    # nothing written before the restart was changed by it
    after = snapshot(tmp_path)
    assert {k: after[k] for k in saved if "job-0002" not in k} == {
        k: v for k, v in saved.items() if "job-0002" not in k}


def test_same_names_twice_make_two_datasets(tmp_path: Path) -> None:
    images, masks = shape_world(2)
    other, other_masks = shape_world(2, seed=9)
    with TestClient(create_app(tmp_path, run_jobs=False)) as client:
        assert client.post("/api/datasets", files=upload_files(images, masks)).status_code == 201
        before = snapshot(tmp_path)
        answer = client.post("/api/datasets", files=upload_files(other, other_masks))
        assert answer.json()["id"] == "ds-0002"
        after = snapshot(tmp_path)
        assert {k: after[k] for k in before} == before


def test_a_running_job_is_restarted_after_a_crash(tmp_path: Path) -> None:
    images, masks = shape_world(2)
    store = Store(tmp_path)
    store.add_dataset([(f"c{i}.png", png(images[i]), png(masks[i])) for i in range(2)],
                      num_classes=2)
    job = store.create_job("ds-0001", TrainConfig(**FAST))
    store.update(job["id"], state="running", step=4)  # as if the server died here
    worker = JobQueue(store).start()
    try:
        assert worker.wait(job["id"])["state"] == "done"
    finally:
        worker.stop()
    assert "starting again" in (tmp_path / "jobs" / job["id"] / "log.txt").read_text()
