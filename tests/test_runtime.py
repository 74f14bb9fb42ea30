"""dentpy.runtime: device, seeds, profiles, versions."""

import io
import random

import numpy as np
import pytest
import torch

import dentpy
from dentpy.runtime import ProfileConfig, resolve_profile

SIZES = dict(smoke=dict(epochs=1, size=32), standard=dict(epochs=5, size=128),
             full=dict(epochs=50, size=512))


def test_get_device_auto_and_cpu():
    assert dentpy.get_device("cpu") == torch.device("cpu")
    auto = dentpy.get_device("auto")
    expected = "cuda" if torch.cuda.is_available() else auto.type
    assert auto.type == expected
    assert dentpy.get_device() == auto


@pytest.mark.parametrize("name", ["tpu", "gpu", "", "cuda:x", "cpu:0", 3, None])
def test_get_device_rejects_bad_names(name):
    with pytest.raises(ValueError, match="name must be one of"):
        dentpy.get_device(name)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_get_device_cuda_missing_is_a_clear_error():
    with pytest.raises(ValueError, match="CUDA is not available"):
        dentpy.get_device("cuda")


def test_seed_everything_repeats_all_generators():
    def draw():
        return random.random(), np.random.rand(), torch.rand(1).item()

    dentpy.seed_everything(123)
    first = draw()
    dentpy.seed_everything(123)
    assert draw() == first
    dentpy.seed_everything(124)
    assert draw() != first


@pytest.mark.parametrize("seed", [-1, 2**32, 1.5, "0", True])
def test_seed_everything_rejects_bad_seeds(seed):
    with pytest.raises(ValueError, match="seed must be"):
        dentpy.seed_everything(seed)


def test_profile_picks_explicit_size():
    cfg = dentpy.profile("smoke", **SIZES)
    assert isinstance(cfg, ProfileConfig)
    assert cfg.name == "smoke"
    assert cfg.epochs == 1 and cfg["size"] == 32
    assert dict(cfg) == SIZES["smoke"]


def test_profile_auto_follows_environment(monkeypatch):
    monkeypatch.setenv("DENTPY_PROFILE", "full")
    assert dentpy.profile("auto", **SIZES).name == "full"
    monkeypatch.setenv("DENTPY_PROFILE", "smoke")
    assert dentpy.profile("auto", **SIZES).epochs == 1
    # An explicit name wins over the environment.
    assert dentpy.profile("standard", **SIZES).name == "standard"


def test_profile_auto_without_environment_depends_on_gpu(monkeypatch):
    monkeypatch.delenv("DENTPY_PROFILE", raising=False)
    assert resolve_profile("auto") == ("full" if torch.cuda.is_available() else "standard")


def test_profile_rejects_bad_names_listing_valid_ones(monkeypatch):
    with pytest.raises(ValueError, match="smoke.*standard.*full"):
        dentpy.profile("tiny", **SIZES)
    monkeypatch.setenv("DENTPY_PROFILE", "tiny")
    with pytest.raises(ValueError, match="DENTPY_PROFILE"):
        dentpy.profile("auto", **SIZES)


def test_profile_requires_the_same_settings_in_every_size():
    with pytest.raises(ValueError, match=r"full must have the same settings.*missing \['size'\]"):
        dentpy.profile("smoke", smoke=dict(epochs=1, size=1), standard=dict(epochs=2, size=2),
                       full=dict(epochs=3))
    with pytest.raises(ValueError, match="smoke must be a dict"):
        dentpy.profile("smoke", smoke=[1], standard={}, full={})


def test_profile_unknown_setting_names_the_available_ones():
    cfg = dentpy.profile("smoke", **SIZES)
    with pytest.raises(AttributeError, match="has no setting 'epoch'.*epochs"):
        cfg.epoch  # noqa: B018


def test_show_versions_prints_and_returns():
    out = io.StringIO()
    info = dentpy.show_versions(file=out)
    assert info["dentpy"] == dentpy.__version__
    assert info["torch"] == torch.__version__
    assert "device" in info and info["device"] in out.getvalue()


def test_submodules_load_on_first_use():
    assert dentpy.results.paper_vs_notebook is not None
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        dentpy.nope  # noqa: B018
