"""Honest evaluation: the chance level to beat, and a test set that is scored once.

- ``chance_level(targets)`` is what a model that learned nothing scores on these targets: the
  cross-entropy and the accuracy of the best *constant* prediction (the targets' own class
  frequencies, and their most frequent class). A trained model that does not beat it is a bug.
- ``score_test(model, test_loader, metrics)`` scores the chosen model on the test set, in one
  place. It remembers (for this Python session) which test sets it scored and with which
  weights: scoring the same weights again returns the same result, but scoring *other* weights
  on a test set already scored is refused, because comparing models on the test set is choosing
  on it. A lesson that does so on purpose says why with ``repeat="..."``; it is recorded in
  ``scored_tests()``.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import torch
from torch import nn
from torch.utils.data import DataLoader

from dentpy import _checks
from dentpy.train.loop import _check_model, _resolve_eval_device, _split_batch, _to_device

Metric = Callable[[torch.Tensor, torch.Tensor], Any]


class Chance(NamedTuple):
    """What the best constant prediction scores: ``loss`` (cross-entropy, nats), ``accuracy``."""

    loss: float
    accuracy: float


def chance_level(targets: Any, *, num_classes: int | None = None) -> Chance:
    """Cross-entropy and accuracy of the best constant prediction for class labels ``targets``.

    ``targets`` is a 1-D sequence of class indices (a tensor, array or list). The best constant
    probability vector is the targets' own class frequencies, so ``loss`` is the entropy of the
    labels (in nats, as ``nn.CrossEntropyLoss`` measures); the best constant class is the most
    frequent one, so ``accuracy`` is its share. Both are computed on the very labels they are
    compared with, which makes them the strictest "learned nothing" baseline: a model whose
    validation loss is not below ``loss`` has learned no more than the class frequencies.
    ``num_classes`` only checks that every label is below it.
    """
    labels = _checks.tensor("targets", targets, ndim=1, kind="number")
    if labels.dtype.is_floating_point or labels.dtype == torch.bool:
        if labels.dtype == torch.bool or not torch.equal(labels, labels.round()):
            raise ValueError(f"targets must be integer class indices, got dtype {labels.dtype}")
        labels = labels.long()
    if labels.min() < 0:
        raise ValueError(f"targets must be class indices >= 0, got {int(labels.min())}")
    if num_classes is not None:
        num_classes = _checks.integer("num_classes", num_classes, low=1)
        if labels.max() >= num_classes:
            raise ValueError(f"targets must be below num_classes={num_classes}, "
                             f"got {int(labels.max())}")
    frequencies = torch.bincount(labels.long()).double() / labels.numel()
    present = frequencies[frequencies > 0]
    return Chance(loss=float(-(present * present.log()).sum()),
                  accuracy=float(frequencies.max()))


@dataclass(frozen=True)
class HeldOutScore:
    """The test-set result of one model: ``scores`` by metric name, raw ``outputs`` (e.g.
    logits, float32, on the CPU) and ``targets`` in loader order, for intervals and plots.
    ``score["accuracy"]`` reads one metric."""

    scores: dict[str, float]
    outputs: torch.Tensor = field(repr=False)
    targets: torch.Tensor = field(repr=False)

    def __getitem__(self, name: str) -> float:
        if name not in self.scores:
            raise KeyError(f"no metric {name!r}; scored: {sorted(self.scores)}")
        return self.scores[name]


_SCORED: dict[str, dict[str, Any]] = {}  # test-set fingerprint -> what was scored on it


def _rows(obj: Any) -> list[torch.Tensor]:
    """Every tensor in a (nested) batch; their first dimension indexes the items."""
    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, Mapping):
        return [t for key in sorted(obj, key=str) for t in _rows(obj[key])]
    if isinstance(obj, (tuple, list)):
        return [t for value in obj for t in _rows(value)]
    return []


def _bytes(tensor: torch.Tensor) -> bytes:
    """The raw bytes of a tensor of any dtype (bfloat16 included)."""
    return tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()


def _item_hashes(inputs: Any, targets: Any) -> list[bytes]:
    tensors = [t.detach().cpu().contiguous() for t in _rows(inputs) + _rows(targets)]
    if not tensors or tensors[0].ndim == 0:
        raise ValueError("test_loader: a batch holds no tensor with one row per item")
    n = len(tensors[0])
    hashes = []
    for i in range(n):
        digest = hashlib.blake2b(digest_size=16)
        for tensor in tensors:
            if tensor.ndim > 0 and len(tensor) == n:
                digest.update(_bytes(tensor[i]))
        hashes.append(digest.digest())
    return hashes


def _weights_fingerprint(model: nn.Module) -> str:
    digest = hashlib.blake2b(digest_size=16)
    for name, value in model.state_dict().items():
        digest.update(name.encode())
        if isinstance(value, torch.Tensor):
            digest.update(_bytes(value))
    return digest.hexdigest()


@torch.no_grad()
def score_test(
    model: nn.Module,
    test_loader: DataLoader,
    metrics: Mapping[str, Metric],
    *,
    repeat: str | None = None,
    device: str | torch.device | None = None,
    input_key: str = "image",
    target_key: str = "label",
) -> HeldOutScore:
    """Score ``model`` once on the test set of ``test_loader``; returns a :class:`HeldOutScore`.

    ``metrics`` maps a name to ``metric(outputs, targets)``, as in :func:`fit`; they are
    computed on the concatenated raw outputs. The model is put in eval mode on ``device``
    (default: the device of its first parameter).

    The test set is recognised by its content (the items' inputs and targets, in any order and
    through any loader), the model by its weights. Scoring the same weights on the same test
    set again returns the first result; scoring other weights on a test set that was already
    scored raises ``ValueError``: choose on validation, then score the test set once. A lesson
    that breaks this on purpose passes the reason as ``repeat`` (a non-empty string), which
    :func:`scored_tests` records.
    """
    _check_model(model)
    if not isinstance(test_loader, DataLoader):
        raise _checks.ArgumentTypeError(
            f"test_loader must be a torch DataLoader, got {_checks.describe(test_loader)}"
        )
    if len(test_loader) == 0:
        raise ValueError("test_loader is empty (0 batches)")
    if not isinstance(metrics, Mapping) or not metrics:
        raise ValueError(f"metrics must map at least one name to a metric, got {metrics!r}")
    for name, metric in metrics.items():
        if not isinstance(name, str) or not callable(metric):
            raise ValueError(f"metrics must map names to callables, got {name!r}")
    if repeat is not None and not (isinstance(repeat, str) and repeat.strip()):
        raise ValueError(f"repeat must be None or a non-empty reason, got {repeat!r}")

    dev = _resolve_eval_device(model, device)
    model.to(dev).eval()
    outputs, targets, hashes = [], [], []
    for batch in test_loader:
        inputs, target = _split_batch(batch, input_key, target_key)
        hashes += _item_hashes(inputs, target)
        outputs.append(model(_to_device(inputs, dev)).float().cpu())
        targets.append(torch.as_tensor(target).cpu())
    test_fp = hashlib.blake2b(b"".join(sorted(hashes)), digest_size=16).hexdigest()
    model_fp = _weights_fingerprint(model)

    entry = _SCORED.get(test_fp)
    if entry is not None and model_fp in entry["results"]:
        return entry["results"][model_fp]  # the same weights: nothing new is learned
    if entry is not None and repeat is None:
        raise ValueError(
            f"test_loader: this test set ({len(hashes)} items) was already scored for other "
            f"weights ({entry['first']}); comparing models on it is choosing on it. Choose on "
            "the validation split and score the test set once; a lesson that does this on "
            "purpose says why with repeat='...'"
        )
    all_outputs, all_targets = torch.cat(outputs), torch.cat(targets)
    scores = {}
    for name, metric in metrics.items():
        value = metric(all_outputs, all_targets)
        scores[name] = float(value)
    result = HeldOutScore(scores, all_outputs, all_targets)
    record = {"items": len(hashes), "model": type(model).__name__, "scores": dict(scores),
              "reason": repeat, "time": time.strftime("%H:%M:%S")}
    if entry is None:
        entry = _SCORED[test_fp] = {"first": f"{record['model']} at {record['time']}",
                                    "results": {}, "log": []}
    entry["results"][model_fp] = result
    entry["log"].append(record)
    return result


def scored_tests() -> list[dict[str, Any]]:
    """One record per distinct model scored on a test set in this session, oldest first.

    Each record holds ``test_set`` (1, 2, ... in the order the test sets were first scored),
    ``scoring`` (1 for the first model on that test set, 2 for the next, ...), ``items``,
    ``model`` (class name), ``scores``, ``reason`` (``None`` for the first scoring, else the
    ``repeat`` reason) and ``time``.
    """
    records = []
    for number, entry in enumerate(_SCORED.values(), start=1):
        for scoring, record in enumerate(entry["log"], start=1):
            records.append({"test_set": number, "scoring": scoring, **record})
    return records


def _forget_scored_tests() -> None:
    """Clear the session's record (for unit tests)."""
    _SCORED.clear()
