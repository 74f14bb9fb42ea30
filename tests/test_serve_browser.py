"""The web tool in a real browser: the real server (dentpy.serve.server) driven in headless
Chromium through playwright, as a user would use the page."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dentpy.book.browser import CHROMIUM_FLAGS, find_chromium
from dentpy.serve.server import start_server

pytestmark = pytest.mark.skipif(find_chromium() is None,
                                reason="chromium is not installed (the Makefile installs it)")


def _write_world(folder: Path, n: int = 3) -> tuple[list[str], list[str]]:
    """n images and masks (a bright square each) as PNG files; the same names in two folders."""
    rng = np.random.default_rng(5)
    (folder / "images").mkdir(parents=True)
    (folder / "masks").mkdir()
    images, masks = [], []
    for i in range(n):
        mask = np.zeros((32, 32), np.uint8)
        y, x = rng.integers(4, 16, size=2)
        mask[y:y + 12, x:x + 12] = 1
        image = np.clip(60 + 120 * mask + rng.normal(0, 15, mask.shape), 0, 255).astype(np.uint8)
        for sub, array, out in (("images", image, images), ("masks", mask, masks)):
            path = folder / sub / f"tooth_{i}.png"
            Image.fromarray(array).save(path)
            out.append(str(path))
    return images, masks


def test_a_user_trains_and_infers_from_the_page(tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    images, masks = _write_world(tmp_path / "upload")
    bad_mask = tmp_path / "bad" / "tooth_0.png"
    bad_mask.parent.mkdir()
    Image.fromarray((np.asarray(Image.open(masks[0])) * 255).astype(np.uint8)).save(bad_mask)
    server = start_server(tmp_path / "server")
    errors: list[str] = []
    outside: list[str] = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=find_chromium(),
                                                 args=CHROMIUM_FLAGS)
            page = browser.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: outside.append(r.url)
                    if not r.url.startswith(server.url) else None)
            page.set_default_timeout(30_000)
            page.goto(server.url)
            expect(page.locator("h1")).to_have_text("dentpy segmentation tool")

            # a bad upload: the mask saved as a 0/255 picture
            page.set_input_files("#images", images[:1])
            page.set_input_files("#masks", [str(bad_mask)])
            page.click("#upload")
            expect(page.locator("#upload-message")).to_contain_text(
                "mask tooth_0.png: mask values must be class labels 0 to 1, found 255")
            expect(page.locator("#upload-message")).to_have_class("error")
            assert not (server.root / "datasets" / "ds-0001").exists()

            # the good upload, training with progress, inference
            page.set_input_files("#images", images)
            page.set_input_files("#masks", masks)
            page.click("#upload")
            expect(page.locator("#upload-message")).to_contain_text(
                "dataset ds-0001: 3 pairs of 32 x 32 pixels")
            expect(page.locator("#dataset")).to_have_value("ds-0001")
            page.fill("#steps", "12")
            page.fill("#width", "4")
            page.click("#train")
            expect(page.locator("#job-id")).to_have_text("job-0001")
            expect(page.locator("#job-state")).to_have_text("done")
            expect(page.locator("#job-step")).to_have_text("12 / 12")
            assert page.eval_on_selector("#progress", "p => p.value === p.max")
            assert page.locator("#history tbody tr").count() >= 2

            page.set_input_files("#infer-image", images[0])
            page.click("#infer")
            expect(page.locator("#infer-message")).to_contain_text("prediction pred-0001")
            page.wait_for_function(
                "() => { const i = document.getElementById('result');"
                " return i.complete && i.naturalWidth === 32; }")
            expect(page.locator("#downloads a")).to_have_count(3)
            browser.close()
    finally:
        server.stop()
    assert not server.running
    # the only console error is the browser's note of the refused upload's 422 answer
    assert errors == ["Failed to load resource: the server responded with a status of 422 "
                      "(Unprocessable Entity)"], errors
    assert not outside, outside
    assert (server.root / "jobs" / "job-0001" / "predictions" / "pred-0001" / "mask.png").is_file()
