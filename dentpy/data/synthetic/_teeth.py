"""Teeth of the synthetic panoramic: placement along the arches, the dental chart, drawing.

Teeth are drawn a few at a time: each tooth gets a pixel window around the pixels it can change
(:func:`_reach`), teeth with windows of similar shape are padded to one common size and stacked
(so little is computed outside the teeth and each stack stays in the cache), and every field
(crown, roots, pulp, enamel, restorations, lesions) is one numpy expression over a stack,
evaluated in place. The teeth are then written into the image one by one in FDI order, so the
grouping never changes a pixel.
Lengths are in mm, in the tooth's own frame: ``T`` runs along the tooth axis from the occlusal
surface (0) to the apex, ``S`` across it. A *margin* is about the signed distance to a part's
outline, > 0 inside.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from dentpy.data.synthetic._common import Frame, ellipse, soft

#: Restored-teeth counts of the five classes of the DAC paper: 0, 1-3, 4-6, 7-11, 12-32.
DAC_CLASS_RANGES: tuple[tuple[int, int], ...] = ((0, 0), (1, 3), (4, 6), (7, 11), (12, 32))

# Tooth types 1..8 (central incisor .. third molar): mesiodistal width, crown height and root
# length in mm, and the number of roots seen in projection.
_UPPER = {
    "width": (8.0, 6.4, 7.6, 7.0, 6.6, 10.2, 9.2, 8.6),
    "crown": (10.5, 9.0, 10.0, 8.2, 7.8, 7.2, 6.8, 6.4),
    "root": (13.0, 13.0, 17.0, 14.0, 14.0, 12.5, 12.0, 11.0),
    "roots": (1, 1, 1, 1, 1, 2, 2, 2),
}
_LOWER = {
    "width": (5.4, 5.9, 6.9, 7.0, 7.1, 11.0, 10.5, 10.0),
    "crown": (9.0, 9.5, 11.0, 8.5, 8.0, 7.5, 7.0, 6.5),
    "root": (12.5, 14.0, 16.0, 14.0, 14.5, 13.0, 13.0, 11.0),
    "roots": (1, 1, 1, 1, 1, 2, 2, 2),
}
_RESTORE_WEIGHT = (0.6, 0.6, 0.7, 1.6, 1.6, 2.6, 2.4, 1.0)  # which teeth get restored, by type


@dataclass
class Tooth:
    """One tooth slot: FDI number, occlusal point and axis (canonical mm), size in mm."""

    fdi: int
    px: float
    py: float
    ax: float  # unit axis from the occlusal point towards the apex
    ay: float
    width: float
    crown: float
    root: float
    roots: int
    kind: int  # 1 central incisor .. 8 third molar


@dataclass
class Chart:
    """The dental chart of one patient: which slots are empty, restored, carious, bridged."""

    missing: np.ndarray  # (32,) bool over the slots
    kinds: dict[int, str] = field(default_factory=dict)  # slot -> "crown" | "filling"
    root_fill: set[int] = field(default_factory=set)
    pontics: list[int] = field(default_factory=list)
    lesions: set[int] = field(default_factory=set)


def arch_teeth(rng: np.random.Generator, curve: float, bite: float) -> list[Tooth]:
    """The 32 tooth slots along the occlusal curve ``y = -curve x^2``, arches ``bite`` mm apart."""
    scale = rng.uniform(0.93, 1.07)
    teeth = []
    for upper, table in ((True, _UPPER), (False, _LOWER)):
        widths = np.array(table["width"]) * scale * rng.uniform(0.96, 1.04, 8)
        gap = rng.uniform(0.2, 0.6)
        offsets = np.cumsum(widths + gap) - widths / 2 - gap / 2
        sign = -1.0 if upper else 1.0  # upper roots point up (-y)
        for side in (-1, 1):  # -1: image left = the patient's right (quadrants 1 and 4)
            quadrant = (1 if side < 0 else 2) if upper else (4 if side < 0 else 3)
            for k in range(8):
                x = side * offsets[k]
                norm = math.hypot(2 * curve * x, 1.0)
                ax0, ay0 = sign * 2 * curve * x / norm, sign / norm
                ang = rng.normal(0, 0.04) - sign * side * 0.06 * (k >= 5)
                depth = rng.normal(0, 0.3)
                if k == 7 and rng.random() < 0.3:  # a partly impacted wisdom tooth
                    ang -= sign * side * rng.uniform(0.15, 0.4)
                    depth += rng.uniform(1.5, 4.0)
                ax = ax0 * math.cos(ang) - ay0 * math.sin(ang)
                ay = ax0 * math.sin(ang) + ay0 * math.cos(ang)
                teeth.append(
                    Tooth(
                        fdi=10 * quadrant + k + 1,
                        px=x + ax * depth,
                        py=-curve * x * x + sign * bite / 2 + ay * depth,
                        ax=ax,
                        ay=ay,
                        width=float(widths[k]),
                        crown=table["crown"][k] * rng.uniform(0.92, 1.08),
                        root=table["root"][k] * rng.uniform(0.88, 1.1),
                        roots=table["roots"][k],
                        kind=k + 1,
                    )
                )
    return teeth


def plan_chart(
    rng: np.random.Generator, teeth: list[Tooth], absent: np.ndarray | None = None
) -> Chart:
    """Missing teeth, then a DAC class drawn uniformly, restored teeth, bridges and lesions.

    Bridges span one missing tooth between two present neighbours of the same arch; both
    abutments get crowns and count as restored, the pontic (no tooth under it) does not.
    ``absent`` (32,) bool marks slots missing in any case (edentulous spans).
    """
    n = len(teeth)
    kind = np.array([t.kind for t in teeth])
    missing = (kind == 8) & (rng.random(n) < 0.4)
    if absent is not None:
        missing |= absent
    extra = min(int(rng.poisson(1.3)), 8 - int(missing.sum()))
    if extra > 0:
        p = np.where(missing, 0.0, np.where(kind >= 4, 3.0, 1.0))
        missing[rng.choice(n, size=extra, replace=False, p=p / p.sum())] = True
    present = np.flatnonzero(~missing)
    lo, hi = DAC_CLASS_RANGES[int(rng.integers(5))]
    count = int(rng.integers(lo, min(hi, present.size) + 1))

    chart = Chart(missing=missing)
    # slots in image order: upper arch 18..11 21..28 are slots 0..15, lower 48..41 31..38 16..31
    rows = [
        list(range(7, -1, -1)) + list(range(8, 16)),
        list(range(23, 15, -1)) + list(range(24, 32)),
    ]
    for row in rows:
        for j in rng.permutation(np.arange(1, 15)):
            a, gap, b = row[j - 1], row[j], row[j + 1]
            need = (a not in chart.kinds) + (b not in chart.kinds)
            ok = missing[gap] and not missing[a] and not missing[b] and kind[gap] < 8
            if ok and need <= count - len(chart.kinds) and rng.random() < 0.6:
                chart.kinds[a] = chart.kinds[b] = "crown"
                chart.pontics.append(gap)
    rest = [int(i) for i in present if i not in chart.kinds]
    left = count - len(chart.kinds)
    if left > 0:
        w = np.array([_RESTORE_WEIGHT[kind[i] - 1] for i in rest])
        for i in rng.choice(rest, size=left, replace=False, p=w / w.sum()):
            chart.kinds[int(i)] = "crown" if rng.random() < 0.3 else "filling"
    chart.root_fill = {i for i in sorted(chart.kinds) if rng.random() < 0.25}
    rate = rng.uniform(0.0, 0.2)
    chart.lesions = {i for i in rest if i not in chart.kinds and rng.random() < rate}
    return chart


def _windows(frame: Frame, teeth: list[Tooth], idx, hw, crown_only: bool) -> np.ndarray:
    """(N, 4) int windows (r0, r1, c0, c1), clipped to the image, around the given teeth."""
    t = [teeth[i] for i in idx]
    px, py = np.array([x.px for x in t]), np.array([x.py for x in t])
    ax, ay = np.array([x.ax for x in t]), np.array([x.ay for x in t])
    half = np.array([x.width for x in t]) / 2 + 1.5
    length = np.array([x.crown + (0 if crown_only else x.root) for x in t]) + 0.7
    xs = np.stack(
        [px - ay * half, px + ay * half, px - ay * half + ax * length, px + ay * half + ax * length]
    )
    ys = np.stack(
        [py + ax * half, py - ax * half, py + ax * half + ay * length, py - ax * half + ay * length]
    )
    u, v = frame.to_px(xs, ys)
    r0 = np.clip(np.floor(v.min(0)).astype(int) - 1, 0, hw[0])
    r1 = np.clip(np.ceil(v.max(0)).astype(int) + 1, 0, hw[0])
    c0 = np.clip(np.floor(u.min(0)).astype(int) - 1, 0, hw[1])
    c1 = np.clip(np.ceil(u.max(0)).astype(int) + 1, 0, hw[1])
    return np.stack([r0, r1, c0, c1], 1)


def _reach(frame: Frame, teeth: list[Tooth], idx, win: np.ndarray) -> np.ndarray:
    """``win`` cut to the bounding box of the pixels each tooth can change.

    In its frame a tooth adds attenuation other than 0, or sets a mask, only where
    ``-0.5/s < T < Tmax`` and ``|S| < Smax``: ``Tmax`` is the end of the root or of the trunk,
    ``Smax`` half the crown or the reach of the roots (two roots: ``0.41 w + 0.8``, one:
    ``neck w / 2``), the last two plus the periodontal ligament's 0.6 mm; all plus half a pixel
    (where :func:`soft` reaches 0) and 0.05 mm for rounding. The pixels cut off would have
    been added 0 and left out of every mask, so the image and the labels do not change.
    """
    s = frame.s
    t = [teeth[i] for i in idx]
    px, py = np.array([x.px for x in t]), np.array([x.py for x in t])
    ax, ay = np.array([x.ax for x in t]), np.array([x.ay for x in t])
    w, hc = np.array([x.width for x in t]), np.array([x.crown for x in t])
    root = np.array([x.root for x in t])
    neck = np.where(np.array([x.kind for x in t]) < 6, 0.62, 0.75)
    reach = np.where(np.array([x.roots for x in t]) > 1, 0.41 * w + 0.8, neck * w / 2)
    smax = np.maximum(w / 2, reach + 0.6) + 0.5 / s + 0.05
    t0, t1 = -0.5 / s - 0.05, hc + np.maximum(root, 2.0) + 0.6 + 0.5 / s + 0.05
    ts = np.stack([np.full_like(t1, t0), np.full_like(t1, t0), t1, t1])
    ss = np.stack([-smax, smax, -smax, smax])
    u, v = frame.to_px(px + ts * ax - ss * ay, py + ts * ay + ss * ax)
    r0 = np.maximum(np.floor(v.min(0)).astype(int) - 1, win[:, 0])
    r1 = np.maximum(np.minimum(np.ceil(v.max(0)).astype(int) + 1, win[:, 1]), r0)
    c0 = np.maximum(np.floor(u.min(0)).astype(int) - 1, win[:, 2])
    c1 = np.maximum(np.minimum(np.ceil(u.max(0)).astype(int) + 1, win[:, 3]), c0)
    return np.stack([r0, r1, c0, c1], 1)


def _params(teeth, idx) -> dict:
    """The (N, 1, 1) float32 parameters of the teeth ``idx``, by name."""
    return {
        k: np.array([getattr(teeth[i], k) for i in idx], np.float32)[:, None, None]
        for k in ("px", "py", "ax", "ay", "width", "crown", "root", "roots", "kind")
    }


def _stack_coords(frame: Frame, teeth, idx, win, width_scale: float = 1.0, g=None):
    """Tooth-frame coordinates T, S on the stacked windows, and the (N, 1, 1) tooth sizes.

    ``g``: the teeth's :func:`_params` when the caller has them already.
    """
    g = dict(_params(teeth, idx) if g is None else g)
    g["width"] = g["width"] * np.float32(width_scale)
    hmax, wmax = int((win[:, 1] - win[:, 0]).max()), int((win[:, 3] - win[:, 2]).max())
    u = (win[:, 2, None].astype(np.float32) + np.arange(wmax, dtype=np.float32) + 0.5)[:, None, :]
    v = (win[:, 0, None].astype(np.float32) + np.arange(hmax, dtype=np.float32) + 0.5)[:, :, None]
    ax, ay, px, py = g["ax"], g["ay"], g["px"], g["py"]
    cu, cv, c0 = frame.linear(ax, ay, -(ax * px + ay * py))
    T = (cu * u).astype(np.float32) + (cv * v + c0).astype(np.float32)
    cu, cv, c0 = frame.linear(-ay, ax, ay * px - ax * py)
    S = (cu * u).astype(np.float32) + (cv * v + c0).astype(np.float32)
    return T, S, g


def _soft_(m: np.ndarray, s: float) -> np.ndarray:
    """:func:`soft` in place (the same values, no new array)."""
    m *= np.float32(s)
    m += np.float32(0.5)
    return np.clip(m, 0.0, 1.0, out=m)


def _crown(T: np.ndarray, S: np.ndarray, g: dict, abs_s: np.ndarray | None = None):
    """Crown margin (cusped occlusal edge, rounded corners, narrowing neck) and the neck ratio.

    ``abs_s``: ``|S|`` when the caller has it already. Written in place with numpy's ``out=``
    (each value is the same expression as ``min(half - |S|, T - occl, hc + 0.6 - T)``).
    """
    w, hc, kind = g["width"], g["crown"], g["kind"]
    neck = np.where(kind < 6, np.float32(0.62), np.float32(0.75))
    half = T - 0.55 * hc  # narrow = clip((T - 0.55 hc) / (0.45 hc), 0, 1)
    half /= 0.45 * hc
    np.clip(half, 0.0, 1.0, out=half)
    half *= 1.0 - neck  # half = (w / 2) (1 - (1 - neck) narrow) sqrt(clip(T / 1.2, 0, 1))
    np.subtract(1.0, half, out=half)
    half *= w / 2
    r = T / 1.2
    np.clip(r, 0.0, 1.0, out=r)
    np.sqrt(r, out=r)
    half *= r
    cusps = np.where(kind < 4, np.float32(1.0), np.float32(2.0))
    depth = np.where(kind < 4, np.float32(0.3), np.float32(1.1))
    occl = S + w / 2  # occl = depth (0.5 - 0.5 cos((2 pi cusps / w) (S + w / 2)))
    occl *= 2 * np.pi * cusps / w
    np.cos(occl, out=occl)
    occl *= 0.5
    np.subtract(0.5, occl, out=occl)
    occl *= depth
    half -= np.abs(S) if abs_s is None else abs_s
    np.subtract(T, occl, out=occl)
    np.minimum(half, occl, out=half)
    np.subtract(hc + 0.6, T, out=occl)
    np.minimum(half, occl, out=half)
    return half, neck


def _groups(win: np.ndarray, arch: np.ndarray, overhead: int = 16000) -> list[np.ndarray]:
    """Stack indices in groups of similar window shapes, to stack with little padding.

    Teeth of one ``arch`` (0 upper, 1 lower: their crowns sit at the same end of the window)
    sorted by window shape join the current group while the padding that adds costs fewer than
    ``overhead`` pixels (about the price of one more group's numpy calls), so small images make
    a few groups and large ones several tight ones.
    """
    h, w = win[:, 1] - win[:, 0], win[:, 3] - win[:, 2]
    groups, cur, hm, wm = [], [], 0, 0
    for k in np.lexsort((w, h, arch)):
        h2, w2 = max(hm, h[k]), max(wm, w[k])
        waste = (len(cur) + 1) * h2 * w2 - len(cur) * hm * wm - h[k] * w[k]
        if cur and (arch[k] != arch[cur[0]] or waste > overhead):
            groups.append(np.array(cur))
            cur, h2, w2 = [], h[k], w[k]
        cur.append(k)
        hm, wm = h2, w2
    groups.append(np.array(cur))
    return groups


def _tooth_fields(frame: Frame, teeth, idx, win, draws: dict, s: float, g: dict) -> dict:
    """Attenuation and inside-masks of one group of teeth, stacked over their windows.

    ``draws`` holds this group's random values (shape (G, 1, 1) per restored or carious tooth,
    in the order of the whole image); the result's arrays are (G, h, w) or, for restorations and
    lesions, over the group's restored and carious teeth.
    """
    T, S, g = _stack_coords(frame, teeth, idx, win, g=g)
    w, hc, lr = g["width"], g["crown"], g["root"]
    abs_s = np.abs(S)
    # The crown's margin is at most hc + 0.6 - T. Rows where that bound is below -1/s mm for
    # every pixel hold no crown, no enamel and no restoration of the crown (soft() is 0 there
    # and every mask false, whatever the exact margin), so the crown's expression is evaluated
    # only on the rows [c0, c1) that can hold some, and the bound stands in elsewhere.
    crown = np.subtract(hc + 0.6, T)
    lim = np.float32(-1.0 / s - 0.05)
    rows = np.flatnonzero((crown > lim).any(axis=(0, 2)))
    c0, c1 = (int(rows[0]), int(rows[-1]) + 1) if rows.size else (0, 0)
    sub = (slice(None), slice(c0, c1))
    crown[sub], neck = _crown(T[sub], S[sub], g, abs_s[sub])
    # every field below is written in place; the comment gives the expression it evaluates
    u_r = T - hc  # u_r = clip((T - hc) / lr, 0, 1)
    u_r /= lr
    np.clip(u_r, 0.0, 1.0, out=u_r)
    two = g["roots"] > 1
    spread = 0.8 * u_r  # spread = where(two, 0.2 w + 0.8 u_r, 0)
    spread += 0.2 * w
    spread *= two  # spread >= 0: times False is +0.0, as where(two, spread, 0) gives
    hr = 0.7 * u_r  # hr = where(two, 0.21 w, neck w / 2) (1 - 0.7 u_r sqrt(u_r))
    hr *= np.sqrt(u_r)
    np.subtract(1.0, hr, out=hr)
    hr *= np.where(two, 0.21 * w, neck * w / 2)
    dist = S - spread  # dist = min(|S - spread|, |S + spread|), to the nearest root's centre
    np.abs(dist, out=dist)
    np.add(S, spread, out=spread)
    np.abs(spread, out=spread)
    np.minimum(dist, spread, out=dist)
    below = T - 0.6 * hc
    root = hr - dist  # root = min(hr - dist, min(hc + lr - T, T - 0.6 hc))
    tmp = np.subtract(hc + lr, T)
    np.minimum(tmp, below, out=tmp)
    np.minimum(root, tmp, out=root)
    trunk = np.subtract(neck * w / 2, abs_s)  # min(min(neck w / 2 - |S|, hc + 2 - T), T - 0.6 hc)
    np.subtract(hc + 2.0, T, out=tmp)
    np.minimum(trunk, tmp, out=trunk)
    np.minimum(trunk, below, out=trunk)
    np.maximum(root, trunk, out=root)
    tooth = np.maximum(crown, root)
    pulp = np.subtract(0.22 * w, abs_s)  # chamber = min(min(0.22 w - |S|, T - 0.45 hc), ...)
    np.subtract(T, 0.45 * hc, out=tmp)
    np.minimum(pulp, tmp, out=pulp)
    np.subtract(hc + 1.5, T, out=tmp)  # ... hc + 1.5 - T)
    np.minimum(pulp, tmp, out=pulp)
    canal = 0.28 * hr  # canal = min(0.28 hr - dist, min(hc + lr - 0.8 - T, T - 0.5 hc))
    canal -= dist
    np.subtract(hc + lr - 0.8, T, out=tmp)
    np.subtract(T, 0.5 * hc, out=trunk)
    np.minimum(tmp, trunk, out=tmp)
    np.minimum(canal, tmp, out=canal)
    np.maximum(pulp, canal, out=pulp)  # pulp = max(chamber, canal)

    enamel_d, dentin_d, pulp_d = draws["enamel_d"], draws["dentin_d"], 0.3
    shade = S / (w / 2 + 0.3)  # shade = 0.55 + 0.45 sqrt(clip(1 - (S / (w / 2 + 0.3))^2, 0, 1))
    np.square(shade, out=shade)
    np.subtract(1.0, shade, out=shade)
    np.clip(shade, 0.0, 1.0, out=shade)
    np.sqrt(shade, out=shade)
    shade *= 0.45
    shade += 0.55
    cov = _soft_(tooth.copy(), s)
    # enamel = clip(soft(min(crown, 0.9 hc - T)) - soft(crown - e), 0, 1)
    # (enamel is 0 outside the crown's rows, and adding 0 changes nothing)
    enamel = np.subtract(0.9 * hc, T[sub])
    np.minimum(crown[sub], enamel, out=enamel)
    _soft_(enamel, s)
    tmp_sub = np.subtract(crown[sub], draws["enamel_t"])
    enamel -= _soft_(tmp_sub, s)
    np.clip(enamel, 0, 1, out=enamel)
    # a = dentin_d cov + (enamel_d - dentin_d) enamel - (dentin_d - pulp_d) soft(pulp)
    a = dentin_d * cov
    enamel *= enamel_d - dentin_d
    a[sub] += enamel
    soft_pulp = _soft_(pulp, s)  # pulp is not needed after this
    soft_pulp *= dentin_d - pulp_d
    a -= soft_pulp
    a *= shade
    # periodontal ligament: a -= 0.12 max(soft(root + 0.6) - cov, 0) (T > hc)
    root += 0.6
    _soft_(root, s)
    root -= cov
    np.maximum(root, 0.0, out=root)
    root *= 0.12
    root *= T > hc
    a -= root

    rk, lk = draws["rk"], draws["lk"]
    Tr, Sr, cr, wr, hcr = T[rk], S[rk], crown[rk], w[rk], hc[rk]
    f0, f1, f2, f3 = draws["fill"]
    fill = ellipse(Sr, Tr, f0 * wr, f1 * hcr, f2 * wr, f3 * hcr)
    is_crown = draws["is_crown"]
    m_rest = np.where(is_crown, np.minimum(cr, 0.95 * hcr - Tr), np.minimum(fill, cr - 0.4))
    rf = draws["root_fill"]
    if rf.any():
        j = np.flatnonzero(rf)
        Tj, hj, hcj, lrj = Tr[j], hr[rk[j]], hcr[j], lr[rk[j]]
        canal_fill = np.minimum(
            0.24 * hj - dist[rk[j]], np.minimum(hcj + lrj - 1.2 - Tj, Tj - 0.7 * hcj)
        )
        m_rest[j] = np.maximum(m_rest[j], canal_fill)
    a[rk] += draws["dens"] * soft(m_rest, s)
    side, l1, l2, l3 = draws["lesion"]
    wl, hcl = w[lk], hc[lk]
    m_les = ellipse(S[lk], T[lk], side * (wl / 2 - 0.6), l1 * hcl, l2, l3)
    m_les = np.minimum(m_les, tooth[lk])
    a[lk] *= 1.0 - 0.6 * soft(m_les, s)
    return {"a": a, "inside": tooth > 0, "rest_in": m_rest > 0, "les_in": m_les > 0, "T": T,
            "hc": hc}


def draw_teeth(rng, frame: Frame, teeth: list[Tooth], chart: Chart, att, masks, hw) -> np.ndarray:
    """Add the present teeth, restorations, lesions and pontics to ``att`` and ``masks``.

    ``masks`` holds "instance" (int32, tooth ``k`` gets ``k + 1`` in ascending FDI order),
    "restoration" and "lesion" (bool), and optionally "tooth" (bool, ``instance > 0``).
    Returns the (N, 4) float32 xyxy boxes of the instances.
    Teeth are computed in groups of similar window size (little padding), then written into
    the image in FDI order, so that overlaps resolve the same way at every grouping.
    """
    s = frame.s
    idx = sorted(np.flatnonzero(~chart.missing), key=lambda i: teeth[i].fdi)
    n = len(idx)
    win = _reach(frame, teeth, idx, _windows(frame, teeth, idx, hw, crown_only=False))
    col = (slice(None), None, None)
    restored = np.array([i in chart.kinds for i in idx])
    carious = np.array([i in chart.lesions for i in idx])
    rk, lk = np.flatnonzero(restored), np.flatnonzero(carious)

    def draw(lo: float, hi: float, m: int) -> np.ndarray:
        return rng.uniform(lo, hi, m).astype(np.float32)[col]

    # every random value of the teeth, in a fixed order
    enamel_d, dentin_d = rng.uniform(1.4, 1.7), rng.uniform(0.85, 1.0)
    enamel_t = rng.uniform(0.9, 1.3)
    fill = [draw(-0.25, 0.25, rk.size), draw(0.1, 0.35, rk.size), draw(0.2, 0.35, rk.size),
            draw(0.15, 0.3, rk.size)]
    is_crown = np.array([chart.kinds[idx[k]] == "crown" for k in rk], bool)[col]
    root_fill = np.array([idx[k] in chart.root_fill for k in rk], bool)
    dens = draw(2.6, 3.6, rk.size)
    lesion = [np.sign(draw(-1.0, 1.0, lk.size)), draw(0.15, 0.5, lk.size),
              draw(0.8, 1.6, lk.size), draw(0.8, 1.8, lk.size)]

    slot_r = {int(k): j for j, k in enumerate(rk)}
    slot_l = {int(k): j for j, k in enumerate(lk)}
    params = _params(teeth, idx)
    where = {}  # stack index k -> (fields of its group, position in the group, in rk, in lk)
    lower = np.array([teeth[i].fdi // 10 in (3, 4) for i in idx])
    for grp in _groups(win, lower):
        rpos = [p for p, k in enumerate(grp) if restored[k]]
        lpos = [p for p, k in enumerate(grp) if carious[k]]
        rj = [slot_r[int(grp[p])] for p in rpos]
        lj = [slot_l[int(grp[p])] for p in lpos]
        draws = {
            "enamel_d": enamel_d, "dentin_d": dentin_d, "enamel_t": enamel_t,
            "rk": np.array(rpos, int), "lk": np.array(lpos, int),
            "fill": [f[rj] for f in fill], "is_crown": is_crown[rj],
            "root_fill": root_fill[rj], "dens": dens[rj], "lesion": [x[lj] for x in lesion],
        }
        g = {key: value[grp] for key, value in params.items()}
        f = _tooth_fields(frame, teeth, [idx[k] for k in grp], win[grp], draws, s, g)
        for p, k in enumerate(grp):
            where[int(k)] = (f, p, rpos.index(p) if restored[k] else None,
                             lpos.index(p) if carious[k] else None)

    inst, rest_m, les_m = masks["instance"], masks["restoration"], masks["lesion"]
    tooth_m = masks.get("tooth")
    boxes = np.zeros((n, 4), np.float32)
    for k in range(n):
        f, p, jr, jl = where[k]
        r0, r1, c0, c1 = win[k]
        h, wd = r1 - r0, c1 - c0
        att[r0:r1, c0:c1] += f["a"][p, :h, :wd]
        wi = inst[r0:r1, c0:c1]
        own = f["inside"][p, :h, :wd] & (wi == 0)
        np.copyto(wi, k + 1, where=own)
        if tooth_m is not None:
            tooth_m[r0:r1, c0:c1] |= own
        rows, cols = np.flatnonzero(own.any(1)), np.flatnonzero(own.any(0))
        if rows.size == 0:
            raise RuntimeError(f"tooth {teeth[idx[k]].fdi} has no pixels at this image size")
        boxes[k] = (c0 + cols[0], r0 + rows[0], c0 + cols[-1] + 1, r0 + rows[-1] + 1)
        if jr is not None:
            hard = own & f["rest_in"][jr, :h, :wd]
            if not hard.any():  # too small to show at this size: fill the crown's tip
                hard = own & (f["T"][p, :h, :wd] < 0.4 * f["hc"][p, 0, 0])
                att[r0:r1, c0:c1] += dens[slot_r[k], 0, 0] * hard
            rest_m[r0:r1, c0:c1] |= hard
        if jl is not None:
            les_m[r0:r1, c0:c1] |= own & f["les_in"][jl, :h, :wd]

    if chart.pontics:  # bridge pontics: a restoration-bright crown over the empty slot
        win = _windows(frame, teeth, chart.pontics, hw, crown_only=True)
        T, S, g = _stack_coords(frame, teeth, chart.pontics, win, width_scale=1.12)
        m = _crown(T, S, g)[0]
        a = rng.uniform(2.6, 3.4, len(chart.pontics)).astype(np.float32)[col] * soft(m, s)
        for k, (r0, r1, c0, c1) in enumerate(win):
            h, wd = r1 - r0, c1 - c0
            att[r0:r1, c0:c1] += a[k, :h, :wd]
            rest_m[r0:r1, c0:c1] |= m[k, :h, :wd] > 0
    return boxes
