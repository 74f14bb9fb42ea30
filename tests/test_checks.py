"""The shared argument checks: normal forms returned, clear errors raised."""

import math

import numpy as np
import pytest
import torch

from dentpy import _checks as checks


def test_integer_accepts_integers_and_rejects_floats_and_bools() -> None:
    assert checks.integer("n", np.int64(3), low=1) == 3
    for value in (2.5, 5.0, True, "3", None):
        with pytest.raises(ValueError, match=r"^n must be an integer"):
            checks.integer("n", value)
    with pytest.raises(ValueError, match=r"n must be an integer >= 1, got 0"):
        checks.integer("n", 0, low=1)


def test_wrong_kind_is_a_type_error_and_a_value_error() -> None:
    with pytest.raises(TypeError, match="lr must be a finite number > 0"):
        checks.number("lr", "0.1", low=0, low_open=True)
    with pytest.raises(ValueError):
        checks.number("lr", None)


def test_number_bounds_and_finiteness() -> None:
    assert checks.number("x", torch.tensor(0.5), low=0, high=1) == 0.5
    assert checks.number("x", math.inf, finite=False) == math.inf
    for value in (math.nan, math.inf, -0.1, 1.5):
        with pytest.raises(ValueError, match=r"x must be a finite number in \[0, 1\]"):
            checks.number("x", value, low=0, high=1)
    with pytest.raises(ValueError, match=r"in \(0.0, 1.0\)"):
        checks.probability("p", 0.0, open_ends=True)  # bounds print as given: 0.0, 1.0


def test_choice_and_flag() -> None:
    assert checks.choice("mode", "mean", ("mean", "sum")) == "mean"
    with pytest.raises(ValueError, match=r"mode must be one of \('mean', 'sum'\), got 'avg'"):
        checks.choice("mode", "avg", ("mean", "sum"))
    with pytest.raises(ValueError, match="mode must be one of"):
        checks.choice("mode", ["mean"], {"mean"})
    with pytest.raises(TypeError, match="strict must be True or False"):
        checks.flag("strict", 1)


def test_array_and_tensor_rank_kind_finiteness_and_emptiness() -> None:
    assert checks.array("x", [[1, 2]], ndim=2).shape == (1, 2)
    kept = torch.zeros(2, 3, dtype=torch.float16)
    assert checks.tensor("x", kept, ndim=(2, 3)) is kept
    assert checks.tensor("x", np.ones(3, dtype=np.uint8), kind="integer").dtype == torch.uint8
    cases = [
        (None, {}, "x must be an array or a tensor, got None"),
        ("abc", {}, "x must be an array or a tensor"),
        ([1, [2, 3]], {}, "x must be an array or a tensor"),
        (np.zeros((2, 2)), {"ndim": 3}, "x must be 3-dimensional"),
        (np.zeros(0), {}, "x must be non-empty"),
        (np.array([1.0, np.nan]), {}, r"x must be finite \(no NaN or inf\)"),
        (np.ones(2), {"kind": "integer"}, "x must be an array of integer values"),
    ]
    for value, options, message in cases:
        with pytest.raises(ValueError, match=message):
            checks.array("x", value, **options)
        if value is not None and not isinstance(value, str | list):
            with pytest.raises(ValueError, match=message.replace("an array", "a tensor")):
                checks.tensor("x", torch.as_tensor(value), **options)


def test_same_length_and_box() -> None:
    assert checks.same_length(a=[1, 2], b=(3, 4)) == 2
    with pytest.raises(ValueError, match="a and b must have the same length: a has 2, b has 1"):
        checks.same_length(a=[1, 2], b=[1])
    assert checks.box("box", [0, 0, 2, 3]) == (0.0, 0.0, 2.0, 3.0)
    for value in ([2, 0, 0, 3], [0, 0, 1], [0, 0, 1, np.inf]):
        with pytest.raises(ValueError, match="box must be"):
            checks.box("box", value)


def test_paths(tmp_path) -> None:
    file = tmp_path / "a.txt"
    file.write_text("x")
    assert checks.existing_path("path", str(file), kind="file") == file
    with pytest.raises(ValueError, match="path does not exist"):
        checks.existing_path("path", tmp_path / "missing.txt")
    with pytest.raises(ValueError, match="path must be a file, got the directory"):
        checks.existing_path("path", tmp_path, kind="file")
    with pytest.raises(TypeError, match="path must be a path"):
        checks.existing_path("path", None)
    with pytest.raises(ValueError, match="checkpoint_dir must be a directory, got the file"):
        checks.output_path("checkpoint_dir", file, kind="dir")
    with pytest.raises(ValueError, match="out lies under a file"):
        checks.output_path("out", file / "b.png")
    assert checks.output_path("out", tmp_path / "new" / "b.png") == tmp_path / "new" / "b.png"
