"""Short grey clips of a dental procedure step: an instrument moving at a tooth, seen from above.

Item ``index`` of the phantom with ``seed`` is a pure function of ``(seed, index)`` (and the
options): the random generator is ``numpy.random.default_rng([seed, index])`` and nothing else
is random.

Every clip shows one tooth crown rising from the gum at the bottom of the frame and one
instrument (a periodontal probe or a mouth mirror) whose handle enters from the top edge. What
the instrument's tip does over the ``frames`` frames is the verb:

- ``place``: the tip travels from high in the frame down to the crown, then rests there;
- ``remove``: a ``place`` clip played backwards (the frames of a drawn ``place`` clip, noise
  included, in reverse order), so ``place`` and ``remove`` are each other's time reversal and
  their clips hold exactly the same distribution of *unordered* frames;
- ``scale``: the tip scrapes along the crown from one side to the other (either direction, so
  the verb is its own time reversal);
- ``hold``: the tip rests on the crown with a small tremor.

A model that sees the frames as an unordered set cannot tell ``place`` from ``remove`` better
than chance, whatever it learns; it can tell them from ``scale`` and ``hold``. Each frame also
moves slightly as a whole (camera shake of a head-mounted camera), the brightness differs
between clips, and Gaussian sensor noise is added. The instrument is a nuisance here: both kinds
perform every verb.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dentpy import _checks

__all__ = ["INSTRUMENTS", "MIN_CLIP_SIZE", "VERBS", "ProcedureClip", "make_procedure_clip",
           "make_procedure_clips", "reverse_verb"]

#: The verbs, in label order: labels 0 and 1 are each other's time reversal.
VERBS = ("place", "remove", "scale", "hold")
#: The instruments (a nuisance: each performs every verb).
INSTRUMENTS = ("probe", "mirror")
#: Smallest frame side the generator accepts.
MIN_CLIP_SIZE = 8


@dataclass
class ProcedureClip:
    """One phantom clip and its ground truth.

    ``video`` (frames, size, size) float32, grey values around 0 to 1; ``verb`` index into
    :data:`VERBS`; ``instrument`` index into :data:`INSTRUMENTS`; ``tip`` (frames, 2) the tip's
    (row, column) in pixels in every frame, camera shake included; ``tooth`` (row of the crown's
    top, column of its centre, half width) in pixels.
    """

    video: np.ndarray
    verb: int
    instrument: int
    tip: np.ndarray
    tooth: tuple[float, float, float]


def reverse_verb(verb: int) -> int:
    """The label of ``verb`` played backwards: place ↔ remove; scale and hold are their own."""
    verb = _checks.integer("verb", verb, low=0, high=len(VERBS) - 1)
    return {0: 1, 1: 0}.get(verb, verb)


def _segment_distance(py: np.ndarray, px: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance of pixel centres (py, px) to the segment a–b, both (row, column)."""
    d = b - a
    s = np.clip(((py - a[0]) * d[0] + (px - a[1]) * d[1]) / max(float(d @ d), 1e-9), 0, 1)
    return np.hypot(py - (a[0] + s * d[0]), px - (a[1] + s * d[1]))


def _coverage(distance: np.ndarray, radius: float) -> np.ndarray:
    """Anti-aliased share of a pixel covered by a shape: 1 inside, 0 a pixel outside."""
    return np.clip(radius + 0.5 - distance, 0.0, 1.0)


def make_procedure_clip(
    index: int,
    *,
    seed: int = 0,
    frames: int = 8,
    size: int = 16,
    verb: int | None = None,
    instrument: int | None = None,
    noise: float = 0.05,
    shake: float = 0.4,
) -> ProcedureClip:
    """Generate item ``index`` of the procedure-clip phantom ``seed``.

    Parameters
    ----------
    index, seed : non-negative ints; the clip is a pure function of both (and the options).
    frames : number of frames, at least 2.
    size : frame side in pixels, at least ``MIN_CLIP_SIZE``.
    verb : index into :data:`VERBS`, or ``None`` to draw it (uniformly).
    instrument : index into :data:`INSTRUMENTS`, or ``None`` to draw it.
    noise : standard deviation of the Gaussian sensor noise, in [0, 0.5].
    shake : standard deviation of each frame's whole-scene shift, in pixels, in [0, 2].
    """
    index = _checks.integer("index", index, low=0)
    seed = _checks.integer("seed", seed, low=0)
    frames = _checks.integer("frames", frames, low=2)
    size = _checks.integer("size", size, low=MIN_CLIP_SIZE)
    if verb is not None:
        verb = _checks.integer("verb", verb, low=0, high=len(VERBS) - 1)
    if instrument is not None:
        instrument = _checks.integer("instrument", instrument, low=0, high=len(INSTRUMENTS) - 1)
    noise = _checks.number("noise", noise, low=0.0, high=0.5)
    shake = _checks.number("shake", shake, low=0.0, high=2.0)
    rng = np.random.default_rng([seed, index])
    drawn_verb = int(rng.integers(len(VERBS)))
    drawn_instrument = int(rng.integers(len(INSTRUMENTS)))
    verb = drawn_verb if verb is None else verb
    instrument = drawn_instrument if instrument is None else instrument

    # the tooth: a crown whose top is a little below the middle, centred near the middle
    top = size * rng.uniform(0.55, 0.65)
    centre = size * rng.uniform(0.4, 0.6)
    half = size * rng.uniform(0.16, 0.22)
    contact = np.array([top - 0.9, centre])  # where the tip touches the crown

    # the tip's path, one (row, column) per frame, before camera shake
    t = np.arange(frames) / (frames - 1)
    if verb in (0, 1):  # place; remove is the same clip reversed (below)
        angle = rng.uniform(-0.7, 0.7)  # direction of approach, radians from straight up
        reach = size * rng.uniform(0.4, 0.5)
        start = contact + reach * np.array([-np.cos(angle), np.sin(angle)])
        arrive = rng.uniform(0.6, 0.9)  # share of the clip it takes to reach the crown
        s = np.clip(t / arrive, 0, 1)
        s = s * s * (3 - 2 * s)  # eases in and out
        path = start + s[:, None] * (contact - start)
    elif verb == 2:  # scale: along the crown's top, either direction
        sweep = half * rng.uniform(0.7, 1.0) * rng.choice([-1.0, 1.0])
        path = np.stack([np.full(frames, contact[0]), contact[1] - sweep + 2 * sweep * t], 1)
    else:  # hold
        path = np.repeat(contact[None], frames, axis=0)
    path = path + rng.normal(0, 0.25, size=(frames, 2))  # the hand's tremor
    jolt = rng.normal(0, shake, size=(frames, 2))  # camera shake moves everything
    tip = path + jolt
    handle_angle = rng.uniform(-0.5, 0.5)  # the handle leaves the tip towards the top edge

    brightness = rng.uniform(0.85, 1.15)
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    video = np.empty((frames, size, size), dtype=np.float64)
    for f in range(frames):
        dy, dx = jolt[f]
        # gum (a band at the bottom) and crown (a rounded block on it)
        gum = 0.3 * np.clip(yy - dy - (top + 0.25 * size), 0, 1)
        crown_d = np.maximum(np.abs(xx - dx - centre) - half, top - (yy - dy))
        crown = np.clip(0.5 - crown_d, 0.0, 1.0)  # inside where crown_d < 0
        frame = 0.12 + np.maximum(gum, 0.8 * crown)
        # instrument: a thin handle up to the top edge, and a tip of its kind
        end = tip[f] + 2 * size * np.array([-np.cos(handle_angle), np.sin(handle_angle)])
        handle = _coverage(_segment_distance(yy, xx, tip[f], end), 0.35)
        if instrument == 0:  # probe: a bright point
            head = _coverage(np.hypot(yy - tip[f][0], xx - tip[f][1]), 0.6)
        else:  # mirror: a disc
            head = _coverage(np.hypot(yy - tip[f][0], xx - tip[f][1]), 1.4)
        video[f] = np.maximum(frame, np.maximum(0.55 * handle, 0.95 * head))
    video = brightness * video + noise * rng.standard_normal(video.shape)
    if verb == 1:  # remove: the drawn place clip, backwards
        video, tip = video[::-1], tip[::-1]
    return ProcedureClip(video=np.ascontiguousarray(video, dtype=np.float32), verb=verb,
                         instrument=instrument, tip=np.ascontiguousarray(tip),
                         tooth=(float(top), float(centre), float(half)))


def make_procedure_clips(
    n: int,
    *,
    seed: int = 0,
    start: int = 0,
    balanced: bool = True,
    **options: object,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Clips ``start`` to ``start + n - 1`` of the phantom ``seed`` as arrays.

    Returns ``videos`` (n, frames, 1, size, size) float32, ``verbs`` (n,) int64 and
    ``instruments`` (n,) int64. With ``balanced`` the verb of item ``i`` is ``i % 4`` (equal
    counts of every verb over any four consecutive items); otherwise it is drawn. ``options``
    go to :func:`make_procedure_clip` (``frames``, ``size``, ``noise``, ``shake``).
    """
    n = _checks.integer("n", n, low=1)
    start = _checks.integer("start", start, low=0)
    balanced = _checks.flag("balanced", balanced)
    for name in ("verb", "index"):
        if name in options:
            raise _checks.ArgumentError(f"options must not set {name!r}; it is set per item")
    clips = [make_procedure_clip(i, seed=seed, verb=(i % len(VERBS)) if balanced else None,
                                 **options) for i in range(start, start + n)]
    videos = np.stack([c.video for c in clips])[:, :, None]
    verbs = np.array([c.verb for c in clips], dtype=np.int64)
    instruments = np.array([c.instrument for c in clips], dtype=np.int64)
    return videos, verbs, instruments
