"""dentpy.explain: Grad-CAM against Captum's LayerGradCam, a hand-computed CAM, and bad input."""

import pytest
import torch
import torch.nn.functional as F
import torchvision
from captum.attr import LayerAttribution, LayerGradCam
from torch import nn

from dentpy.explain import find_layer, grad_cam, last_conv_layer


class TinyCNN(nn.Module):
    """conv -> ReLU -> conv -> ReLU -> global average pool -> linear (a CAM network)."""

    def __init__(self, num_classes: int = 3):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 5, 3, stride=2, padding=1),
            nn.ReLU(),
        )
        self.head = nn.Linear(5, num_classes)

    def forward(self, x):
        return self.head(self.features(x).mean((2, 3)))


def captum_cam(model, images, layer, target):
    """Reference: Captum's Grad-CAM, upsampled bilinearly and divided by its per-image max."""
    model.eval()
    cam = LayerGradCam(model, layer).attribute(images, target=target, relu_attributions=True)
    cam = LayerAttribution.interpolate(cam, tuple(images.shape[-2:]), interpolate_mode="bilinear")
    cam = cam[:, 0]
    return cam / cam.amax((1, 2), keepdim=True).clamp_min(1e-30)


@pytest.fixture(scope="module")
def resnet():
    torch.manual_seed(0)
    model = torchvision.models.resnet18(num_classes=3)
    model.conv1 = nn.Conv2d(1, 64, 7, stride=2, padding=3, bias=False)
    return model


@pytest.fixture(scope="module")
def vgg():
    torch.manual_seed(1)
    model = torchvision.models.vgg16(num_classes=2)
    model.features[0] = nn.Conv2d(1, 64, 3, padding=1)
    return model


@pytest.fixture
def tiny():
    torch.manual_seed(2)
    return TinyCNN()


def test_resnet18_matches_captum(resnet):
    x = torch.randn(3, 1, 64, 48)
    for layer in (resnet.layer4, last_conv_layer(resnet)):
        cam = grad_cam(resnet, x, target_layer=layer)
        predicted = resnet.eval()(x).argmax(1)
        torch.testing.assert_close(cam, captum_cam(resnet, x, layer, predicted))
        assert cam.shape == (3, 64, 48)
        assert cam.min() >= 0 and torch.allclose(cam.amax((1, 2)), torch.ones(3))


def test_vgg16_matches_captum_with_inplace_relu_after_layer(vgg):
    x = torch.randn(2, 1, 32, 32)
    layer = last_conv_layer(vgg)  # features.28, followed by ReLU(inplace=True)
    assert layer is vgg.features[28]
    cam = grad_cam(vgg, x, target_layer="features.28", class_idx=1)
    torch.testing.assert_close(cam, captum_cam(vgg, x, layer, 1))


def test_tiny_cnn_matches_captum_per_image_classes(tiny):
    x = torch.randn(4, 1, 16, 20)
    target = torch.tensor([0, 2, 1, 2])
    cam = grad_cam(tiny, x, target_layer=tiny.features[2], class_idx=target)
    torch.testing.assert_close(cam, captum_cam(tiny, x, tiny.features[2], target))
    # each image's map depends only on that image (eval mode): the batch equals one-by-one
    for i in range(4):
        one = grad_cam(tiny, x[i:i + 1], target_layer=tiny.features[2], class_idx=int(target[i]))
        torch.testing.assert_close(cam[i:i + 1], one)


def test_global_average_pool_network_gives_the_class_activation_map(tiny):
    # with features -> GAP -> linear, dy_c/dA_k(i,j) = w_ck / (h w): Grad-CAM is CAM up to scale
    x = torch.randn(2, 1, 16, 16)
    cam = grad_cam(tiny, x, target_layer=tiny.features[3], class_idx=1)
    feats = tiny.features(x)
    by_hand = F.relu(torch.einsum("k,bkhw->bhw", tiny.head.weight[1], feats))[:, None]
    by_hand = F.interpolate(by_hand, size=(16, 16), mode="bilinear", align_corners=False)[:, 0]
    by_hand = by_hand / by_hand.amax((1, 2), keepdim=True)
    torch.testing.assert_close(cam, by_hand.detach())


def test_all_negative_evidence_gives_zero_map_not_nan(tiny):
    with torch.no_grad():
        tiny.head.weight[0] = -1.0  # features after ReLU are >= 0, so sum_k w_k A_k <= 0
    cam = grad_cam(tiny, torch.randn(2, 1, 8, 8), target_layer=tiny.features[3], class_idx=0)
    assert torch.equal(cam, torch.zeros(2, 8, 8))


def test_model_left_as_found(tiny):
    tiny.train()
    tiny.features[0].eval()
    tiny.features[0].requires_grad_(False)
    flags = [p.requires_grad for p in tiny.parameters()]
    with torch.no_grad():  # the caller's no_grad must not stop Grad-CAM
        grad_cam(tiny, torch.randn(1, 1, 8, 8), target_layer="features.2")
    assert tiny.training and tiny.features[1].training and not tiny.features[0].training
    assert [p.requires_grad for p in tiny.parameters()] == flags
    assert all(p.grad is None for p in tiny.parameters())
    assert not tiny.features[2]._forward_hooks


def test_fully_frozen_model_still_gets_gradients(tiny):
    tiny.requires_grad_(False)
    cam = grad_cam(tiny, torch.randn(2, 1, 8, 8), target_layer=tiny.features[2])
    assert cam.shape == (2, 8, 8) and torch.isfinite(cam).all()
    assert not any(p.requires_grad for p in tiny.parameters())


def test_hooks_removed_and_mode_restored_on_error(tiny):
    tiny.train()
    with pytest.raises(ValueError, match="class_idx"):
        grad_cam(tiny, torch.randn(1, 1, 8, 8), target_layer=tiny.features[2], class_idx=3)
    assert not tiny.features[2]._forward_hooks
    assert tiny.training


def test_find_layer_and_last_conv_layer(resnet, tiny):
    assert find_layer(resnet, "layer4") is resnet.layer4
    assert find_layer(resnet, "layer4.1.conv2") is last_conv_layer(resnet)
    assert last_conv_layer(tiny) is tiny.features[2]
    with pytest.raises(ValueError, match="no submodule 'layer9'"):
        find_layer(resnet, "layer9")
    with pytest.raises(ValueError, match="name"):
        find_layer(resnet, 4)
    with pytest.raises(ValueError, match="no nn.Conv2d"):
        last_conv_layer(nn.Sequential(nn.Flatten(), nn.Linear(4, 2)))


@pytest.mark.parametrize(
    ("images", "kwargs", "match"),
    [
        (torch.randn(1, 8, 8), {}, r"images must have shape \(B, C, H, W\)"),
        (torch.zeros(1, 1, 8, 8, dtype=torch.long), {}, "floating-point"),
        (torch.full((1, 1, 8, 8), float("nan")), {}, "NaN"),
        (torch.randn(0, 1, 8, 8), {}, "empty"),
        (torch.randn(2, 1, 8, 8), {"class_idx": -1}, r"class_idx must lie in \[0, 3\)"),
        (torch.randn(2, 1, 8, 8), {"class_idx": [0, 1, 2]}, r"shape \(2,\)"),
        (torch.randn(2, 1, 8, 8), {"class_idx": 1.0}, "integers"),
        (torch.randn(2, 1, 8, 8), {"class_idx": True}, "class_idx"),
        (torch.randn(2, 1, 8, 8), {"target_layer": nn.Conv2d(1, 1, 1)}, "module of model"),
        (torch.randn(2, 1, 8, 8), {"target_layer": "nope"}, "no submodule"),
        (torch.randn(2, 1, 8, 8), {"target_layer": "head"}, r"feature map \(B, K, h, w\)"),
    ],
)
def test_bad_input(tiny, images, kwargs, match):
    kwargs = {"target_layer": tiny.features[2], **kwargs}
    with pytest.raises(ValueError, match=match):
        grad_cam(tiny, images, **kwargs)


def test_layer_run_twice_or_unused_is_rejected():
    shared = nn.Conv2d(1, 1, 3, padding=1)
    twice = nn.Sequential(shared, shared, nn.AdaptiveAvgPool2d(1), nn.Flatten())
    with pytest.raises(ValueError, match="once per forward"):
        grad_cam(twice, torch.randn(1, 1, 8, 8), target_layer=shared)

    class Detached(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 2, 3)
            self.head = nn.Linear(1, 2)

        def forward(self, x):
            self.conv(x)  # computed but unused by the output
            return self.head(x.mean((1, 2, 3))[:, None])

    with pytest.raises(ValueError, match="does not depend"):
        grad_cam(Detached(), torch.randn(1, 1, 8, 8), target_layer="conv")

    class Pair(nn.Module):
        def forward(self, x):
            return x, x

    two = nn.Sequential(Pair())
    with pytest.raises(ValueError, match="single tensor"):
        grad_cam(two, torch.randn(1, 1, 8, 8), target_layer=two[0])
    assert not two[0]._forward_hooks
