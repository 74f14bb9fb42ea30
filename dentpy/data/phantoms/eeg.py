"""Multichannel EEG of people listening to songs: shared responses, individual responses and a
subject fingerprint, with the amount of each as a knob.

Recording ``(subject, stimulus)`` of the phantom ``seed`` is a pure function of the three (and
the options): the song's traits come from ``numpy.random.default_rng([seed, 1, stimulus])``,
the listener's from ``default_rng([seed, 2, subject])``, the listener's private response to
that song from ``default_rng([seed, 3, subject, stimulus])`` and the recording's background
from ``default_rng([seed, 4, subject, stimulus])``; nothing else is random.

Channel ``c`` of the recording is the sum of

- **the shared response**, ``strength * sqrt(shared)``: the song's beat envelope (its own
  tempo between 1 and 3 Hz, with two harmonics, slow loudness changes and a little tempo
  jitter), the same waveform for every listener, projected on the scalp by the listener's
  topography (a common map plus a personal deviation of size ``topo_spread``);
- **the individual response**, ``strength * sqrt(1 - shared)``: an oscillation in the theta
  band (4 to 7 Hz) whose frequency each listener produces for each song in their own way; only
  a model that has seen this listener with this song can use it;
- **the fingerprint**, ``fingerprint``: the listener's alpha rhythm (8 to 12 Hz, waxing and
  waning) on their own topography, the same whatever they hear: it identifies the listener and
  says nothing about the song;
- **background**, ``noise``: 1/f ("pink") noise mixed across channels, plus white sensor noise.

Each term has (about) unit variance before its factor. ``design="crossed"`` gives every listener
every song (NMED-T); ``design="one_per_subject"`` gives listener ``s`` the song
``s % n_stimuli`` only (NMED-H), so that listener and song are confounded: set
``strength=0`` and a classifier can still name the song of a window by recognising the listener.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dentpy import _checks

__all__ = ["DESIGNS", "MAX_STIMULI", "MediaEEG", "make_media_eeg", "make_recording",
           "window_recordings"]

#: Who hears what: every listener every song, or one song per listener.
DESIGNS = ("crossed", "one_per_subject")


@dataclass
class MediaEEG:
    """Recordings of the phantom and who heard what.

    ``recordings`` (R, C, T) float32, microvolt-like units of about unit variance per term;
    ``subject`` and ``stimulus`` (R,) int64, the listener and the song of each recording;
    ``sfreq`` samples per second.
    """

    recordings: np.ndarray
    subject: np.ndarray
    stimulus: np.ndarray
    sfreq: float


def _int(name: str, value: object, low: int) -> int:
    return _checks.integer(name, value, low=low)


def _number(name: str, value: object, low: float, high: float) -> float:
    return _checks.number(name, value, low=low, high=high)


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x)


def _pink(rng: np.random.Generator, shape: tuple[int, int], sfreq: float) -> np.ndarray:
    """Noise with a 1/f power spectrum (above 0.5 Hz) along the last axis, unit variance."""
    n = shape[-1]
    freqs = np.fft.rfftfreq(n, 1 / sfreq)
    spectrum = rng.standard_normal((*shape[:-1], len(freqs))) + 1j * rng.standard_normal(
        (*shape[:-1], len(freqs)))
    noise = np.fft.irfft(spectrum / np.sqrt(np.maximum(freqs, 0.5)), n=n, axis=-1)
    return noise / noise.std(axis=-1, keepdims=True)


def _slow(rng: np.random.Generator, t: np.ndarray, depth: float) -> np.ndarray:
    """A positive amplitude that drifts slowly (periods of 5 to 20 s) around 1."""
    wave = sum(np.cos(2 * np.pi * rng.uniform(0.05, 0.2) * t + rng.uniform(0, 2 * np.pi))
               for _ in range(3)) / np.sqrt(1.5)
    return np.exp(depth * wave - depth**2 / 2)


def _oscillation(rng: np.random.Generator, t: np.ndarray, freq: float, jitter: float
                 ) -> np.ndarray:
    """cos of a phase that advances at ``freq`` Hz with a random walk of ``jitter`` rad/√s."""
    dt = t[1] - t[0]
    walk = np.cumsum(rng.standard_normal(len(t))) * jitter * np.sqrt(dt)
    return np.cos(2 * np.pi * freq * t + rng.uniform(0, 2 * np.pi) + walk)


#: Order in which songs take the ten tempo slots of 0.2 Hz between 1 and 3 Hz: the first few
#: songs of a study are spread over the range, so with four songs any two are >= 0.28 Hz apart.
_SLOTS = (0, 5, 2, 7, 4, 9, 1, 6, 3, 8)
#: Most songs a study can have (one tempo slot each).
MAX_STIMULI = len(_SLOTS)


def _tempo(seed: int, stimulus: int) -> float:
    """The song's beat frequency in Hz: its slot, plus a random offset within the slot (two
    songs are at least 0.08 Hz apart)."""
    offset = np.random.default_rng([seed, 1, stimulus, 0]).uniform(0.04, 0.16)
    return 1.0 + 0.2 * _SLOTS[stimulus % MAX_STIMULI] + float(offset)


def make_recording(
    subject: int,
    stimulus: int,
    *,
    seed: int = 0,
    n_channels: int = 16,
    sfreq: float = 64.0,
    duration: float = 60.0,
    strength: float = 1.0,
    shared: float = 0.5,
    fingerprint: float = 1.0,
    topo_spread: float = 1.0,
    noise: float = 1.0,
) -> np.ndarray:
    """EEG of listener ``subject`` hearing song ``stimulus``: an array (n_channels, T) float32,
    ``T = round(duration * sfreq)``.

    Parameters
    ----------
    subject, stimulus, seed : non-negative ints; the recording is a pure function of the three.
    n_channels : electrodes, at least 2.
    sfreq : samples per second, at least 32 (the alpha rhythm needs 24 Hz of bandwidth).
    duration : seconds, at least 1.
    strength : size of the response to the song (0: the brain ignores the music).
    shared : share of the response's power that every listener has in common, in [0, 1].
    fingerprint : size of the listener's alpha rhythm (0: listeners are indistinguishable).
    topo_spread : how far each listener's scalp maps depart from the common ones (0: not at all).
    noise : size of the background (pink noise mixed across channels, plus white noise).
    """
    subject = _int("subject", subject, 0)
    stimulus = _checks.integer("stimulus", stimulus, low=0, high=MAX_STIMULI - 1)
    seed = _checks.integer("seed", seed, low=0)
    n_channels = _int("n_channels", n_channels, 2)
    sfreq = _number("sfreq", sfreq, 32.0, 4096.0)
    duration = _number("duration", duration, 1.0, 3600.0)
    strength = _number("strength", strength, 0.0, 100.0)
    shared = _number("shared", shared, 0.0, 1.0)
    fingerprint = _number("fingerprint", fingerprint, 0.0, 100.0)
    topo_spread = _number("topo_spread", topo_spread, 0.0, 10.0)
    noise = _number("noise", noise, 0.0, 100.0)
    n = round(duration * sfreq)
    t = np.arange(n) / sfreq

    common = np.random.default_rng([seed, 0])  # the scalp maps everyone shares
    shared_map = _unit(common.standard_normal(n_channels))
    alpha_map = _unit(common.standard_normal(n_channels))
    song = np.random.default_rng([seed, 1, stimulus])
    tempo = _tempo(seed, stimulus)
    weights = song.uniform(0.3, 1.0, 3) * np.array([1.0, 0.7, 0.5])
    beat = sum(w * _oscillation(song, t, h * tempo, 0.05) for h, w in enumerate(weights, 1))
    beat = beat * _slow(song, t, 0.3)
    listener = np.random.default_rng([seed, 2, subject])
    response_map = _unit(shared_map + topo_spread * _unit(listener.standard_normal(n_channels)))
    own_alpha_map = _unit(alpha_map + 2.0 * _unit(listener.standard_normal(n_channels)))
    alpha_freq = listener.uniform(8.0, 12.0)
    mixing = np.eye(n_channels) + 0.3 * listener.standard_normal((n_channels, n_channels))
    private = np.random.default_rng([seed, 3, subject, stimulus])
    theta = _oscillation(private, t, private.uniform(4.0, 7.0), 0.1) * _slow(private, t, 0.3)
    background = np.random.default_rng([seed, 4, subject, stimulus])
    alpha = _oscillation(background, t, alpha_freq, 0.3) * _slow(background, t, 0.5)
    pink = mixing @ _pink(background, (n_channels, n), sfreq) / np.sqrt(n_channels)

    x = strength * np.sqrt(shared) * np.outer(response_map, beat / beat.std()) * np.sqrt(
        n_channels)
    x += strength * np.sqrt(1 - shared) * np.outer(response_map, theta / theta.std()) * np.sqrt(
        n_channels)
    x += fingerprint * np.outer(own_alpha_map, alpha / alpha.std()) * np.sqrt(n_channels)
    x += noise * (pink / pink.std() + 0.3 * background.standard_normal((n_channels, n)))
    return x.astype(np.float32)


def make_media_eeg(
    n_subjects: int = 8,
    n_stimuli: int = 4,
    *,
    design: str = "crossed",
    seed: int = 0,
    duration: float = 60.0,
    **options: float,
) -> MediaEEG:
    """All recordings of one study: ``design="crossed"`` (every listener hears every song, one
    recording each) or ``"one_per_subject"`` (listener ``s`` hears song ``s % n_stimuli`` only).

    ``duration`` is the length of one recording in seconds; ``options`` go to
    :func:`make_recording` (``n_channels``, ``sfreq``, ``strength``, ``shared``,
    ``fingerprint``, ``topo_spread``, ``noise``). Returns a :class:`MediaEEG`.
    """
    n_subjects = _int("n_subjects", n_subjects, 1)
    n_stimuli = _checks.integer("n_stimuli", n_stimuli, low=2, high=MAX_STIMULI)
    design = _checks.choice("design", design, DESIGNS)
    if design == "one_per_subject" and n_subjects < n_stimuli:
        _checks.fail("n_subjects", f"an integer >= n_stimuli ({n_stimuli}) for design "
                     "'one_per_subject'", n_subjects)
    allowed = {"n_channels", "sfreq", "strength", "shared", "fingerprint", "topo_spread", "noise"}
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise _checks.ArgumentError(f"options: unknown {unknown}; make_recording takes "
                                    f"{sorted(allowed)}")
    pairs = ([(s, k) for s in range(n_subjects) for k in range(n_stimuli)]
             if design == "crossed" else [(s, s % n_stimuli) for s in range(n_subjects)])
    sfreq = float(options.get("sfreq", 64.0))
    recordings = np.stack([make_recording(s, k, seed=seed, duration=duration, **options)
                           for s, k in pairs])
    subject, stimulus = (np.array(column, dtype=np.int64) for column in zip(*pairs, strict=True))
    return MediaEEG(recordings, subject, stimulus, sfreq)


def window_recordings(recordings: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Cut each recording (R, C, T) into non-overlapping windows of ``size`` samples.

    Returns ``(windows, recording)``: windows (R * W, C, size) with ``W = T // size`` (the last
    partial window is dropped), in recording order, and the recording index of each window.
    """
    recordings = _checks.array("recordings", recordings, ndim=3, kind="float")
    size = _int("size", size, 1)
    n_rec, n_ch, n_t = recordings.shape
    per = n_t // size
    if per < 1:
        _checks.fail("size", f"an integer <= the recording length {n_t}", size)
    windows = recordings[:, :, :per * size].reshape(n_rec, n_ch, per, size).transpose(0, 2, 1, 3)
    return (np.ascontiguousarray(windows.reshape(n_rec * per, n_ch, size)),
            np.repeat(np.arange(n_rec), per))
