"""dentpy.viz: each figure's axes and artists on tiny inputs, the fold averages, and bad input."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from sklearn import metrics as skm  # noqa: E402

from dentpy import viz  # noqa: E402
from dentpy.train import History  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def scores(seed, n=40, shift=1.0):
    rng = np.random.default_rng(seed)
    y = np.r_[np.zeros(n // 2, int), np.ones(n - n // 2, int)]
    return y, rng.normal(size=n) + shift * y


# --------------------------------------------------------------------------- images


@pytest.mark.parametrize(
    "images",
    [
        torch.rand(5, 1, 8, 6),
        np.random.rand(5, 8, 6),
        [np.zeros((4, 4))] * 4 + [torch.rand(3, 5, 5)],
    ],
)
def test_show_images_one_axes_per_image(images):
    fig = viz.show_images(images, titles=list("abcde"), ncols=2)
    assert isinstance(fig, Figure) and len(fig.axes) == 5
    assert [ax.get_title() for ax in fig.axes] == list("abcde")
    assert fig.axes[4].get_subplotspec().rowspan.start == 2  # 3 rows of 2
    assert all(len(ax.images) == 1 for ax in fig.axes)


def test_show_images_rgb_batch_is_channel_last():
    fig = viz.show_images(torch.rand(2, 3, 4, 5))
    assert fig.axes[0].images[0].get_array().shape == (4, 5, 3)


@pytest.mark.parametrize(
    ("images", "kwargs", "match"),
    [
        (np.zeros((2, 2, 4, 4)), {}, r"images\[0\] must have shape"),
        (np.zeros((4, 4)), {}, r"\(B, H, W\) or \(B, C, H, W\)"),
        ([], {}, "empty"),
        (np.zeros((2, 4, 4)), {"titles": ["a"]}, "titles"),
        (np.zeros((2, 4, 4)), {"ncols": 0}, "ncols"),
        (np.full((2, 4, 4), np.nan), {}, "NaN"),
    ],
)
def test_show_images_bad_input(images, kwargs, match):
    with pytest.raises(ValueError, match=match):
        viz.show_images(images, **kwargs)


def test_overlay_mask_semantic_and_instance():
    image = np.random.rand(6, 6)
    labels = np.zeros((6, 6), int)
    labels[1:3, 1:3], labels[4:, 4:] = 1, 2
    fig = viz.overlay_mask(image, torch.as_tensor(labels), alpha=0.5, colors=["red", "blue"])
    ax = fig.axes[0]
    assert len(ax.images) == 2
    rgba = ax.images[1].get_array()
    np.testing.assert_allclose(rgba[1, 1], [1, 0, 0, 0.5])
    np.testing.assert_allclose(rgba[5, 5], [0, 0, 1, 0.5])
    assert rgba[0, 0, 3] == 0  # background is clear

    instances = np.stack([labels == 1, labels == 2])
    _, ax2 = plt.subplots()
    fig2 = viz.overlay_mask(image, instances, alpha=0.5, colors={1: "red", 2: "blue"}, ax=ax2)
    assert fig2 is ax2.figure
    np.testing.assert_array_equal(ax2.images[1].get_array(), rgba)


@pytest.mark.parametrize(
    ("mask", "kwargs", "match"),
    [
        (np.zeros((5, 6), int), {}, "mask must match"),
        (np.full((6, 6), 0.5), {}, "integer labels"),
        (-np.ones((6, 6), int), {}, ">= 0"),
        (np.full((2, 6, 6), 2), {}, "binary instance masks"),
        (np.ones((6, 6), int), {"alpha": 1.5}, "alpha"),
        (np.full((6, 6), 2), {"colors": ["red"]}, "one colour per label"),
        (np.full((6, 6), 2), {"colors": {1: "red"}}, r"no colour for labels \[2\]"),
    ],
)
def test_overlay_mask_bad_input(mask, kwargs, match):
    with pytest.raises(ValueError, match=match):
        viz.overlay_mask(np.zeros((6, 6)), mask, **kwargs)


def test_draw_boxes_patches_and_texts():
    boxes = torch.tensor([[1.0, 1.0, 4.0, 5.0], [0.0, 2.0, 7.0, 3.0]])
    fig = viz.draw_boxes(np.zeros((8, 8)), boxes, labels=["tooth", 2], scores=[0.9, 0.25])
    ax = fig.axes[0]
    rects = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(rects) == 2
    assert (rects[0].get_x(), rects[0].get_y(), rects[0].get_width(), rects[0].get_height()) == (
        1, 1, 3, 4)
    assert [t.get_text() for t in ax.texts] == ["tooth 0.90", "2 0.25"]
    fig = viz.draw_boxes(np.zeros((8, 8)), np.zeros((0, 4)), color=[])
    assert not fig.axes[0].patches and not fig.axes[0].texts


@pytest.mark.parametrize(
    ("boxes", "kwargs", "match"),
    [
        (np.zeros((2, 3)), {}, r"boxes must have shape \(N, 4\)"),
        (np.zeros(4), {}, r"boxes must have shape \(N, 4\)"),
        (np.array([[3, 0, 1, 2]]), {}, "x2 >= x1"),
        (np.array([[0, 0, 1, 2]]), {"labels": ["a", "b"]}, "labels"),
        (np.array([[0, 0, 1, 2]]), {"scores": [0.1, 0.2]}, "scores"),
        (np.array([[0, 0, 1, 2]]), {"color": ["red", "blue"]}, "color"),
        (np.array([[0, 0, np.nan, 2]]), {}, "NaN"),
    ],
)
def test_draw_boxes_bad_input(boxes, kwargs, match):
    with pytest.raises(ValueError, match=match):
        viz.draw_boxes(np.zeros((8, 8)), boxes, **kwargs)


def test_overlay_heatmap():
    fig = viz.overlay_heatmap(torch.rand(1, 8, 8), torch.rand(1, 8, 8), alpha=0.3, colorbar=True)
    assert len(fig.axes) == 2  # image axes + colour bar
    heat = fig.axes[0].images[1]
    assert heat.get_alpha() == 0.3 and heat.get_clim() == (0.0, 1.0)
    with pytest.raises(ValueError, match=r"heatmap must have image's shape"):
        viz.overlay_heatmap(np.zeros((8, 8)), np.zeros((4, 4)))
    with pytest.raises(ValueError, match="alpha"):
        viz.overlay_heatmap(np.zeros((8, 8)), np.zeros((8, 8)), alpha=-0.1)


# --------------------------------------------------------------------------- curves


def test_plot_history_groups_train_and_val():
    history = {"epoch": [1, 2, 3], "train_loss": [3, 2, 1], "val_loss": [3, 2.5, 2.4],
               "val_auc": [0.5, 0.6, 0.7], "lr": [1, 1, 1]}
    fig = viz.plot_history(history)
    assert [ax.get_title() for ax in fig.axes] == ["loss", "auc"]
    assert len(fig.axes[0].lines) == 2 and len(fig.axes[1].lines) == 1
    fig = viz.plot_history(history, keys=["loss", "lr"])
    assert [ax.get_title() for ax in fig.axes] == ["loss", "lr"]


def test_plot_history_of_a_history_marks_best_epoch():
    h = History(monitor="val_loss")
    for epoch, (tl, vl) in enumerate([(3, 3), (2, 1), (1, 2)], start=1):
        h.append({"epoch": epoch, "train_loss": tl, "val_loss": vl})
    ax = viz.plot_history(h).axes[0]
    assert len(ax.lines) == 3 and list(ax.lines[2].get_xdata()) == [2, 2]


@pytest.mark.parametrize(
    ("history", "kwargs", "match"),
    [
        ({"train_loss": []}, {}, "empty"),
        ({"train_loss": [1, 2], "val_loss": [1]}, {}, "one value per epoch"),
        ({"train_loss": [1, 2]}, {"keys": ["auc"]}, "'auc' is not in the history"),
        ({"epoch": [1, 2], "lr": [1, 1]}, {}, "nothing to plot"),
    ],
)
def test_plot_history_bad_input(history, kwargs, match):
    with pytest.raises(ValueError, match=match):
        viz.plot_history(history, **kwargs)


@pytest.mark.parametrize(("normalize", "texts"), [
    (None, ["3", "1", "0", "2"]),
    ("true", ["0.75", "0.25", "0.00", "1.00"]),
    ("pred", ["1.00", "0.33", "0.00", "0.67"]),
    ("all", ["0.50", "0.17", "0.00", "0.33"]),
])
def test_plot_confusion_matrix_matches_sklearn_normalisation(normalize, texts):
    y_true, y_pred = [0, 0, 0, 0, 1, 1], [0, 0, 0, 1, 1, 1]
    cm = skm.confusion_matrix(y_true, y_pred)
    fig = viz.plot_confusion_matrix(cm, class_names=["healthy", "osteo"], normalize=normalize)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts] == texts
    shown = ax.images[0].get_array()
    np.testing.assert_allclose(shown, skm.confusion_matrix(y_true, y_pred, normalize=normalize))
    assert [t.get_text() for t in ax.get_xticklabels()] == ["healthy", "osteo"]


def test_plot_confusion_matrix_empty_row_stays_zero():
    ax = viz.plot_confusion_matrix(np.array([[2, 1], [0, 0]]), normalize="true").axes[0]
    assert np.isfinite(ax.images[0].get_array()).all()


@pytest.mark.parametrize(
    ("cm", "kwargs", "match"),
    [
        (np.zeros((2, 3)), {}, "square"),
        (np.array([[1, -1], [0, 1]]), {}, ">= 0"),
        (np.eye(2), {"normalize": "rows"}, "normalize"),
        (np.eye(2), {"class_names": ["a"]}, "class_names"),
    ],
)
def test_plot_confusion_matrix_bad_input(cm, kwargs, match):
    with pytest.raises(ValueError, match=match):
        viz.plot_confusion_matrix(cm, **kwargs)


def test_plot_roc_and_pr_several_curves():
    curves = {"vgg16": scores(0), "resnet": scores(1, shift=0.2)}
    ax = viz.plot_roc(curves).axes[0]
    assert len(ax.lines) == 3  # two curves + chance
    auc = skm.roc_auc_score(*curves["vgg16"])
    assert ax.get_legend().get_texts()[0].get_text() == f"vgg16 (AUC = {auc:.3f})"
    fpr, tpr, _ = skm.roc_curve(*curves["vgg16"])
    np.testing.assert_allclose(ax.lines[0].get_xydata(), np.c_[fpr, tpr])

    ax = viz.plot_pr(list(curves.values()), labels=["a", "b"]).axes[0]
    assert len(ax.lines) == 2
    ap = skm.average_precision_score(*curves["resnet"])
    assert ax.get_legend().get_texts()[1].get_text() == f"b (AP = {ap:.3f})"


@pytest.mark.parametrize("plot", [viz.plot_roc, viz.plot_pr])
@pytest.mark.parametrize(
    ("curves", "kwargs", "match"),
    [
        ({}, {}, "empty"),
        ([([0, 1], [0.1, 0.2])], {"labels": ["a", "b"]}, "labels"),
        ({"a": ([0, 1], [0.1, 0.2])}, {"labels": ["a"]}, "labels must be None"),
        ({"a": ([0, 1, 1], [0.1, 0.2])}, {}, "same length"),
        ({"a": ([0, 2], [0.1, 0.2])}, {}, "binary"),
        ({"a": ([1, 1], [0.1, 0.2])}, {}, "both classes"),
        ({"a": ([0, 1], [0.1, np.nan])}, {}, "NaN"),
        ({"a": ([0, 1],)}, {}, "pair"),
    ],
)
def test_roc_pr_bad_input(plot, curves, kwargs, match):
    with pytest.raises(ValueError, match=match):
        plot(curves, **kwargs)


def test_plot_roc_folds_mean_and_band():
    folds = [scores(seed) for seed in range(3)]
    y_true, y_score = [f[0] for f in folds], [f[1] for f in folds]
    ax = viz.plot_roc_folds(y_true, y_score, n_grid=11).axes[0]
    assert len(ax.lines) == 3 + 1 + 1  # folds, mean, chance
    assert sum(isinstance(c, PolyCollection) for c in ax.collections) == 1
    grid = np.linspace(0, 1, 11)
    tprs = []
    for t, s in folds:  # the sklearn example's recipe, by hand
        fpr, tpr, _ = skm.roc_curve(t, s)
        tprs.append(np.r_[0.0, np.interp(grid[1:], fpr, tpr)])
    np.testing.assert_allclose(ax.lines[3].get_ydata(), np.mean(tprs, 0))
    aucs = [skm.roc_auc_score(t, s) for t, s in folds]
    assert [t.get_text() for t in ax.get_legend().get_texts()][0] == "folds"
    label = ax.get_legend().get_texts()[1].get_text()
    assert label == f"mean (AUC = {np.mean(aucs):.3f} ± {np.std(aucs, ddof=1):.3f})"
    ax = viz.plot_roc_folds(y_true[:1], y_score[:1], show_folds=False).axes[0]
    assert len(ax.lines) == 2 and "± 0.000" in ax.get_legend().get_texts()[0].get_text()


def test_plot_pr_folds_interpolated_precision_by_hand():
    # one fold: scores 0.9 (pos), 0.8 (neg), 0.7 (pos), 0.1 (neg); recall 0.5 at precision 1,
    # recall 1.0 at precision 2/3, so p_interp = 1 for r <= 0.5 and 2/3 above.
    ax = viz.plot_pr_folds([[1, 0, 1, 0]], [[0.9, 0.8, 0.7, 0.1]], n_grid=5).axes[0]
    np.testing.assert_allclose(ax.lines[1].get_ydata(), [1, 1, 1, 2 / 3, 2 / 3])
    assert "AP = 0.833" in ax.get_legend().get_texts()[1].get_text()


@pytest.mark.parametrize("plot", [viz.plot_roc_folds, viz.plot_pr_folds])
def test_folds_bad_input(plot):
    with pytest.raises(ValueError, match="same number of folds"):
        plot([[0, 1]], [[0.1, 0.2], [0.3, 0.4]])
    with pytest.raises(ValueError, match="empty"):
        plot([], [])
    with pytest.raises(ValueError, match="fold 1: y_true must contain both classes"):
        plot([[0, 1], [1, 1]], [[0.1, 0.2], [0.3, 0.4]])
    with pytest.raises(ValueError, match="n_grid"):
        plot([[0, 1]], [[0.1, 0.2]], n_grid=1)


# --------------------------------------------------------------------------- volumes


def volume_and_label():
    vol = torch.rand(6, 7, 8)
    lab = torch.zeros(6, 7, 8, dtype=torch.long)
    lab[2:4, 2:5, 3:6] = 1
    return vol, lab


@pytest.mark.parametrize(("axis", "n", "expected"), [(0, 3, [1, 3, 5]), (2, 20, list(range(8)))])
def test_slice_montage(axis, n, expected):
    vol, lab = volume_and_label()
    fig = viz.slice_montage(vol, axis=axis, n=n, label=lab)
    assert len(fig.axes) == len(expected)
    assert [ax.get_title() for ax in fig.axes] == [f"axis {axis}, slice {i}" for i in expected]
    assert all(len(ax.images) == 2 for ax in fig.axes)
    assert viz.slice_montage(vol[None], n=2).axes[0].images[0].get_clim() == (
        float(vol.min()), float(vol.max()))  # one grey scale for the whole volume


@pytest.mark.parametrize(
    ("volume", "kwargs", "match"),
    [
        (np.zeros((4, 4)), {}, r"volume must have shape \(D, H, W\)"),
        (np.zeros((4, 4, 4)), {"axis": 3}, "axis"),
        (np.zeros((4, 4, 4)), {"n": 0}, "n must be"),
        (np.zeros((4, 4, 4)), {"label": np.zeros((4, 4, 3))}, "label must have volume's shape"),
        (np.zeros((4, 4, 4)), {"label": np.full((4, 4, 4), 0.5)}, "integer labels"),
    ],
)
def test_slice_montage_bad_input(volume, kwargs, match):
    with pytest.raises(ValueError, match=match):
        viz.slice_montage(volume, **kwargs)


def test_slice_viewer_widget():
    widgets = pytest.importorskip("ipywidgets")
    vol, lab = volume_and_label()
    viewer = viz.slice_viewer(vol, label=lab)
    assert isinstance(viewer, widgets.VBox)
    (axis_buttons, show_label), slider, picture = viewer.children[0].children, *viewer.children[1:]
    assert (slider.max, slider.value) == (5, 3)
    first = picture.value
    assert first[:8] == b"\x89PNG\r\n\x1a\n"
    slider.value = 1
    assert picture.value != first
    axis_buttons.value = 2
    assert (slider.max, slider.value) == (7, 4)
    with_label = picture.value
    show_label.value = False
    assert picture.value != with_label
    assert not plt.get_fignums()  # rendering leaves no pyplot figure open
    assert viz.slice_viewer(vol).children[0].children[1].disabled  # no label: toggle is off


def test_slice_viewer_static_fallback(monkeypatch):
    vol, lab = volume_and_label()
    assert isinstance(viz.slice_viewer(vol, label=lab, static=True), Figure)
    monkeypatch.setitem(__import__("sys").modules, "ipywidgets", None)  # import fails
    fig = viz.slice_viewer(vol, label=lab, axis=1)
    assert isinstance(fig, Figure) and fig.axes[0].get_title().startswith("axis 1")
