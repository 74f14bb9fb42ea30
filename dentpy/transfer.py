"""Transfer of a segmentation U-Net from one modality to another: freezing, fine-tuning, forgetting.

The protocol of a cross-modality transfer study, for :class:`dentpy.models.UNet`:

- ``unet_parts(model)`` names the parts a freezing strategy acts on (``"encoder"``, ``"decoder"``,
  ``"last"``: the last decoder block with its up-sampling and the 1×1 head);
- ``freeze(model, strategy)`` freezes the parts of one of ``STRATEGIES`` (``"none"``,
  ``"encoder"``, ``"all_but_last"``) and returns the frozen modules;
- ``fit_segmenter(model, train, val, ...)`` trains (or fine-tunes) with a soft Jaccard loss and
  keeps the weights of the epoch with the best validation Dice;
- ``dice_per_image(model, images, masks)`` scores one Dice per image;
- ``run_protocols(make_model, source, target, tests, ...)`` trains on the source, fine-tunes on
  the target, trains from scratch on the target, chooses learning rates and the freezing strategy
  on validation, and returns the per-image test Dice of every protocol on every test set.

Images are ``(N, 1, H, W)`` float tensors, masks ``(N, 1, H, W)`` tensors of 0 and 1.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from monai.losses import DiceLoss
from torch import nn

from dentpy import _checks
from dentpy.models.unet import UNet

__all__ = [
    "STRATEGIES",
    "FitHistory",
    "ProtocolResult",
    "dice_per_image",
    "fit_segmenter",
    "freeze",
    "run_protocols",
    "unet_parts",
]

#: Freezing strategies: train everything, freeze the encoder, train only the last decoder block.
STRATEGIES = ("none", "encoder", "all_but_last")
_FROZEN = {"none": (), "encoder": ("encoder",), "all_but_last": ("encoder", "decoder")}
_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


def _check_unet(model: object, name: str = "model") -> UNet:
    if not isinstance(model, UNet):
        _checks.fail(name, "a dentpy.models.UNet", model, wrong_type=True)
    if model.dim != 2:
        _checks.fail(name, "a 2-D UNet (dim=2)", model)
    return model


def unet_parts(model: UNet) -> dict[str, list[nn.Module]]:
    """The modules of each part of a U-Net, for freezing.

    ``"encoder"``: every encoder block (the bottleneck included); ``"decoder"``: the decoder
    blocks and up-samplings except the last; ``"last"``: the last up-sampling, the last decoder
    block and the 1×1 head (the paper's "last block", which sees the full resolution).
    """
    model = _check_unet(model)
    return {"encoder": list(model.encoders),
            "decoder": [*model.ups[:-1], *model.decoders[:-1]],
            "last": [model.ups[-1], model.decoders[-1], model.head]}


def freeze(model: UNet, strategy: str) -> list[nn.Module]:
    """Set ``requires_grad`` for one freezing strategy; return the frozen modules.

    Every parameter is first made trainable, then those of the frozen parts are not: so
    ``freeze(model, "none")`` undoes any earlier freezing. Freezing parameters does not freeze
    batch-norm statistics: :func:`fit_segmenter` keeps the frozen modules' batch norms in
    evaluation mode when ``freeze_bn_stats=True``.
    """
    parts = unet_parts(model)
    _checks.choice("strategy", strategy, STRATEGIES)
    frozen = [module for name in _FROZEN[strategy] for module in parts[name]]
    for parameter in model.parameters():
        parameter.requires_grad_(True)
    for module in frozen:
        for parameter in module.parameters():
            parameter.requires_grad_(False)
    return frozen


def _train_mode(model: nn.Module, frozen: Iterable[nn.Module], freeze_bn_stats: bool) -> None:
    """``model.train()``, with the batch norms of the frozen modules back in eval mode."""
    model.train()
    if freeze_bn_stats:
        for module in frozen:
            for layer in module.modules():
                if isinstance(layer, _NORMS):
                    layer.eval()


def _check_pair(name: str, pair: object) -> tuple[torch.Tensor, torch.Tensor]:
    """``(images, masks)``: float images (N, 1, H, W) and binary masks of the same shape."""
    images, masks = _checks.images_and_masks(name, pair)
    if images.shape[1] != 1:
        _checks.fail(f"{name} images", "of shape (N, 1, H, W)", images)
    if tuple(masks.shape) != tuple(images.shape):
        _checks.fail(f"{name} masks", f"of the images' shape {tuple(images.shape)}", masks)
    return images, masks


def _device(model: nn.Module) -> torch.device:
    """Where the model's parameters live (the CPU for a model without any)."""
    return next(model.parameters(), torch.empty(0)).device


@torch.no_grad()
def dice_per_image(model: nn.Module, images: torch.Tensor, masks: torch.Tensor, *,
                   threshold: float = 0.5, batch_size: int = 64) -> np.ndarray:
    """Dice of ``sigmoid(model(images)) > threshold`` per image, averaged over labels: ``(N,)``.

    ``images`` (N, C, H, W) float, ``masks`` (N, K, H, W) of 0 and 1, one channel per label
    (``K = 1``: a binary mask); the model must map the images to logits of the masks' shape. A
    label whose mask and prediction are both empty scores 1 (MONAI's
    ``DiceMetric(ignore_empty=False)``). The model is left in evaluation mode.
    """
    if not isinstance(model, nn.Module):
        _checks.fail("model", "a torch.nn.Module", model, wrong_type=True)
    images, masks = _checks.images_and_masks("data", (images, masks))
    threshold = _checks.probability("threshold", threshold, open_ends=True)
    batch_size = _checks.integer("batch_size", batch_size, low=1)
    model.eval()
    device, scores = _device(model), []
    for start in range(0, len(images), batch_size):
        logits = model(images[start:start + batch_size].to(device))
        y = masks[start:start + batch_size].to(device).bool()
        if tuple(logits.shape) != tuple(y.shape):
            raise _checks.ArgumentError(
                f"model must map the images to logits of the masks' shape {tuple(y.shape)}, "
                f"got {tuple(logits.shape)}")
        pred = (torch.sigmoid(logits) > threshold).flatten(2)
        y = y.flatten(2)
        both = (pred & y).sum(2).float()
        total = (pred.sum(2) + y.sum(2)).float()
        per_label = torch.where(total > 0, 2 * both / total.clamp(min=1), 1.0)
        scores.append(per_label.mean(1).cpu())
    return torch.cat(scores).numpy().astype(np.float64)


@dataclass
class FitHistory:
    """What :func:`fit_segmenter` measured, one entry per epoch (epochs count from 1)."""

    train_loss: list[float] = field(default_factory=list)  #: mean soft-Jaccard loss per epoch
    val_dice: list[float] = field(default_factory=list)  #: mean validation Dice per epoch
    best_epoch: int = 0  #: the epoch whose weights the model keeps (0: the starting weights)
    start_val_dice: float = float("nan")  #: validation Dice of the starting weights
    trainable: int = 0  #: number of trainable parameters
    total: int = 0  #: number of parameters

    @property
    def best_val_dice(self) -> float:
        """Validation Dice of the kept weights."""
        return self.start_val_dice if self.best_epoch == 0 else self.val_dice[self.best_epoch - 1]


def fit_segmenter(
    model: UNet,
    train: tuple[torch.Tensor, torch.Tensor],
    val: tuple[torch.Tensor, torch.Tensor],
    *,
    epochs: int,
    lr: float,
    batch_size: int = 16,
    strategy: str = "none",
    freeze_bn_stats: bool = True,
    seed: int = 0,
    keep_start: bool = False,
) -> FitHistory:
    """Train ``model`` in place on ``train = (images, masks)``; keep its best epoch on ``val``.

    Adam at learning rate ``lr`` on the trainable parameters only (see :func:`freeze` for
    ``strategy``), soft Jaccard loss on the sigmoid of the logits (MONAI's
    ``DiceLoss(sigmoid=True, jaccard=True)``), batches drawn in an order fixed by ``seed``. After
    every epoch the mean validation Dice is measured; the model ends with the weights of the best
    epoch. With ``keep_start=True`` the starting weights compete too (epoch 0), so fine-tuning
    can never end worse on validation than where it started. Parameters are unfrozen at the end.
    """
    model = _check_unet(model)
    train = _check_pair("train", train)
    val = _check_pair("val", val)
    epochs = _checks.integer("epochs", epochs, low=1)
    lr = _checks.number("lr", lr, low=0.0, low_open=True)
    batch_size = _checks.integer("batch_size", batch_size, low=1)
    freeze_bn_stats = _checks.flag("freeze_bn_stats", freeze_bn_stats)
    seed = _checks.integer("seed", seed, low=0)
    keep_start = _checks.flag("keep_start", keep_start)

    frozen = freeze(model, strategy)
    params = [p for p in model.parameters() if p.requires_grad]
    history = FitHistory(trainable=sum(p.numel() for p in params),
                         total=sum(p.numel() for p in model.parameters()))
    optimizer = torch.optim.Adam(params, lr=lr)
    loss_fn = DiceLoss(sigmoid=True, jaccard=True)
    generator = torch.Generator().manual_seed(seed)
    device = _device(model)
    images, masks = train
    best_dice, best_state = -1.0, None
    if keep_start:
        history.start_val_dice = float(dice_per_image(model, *val).mean())
        best_dice, best_state = history.start_val_dice, copy.deepcopy(model.state_dict())
    for epoch in range(1, epochs + 1):
        _train_mode(model, frozen, freeze_bn_stats)
        order = torch.randperm(len(images), generator=generator)
        total = 0.0
        for start in range(0, len(images), batch_size):
            batch = order[start:start + batch_size]
            optimizer.zero_grad()
            loss = loss_fn(model(images[batch].to(device)), masks[batch].to(device))
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        history.train_loss.append(total / len(images))
        history.val_dice.append(float(dice_per_image(model, *val).mean()))
        if history.val_dice[-1] > best_dice:
            best_dice, best_state = history.val_dice[-1], copy.deepcopy(model.state_dict())
            history.best_epoch = epoch
    model.load_state_dict(best_state)
    freeze(model, "none")
    model.eval()
    return history


@dataclass
class ProtocolResult:
    """What :func:`run_protocols` returns.

    ``dice[protocol][test_name]`` is the per-image test Dice, shape ``(N_test,)``, of the chosen
    model of each protocol: ``"source only"`` (trained on the source, applied as it is),
    ``"fine-tuned"`` (the source model fine-tuned on the target) and ``"scratch"`` (trained on the
    target alone). ``selection`` lists every candidate tried on validation, ``chosen`` the chosen
    settings per protocol, ``histories`` the chosen runs' :class:`FitHistory` (no entry for a
    ``source_model`` passed in), ``models`` the chosen models and ``candidates`` every trained
    model, in the order of ``selection``.
    """

    dice: dict[str, dict[str, np.ndarray]]
    selection: list[dict]
    chosen: dict[str, dict]
    histories: dict[str, FitHistory]
    models: dict[str, nn.Module]
    candidates: list[nn.Module] = field(default_factory=list)


def _lrs(name: str, values: object) -> tuple[float, ...]:
    if isinstance(values, str | bytes) or not isinstance(values, Sequence) or not values:
        _checks.fail(name, "a non-empty sequence of learning rates", values, wrong_type=True)
    return tuple(_checks.number(f"{name}[{i}]", v, low=0.0, low_open=True)
                 for i, v in enumerate(values))


def run_protocols(
    make_model: Callable[[], UNet],
    source: Mapping[str, tuple[torch.Tensor, torch.Tensor]],
    target: Mapping[str, tuple[torch.Tensor, torch.Tensor]],
    tests: Mapping[str, tuple[torch.Tensor, torch.Tensor]] | None = None,
    *,
    source_epochs: int,
    target_epochs: int,
    source_lr: float = 2e-3,
    target_lrs: Sequence[float] = (1e-3,),
    strategies: Sequence[str] = ("none",),
    freeze_bn_stats: bool = True,
    batch_size: int = 16,
    seed: int = 0,
    source_model: UNet | None = None,
) -> ProtocolResult:
    """Source training, zero-shot transfer, fine-tuning and training from scratch, compared.

    ``source`` and ``target`` map ``"train"`` and ``"val"`` to ``(images, masks)``; ``tests``
    maps names (e.g. ``"source"``, ``"target"``) to the test sets, scored once, on the chosen
    models only (``None``: no test set is touched, ``dice`` is empty; score ``result.models``
    later, once). ``make_model()`` returns a fresh, seeded U-Net. The source model trains
    ``source_epochs`` at ``source_lr`` (or is ``source_model``, already trained, left unchanged);
    fine-tuning tries every ``strategy`` × ``target_lrs``, training from scratch every
    ``target_lrs``, each for ``target_epochs``; the candidate with the best target-validation
    Dice is chosen per protocol (its epoch too, inside :func:`fit_segmenter`).
    """
    if not callable(make_model) or isinstance(make_model, nn.Module):
        _checks.fail("make_model", "a function returning a fresh UNet (not a model)", make_model,
                     wrong_type=True)
    for name, splits in (("source", source), ("target", target)):
        if not isinstance(splits, Mapping) or set(splits) != {"train", "val"}:
            _checks.fail(name, "a dict with keys 'train' and 'val'", splits, wrong_type=True)
        for key in ("train", "val"):
            _check_pair(f"{name}[{key!r}]", splits[key])
    if tests is not None and (not isinstance(tests, Mapping) or not tests):
        _checks.fail("tests", "None or a non-empty dict of test sets", tests, wrong_type=True)
    for key, pair in (tests or {}).items():
        _check_pair(f"tests[{key!r}]", pair)
    source_epochs = _checks.integer("source_epochs", source_epochs, low=1)
    target_epochs = _checks.integer("target_epochs", target_epochs, low=1)
    source_lr = _checks.number("source_lr", source_lr, low=0.0, low_open=True)
    target_lrs = _lrs("target_lrs", target_lrs)
    if isinstance(strategies, str | bytes) or not isinstance(strategies, Sequence) or not (
            strategies):
        _checks.fail("strategies", f"a non-empty sequence of {STRATEGIES}", strategies,
                     wrong_type=True)
    for i, strategy in enumerate(strategies):
        _checks.choice(f"strategies[{i}]", strategy, STRATEGIES)
    if source_model is not None:
        _check_unet(source_model, "source_model")
    options = dict(batch_size=batch_size, freeze_bn_stats=freeze_bn_stats, seed=seed)

    selection: list[dict] = []
    histories: dict[str, FitHistory] = {}
    models: dict[str, nn.Module] = {}
    chosen: dict[str, dict] = {}
    candidates: list[nn.Module] = []
    if source_model is None:
        source_model = _check_unet(make_model(), "make_model()")
        histories["source only"] = fit_segmenter(source_model, source["train"], source["val"],
                                                 epochs=source_epochs, lr=source_lr, **options)
    models["source only"] = source_model
    zero_shot = float(dice_per_image(source_model, *target["val"]).mean())
    chosen["source only"] = dict(strategy="-", lr=source_lr, val_dice=zero_shot)
    selection.append(dict(protocol="source only", **chosen["source only"], best_epoch=0))
    candidates.append(source_model)

    for protocol, grid in (("fine-tuned", [(s, lr) for s in strategies for lr in target_lrs]),
                           ("scratch", [("-", lr) for lr in target_lrs])):
        best = None
        for strategy, lr in grid:
            if protocol == "fine-tuned":
                model = copy.deepcopy(source_model)
                history = fit_segmenter(model, target["train"], target["val"],
                                        epochs=target_epochs, lr=lr, strategy=strategy,
                                        keep_start=True, **options)
            else:
                model = _check_unet(make_model(), "make_model()")
                history = fit_segmenter(model, target["train"], target["val"],
                                        epochs=target_epochs, lr=lr, **options)
            row = dict(protocol=protocol, strategy=strategy, lr=lr,
                       val_dice=history.best_val_dice, best_epoch=history.best_epoch)
            selection.append(row)
            candidates.append(model)
            if best is None or row["val_dice"] > best[0]["val_dice"]:
                best = (row, history, model)
        chosen[protocol] = {k: best[0][k] for k in ("strategy", "lr", "val_dice")}
        histories[protocol], models[protocol] = best[1], best[2]

    # the test sets, scored once, on the chosen models
    dice = {protocol: {name: dice_per_image(model, *pair) for name, pair in tests.items()}
            for protocol, model in models.items()} if tests else {}
    return ProtocolResult(dice=dice, selection=selection, chosen=chosen, histories=histories,
                          models=models, candidates=candidates)
