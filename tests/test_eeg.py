"""The EEG phantom (dentpy.data.phantoms.eeg) and the EEG networks (dentpy.models.eeg)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dentpy.data.phantoms.eeg import (
    MAX_STIMULI,
    make_media_eeg,
    make_recording,
    window_recordings,
)
from dentpy.models.eeg import DeepConvNet, EEGNet, max_norm_

SMALL = dict(n_channels=4, sfreq=32.0, duration=8.0)


def _peak_hz(x: np.ndarray, sfreq: float, low: float, high: float) -> float:
    """Frequency of the largest power of the channel-summed spectrum within [low, high]."""
    power = (np.abs(np.fft.rfft(x, axis=-1)) ** 2).sum(0)
    freqs = np.fft.rfftfreq(x.shape[-1], 1 / sfreq)
    band = (freqs >= low) & (freqs <= high)
    return float(freqs[band][power[band].argmax()])


# ----------------------------------------------------------------------------- phantom


def test_recording_shape_dtype_and_purity():
    x = make_recording(2, 1, seed=3, **SMALL)
    assert x.shape == (4, 256) and x.dtype == np.float32
    np.testing.assert_array_equal(x, make_recording(2, 1, seed=3, **SMALL))
    assert not np.array_equal(x, make_recording(2, 1, seed=4, **SMALL))
    assert not np.array_equal(x, make_recording(3, 1, seed=3, **SMALL))


def test_recording_does_not_depend_on_the_other_items():
    """Item (subject, stimulus) of a study is the same recording whatever else is in the study."""
    study = make_media_eeg(3, 2, seed=1, **SMALL)
    row = np.flatnonzero((study.subject == 2) & (study.stimulus == 1))[0]
    np.testing.assert_array_equal(study.recordings[row], make_recording(2, 1, seed=1, **SMALL))


def test_each_term_alone_has_about_unit_variance_per_channel():
    only = dict(strength=0.0, fingerprint=0.0, noise=0.0)
    for term in ({"strength": 1.0}, {"fingerprint": 1.0}, {"noise": 1.0}):
        x = make_recording(0, 0, seed=0, n_channels=8, sfreq=64.0, duration=60.0,
                           **{**only, **term})
        assert 0.7 < x.var() < 1.6, (term, x.var())
    silent = make_recording(0, 0, seed=0, n_channels=8, sfreq=64.0, duration=4.0, **only)
    assert not silent.any()


def test_fingerprint_is_the_listeners_alpha_and_does_not_depend_on_the_song():
    """Known answer: with only the fingerprint on, the spectral peak is in 8-12 Hz, the same for
    two songs, and (for these seeds) differs between two listeners."""
    opts = dict(seed=0, n_channels=8, sfreq=64.0, duration=60.0, strength=0.0, noise=0.0)
    peaks = {(s, k): _peak_hz(make_recording(s, k, **opts), 64.0, 1.0, 30.0)
             for s in (0, 1) for k in (0, 1)}
    assert all(8.0 <= p <= 12.0 for p in peaks.values()), peaks
    assert abs(peaks[0, 0] - peaks[0, 1]) < 0.2 and abs(peaks[1, 0] - peaks[1, 1]) < 0.2
    assert abs(peaks[0, 0] - peaks[1, 0]) > 0.2


def test_shared_response_is_the_songs_tempo_for_every_listener():
    """Known answer: with only the shared response, the peak below 3.5 Hz is the song's tempo,
    the same for two listeners; two songs have different tempi."""
    opts = dict(seed=0, n_channels=8, sfreq=64.0, duration=60.0, fingerprint=0.0, noise=0.0,
                shared=1.0)
    peaks = {(s, k): _peak_hz(make_recording(s, k, **opts), 64.0, 0.8, 3.5)
             for s in (0, 1) for k in (0, 1)}
    assert abs(peaks[0, 0] - peaks[1, 0]) < 0.1 and abs(peaks[0, 1] - peaks[1, 1]) < 0.1
    assert abs(peaks[0, 0] - peaks[0, 1]) > 0.2
    assert all(1.0 <= p <= 3.0 for p in peaks.values()), peaks


def test_designs():
    crossed = make_media_eeg(3, 2, seed=0, **SMALL)
    assert crossed.recordings.shape == (6, 4, 256)
    assert crossed.subject.tolist() == [0, 0, 1, 1, 2, 2]
    assert crossed.stimulus.tolist() == [0, 1, 0, 1, 0, 1]
    single = make_media_eeg(5, 2, design="one_per_subject", seed=0, **SMALL)
    assert single.subject.tolist() == [0, 1, 2, 3, 4]
    assert single.stimulus.tolist() == [0, 1, 0, 1, 0]
    assert single.sfreq == 32.0


def test_window_recordings_known_answer():
    recordings = np.arange(2 * 3 * 10, dtype=np.float32).reshape(2, 3, 10)
    windows, recording = window_recordings(recordings, 4)
    assert windows.shape == (4, 3, 4)
    assert recording.tolist() == [0, 0, 1, 1]
    np.testing.assert_array_equal(windows[1], recordings[0, :, 4:8])
    np.testing.assert_array_equal(windows[2], recordings[1, :, 0:4])


@pytest.mark.parametrize("call", [
    lambda: make_recording(-1, 0),
    lambda: make_recording(0, MAX_STIMULI),
    lambda: make_recording(0, 0, seed=1.5),
    lambda: make_recording(0, 0, n_channels=1),
    lambda: make_recording(0, 0, sfreq=16.0),
    lambda: make_recording(0, 0, duration=0.5),
    lambda: make_recording(0, 0, shared=1.5),
    lambda: make_recording(0, 0, strength=float("nan")),
    lambda: make_recording(0, 0, fingerprint=-1.0),
])
def test_recording_bad_input(call):
    with pytest.raises(ValueError):
        call()


def test_bad_input_names_the_argument():
    for call, name in [
        (lambda: make_recording(0, 0, shared=2.0), "shared"),
        (lambda: make_recording(0, 0, sfreq=True), "sfreq"),
        (lambda: make_media_eeg(2, 1), "n_stimuli"),
        (lambda: make_media_eeg(2, 4, design="one_per_subject"), "n_subjects"),
        (lambda: make_media_eeg(2, 2, design="nested"), "design"),
        (lambda: make_media_eeg(2, 2, volume=1.0), "options"),
        (lambda: window_recordings(np.zeros((2, 10)), 4), "recordings"),
        (lambda: window_recordings(np.zeros((1, 2, 10)), 11), "size"),
        (lambda: window_recordings(np.zeros((1, 2, 10)), 0), "size"),
        (lambda: window_recordings(np.full((1, 2, 10), np.nan), 5), "recordings"),
        (lambda: EEGNet(8, 4, 16), "n_times"),
        (lambda: EEGNet(8, 1, 128), "n_classes"),
        (lambda: EEGNet(8, 4, 128, dropout=1.0), "dropout"),
        (lambda: EEGNet(0, 4, 128), "n_channels"),
        (lambda: DeepConvNet(8, 4, 20), "n_times"),
        (lambda: DeepConvNet(8, 4, 256, widths=()), "widths"),
        (lambda: DeepConvNet(8, 4, 256, widths=(8, 0)), "widths"),
        (lambda: EEGNet(8, 4, 128)(torch.zeros(2, 4, 128)), "x"),
        (lambda: DeepConvNet(8, 4, 256)(torch.zeros(2, 8)), "x"),
    ]:
        with pytest.raises(ValueError, match=name):
            call()


# ----------------------------------------------------------------------------- networks


@pytest.mark.parametrize("make", [
    lambda: EEGNet(8, 4, 128),
    lambda: EEGNet(8, 4, 130, kernel_length=31),
    lambda: EEGNet(8, 3, 256, F1=96, D=1, F2=96, kernel_length=256),  # the SSVEP variant
    lambda: DeepConvNet(8, 4, 256),
    lambda: DeepConvNet(5, 2, 100, widths=(4, 8), kernel_length=3, pool=3),
])
def test_shapes(make):
    model = make().eval()
    x = torch.randn(3, model.n_channels, model.n_times)
    out = model(x)
    assert out.shape == (3, model.classifier.out_features)
    assert model.features(x).shape == (3, model.classifier.in_features)
    assert torch.isfinite(out).all()


def test_eegnet_feature_length_and_parameter_count():
    """Known answer: the flattened length is F2 * (T // pool1 // pool2), and the weights are
    F1*K + 2*F1 (BN) + F1*D*C + 2*F1*D + F1*D*16 + F1*D*F2 + 2*F2 + (F2*L + 1)*classes."""
    model = EEGNet(8, 4, 128, F1=8, D=2, F2=16, kernel_length=32)
    assert model.classifier.in_features == 16 * (128 // 4 // 8)
    expected = 8 * 32 + 16 + 16 * 8 + 32 + 16 * 16 + 16 * 16 + 32 + (16 * 4 + 1) * 4
    assert sum(p.numel() for p in model.parameters()) == expected


def test_deepconvnet_time_axis_known_answer():
    model = DeepConvNet(8, 4, 256)  # 256 -> 126 -> 61 -> 28 -> 12
    assert model.classifier.in_features == 200 * 12


def test_eegnet_keeps_time_length_through_same_padding():
    model = EEGNet(8, 4, 96, kernel_length=24).eval()
    z = model.temporal(torch.randn(2, 1, 8, 96))
    assert z.shape == (2, 8, 8, 96)


def test_eegnet_depthwise_is_one_spatial_filter_set_per_temporal_filter():
    """Known answer: the depthwise layer's map (f, d) is the temporal map f weighted over
    electrodes by filter d of group f."""
    model = EEGNet(6, 2, 64, F1=3, D=2).eval()
    z = torch.randn(2, 3, 6, 64)
    by_hand = torch.einsum("bfct,fdc->bfdt", z, model.spatial.weight[:, 0, :, 0].reshape(3, 2, 6))
    torch.testing.assert_close(model.spatial(z)[:, :, 0], by_hand.reshape(2, 6, 64))


def test_time_shift_changes_little_after_pooling():
    """Average pooling makes EEGNet's output nearly invariant to a shift of a few samples."""
    torch.manual_seed(0)
    model = EEGNet(4, 2, 256, kernel_length=16).eval()
    x = torch.randn(1, 4, 300)
    a, b = model(x[..., :256]), model(x[..., 2:258])
    c = model(torch.randn(1, 4, 256))
    assert (a - b).abs().sum() < (a - c).abs().sum()


def test_max_norm_known_answer():
    w = torch.tensor([[3.0, 4.0], [0.3, 0.4]])
    max_norm_(w, 1.0)
    torch.testing.assert_close(w, torch.tensor([[0.6, 0.8], [0.3, 0.4]]), atol=1e-6, rtol=0)


def test_training_mode_applies_max_norm():
    model = EEGNet(4, 2, 64)
    with torch.no_grad():
        model.spatial.weight.mul_(100.0)
        model.classifier.weight.mul_(100.0)
    model.train()(torch.randn(2, 4, 64))
    norms = model.spatial.weight.flatten(1).norm(dim=1)
    assert norms.max() <= 1.0 + 1e-5
    assert model.classifier.weight.norm(dim=1).max() <= 0.25 + 1e-5
    deep = DeepConvNet(4, 2, 64, widths=(4, 8))
    with torch.no_grad():
        deep.classifier.weight.mul_(100.0)
    deep.train()(torch.randn(2, 4, 64))
    assert deep.classifier.weight.norm(dim=1).max() <= 0.5 + 1e-5


def test_networks_learn_a_frequency_task():
    """Learned-something check: both networks tell a 3 Hz from a 6 Hz oscillation on one
    electrode of four, in noise, after a few dozen steps."""
    torch.manual_seed(0)
    n, t = 128, 128
    labels = torch.randint(0, 2, (n,))
    time = torch.arange(t) / 32.0
    freq = torch.where(labels == 1, 6.0, 3.0)[:, None]
    x = 0.5 * torch.randn(n, 4, t)
    x[:, 1] += torch.sin(2 * torch.pi * freq * time + 6.28 * torch.rand(n, 1))
    for model in (EEGNet(4, 2, t, kernel_length=16, dropout=0.0),
                  DeepConvNet(4, 2, t, widths=(8, 8, 8), dropout=0.0)):
        opt = torch.optim.Adam(model.parameters(), lr=3e-3)
        for _ in range(60):
            loss = torch.nn.functional.cross_entropy(model.train()(x), labels)
            opt.zero_grad()
            loss.backward()
            opt.step()
        accuracy = (model.eval()(x).argmax(1) == labels).float().mean()
        assert accuracy > 0.9, (type(model).__name__, float(accuracy))
