"""Speed of dentpy.detect: the detector at panoramic size, its loss, NMS and mAP.

Run by hand:  PYTHONPATH=. python tests/benchmarks/bench_detect.py [--device cuda] [--threads 2]

Prints the parameter count of each detector configuration; the time of a forward pass and of a
training step (forward + loss + backward + AdamW) on a batch of 8 images 256 x 512, also for
the two-stage TwoStageDetector (torchvision's Faster R-CNN); decoding;
greedy NMS against ``torchvision.ops.nms`` (a C++ kernel) for 1000 and 5000 boxes; and mAP on
100 images of 32 boxes each against pycocotools' COCOeval.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import time

import numpy as np
import torch
import torchvision.ops as tvo

from dentpy.detect import (
    DetectionLoss,
    TwoStageDetector,
    YOLODetector,
    decode,
    mean_average_precision,
    nms,
)

ANCHORS = torch.tensor([[24.0, 60.0], [30.0, 80.0], [40.0, 100.0]])


def seconds(fn, repeats: int) -> float:
    fn()  # warm-up
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / repeats


def teeth_targets(batch: int, device: torch.device) -> list[dict[str, torch.Tensor]]:
    """32 tooth-like boxes per 256 x 512 image: two rows of 16."""
    xs = torch.linspace(60, 420, 16)
    out = []
    for _ in range(batch):
        x0 = torch.cat([xs, xs]) + 4 * torch.rand(32)
        y0 = torch.cat([torch.full((16,), 40.0), torch.full((16,), 135.0)]) + 4 * torch.rand(32)
        boxes = torch.stack([x0, y0, x0 + 22, y0 + 80], 1)
        out.append({"boxes": boxes.to(device), "labels": torch.arange(32, device=device)})
    return out


def bench_models(device: torch.device, repeats: int) -> None:
    images = torch.rand(8, 1, 256, 512, device=device)
    targets = teeth_targets(8, device)
    configs = {
        "tiny (16,32,64,128) + neck": {},
        "tiny, no neck": {"neck": False},
        "tiny (8,16,32,64) + neck": {"channels": (8, 16, 32, 64)},
        "resnet18 + neck": {"backbone": "resnet18"},
    }
    print("detector, 32 classes, 3 anchors, batch 8 x 1 x 256 x 512")
    for name, options in configs.items():
        model = YOLODetector(32, ANCHORS, **options).to(device)
        params = sum(p.numel() for p in model.parameters())
        loss_fn = DetectionLoss(model)
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3)

        def step(model=model, loss_fn=loss_fn, opt=opt) -> None:
            opt.zero_grad()
            loss_fn(model(images), targets).backward()
            opt.step()

        model.eval()
        with torch.no_grad():
            fwd = seconds(lambda model=model: model(images), repeats)
        model.train()
        train = seconds(step, repeats)
        print(f"  {name:28s} {params / 1e6:6.2f} M params   forward {fwd * 1e3:7.1f} ms   "
              f"train step {train * 1e3:7.1f} ms")
    for name, options in {"two-stage, tiny (16,32,64,128) + FPN": {"backbone": "tiny"},
                          "two-stage, resnet18 + FPN": {"backbone": "resnet18"}}.items():
        model = TwoStageDetector(32, image_size=(256, 512), **options).to(device)
        params = sum(p.numel() for p in model.parameters())
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3)

        def two_step(model=model, opt=opt) -> None:
            opt.zero_grad()
            sum(model((images, targets)).values()).backward()
            opt.step()

        fwd = seconds(lambda model=model: model.predict(images), repeats)
        model.train()
        train = seconds(two_step, repeats)
        print(f"  {name:28s} {params / 1e6:6.2f} M params   predict {fwd * 1e3:7.1f} ms   "
              f"train step {train * 1e3:7.1f} ms")
    model = YOLODetector(32, ANCHORS).to(device).eval()
    with torch.no_grad():
        raw = model(images)
    dec = seconds(lambda: decode(raw, anchors=ANCHORS, stride=16, score_threshold=0.001),
                  repeats)
    print(f"  decode (score >= 0.001, class-aware NMS), untrained net: {dec * 1e3:.1f} ms")


def bench_nms(device: torch.device, repeats: int) -> None:
    g = torch.Generator().manual_seed(0)
    for n in (1000, 5000):
        xy = torch.rand(n, 2, generator=g) * 500
        boxes = torch.cat([xy, xy + 10 + 50 * torch.rand(n, 2, generator=g)], 1).to(device)
        scores = torch.rand(n, generator=g).to(device)
        ours = seconds(lambda b=boxes, s=scores: nms(b, s, iou_threshold=0.5), repeats)
        ref = seconds(lambda b=boxes, s=scores: tvo.nms(b, s, 0.5), repeats)
        kept = nms(boxes, scores, iou_threshold=0.5).numel()
        print(f"nms {n:5d} boxes ({kept} kept): dentpy {ours * 1e3:7.2f} ms   "
              f"torchvision {ref * 1e3:7.2f} ms")


def bench_map(repeats: int) -> None:
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    rng = np.random.default_rng(0)
    targets = teeth_targets(100, torch.device("cpu"))
    preds = []
    for t in targets:
        jitter = torch.as_tensor(rng.normal(0, 3, (32, 4)), dtype=torch.float32)
        boxes = t["boxes"] + jitter
        boxes[:, 2:] = torch.maximum(boxes[:, 2:], boxes[:, :2] + 1)
        preds.append({"boxes": boxes, "scores": torch.as_tensor(rng.random(32)),
                      "labels": t["labels"]})
    ours = seconds(lambda: mean_average_precision(preds, targets), repeats)

    def coco() -> None:
        images, anns, dets = [], [], []
        for i, (p, t) in enumerate(zip(preds, targets, strict=True)):
            images.append({"id": i})
            for b, c in zip(t["boxes"].tolist(), t["labels"].tolist(), strict=True):
                w, h = b[2] - b[0], b[3] - b[1]
                anns.append({"id": len(anns) + 1, "image_id": i, "category_id": c,
                             "bbox": [b[0], b[1], w, h], "area": w * h, "iscrowd": 0})
            for b, c, s in zip(p["boxes"].tolist(), p["labels"].tolist(), p["scores"].tolist(),
                               strict=True):
                dets.append({"image_id": i, "category_id": c, "score": s,
                             "bbox": [b[0], b[1], b[2] - b[0], b[3] - b[1]]})
        with contextlib.redirect_stdout(io.StringIO()):
            gt = COCO()
            gt.dataset = {"images": images, "annotations": anns,
                          "categories": [{"id": k} for k in range(32)]}
            gt.createIndex()
            ev = COCOeval(gt, gt.loadRes(dets), "bbox")
            ev.evaluate()
            ev.accumulate()

    ref = seconds(coco, repeats)
    print(f"mAP@0.5:0.95, 100 images x 32 boxes: dentpy {ours * 1e3:.0f} ms   "
          f"pycocotools {ref * 1e3:.0f} ms (all four area ranges)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    print(f"torch {torch.__version__}, device {device}, {args.threads} threads")
    bench_models(device, args.repeats)
    bench_nms(device, args.repeats)
    bench_map(args.repeats)


if __name__ == "__main__":
    main()
