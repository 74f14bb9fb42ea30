"""Tests for dentpy.models: torchvision classifiers, block freezing, U-Net, pretraining."""

from __future__ import annotations

from pathlib import Path
from urllib.error import URLError

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset
from torchvision.models import (
    EfficientNet_B0_Weights,
    ResNet18_Weights,
    ResNet50_Weights,
    get_model,
)
from torchvision.models._api import WeightsEnum

from dentpy.models import (
    ARCHITECTURES,
    UNet,
    adapt_first_conv,
    build_classifier,
    classifiers,
    conv_blocks,
    freeze_blocks,
    parameter_summary,
    pretrain,
    replace_head,
    trainable_blocks,
)


def on_meta(name: str, **kwargs) -> nn.Module:
    """Build without allocating or initialising weights: for structure-only checks."""
    with torch.device("meta"):
        return build_classifier(name, **kwargs)


@pytest.mark.parametrize("name", ["resnet18", "efficientnet_b0", "densenet121"])
def test_small_classifiers_run_on_one_channel_images(name):
    torch.manual_seed(0)
    model = build_classifier(name, in_channels=1, num_classes=3).eval()
    with torch.no_grad():
        out = model(torch.randn(2, 1, 64, 64))
    assert out.shape == (2, 3) and torch.isfinite(out).all()


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_every_architecture_gets_new_first_conv_and_head(name):
    model = on_meta(name, in_channels=1, num_classes=4)
    first = next(m for m in model.modules() if isinstance(m, nn.Conv2d))
    last = [m for m in model.modules() if isinstance(m, nn.Linear)][-1]
    assert first.in_channels == 1 and last.out_features == 4
    assert len(conv_blocks(model)) == (9 if name.startswith("efficientnet") else 5)


def test_parameter_count_matches_hand_computation():
    model = build_classifier("resnet18", in_channels=1, num_classes=2)
    reference = get_model("resnet18")  # 3 channels, 1000 classes: 11,689,512 parameters
    expected = 11_689_512 - 64 * 2 * 7 * 7 - (512 * 1000 + 1000) + (512 * 2 + 2)
    summary = parameter_summary(model)
    assert sum(p.numel() for p in reference.parameters()) == 11_689_512
    assert summary["total"] == expected == summary["trainable"] and summary["frozen"] == 0
    assert list(summary["blocks"]) == ["stem", "layer1", "layer2", "layer3", "layer4"]
    assert summary["blocks"]["stem"] == (64 * 49 + 2 * 64, 64 * 49 + 2 * 64)
    assert parameter_summary(nn.Linear(3, 2))["blocks"] == {}


def rgb_state_dict(name: str) -> dict[str, torch.Tensor]:
    torch.manual_seed(1)
    return get_model(name, weights=None).state_dict()


def test_weights_from_a_state_dict_file_adapt_the_rgb_kernels(tmp_path: Path):
    state = rgb_state_dict("resnet18")
    path = tmp_path / "resnet18.pth"
    torch.save(state, path)
    gray = build_classifier("resnet18", in_channels=1, num_classes=2, weights=path)
    torch.testing.assert_close(gray.conv1.weight, state["conv1.weight"].sum(1, keepdim=True))
    assert torch.equal(gray.layer3[0].conv1.weight, state["layer3.0.conv1.weight"])
    assert gray.fc.out_features == 2
    two = build_classifier("resnet18", in_channels=2, num_classes=2, weights=path)
    expected = 1.5 * state["conv1.weight"].mean(1, keepdim=True).expand(-1, 2, -1, -1)
    torch.testing.assert_close(two.conv1.weight, expected)
    rgb = build_classifier("resnet18", in_channels=3, num_classes=2, weights=path)
    assert torch.equal(rgb.conv1.weight, state["conv1.weight"])
    with pytest.raises(ValueError, match="weights"):
        build_classifier("resnet18", num_classes=2, weights=tmp_path / "missing.pth")


def test_adapted_conv_sees_a_grey_image_like_the_rgb_network():
    torch.manual_seed(0)
    rgb = nn.Conv2d(3, 8, 3, padding=1)
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1))
    model[0].load_state_dict(rgb.state_dict())
    adapt_first_conv(model, 1, pretrained=True)
    grey = torch.rand(2, 1, 16, 16)
    torch.testing.assert_close(model(grey), rgb(grey.expand(-1, 3, -1, -1)))


def test_torchvision_weights_path_is_used(monkeypatch):
    calls = []

    def fake_get_model(name, weights=None):
        calls.append((name, weights))
        model = get_model(name, weights=None)
        model.load_state_dict(rgb_state_dict(name))
        return model

    monkeypatch.setattr(classifiers, "get_model", fake_get_model)
    model = build_classifier("efficientnet_b0", num_classes=5, weights="IMAGENET1K_V1")
    assert calls == [("efficientnet_b0", EfficientNet_B0_Weights.IMAGENET1K_V1)]
    expected = rgb_state_dict("efficientnet_b0")["features.0.0.weight"].sum(1, keepdim=True)
    torch.testing.assert_close(model.features[0][0].weight, expected)
    assert model.classifier[-1].out_features == 5


@pytest.mark.parametrize("weights, match", [
    (True, r"weights must be None, a \.pt/\.pth file or one of \('IMAGENET1K_V1', 'DEFAULT'\)"),
    ("MISSPELT", r"weights must be .*'IMAGENET1K_V1'.*got 'MISSPELT'"),
    (ResNet50_Weights.IMAGENET1K_V2, "another architecture"),
    (1, "weights must be"),
])
def test_unknown_weights_raise_and_fetch_nothing(monkeypatch, weights, match):
    def no_download(*args, **kwargs):
        raise AssertionError("build_classifier tried to download weights")

    monkeypatch.setattr(WeightsEnum, "get_state_dict", no_download)
    with pytest.raises(ValueError, match=match):
        build_classifier("resnet18", num_classes=2, weights=weights)


def test_known_weights_offline_warn_and_fall_back_to_random(monkeypatch):
    def offline(*args, **kwargs):
        raise URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(WeightsEnum, "get_state_dict", offline)
    for weights in ("DEFAULT", "ResNet18_Weights.IMAGENET1K_V1", ResNet18_Weights.IMAGENET1K_V1):
        with pytest.warns(UserWarning, match="could not download.*random weights"):
            model = build_classifier("resnet18", num_classes=3, weights=weights)
        assert model.conv1.in_channels == 1 and model.fc.out_features == 3


def test_unreadable_weights_file_raises(tmp_path: Path):
    (tmp_path / "corrupt.pth").write_bytes(b"not a state dict")
    with pytest.raises(ValueError, match="corrupt.pth.*not a readable state dict"):
        build_classifier("resnet18", num_classes=2, weights=tmp_path / "corrupt.pth")
    torch.save(nn.Linear(2, 2).state_dict(), tmp_path / "other.pth")
    with pytest.raises(ValueError, match="other.pth.*not a state dict of resnet18"):
        build_classifier("resnet18", num_classes=2, weights=tmp_path / "other.pth")
    with pytest.raises(ValueError, match="weights must be a file"):
        build_classifier("resnet18", num_classes=2, weights=tmp_path)


def test_vgg16_blocks_and_fine_tuning_degrees():
    model = on_meta("vgg16", num_classes=2)
    blocks = conv_blocks(model)
    assert list(blocks) == [f"block{i}" for i in range(1, 6)]
    assert [sum(isinstance(m, nn.Conv2d) for m in b) for b in blocks.values()] == [2, 2, 3, 3, 3]
    sizes = [sum(p.numel() for p in b.parameters()) for b in blocks.values()]
    head = sum(p.numel() for p in model.classifier.parameters())
    total = parameter_summary(model)["total"]
    assert sum(sizes) + head == total
    for n in range(6):  # TF0 .. TF5
        freeze_blocks(model, n)
        summary = parameter_summary(model)
        assert summary["trainable"] == head + sum(sizes[5 - n:])
        assert trainable_blocks(model) == n
        assert all(p.requires_grad for p in model.classifier.parameters())
    assert summary["frozen"] == 0
    for bad in (-1, 6, 2.0, True):
        with pytest.raises(ValueError, match=r"n_trainable must be an integer in \[0, 5\]"):
            freeze_blocks(model, bad)


def test_frozen_blocks_get_no_gradient():
    torch.manual_seed(0)
    model = freeze_blocks(build_classifier("resnet18", num_classes=2), 1)
    model(torch.randn(2, 1, 32, 32)).sum().backward()
    assert model.layer3[0].conv1.weight.grad is None and model.conv1.weight.grad is None
    assert model.layer4[0].conv1.weight.grad is not None and model.fc.weight.grad is not None
    assert list(conv_blocks(model)) == ["stem", "layer1", "layer2", "layer3", "layer4"]


def test_classifier_bad_arguments():
    with pytest.raises(ValueError, match="resnet18"):  # lists the valid names
        build_classifier("alexnet", num_classes=2)
    with pytest.raises(ValueError, match="num_classes"):
        build_classifier("resnet18", num_classes=0)
    with pytest.raises(ValueError, match="in_channels"):
        build_classifier("resnet18", in_channels=0, num_classes=2)
    with pytest.raises(ValueError, match="model must be a torchvision"):
        conv_blocks(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="no Linear"):
        replace_head(nn.Conv2d(1, 1, 1), 2)
    with pytest.raises(ValueError, match="no Conv2d"):
        adapt_first_conv(nn.Linear(2, 2), 1, pretrained=False)


@pytest.mark.parametrize(
    ("dim", "shape", "out_channels"),
    [(2, (2, 1, 32, 48), 3), (3, (1, 2, 16, 16, 8), 2)],
)
def test_unet_output_shapes(dim, shape, out_channels):
    torch.manual_seed(0)
    net = UNet(dim, shape[1], out_channels, width=4, depth=3, norm="instance" if dim == 3
               else "batch")
    out = net(torch.randn(shape))
    assert out.shape == (shape[0], out_channels, *shape[2:])
    out.mean().backward()
    assert all(p.grad is not None for p in net.parameters())


def test_unet_width_and_depth():
    def count(net: nn.Module) -> int:
        return sum(p.numel() for p in net.parameters())

    # first level, hand-computed: conv 1->4 (3x3, no bias), BN(4), conv 4->4, BN(4)
    assert count(UNet(2, 1, 1, width=4, depth=2).encoders[0]) == 36 + 8 + 144 + 8
    assert count(UNet(2, 1, 1, width=8, depth=3)) > count(UNet(2, 1, 1, width=4, depth=3))
    assert len(UNet(2, depth=5).encoders) == 5
    with pytest.raises(ValueError, match="divisible"):
        UNet(2, 1, 1, depth=3)(torch.zeros(1, 1, 30, 32))
    with pytest.raises(ValueError, match="shape"):
        UNet(3, 1, 1, depth=2)(torch.zeros(1, 1, 8, 8))
    for kwargs, word in [({"dim": 1}, "dim"), ({"width": 0}, "width"), ({"depth": 1}, "depth"),
                         ({"norm": "group"}, "norm")]:
        with pytest.raises(ValueError, match=word):
            UNet(**kwargs)


def test_pretrain_then_fine_tune():
    torch.manual_seed(0)
    x = torch.rand(24, 1, 32, 32)
    y = torch.arange(24) % 2
    x[y == 1, :, 8:24, 8:24] += 1.0  # a bright square marks class 1
    model = build_classifier("resnet18", num_classes=2)
    history = pretrain(model, TensorDataset(x, y), epochs=2, batch_size=8, lr=1e-3,
                       progress=False)
    assert len(history) == 2 and 0 <= history["val_accuracy"][-1] <= 1
    freeze_blocks(replace_head(model, 3), 1)
    assert model.fc.out_features == 3 and trainable_blocks(model) == 1
    with pytest.raises(ValueError, match="val_fraction"):
        pretrain(model, TensorDataset(x, y), epochs=1, val_fraction=1.0)
    with pytest.raises(ValueError, match="too few"):
        pretrain(model, TensorDataset(x[:1], y[:1]), epochs=1)
