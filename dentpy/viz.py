"""Figures for the course: image grids, mask/box/heatmap overlays, training curves, confusion
matrices, ROC and precision-recall curves (also averaged over folds), and CBCT slice views.

Every function draws with matplotlib and returns the ``Figure``; those that draw one panel also
take ``ax=`` to draw into an existing axes. Nothing calls ``plt.show()``. Figures are made with
pyplot, so a notebook shows them at the end of the cell: end the line with ``;`` (or assign the
result) when the call is the cell's last line, or the returned figure is shown a second time.

Images may be torch tensors or NumPy arrays: ``(H, W)`` grey, ``(1, H, W)`` or ``(3, H, W)``
channel-first (the library's layout), or ``(H, W, 3)``. Masks are integer label maps
``(H, W)`` (0 = background; semantic classes or instance ids) or stacks of binary instance masks
``(N, H, W)``. Boxes are ``(N, 4)`` in pixels, ``(x1, y1, x2, y2)``.

``slice_viewer`` is interactive (ipywidgets) only in a running notebook; the HTML book, executed
once without a live kernel, shows the static ``slice_montage`` instead.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import colors as mcolors
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from sklearn import metrics as skm

from dentpy import _checks

__all__ = [
    "draw_boxes", "overlay_heatmap", "overlay_mask", "plot_confusion_matrix", "plot_history",
    "plot_pr", "plot_pr_folds", "plot_roc", "plot_roc_folds", "show_images", "slice_montage",
    "slice_viewer",
]

NORMALIZE = (None, "true", "pred", "all")
_SKIP_HISTORY = ("epoch", "lr", "time_s")

# --------------------------------------------------------------------------- input checks


def _array(x: Any, name: str, *, allow_empty: bool = False) -> np.ndarray:
    """``x`` (array, tensor, list) as a NumPy array of numbers (bool, int or float), finite."""
    return _checks.array(name, x, kind="number", nonempty=not allow_empty)


def _listlike(value: Any) -> bool:
    """A sequence, array or tensor (something with a length and items), not a string or dict."""
    return (hasattr(value, "__len__") and hasattr(value, "__getitem__")
            and not isinstance(value, str | bytes | Mapping))


def _strings(name: str, value: Any, n: int, what: str) -> list[Any]:
    """``value`` as a list of ``n`` entries (one per ``what``); a lone string is refused, since
    its characters would silently be taken as the entries."""
    if not _listlike(value):
        raise _checks.ArgumentTypeError(
            f"{name} must be a list with one entry per {what} ({n}), got "
            f"{_checks.describe(value)}")
    if len(value) != n:
        raise _checks.ArgumentError(
            f"{name} must have one entry per {what} ({n}), got {len(value)}")
    return list(value)


def _positive(name: str, value: Any) -> float:
    return _checks.number(name, value, low=0.0, low_open=True)


def _image(x: Any, name: str) -> np.ndarray:
    """One image as (H, W) grey or (H, W, 3) RGB in [0, 1]."""
    img = _array(x, name).astype(float)
    if img.ndim == 3 and img.shape[0] == 1:
        img = img[0]
    elif img.ndim == 3 and img.shape[0] == 3:
        img = np.moveaxis(img, 0, -1)
    if img.ndim == 3 and img.shape[-1] == 3:
        lo, hi = img.min(), img.max()
        return img if lo >= 0 and hi <= 1 else (img - lo) / max(hi - lo, 1e-12)
    if img.ndim != 2:
        raise _checks.ArgumentError(
            f"{name} must have shape (H, W), (1, H, W), (3, H, W) or (H, W, 3), "
            f"got {img.shape}")
    return img


def _labels(mask: Any, name: str) -> np.ndarray:
    """Integer label map (H, W) from a label map or an (N, H, W) stack of binary masks."""
    m = _array(mask, name)
    if m.dtype != bool and (m != np.round(m)).any():
        raise _checks.ArgumentError(f"{name} must hold integer labels, got non-integer values")
    if m.ndim == 3 and m.shape[0] == 1:
        m = m[0]
    if m.ndim == 3:
        if not np.isin(m, (0, 1)).all():
            raise _checks.ArgumentError(
                f"{name} with shape (N, H, W) must be binary instance masks")
        labels = np.zeros(m.shape[1:], dtype=int)
        for i, inst in enumerate(m.astype(bool), start=1):
            labels[inst] = i  # a later instance wins where masks overlap
        return labels
    if m.ndim != 2:
        raise _checks.ArgumentError(f"{name} must have shape (H, W) or (N, H, W), got {m.shape}")
    if m.min() < 0:
        raise _checks.ArgumentError(f"{name} must hold labels >= 0 (0 = background), got {m.min()}")
    return m.astype(int)


def _rgba(colour: Any) -> tuple[float, float, float, float]:
    try:
        return mcolors.to_rgba(colour)
    except (TypeError, ValueError) as err:
        raise _checks.ArgumentError(f"colors must hold matplotlib colours: {err}") from None


def _palette(n: int, colors: Sequence[Any] | Mapping[int, Any] | None,
             present: np.ndarray) -> np.ndarray:
    """RGBA colour of labels 0..n (row 0, the background, is unused)."""
    table = np.zeros((n + 1, 4))
    if colors is None:
        cmap = plt.get_cmap("tab10" if n <= 10 else "tab20")
        for k in range(1, n + 1):
            table[k] = cmap((k - 1) % cmap.N)
    elif isinstance(colors, Mapping):
        missing = sorted(set(int(k) for k in present) - set(colors) - {0})
        if missing:
            raise _checks.ArgumentError(f"colors has no colour for labels {missing}")
        for k, c in colors.items():
            if 0 < k <= n:
                table[k] = _rgba(c)
    else:
        if len(colors) < n:
            raise _checks.ArgumentError(
                f"colors must give one colour per label 1..{n}, got {len(colors)}")
        for k in range(1, n + 1):
            table[k] = _rgba(colors[k - 1])
    return table


def _label_rgba(labels: np.ndarray, colors: Any, alpha: float, n: int | None = None) -> np.ndarray:
    n = int(labels.max()) if n is None else n
    rgba = _palette(n, colors, np.unique(labels))[labels]
    rgba[..., 3] = np.where(labels > 0, alpha, 0.0)
    return rgba


def _check_alpha(alpha: float) -> float:
    return _checks.probability("alpha", alpha)


def _check_colors(colors: Any) -> None:
    if colors is not None and (isinstance(colors, str | bytes)
                               or not isinstance(colors, Sequence | Mapping | np.ndarray)):
        raise _checks.ArgumentTypeError(
            f"colors must be a list of colours (one per label 1, 2, ...) or a {{label: colour}} "
            f"dict, got {_checks.describe(colors)}")


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None and not isinstance(ax, Axes):
        raise _checks.ArgumentTypeError(
            f"ax must be a matplotlib Axes or None, got {_checks.describe(ax)}")
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
        return fig, ax
    return ax.figure, ax


def _show(ax: Axes, img: np.ndarray, cmap: str) -> None:
    ax.imshow(img, cmap=cmap if img.ndim == 2 else None)
    ax.set_axis_off()


# --------------------------------------------------------------------------- images


def show_images(
    images: Any,
    *,
    titles: Sequence[str] | None = None,
    ncols: int = 4,
    cmap: str = "gray",
    size: float = 2.2,
) -> Figure:
    """A grid of images, one axes each (``len(fig.axes) == B``), ``ncols`` per row.

    ``images``: a batch ``(B, H, W)`` or ``(B, C, H, W)`` with ``C`` 1 or 3, or a list of single
    images (sizes may differ). ``size``: inches per panel. Each grey image is scaled to its own
    range.
    """
    if isinstance(images, (list, tuple)):
        items = [_image(im, f"images[{i}]") for i, im in enumerate(images)]
        if not items:
            raise _checks.ArgumentError("images must be non-empty, got an empty list")
    else:
        batch = _array(images, "images")
        if batch.ndim not in (3, 4):
            raise _checks.ArgumentError(
                f"images must have shape (B, H, W) or (B, C, H, W), got {batch.shape}")
        items = [_image(im, f"images[{i}]") for i, im in enumerate(batch)]
    if titles is not None:
        titles = _strings("titles", titles, len(items), "image")
    ncols = _checks.integer("ncols", ncols, low=1)
    size = _positive("size", size)
    ncols = min(ncols, len(items))
    nrows = -(-len(items) // ncols)
    fig = plt.figure(figsize=(size * ncols, size * nrows))
    for i, img in enumerate(items):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        _show(ax, img, cmap)
        if titles is not None:
            ax.set_title(str(titles[i]), fontsize=9)
    fig.tight_layout()
    return fig


def overlay_mask(
    image: Any,
    mask: Any,
    *,
    alpha: float = 0.45,
    colors: Sequence[Any] | Mapping[int, Any] | None = None,
    ax: Axes | None = None,
    cmap: str = "gray",
) -> Figure:
    """``image`` with ``mask`` painted over it, one colour per label (background left clear).

    ``mask``: label map ``(H, W)`` (semantic classes or instance ids, 0 = background) or
    ``(N, H, W)`` binary instance masks (instance ``i`` gets label ``i + 1``). ``colors``: one
    colour per label ``1, 2, ...`` (a list) or ``{label: colour}``; default tab10/tab20.
    """
    img = _image(image, "image")
    labels = _labels(mask, "mask")
    if labels.shape != img.shape[:2]:
        raise _checks.ArgumentError(
            f"mask must match image's (H, W) = {img.shape[:2]}, got {labels.shape}")
    alpha = _check_alpha(alpha)
    _check_colors(colors)
    fig, ax = _axes(ax, (4, 4))
    _show(ax, img, cmap)
    ax.imshow(_label_rgba(labels, colors, alpha), interpolation="nearest")
    return fig


def draw_boxes(
    image: Any,
    boxes: Any,
    *,
    labels: Sequence[Any] | None = None,
    scores: Sequence[float] | Any | None = None,
    ax: Axes | None = None,
    color: Any = "tab:red",
    cmap: str = "gray",
) -> Figure:
    """``image`` with boxes ``(N, 4)`` = ``(x1, y1, x2, y2)`` in pixels drawn as rectangles.

    ``labels`` (names or class ids) and ``scores`` (floats), ``N`` each, are written at each
    box's top-left corner. ``color``: one colour, or one per box.
    """
    img = _image(image, "image")
    b = _array(boxes, "boxes", allow_empty=True).astype(float)
    if b.ndim != 2 or b.shape[1] != 4:
        raise _checks.ArgumentError(
            f"boxes must have shape (N, 4) as (x1, y1, x2, y2), got {b.shape}")
    if (b[:, 2] < b[:, 0]).any() or (b[:, 3] < b[:, 1]).any():
        raise _checks.ArgumentError("boxes must have x2 >= x1 and y2 >= y1 (xyxy format)")
    n = len(b)
    if labels is not None:
        labels = _strings("labels", labels, n, "box")
    if scores is not None:
        scores = _array(scores, "scores", allow_empty=True).astype(float)
        if scores.shape != (n,):
            raise _checks.ArgumentError(f"scores must have shape ({n},), got {scores.shape}")
    if isinstance(color, str) or mcolors.is_color_like(color):
        box_colors = [color] * n
    elif _listlike(color) and len(color) == n:
        box_colors = list(color)
    else:
        got = len(color) if _listlike(color) else _checks.describe(color)
        raise _checks.ArgumentError(f"color must be one colour or one per box ({n}), got {got}")
    for c in box_colors:
        if not mcolors.is_color_like(c):
            raise _checks.ArgumentError(f"color must be matplotlib colours, got {c!r}")
    fig, ax = _axes(ax, (5, 4))
    _show(ax, img, cmap)
    for i, (x1, y1, x2, y2) in enumerate(b):
        ax.add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, lw=1.5,
                               edgecolor=box_colors[i]))
        text = " ".join(
            ([str(labels[i])] if labels is not None else [])
            + ([f"{scores[i]:.2f}"] if scores is not None else [])
        )
        if text:
            ax.text(x1, y1, text, fontsize=7, color="white", va="bottom",
                    bbox={"facecolor": box_colors[i], "alpha": 0.7, "pad": 1, "lw": 0})
    return fig


def overlay_heatmap(
    image: Any,
    heatmap: Any,
    *,
    alpha: float = 0.5,
    cmap: str = "jet",
    vmin: float | None = 0.0,
    vmax: float | None = 1.0,
    ax: Axes | None = None,
    colorbar: bool = False,
) -> Figure:
    """``image`` in grey with ``heatmap`` ``(H, W)`` (e.g. a Grad-CAM map) blended over it.

    The colour scale runs from ``vmin`` to ``vmax`` (0 to 1, Grad-CAM's range); pass ``None``
    for the heatmap's own range.
    """
    img = _image(image, "image")
    heat = _array(heatmap, "heatmap").astype(float)
    if heat.ndim == 3 and heat.shape[0] == 1:
        heat = heat[0]
    if heat.shape != img.shape[:2]:
        raise _checks.ArgumentError(
            f"heatmap must have image's shape (H, W) = {img.shape[:2]}, got "
            f"{heat.shape}")
    alpha = _check_alpha(alpha)
    vmin = None if vmin is None else _checks.number("vmin", vmin)
    vmax = None if vmax is None else _checks.number("vmax", vmax)
    if vmin is not None and vmax is not None and not vmin < vmax:
        raise _checks.ArgumentError(f"vmin must be below vmax, got vmin={vmin}, vmax={vmax}")
    fig, ax = _axes(ax, (4, 4))
    _show(ax, img, "gray")
    shown = ax.imshow(heat, cmap=cmap, alpha=alpha, vmin=vmin, vmax=vmax)
    if colorbar:
        fig.colorbar(shown, ax=ax, fraction=0.046, pad=0.04)
    return fig


# --------------------------------------------------------------------------- training curves


def plot_history(history: Any, *, keys: Sequence[str] | None = None,
                 size: tuple[float, float] = (4.0, 3.0)) -> Figure:
    """Training curves, one axes per quantity: ``"loss"`` shows ``train_loss`` and ``val_loss``.

    ``history``: a dict of equal-length lists (one value per epoch) or a
    :class:`dentpy.train.History`; an ``epoch`` column, when present, is the x axis, and a
    History's best epoch is marked. ``keys``: quantities (``"loss"``, ``"auc"``) or column
    names; default: every ``train_*``/``val_*`` pair and other column except ``epoch``, ``lr``
    and ``time_s``.
    """
    if not (hasattr(history, "keys") and hasattr(history, "__getitem__")):
        raise _checks.ArgumentTypeError(
            f"history must be a dict of lists or a dentpy.train.History, got "
            f"{_checks.describe(history)}")
    if keys is not None and (isinstance(keys, str) or not isinstance(keys, Sequence)):
        raise _checks.ArgumentTypeError(
            f"keys must be a list of names, got {_checks.describe(keys)}")
    if (not isinstance(size, Sequence) or isinstance(size, str) or len(size) != 2):
        raise _checks.ArgumentTypeError(
            f"size must be (width, height) in inches, got {_checks.describe(size)}")
    size = (_positive("size width", size[0]), _positive("size height", size[1]))
    columns = {}
    for k in history.keys():
        values = _checks.array(f"history[{k!r}]", history[k], ndim=1, kind="number",
                               finite=False, nonempty=False)  # NaN: a diverged run, a gap
        columns[str(k)] = [float(v) for v in values]
    n = len(columns.get("epoch", next(iter(columns.values()), [])))
    if n == 0:
        raise _checks.ArgumentError("history is empty")
    bad = {k: len(v) for k, v in columns.items() if len(v) != n}
    if bad:
        raise _checks.ArgumentError(
            f"history columns must have one value per epoch ({n}), got {bad}")
    epochs = columns.get("epoch", list(range(1, n + 1)))
    groups: dict[str, list[str]] = {}
    if keys is None:
        for name in columns:
            if name not in _SKIP_HISTORY:
                groups.setdefault(name.removeprefix("train_").removeprefix("val_"), []).append(name)
    else:
        for key in keys:
            names = [key] if key in columns else [f"train_{key}", f"val_{key}"]
            present = [name for name in names if name in columns]
            if not present:
                raise _checks.ArgumentError(
                    f"keys: {key!r} is not in the history; it has {list(columns)}")
            groups[key] = present
    if not groups:
        raise _checks.ArgumentError(f"history has nothing to plot; it has {list(columns)}")
    fig, axes = plt.subplots(1, len(groups), figsize=(size[0] * len(groups), size[1]),
                             squeeze=False)
    best = getattr(history, "best_epoch", None)
    for ax, (title, names) in zip(axes[0], groups.items(), strict=True):
        for name in names:
            ax.plot(epochs, columns[name], marker="o", markersize=3, label=name)
        if best is not None:
            ax.axvline(best, color="grey", linestyle=":", label="best epoch")
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- classification


def plot_confusion_matrix(
    cm: Any,
    *,
    class_names: Sequence[str] | None = None,
    normalize: str | None = None,
    ax: Axes | None = None,
    cmap: str = "Blues",
) -> Figure:
    """Confusion matrix ``(K, K)`` (rows: true class, columns: predicted) with each cell's value.

    ``normalize`` as scikit-learn's: ``None`` (counts), ``"true"`` (rows sum to 1), ``"pred"``
    (columns sum to 1) or ``"all"``; an empty row or column stays 0.
    """
    m = _array(cm, "cm").astype(float)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise _checks.ArgumentError(f"cm must be a square matrix (K, K), got shape {m.shape}")
    if (m < 0).any():
        raise _checks.ArgumentError("cm must hold counts >= 0")
    if normalize not in NORMALIZE:
        raise _checks.ArgumentError(f"normalize must be one of {NORMALIZE}, got {normalize!r}")
    k = len(m)
    names = ([str(i) for i in range(k)] if class_names is None
             else [str(c) for c in _strings("class_names", class_names, k, "class")])
    if normalize is not None:
        total = {"true": m.sum(1, keepdims=True), "pred": m.sum(0, keepdims=True),
                 "all": m.sum()}[normalize]
        m = np.divide(m, total, out=np.zeros_like(m), where=total > 0)
    fig, ax = _axes(ax, (1.0 + 0.8 * k, 0.8 + 0.8 * k))
    ax.imshow(m, cmap=cmap, vmin=0)
    counts = normalize is None and np.allclose(m, np.round(m))
    for (i, j), value in np.ndenumerate(m):
        text = f"{int(round(value))}" if counts else f"{value:.2f}"
        ax.text(j, i, text, ha="center", va="center", fontsize=9,
                color="white" if value > m.max() / 2 else "black")
    ax.set_xticks(range(k), names)
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    return fig


def _binary_scores(y_true: Any, y_score: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    t = _array(y_true, f"{name} y_true")
    s = _array(y_score, f"{name} y_score").astype(float)
    if t.ndim != 1 or s.shape != t.shape:
        raise _checks.ArgumentError(
            f"{name}: y_true and y_score must be 1-D of the same length, got "
            f"{t.shape} and {s.shape}")
    if not np.isin(t, (0, 1)).all():
        raise _checks.ArgumentError(f"{name}: y_true must be binary (0 or 1)")
    if len(np.unique(t)) < 2:
        raise _checks.ArgumentError(f"{name}: y_true must contain both classes")
    return t.astype(int), s


def _named_curves(curves: Any, labels: Sequence[str] | None) -> list[tuple[str, Any, Any]]:
    if isinstance(curves, Mapping):
        if labels is not None:
            raise _checks.ArgumentError(
                "labels must be None when curves is a dict (its keys are the labels)")
        items = list(curves.items())
    else:
        if not _listlike(curves):
            raise _checks.ArgumentTypeError(
                f"curves must be a {{label: (y_true, y_score)}} dict or a list of (y_true, "
                f"y_score) pairs, got {_checks.describe(curves)}")
        items = list(curves)
        names = ([f"curve {i}" for i in range(len(items))] if labels is None
                 else _strings("labels", labels, len(items), "curve"))
        items = list(zip(names, items, strict=True))
    if not items:
        raise _checks.ArgumentError("curves is empty")
    out = []
    for name, pair in items:
        if not _listlike(pair) or len(pair) != 2:
            raise _checks.ArgumentError(f"curves[{name!r}] must be a pair (y_true, y_score)")
        out.append((str(name), *_binary_scores(pair[0], pair[1], f"curves[{name!r}]")))
    return out


def plot_roc(curves: Any, *, labels: Sequence[str] | None = None,
             ax: Axes | None = None) -> Figure:
    """ROC curves with their AUC in the legend, and the chance diagonal.

    ``curves``: ``{label: (y_true, y_score)}`` or a list of ``(y_true, y_score)`` pairs (then
    ``labels``), each binary ``y_true`` (0/1) with scores for class 1.
    """
    fig, ax = _axes(ax, (4, 4))
    for name, t, s in _named_curves(curves, labels):
        fpr, tpr, _ = skm.roc_curve(t, s)
        ax.plot(fpr, tpr, label=f"{name} (AUC = {skm.roc_auc_score(t, s):.3f})")
    _roc_frame(ax)
    return fig


def plot_pr(curves: Any, *, labels: Sequence[str] | None = None,
            ax: Axes | None = None) -> Figure:
    """Precision-recall curves (steps) with their average precision in the legend.

    ``curves`` as in :func:`plot_roc`.
    """
    fig, ax = _axes(ax, (4, 4))
    for name, t, s in _named_curves(curves, labels):
        precision, recall, _ = skm.precision_recall_curve(t, s)
        ap = skm.average_precision_score(t, s)
        ax.plot(recall, precision, drawstyle="steps-post", label=f"{name} (AP = {ap:.3f})")
    _pr_frame(ax)
    return fig


def _roc_frame(ax: Axes) -> None:
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", lw=1, label="chance")
    ax.set(xlim=(0, 1), ylim=(0, 1.01), xlabel="false positive rate (1 - specificity)",
           ylabel="true positive rate (sensitivity)", aspect="equal")
    ax.legend(fontsize=8, loc="lower right")


def _pr_frame(ax: Axes) -> None:
    ax.set(xlim=(0, 1), ylim=(0, 1.01), xlabel="recall (sensitivity)", ylabel="precision",
           aspect="equal")
    ax.legend(fontsize=8, loc="lower left")


def _folds(y_true_per_fold: Sequence[Any], y_score_per_fold: Sequence[Any]) -> list[tuple]:
    for name, value in (("y_true_per_fold", y_true_per_fold),
                        ("y_score_per_fold", y_score_per_fold)):
        if not _listlike(value):
            raise _checks.ArgumentTypeError(
                f"{name} must be a list with one array per fold, got {_checks.describe(value)}")
    if len(y_true_per_fold) != len(y_score_per_fold):
        raise _checks.ArgumentError(
            f"y_true_per_fold and y_score_per_fold must have the same number of "
            f"folds, got {len(y_true_per_fold)} and {len(y_score_per_fold)}")
    if not len(y_true_per_fold):
        raise _checks.ArgumentError("y_true_per_fold is empty")
    return [_binary_scores(t, s, f"fold {i}")
            for i, (t, s) in enumerate(zip(y_true_per_fold, y_score_per_fold, strict=True))]


def _sd(values: np.ndarray) -> np.ndarray:
    """Sample standard deviation across folds, axis 0 (0 for a single fold)."""
    return values.std(axis=0, ddof=1 if len(values) > 1 else 0)


def _band(ax: Axes, grid: np.ndarray, curves: np.ndarray, scores: np.ndarray, what: str,
          label: str, show_folds: bool) -> None:
    if show_folds:
        for i, curve in enumerate(curves):
            ax.plot(grid, curve, lw=0.8, alpha=0.4, label="folds" if i == 0 else "_nolegend_")
    mean, sd = curves.mean(0), _sd(curves)
    ax.plot(grid, mean, color="tab:blue", lw=2,
            label=f"{label} ({what} = {scores.mean():.3f} ± {_sd(scores):.3f})")
    ax.fill_between(grid, np.clip(mean - sd, 0, 1), np.clip(mean + sd, 0, 1), color="tab:blue",
                    alpha=0.2, label="± 1 sd")


def plot_roc_folds(
    y_true_per_fold: Sequence[Any],
    y_score_per_fold: Sequence[Any],
    *,
    n_grid: int = 101,
    label: str = "mean",
    show_folds: bool = True,
    ax: Axes | None = None,
) -> Figure:
    """Mean ROC curve over folds with a ± 1 sd band, and the AUC as mean ± sd across folds.

    Each fold's TPR is interpolated linearly on a common FPR grid of ``n_grid`` points in
    ``[0, 1]`` (at a vertical step the upper value is taken; each curve starts at ``(0, 0)``);
    the band is the sample sd (``ddof=1``) of those TPRs, clipped to ``[0, 1]``.
    """
    folds = _folds(y_true_per_fold, y_score_per_fold)
    n_grid = _checks.integer("n_grid", n_grid, low=2)
    show_folds = _checks.flag("show_folds", show_folds)
    grid = np.linspace(0, 1, n_grid)
    tprs, aucs = [], []
    for t, s in folds:
        fpr, tpr, _ = skm.roc_curve(t, s)
        curve = np.interp(grid, fpr, tpr)
        curve[0] = 0.0
        tprs.append(curve)
        aucs.append(skm.roc_auc_score(t, s))
    fig, ax = _axes(ax, (4.5, 4.5))
    _band(ax, grid, np.array(tprs), np.array(aucs), "AUC", label, show_folds)
    _roc_frame(ax)
    return fig


def plot_pr_folds(
    y_true_per_fold: Sequence[Any],
    y_score_per_fold: Sequence[Any],
    *,
    n_grid: int = 101,
    label: str = "mean",
    show_folds: bool = True,
    ax: Axes | None = None,
) -> Figure:
    """Mean precision-recall curve over folds with a ± 1 sd band, and AP as mean ± sd.

    Each fold's curve is its interpolated precision ``p(r) = max over r' >= r of precision(r')``
    (the PASCAL VOC / COCO convention) on a common recall grid of ``n_grid`` points.
    """
    folds = _folds(y_true_per_fold, y_score_per_fold)
    n_grid = _checks.integer("n_grid", n_grid, low=2)
    show_folds = _checks.flag("show_folds", show_folds)
    grid = np.linspace(0, 1, n_grid)
    precisions, aps = [], []
    for t, s in folds:
        precision, recall, _ = skm.precision_recall_curve(t, s)
        envelope = np.maximum.accumulate(precision)  # recall decreases along the arrays
        # first index (from the low-recall end) whose recall reaches each grid value
        idx = np.searchsorted(recall[::-1], grid, side="left")
        precisions.append(envelope[::-1][np.minimum(idx, len(recall) - 1)])
        aps.append(skm.average_precision_score(t, s))
    fig, ax = _axes(ax, (4.5, 4.5))
    _band(ax, grid, np.array(precisions), np.array(aps), "AP", label, show_folds)
    _pr_frame(ax)
    return fig


# --------------------------------------------------------------------------- volumes


def _volume(volume: Any, label: Any, axis: int) -> tuple[np.ndarray, np.ndarray | None]:
    vol = _array(volume, "volume").astype(float)
    if vol.ndim == 4 and vol.shape[0] == 1:
        vol = vol[0]
    if vol.ndim != 3:
        raise _checks.ArgumentError(
            f"volume must have shape (D, H, W) or (1, D, H, W), got {vol.shape}")
    if isinstance(axis, bool) or not isinstance(axis, int) or axis not in (0, 1, 2):
        error = (_checks.ArgumentError if isinstance(axis, int) and not isinstance(axis, bool)
                 else _checks.ArgumentTypeError)
        raise error(f"axis must be 0, 1 or 2, got {_checks.describe(axis)}")
    if label is None:
        return vol, None
    lab = _array(label, "label")
    if lab.ndim == 4 and lab.shape[0] == 1:
        lab = lab[0]
    if lab.shape != vol.shape:
        raise _checks.ArgumentError(f"label must have volume's shape {vol.shape}, got {lab.shape}")
    if lab.dtype != bool and ((lab != np.round(lab)).any() or lab.min() < 0):
        raise _checks.ArgumentError("label must hold integer labels >= 0 (0 = background)")
    return vol, lab.astype(int)


def _draw_slice(ax: Axes, vol: np.ndarray, lab: np.ndarray | None, axis: int, index: int,
                *, cmap: str, alpha: float, colors: Any) -> None:
    ax.imshow(np.take(vol, index, axis=axis), cmap=cmap, vmin=vol.min(), vmax=vol.max())
    if lab is not None:
        ax.imshow(_label_rgba(np.take(lab, index, axis=axis), colors, alpha, n=int(lab.max())),
                  interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(f"axis {axis}, slice {index}", fontsize=8)


def slice_montage(
    volume: Any,
    *,
    axis: int = 0,
    n: int = 9,
    label: Any = None,
    ncols: int = 5,
    alpha: float = 0.4,
    colors: Sequence[Any] | Mapping[int, Any] | None = None,
    cmap: str = "gray",
    size: float = 2.0,
) -> Figure:
    """``n`` evenly spaced slices of a 3-D ``volume`` ``(D, H, W)`` along ``axis``, one axes each.

    The slices are the centres of ``n`` equal slabs (so the empty first and last slices are
    skipped), shown on one grey scale for the whole volume; ``label`` (same shape, integer
    labels, 0 = background) is painted over them as in :func:`overlay_mask`.
    """
    vol, lab = _volume(volume, label, axis)
    alpha = _check_alpha(alpha)
    _check_colors(colors)
    n = _checks.integer("n", n, low=1)
    ncols = _checks.integer("ncols", ncols, low=1)
    size = _positive("size", size)
    depth = vol.shape[axis]
    n = min(n, depth)
    indices = ((np.arange(n) + 0.5) * depth / n).astype(int)
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    fig = plt.figure(figsize=(size * ncols, size * nrows))
    for i, index in enumerate(indices):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        _draw_slice(ax, vol, lab, axis, int(index), cmap=cmap, alpha=alpha, colors=colors)
    fig.tight_layout()
    return fig


def slice_viewer(
    volume: Any,
    *,
    label: Any = None,
    axis: int = 0,
    alpha: float = 0.4,
    colors: Sequence[Any] | Mapping[int, Any] | None = None,
    cmap: str = "gray",
    static: bool = False,
) -> Any:
    """Interactive viewer of a 3-D ``volume``: axis buttons, a slice slider, a label toggle.

    Returns an ``ipywidgets.VBox`` when ipywidgets can be imported (and ``static`` is False);
    otherwise the figure of :func:`slice_montage`. Widgets need a live kernel: in the HTML book
    (executed once, no kernel behind it) a widget does not render, so a chapter shows
    ``slice_montage`` (or ``static=True``) for the book and offers the viewer to readers who
    run the notebook.
    """
    vol, lab = _volume(volume, label, axis)
    alpha = _check_alpha(alpha)
    _check_colors(colors)
    static = _checks.flag("static", static)
    try:
        if static:
            raise ImportError
        import ipywidgets as w
    except ImportError:
        return slice_montage(vol, axis=axis, label=lab, alpha=alpha, colors=colors, cmap=cmap)

    axis_buttons = w.ToggleButtons(options=[0, 1, 2], value=axis, description="axis")
    slider = w.IntSlider(value=vol.shape[axis] // 2, min=0, max=vol.shape[axis] - 1,
                         description="slice", continuous_update=False)
    show_label = w.Checkbox(value=lab is not None, description="label",
                            disabled=lab is None)
    picture = w.Image(format="png")

    def render(*_: Any) -> None:
        fig = Figure(figsize=(4, 4))  # not pyplot: nothing is left open or shown twice
        _draw_slice(fig.add_subplot(), vol, lab if show_label.value else None,
                    axis_buttons.value, slider.value, cmap=cmap, alpha=alpha, colors=colors)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", bbox_inches="tight")
        picture.value = buffer.getvalue()

    def change_axis(_: Any) -> None:
        depth = vol.shape[axis_buttons.value]
        slider.max = depth - 1  # clamps the value when the new axis is shorter
        slider.value = depth // 2
        render()

    axis_buttons.observe(change_axis, names="value")
    slider.observe(render, names="value")
    show_label.observe(render, names="value")
    render()
    return w.VBox([w.HBox([axis_buttons, show_label]), slider, picture])
