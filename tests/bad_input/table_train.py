"""Bad-input rows for ``dentpy.models`` (classifiers, pretrain, small, unet) and ``dentpy.train``.

Models are tiny (a ``Linear(2, 2)``, torchvision networks built on the meta device) and ``fit``
rows fail on their arguments before any training, so the whole table runs in seconds.
"""

from __future__ import annotations

import math
from pathlib import Path
from urllib.error import URLError

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from torchvision.models import ResNet50_Weights
from torchvision.models._api import WeightsEnum

from bad_input import Row, bad, documented
from dentpy.models import classifiers as C
from dentpy.models.pretrain import accuracy, pretrain
from dentpy.models.small import SmallCNN
from dentpy.models.unet import UNet
from dentpy.train import checkpoint as K
from dentpy.train import cv
from dentpy.train import distributed as D
from dentpy.train import evaluate as E
from dentpy.train import history as H
from dentpy.train import loop as L

M = "dentpy.models."
T = "dentpy.train."


def tiny() -> nn.Module:
    return nn.Linear(2, 2)


def loader(n: int = 2) -> DataLoader:
    return DataLoader(TensorDataset(torch.zeros(n, 2), torch.zeros(n, dtype=torch.long)),
                      batch_size=2)


def dataset(n: int = 4) -> TensorDataset:
    return TensorDataset(torch.zeros(n, 2), torch.zeros(n, dtype=torch.long))


def meta_resnet() -> nn.Module:
    with torch.device("meta"):
        return C.build_classifier("resnet18", num_classes=2)


def fit(**changes):
    """``fit`` of a 1-layer model on one batch, with ``changes`` to its arguments."""
    model = tiny()
    kwargs = dict(model=model, train_loader=loader(), val_loader=loader(),
                  loss_fn=nn.CrossEntropyLoss(),
                  optimizer=torch.optim.SGD(model.parameters(), lr=0.1), epochs=1,
                  progress=False)
    return L.fit(**(kwargs | changes))


def corrupt(name: str) -> str:
    Path(name).parent.mkdir(parents=True, exist_ok=True)
    Path(name).write_bytes(b"not a pickle")
    return name


def a_file(name: str = "a_file.txt") -> str:
    Path(name).write_text("user data")
    return name


def offline_build(weights):
    """``build_classifier`` with a known weights name while the download fails (no network)."""
    def no_network(*args, **kwargs):
        raise URLError("[Errno -3] Temporary failure in name resolution")

    original = WeightsEnum.get_state_dict
    WeightsEnum.get_state_dict = no_network
    try:
        return C.build_classifier("resnet18", num_classes=2, weights=weights)
    finally:
        WeightsEnum.get_state_dict = original


def history(*values: float) -> H.History:
    h = H.History()
    for epoch, value in enumerate(values, start=1):
        h.append({"epoch": epoch, "val_loss": value})
    return h


def cross_validate(**changes):
    kwargs = dict(make_model=tiny, dataset=dataset(), k=2, loss_fn=nn.CrossEntropyLoss(),
                  epochs=1, progress=False)
    return cv.cross_validate(**(kwargs | changes))


BC = M + "classifiers.build_classifier"
WEIGHTS = r"weights must be None, a \.pt/\.pth file or one of \('IMAGENET1K_V1', 'DEFAULT'\)"

ROWS: list[Row] = [
    # --- dentpy.models.classifiers ---
    bad(BC, "unknown option", lambda: C.build_classifier("resnet18", num_classes=2, weights=True),
        match=WEIGHTS + r" for resnet18 \(a string\), got True"),
    bad(BC, "unknown option",
        lambda: C.build_classifier("resnet18", num_classes=2, weights="MISSPELT"),
        match=WEIGHTS + r" for resnet18, got 'MISSPELT'"),
    bad(BC, "unknown option", lambda: C.build_classifier(
        "resnet18", num_classes=2, weights=ResNet50_Weights.IMAGENET1K_V2),
        match=r"weights must be .*another architecture"),
    bad(BC, "unknown option", lambda: C.build_classifier("resnet-18", num_classes=2),
        match=r"name must be one of \('resnet18'"),
    bad(BC, "wrong type", lambda: C.build_classifier(None, num_classes=2),
        match=r"name must be one of"),
    bad(BC, "not an integer", lambda: C.build_classifier("resnet18", num_classes=2.0),
        match=r"num_classes must be an integer >= 1, got 2\.0"),
    bad(BC, "out of range", lambda: C.build_classifier("resnet18", num_classes=2, in_channels=0),
        match=r"in_channels must be an integer >= 1, got 0"),
    bad(BC, "bad path", lambda: C.build_classifier("resnet18", num_classes=2, weights="none.pth"),
        match=r"weights does not exist: 'none\.pth'"),
    bad(BC, "bad path", lambda: C.build_classifier(
        "resnet18", num_classes=2, weights=corrupt("corrupt.pth")),
        match=r"weights: 'corrupt\.pth' is not a readable state dict"),
    bad(BC, "bad path", lambda: C.build_classifier("resnet18", num_classes=2, weights=Path(".")),
        match=r"weights must be a file, got the directory"),
    documented(BC, "degenerate", lambda: offline_build("DEFAULT"),
               check=lambda model: model.conv1.in_channels == 1 and model.fc.out_features == 2,
               warns=UserWarning),
    bad(M + "classifiers.adapt_first_conv", "wrong type",
        lambda: C.adapt_first_conv(None, 1, pretrained=False),
        match=r"model must be a torch\.nn\.Module, got None"),
    bad(M + "classifiers.adapt_first_conv", "not an integer",
        lambda: C.adapt_first_conv(tiny(), 2.5, pretrained=False),
        match=r"in_channels must be an integer >= 1, got 2\.5"),
    bad(M + "classifiers.adapt_first_conv", "wrong type",
        lambda: C.adapt_first_conv(SmallCNN(), 3, pretrained="yes"),
        match=r"pretrained must be True or False, got 'yes'"),
    bad(M + "classifiers.adapt_first_conv", "wrong type",
        lambda: C.adapt_first_conv(tiny(), 3, pretrained=False),
        match=r"model: Linear has no Conv2d"),
    bad(M + "classifiers.replace_head", "wrong type", lambda: C.replace_head("resnet18", 2),
        match=r"model must be a torch\.nn\.Module, got 'resnet18'"),
    bad(M + "classifiers.replace_head", "out of range", lambda: C.replace_head(tiny(), 0),
        match=r"num_classes must be an integer >= 1, got 0"),
    bad(M + "classifiers.replace_head", "not an integer", lambda: C.replace_head(tiny(), 2.5),
        match=r"num_classes must be an integer >= 1, got 2\.5"),
    bad(M + "classifiers.conv_blocks", "wrong type", lambda: C.conv_blocks(None),
        match=r"model must be a torchvision ResNet, VGG, EfficientNet or DenseNet"),
    bad(M + "classifiers.conv_blocks", "wrong type", lambda: C.conv_blocks(SmallCNN()),
        match=r"model must be a torchvision .*got SmallCNN"),
    bad(M + "classifiers.freeze_blocks", "not an integer",
        lambda: C.freeze_blocks(meta_resnet(), 2.5),
        match=r"n_trainable must be an integer in \[0, 5\], got 2\.5"),
    bad(M + "classifiers.freeze_blocks", "out of range",
        lambda: C.freeze_blocks(meta_resnet(), 6),
        match=r"n_trainable must be an integer in \[0, 5\], got 6"),
    bad(M + "classifiers.freeze_blocks", "out of range",
        lambda: C.freeze_blocks(meta_resnet(), -1),
        match=r"n_trainable must be an integer in \[0, 5\], got -1"),
    bad(M + "classifiers.freeze_blocks", "wrong type", lambda: C.freeze_blocks(None, 1),
        match=r"model must be a torchvision"),
    bad(M + "classifiers.trainable_blocks", "wrong type", lambda: C.trainable_blocks(tiny()),
        match=r"model must be a torchvision .*got Linear"),
    bad(M + "classifiers.parameter_summary", "wrong type", lambda: C.parameter_summary(None),
        match=r"model must be a torch\.nn\.Module, got None"),
    bad(M + "classifiers.parameter_summary", "wrong type",
        lambda: C.parameter_summary("resnet18"),
        match=r"model must be a torch\.nn\.Module, got 'resnet18'"),
    # --- dentpy.models.pretrain ---
    bad(M + "pretrain.accuracy", "wrong type", lambda: accuracy(None, torch.zeros(2)),
        match=r"outputs must be an array or a tensor, got None"),
    bad(M + "pretrain.accuracy", "wrong rank", lambda: accuracy(torch.zeros(3), torch.zeros(3)),
        match=r"outputs must be 2-dimensional"),
    bad(M + "pretrain.accuracy", "mismatched lengths",
        lambda: accuracy(torch.zeros(3, 2), torch.zeros(4, dtype=torch.long)),
        match=r"outputs and targets must have the same length: outputs has 3, targets has 4"),
    bad(M + "pretrain.accuracy", "empty",
        lambda: accuracy(torch.zeros(0, 2), torch.zeros(0, dtype=torch.long)),
        match=r"outputs must be non-empty"),
    bad(M + "pretrain.accuracy", "wrong dtype",
        lambda: accuracy(torch.zeros(2, 2), torch.tensor([0.5, 1.0])),
        match=r"targets must be class indices \(whole numbers\)"),
    bad(M + "pretrain.accuracy", "nan or inf",
        lambda: accuracy(torch.tensor([[math.nan, 0.0]]), torch.tensor([0])),
        match=r"outputs must be finite"),
    bad(M + "pretrain.pretrain", "wrong type", lambda: pretrain(tiny(), None, epochs=1),
        match=r"source_dataset must be a map-style Dataset .*got None"),
    bad(M + "pretrain.pretrain", "wrong type", lambda: pretrain(None, dataset(), epochs=1),
        match=r"model must be a torch\.nn\.Module, got None"),
    bad(M + "pretrain.pretrain", "out of range",
        lambda: pretrain(tiny(), dataset(), epochs=1, val_fraction=1.0),
        match=r"val_fraction must be a finite number in \(0, 1\), got 1\.0"),
    bad(M + "pretrain.pretrain", "nan or inf",
        lambda: pretrain(tiny(), dataset(), epochs=1, lr=math.nan),
        match=r"lr must be a finite number > 0, got nan"),
    bad(M + "pretrain.pretrain", "not an integer",
        lambda: pretrain(tiny(), dataset(), epochs=1, batch_size=2.0),
        match=r"batch_size must be an integer >= 1, got 2\.0"),
    bad(M + "pretrain.pretrain", "not an integer",
        lambda: pretrain(tiny(), dataset(), epochs=1.5, progress=False),
        match=r"epochs must be an integer >= 1, got 1\.5"),
    bad(M + "pretrain.pretrain", "empty", lambda: pretrain(tiny(), dataset(1), epochs=1),
        match=r"source_dataset: 1 item\(s\) are too few"),
    # --- dentpy.models.small, dentpy.models.unet ---
    bad(M + "small.SmallCNN", "not an integer", lambda: SmallCNN(width=2.0),
        match=r"width must be an integer >= 1, got 2\.0"),
    bad(M + "small.SmallCNN", "out of range", lambda: SmallCNN(num_classes=0),
        match=r"num_classes must be an integer >= 1, got 0"),
    bad(M + "small.SmallCNN", "nan or inf", lambda: SmallCNN(dropout=math.nan),
        match=r"dropout must be a finite number in \[0\.0, 1\.0\), got nan"),
    bad(M + "small.SmallCNN", "wrong type", lambda: SmallCNN(dropout="0.1"),
        match=r"dropout must be a finite number .*got '0\.1'"),
    bad(M + "small.SmallCNN", "wrong type", lambda: SmallCNN()(None),
        match=r"x must be a tensor of shape \(B, 1, H, W\), got None"),
    bad(M + "small.SmallCNN", "wrong rank", lambda: SmallCNN()(torch.zeros(1, 8, 8)),
        match=r"x must have shape \(B, 1, H, W\), got \(1, 8, 8\)"),
    bad(M + "small.SmallCNN", "wrong dtype",
        lambda: SmallCNN()(torch.zeros(1, 1, 8, 8, dtype=torch.long)),
        match=r"x must be a float tensor .*torch\.int64"),
    bad(M + "unet.UNet", "not an integer", lambda: UNet(dim=2.0),
        match=r"dim must be an integer in \[2, 3\], got 2\.0"),
    bad(M + "unet.UNet", "out of range", lambda: UNet(depth=1),
        match=r"depth must be an integer >= 2, got 1"),
    bad(M + "unet.UNet", "unknown option", lambda: UNet(norm="group"),
        match=r"norm must be one of \('batch', 'instance', 'none'\), got 'group'"),
    bad(M + "unet.UNet", "wrong type", lambda: UNet(depth=2)(None),
        match=r"x must be a tensor of shape \(N, 1, H, W\), got None"),
    bad(M + "unet.UNet", "wrong rank", lambda: UNet(3, depth=2)(torch.zeros(1, 1, 8, 8)),
        match=r"x must have shape \(N, 1, D, H, W\)"),
    bad(M + "unet.UNet", "wrong dtype",
        lambda: UNet(depth=2)(torch.zeros(1, 1, 8, 8, dtype=torch.uint8)),
        match=r"x must be a float tensor"),
    bad(M + "unet.UNet", "mismatched lengths", lambda: UNet(depth=3)(torch.zeros(1, 1, 6, 8)),
        match=r"x: spatial size \(6, 8\) must be divisible by 2\*\*\(depth-1\) = 4"),
    # --- dentpy.train.checkpoint ---
    bad(T + "checkpoint.save_checkpoint", "wrong type", lambda: K.save_checkpoint(None, "a.pt"),
        match=r"state must be a dict .*got None"),
    bad(T + "checkpoint.save_checkpoint", "wrong type", lambda: K.save_checkpoint({}, None),
        match=r"path must be a path \(str or os\.PathLike\), got None"),
    bad(T + "checkpoint.save_checkpoint", "bad path", lambda: K.save_checkpoint({}, "."),
        match=r"path must be a file path, got the directory"),
    bad(T + "checkpoint.save_checkpoint", "bad path",
        lambda: K.save_checkpoint({}, a_file() + "/x.pt"),
        match=r"path lies under a file, not a directory: 'a_file\.txt'"),
    bad(T + "checkpoint.save_checkpoint", "bad path",
        lambda: K.save_checkpoint({}, "missing/x.pt"),
        match=r"path: folder 'missing' does not exist"),
    bad(T + "checkpoint.load_checkpoint", "bad path", lambda: K.load_checkpoint("none.pt"),
        match=r"path does not exist: 'none\.pt'"),
    bad(T + "checkpoint.load_checkpoint", "bad path",
        lambda: K.load_checkpoint(corrupt("last.pt")),
        match=r"path: 'last\.pt' is not a readable checkpoint \(corrupt"),
    bad(T + "checkpoint.load_checkpoint", "bad path", lambda: K.load_checkpoint("."),
        match=r"path must be a file, got the directory"),
    bad(T + "checkpoint.load_checkpoint", "wrong type", lambda: K.load_checkpoint(None),
        match=r"path must be a path \(str or os\.PathLike\), got None"),
    bad(T + "checkpoint.load_checkpoint", "bad path",
        lambda: (torch.save([1, 2], "list.pt"), K.load_checkpoint("list.pt")),
        match=r"path: 'list\.pt' holds a list, not a checkpoint dict"),
    bad(T + "checkpoint.rng_state", "wrong type", lambda: K.rng_state(None),
        match=r"generators must be a list of torch\.Generator, got None"),
    bad(T + "checkpoint.rng_state", "wrong type", lambda: K.rng_state(["seed"]),
        match=r"generators must hold torch\.Generator objects, got 'seed'"),
    bad(T + "checkpoint.set_rng_state", "wrong type", lambda: K.set_rng_state(None),
        match=r"state must be what rng_state\(\) returned"),
    bad(T + "checkpoint.set_rng_state", "empty", lambda: K.set_rng_state({}),
        match=r"state must be what rng_state\(\) returned \(keys \['python'"),
    bad(T + "checkpoint.set_rng_state", "mismatched lengths",
        lambda: K.set_rng_state(K.rng_state(), [torch.Generator()]),
        match=r"generators: the checkpoint holds 0 data-loader generator state\(s\) but 1"),
    # --- dentpy.train.cv ---
    bad(T + "cv.fold_indices", "not an integer", lambda: cv.fold_indices(5.5, 2),
        match=r"n must be an integer >= 0, got 5\.5"),
    bad(T + "cv.fold_indices", "not an integer", lambda: cv.fold_indices(10, 2.0),
        match=r"k must be an integer >= 2, got 2\.0"),
    bad(T + "cv.fold_indices", "wrong type", lambda: cv.fold_indices(None, 2),
        match=r"n must be an integer >= 0, got None"),
    bad(T + "cv.fold_indices", "out of range", lambda: cv.fold_indices(3, 5),
        match=r"n must be at least k=5"),
    bad(T + "cv.fold_indices", "nan or inf",
        lambda: cv.fold_indices(10, 2, test_fraction=math.nan),
        match=r"test_fraction must be a finite number in \(0, 1\), got nan"),
    bad(T + "cv.fold_indices", "out of range",
        lambda: cv.fold_indices(10, 2, test_fraction=1.5),
        match=r"test_fraction must be a finite number in \(0, 1\), got 1\.5"),
    bad(T + "cv.fold_indices", "wrong type", lambda: cv.fold_indices(10, 2, labels="aaaaaaaaaa"),
        match=r"labels must be a sequence with one entry per dataset item, got 'aaaaaaaaaa'"),
    bad(T + "cv.fold_indices", "mismatched lengths",
        lambda: cv.fold_indices(10, 2, labels=[0, 1]),
        match=r"labels must be 1-D with one entry per dataset item \(10\), got shape \(2,\)"),
    bad(T + "cv.fold_indices", "nan or inf",
        lambda: cv.fold_indices(4, 2, groups=[0.0, 1.0, math.nan, 2.0]),
        match=r"groups contains NaN"),
    bad(T + "cv.fold_indices", "wrong type", lambda: cv.fold_indices(10, 2, seed=None),
        match=r"seed must be an integer in \[0, 4294967295\], got None"),
    bad(T + "cv.cross_validate", "wrong type", lambda: cross_validate(make_model=None),
        match=r"make_model must be a callable returning a fresh model"),
    bad(T + "cv.cross_validate", "wrong type", lambda: cross_validate(make_model=tiny()),
        match=r"make_model must be a callable returning a fresh model .*got Linear"),
    bad(T + "cv.cross_validate", "wrong type", lambda: cross_validate(make_model=lambda: "net"),
        match=r"make_model must return a torch\.nn\.Module, got 'net'"),
    bad(T + "cv.cross_validate", "wrong type", lambda: cross_validate(dataset=None),
        match=r"dataset must be a map-style Dataset, got None"),
    bad(T + "cv.cross_validate", "not an integer", lambda: cross_validate(k=2.5),
        match=r"k must be an integer >= 2, got 2\.5"),
    bad(T + "cv.cross_validate", "empty", lambda: cross_validate(dataset=dataset(1)),
        match=r"dataset has 1 item\(s\), fewer than the k=2 folds"),
    bad(T + "cv.cross_validate", "out of range", lambda: cross_validate(num_workers=-1),
        match=r"num_workers must be an integer >= 0, got -1"),
    bad(T + "cv.cross_validate", "bad path", lambda: cross_validate(checkpoint_dir=a_file()),
        match=r"checkpoint_dir must be a directory, got the file 'a_file\.txt'"),
    # --- dentpy.train.distributed ---
    bad(T + "distributed.init_distributed", "unknown option", lambda: D.init_distributed("mpi"),
        match=r"backend must be one of \('nccl', 'gloo'\), got 'mpi'"),
    bad(T + "distributed.init_distributed", "wrong type", lambda: D.init_distributed(1),
        match=r"backend must be one of \('nccl', 'gloo'\), got 1"),
    bad(T + "distributed.ShardSampler", "not an integer",
        lambda: D.ShardSampler(2.5, rank=0, world_size=1),
        match=r"n must be an integer >= 0, got 2\.5"),
    bad(T + "distributed.ShardSampler", "out of range",
        lambda: D.ShardSampler(4, rank=-1, world_size=1),
        match=r"rank must be an integer in \[0, 0\], got -1"),
    bad(T + "distributed.ShardSampler", "out of range",
        lambda: D.ShardSampler(4, rank=2, world_size=2),
        match=r"rank must be an integer in \[0, 1\], got 2"),
    bad(T + "distributed.ShardSampler", "out of range",
        lambda: D.ShardSampler(4, rank=0, world_size=0),
        match=r"world_size must be an integer >= 1, got 0"),
    bad(T + "distributed.shard_loader", "wrong type", lambda: D.shard_loader(None, train=True),
        match=r"loader must be a torch DataLoader, got None"),
    bad(T + "distributed.shard_loader", "wrong type",
        lambda: D.shard_loader(loader(), train="yes"),
        match=r"train must be True or False, got 'yes'"),
    bad(T + "distributed.all_reduce_sum", "wrong type", lambda: D.all_reduce_sum(None),
        match=r"tensor must be a tensor, got None"),
    bad(T + "distributed.all_reduce_sum", "wrong type", lambda: D.all_reduce_sum([1, 2]),
        match=r"tensor must be a tensor, got \[1, 2\]"),
    # --- dentpy.train.evaluate ---
    bad(T + "evaluate.chance_level", "wrong type", lambda: E.chance_level(None),
        match=r"targets must be an array or a tensor, got None"),
    bad(T + "evaluate.chance_level", "wrong type", lambda: E.chance_level("abc"),
        match=r"targets must be an array or a tensor, got 'abc'"),
    bad(T + "evaluate.chance_level", "empty", lambda: E.chance_level([]),
        match=r"targets must be non-empty"),
    bad(T + "evaluate.chance_level", "wrong rank", lambda: E.chance_level([[0, 1]]),
        match=r"targets must be 1-dimensional"),
    bad(T + "evaluate.chance_level", "nan or inf", lambda: E.chance_level([0.0, math.nan]),
        match=r"targets must be finite"),
    bad(T + "evaluate.chance_level", "wrong dtype", lambda: E.chance_level([0.5, 1.0]),
        match=r"targets must be integer class indices"),
    bad(T + "evaluate.chance_level", "out of range", lambda: E.chance_level([0, -1]),
        match=r"targets must be class indices >= 0, got -1"),
    bad(T + "evaluate.chance_level", "not an integer",
        lambda: E.chance_level([0, 1], num_classes=2.0),
        match=r"num_classes must be an integer >= 1, got 2\.0"),
    bad(T + "evaluate.score_test", "wrong type",
        lambda: E.score_test(None, loader(), {"accuracy": accuracy}),
        match=r"model must be a torch\.nn\.Module, got None"),
    bad(T + "evaluate.score_test", "wrong type",
        lambda: E.score_test(tiny(), "test.csv", {"accuracy": accuracy}),
        match=r"test_loader must be a torch DataLoader, got 'test\.csv'"),
    bad(T + "evaluate.score_test", "wrong type", lambda: E.score_test(tiny(), loader(), None),
        match=r"metrics must map at least one name to a metric, got None"),
    bad(T + "evaluate.score_test", "empty",
        lambda: E.score_test(tiny(), loader(0), {"accuracy": accuracy}),
        match=r"test_loader is empty \(0 batches\)"),
    bad(T + "evaluate.score_test", "unknown option",
        lambda: E.score_test(tiny(), loader(), {"accuracy": accuracy}, device="gpu"),
        match=r"device must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps' .*got 'gpu'"),
    bad(T + "evaluate.score_test", "wrong type",
        lambda: E.score_test(tiny(), loader(), {"accuracy": accuracy}, repeat=1),
        match=r"repeat must be None or a non-empty reason, got 1"),
    # --- dentpy.train.history ---
    bad(T + "history.History", "unknown option", lambda: H.History(mode="lowest"),
        match=r"mode must be one of \('min', 'max'\), got 'lowest'"),
    bad(T + "history.History", "wrong type", lambda: H.History(monitor=None),
        match=r"monitor must be a column name \(a string\), got None"),
    bad(T + "history.History", "wrong type", lambda: H.History().append(None),
        match=r"record must be a dict of column values, got None"),
    bad(T + "history.History", "wrong type", lambda: H.History().append({"epoch": "one"}),
        match=r"record\['epoch'\] must be a number, got 'one'"),
    bad(T + "history.History", "empty", lambda: H.History().append({"val_loss": 1.0}),
        match=r"record must hold an 'epoch' value"),
    bad(T + "history.History", "unknown option", lambda: history(1.0).at_best("val_dice"),
        match=r"column must be one of \['epoch', 'val_loss'\], got 'val_dice'"),
    bad(T + "history.History", "wrong type", lambda: H.History.from_dict(None),
        match=r"data must be what History\.to_dict\(\) returned"),
    bad(T + "history.History", "nan or inf",
        lambda: history(1.0).epochs_without_improvement(math.nan),
        match=r"min_delta must be a finite number >= 0, got nan"),
    bad(T + "history.History", "unknown option", lambda: history(1.0).plot(["dice"]),
        match=r"keys: 'dice' is not in the history"),
    documented(T + "history.History", "degenerate",
               lambda: history(math.nan, math.nan).best_epoch, check=lambda r: r is None),
    bad(T + "history.is_improvement", "unknown option", lambda: H.is_improvement(1.0, 2.0, "mx"),
        match=r"mode must be one of \('min', 'max'\), got 'mx'"),
    bad(T + "history.is_improvement", "wrong type", lambda: H.is_improvement(None, 2.0, "min"),
        match=r"value must be a number, got None"),
    bad(T + "history.is_improvement", "wrong type", lambda: H.is_improvement(1.0, "2", "min"),
        match=r"best must be a number, got '2'"),
    bad(T + "history.is_improvement", "out of range",
        lambda: H.is_improvement(1.0, 2.0, "min", -1),
        match=r"min_delta must be a finite number >= 0, got -1"),
    bad(T + "history.is_improvement", "nan or inf",
        lambda: H.is_improvement(1.0, 2.0, "min", math.nan),
        match=r"min_delta must be a finite number >= 0, got nan"),
    documented(T + "history.is_improvement", "degenerate",
               lambda: H.is_improvement(math.nan, None, "min"), check=lambda r: r is False),
    # --- dentpy.train.loop ---
    bad(T + "loop.EarlyStopping", "not an integer", lambda: L.EarlyStopping(2.0),
        match=r"patience must be an integer >= 1, got 2\.0"),
    bad(T + "loop.EarlyStopping", "out of range", lambda: L.EarlyStopping(0),
        match=r"patience must be an integer >= 1, got 0"),
    bad(T + "loop.EarlyStopping", "nan or inf", lambda: L.EarlyStopping(2, math.inf),
        match=r"min_delta must be a finite number >= 0, got inf"),
    bad(T + "loop.EarlyStopping", "wrong type", lambda: L.EarlyStopping(2, True),
        match=r"min_delta must be a finite number >= 0, got True"),
    bad(T + "loop.fit", "bad path", lambda: fit(checkpoint_dir=a_file()),
        match=r"checkpoint_dir must be a directory, got the file 'a_file\.txt'"),
    bad(T + "loop.fit", "bad path", lambda: fit(checkpoint_dir=a_file() + "/run"),
        match=r"checkpoint_dir lies under a file, not a directory: 'a_file\.txt'"),
    bad(T + "loop.fit", "bad path",
        lambda: (corrupt("run/last.pt"), fit(checkpoint_dir="run", resume=True)),
        match=r"path: 'run/last\.pt' is not a readable checkpoint \(corrupt"),
    bad(T + "loop.fit", "bad path",
        lambda: (Path("run").mkdir(), K.save_checkpoint({"epoch": 1}, "run/last.pt"),
                 fit(checkpoint_dir="run", resume=True)),
        match=r"checkpoint_dir: 'run/last\.pt' was not written by fit"),
    bad(T + "loop.fit", "not an integer", lambda: fit(epochs=1.0),
        match=r"epochs must be an integer >= 1, got 1\.0"),
    bad(T + "loop.fit", "wrong type", lambda: fit(model=None),
        match=r"model must be a torch\.nn\.Module, got None"),
    bad(T + "loop.fit", "wrong type", lambda: fit(train_loader="train.csv"),
        match=r"train_loader must be a torch DataLoader, got 'train\.csv'"),
    bad(T + "loop.fit", "wrong type", lambda: fit(optimizer=None),
        match=r"optimizer must be a torch\.optim\.Optimizer, got None"),
    bad(T + "loop.fit", "wrong type", lambda: fit(loss_fn="cross_entropy"),
        match=r"loss_fn must be callable, got 'cross_entropy'"),
    bad(T + "loop.fit", "wrong type", lambda: fit(scheduler="cosine"),
        match=r"scheduler must be None or a learning-rate scheduler"),
    bad(T + "loop.fit", "wrong type", lambda: fit(amp="yes"),
        match=r"amp must be True or False, got 'yes'"),
    bad(T + "loop.fit", "wrong type", lambda: fit(metrics=[accuracy]),
        match=r"metrics must be None or a dict"),
    bad(T + "loop.fit", "empty", lambda: fit(val_loader=loader(0)),
        match=r"val_loader is empty \(0 batches\)"),
    bad(T + "loop.fit", "nan or inf", lambda: fit(max_grad_norm=math.nan),
        match=r"max_grad_norm must be a finite number > 0, got nan"),
    bad(T + "loop.fit", "unknown option", lambda: fit(monitor="val_acc"),
        match=r"monitor must be one of \('train_loss', 'val_loss'\), got 'val_acc'"),
    bad(T + "loop.fit", "unknown option", lambda: fit(device="gpu"),
        match=r"device must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps' .*got 'gpu'"),
    bad(T + "loop.fit", "unknown option", lambda: fit(scheduler_interval="step"),
        match=r"scheduler_interval must be one of \('epoch', 'batch'\), got 'step'"),
    bad(T + "loop.fit", "out of range", lambda: fit(early_stopping=0),
        match=r"patience must be an integer >= 1, got 0"),
    bad(T + "loop.predict", "wrong type", lambda: L.predict(None, loader()),
        match=r"model must be a torch\.nn\.Module, got None"),
    bad(T + "loop.predict", "wrong type", lambda: L.predict(tiny(), None),
        match=r"loader must be a torch DataLoader, got None"),
    bad(T + "loop.predict", "empty", lambda: L.predict(tiny(), loader(0)),
        match=r"loader is empty \(0 batches\)"),
    bad(T + "loop.predict", "unknown option", lambda: L.predict(tiny(), loader(), device="gpu"),
        match=r"device must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps' .*got 'gpu'"),
]

EXEMPT = {
    T + "cv.FoldResult": "result dataclass, only returned by cross_validate",
    T + "cv.CVResult": "result dataclass, only returned by cross_validate",
    T + "evaluate.Chance": "result tuple, only returned by chance_level",
    T + "evaluate.HeldOutScore": "result dataclass, only returned by score_test",
    T + "evaluate.scored_tests": "takes no argument",
    T + "distributed.is_distributed": "takes no argument",
    T + "distributed.rank": "takes no argument",
    T + "distributed.world_size": "takes no argument",
    T + "distributed.is_main_process": "takes no argument",
    T + "distributed.barrier": "takes no argument",
    T + "distributed.all_gather_objects": "any picklable object is valid",
}
