"""Splits: disjoint and covering, stratified, patient-level, seeded; leakage detection."""

import numpy as np
import pytest
from sklearn.model_selection import StratifiedKFold

from dentpy.data.splits import balanced_holdout, check_leakage, kfold, train_val_test_split

# 200 items, classes 0/1/2 in proportion 50/30/20 %; 50 patients of 4 images each
LABELS = np.repeat([0, 1, 2], [100, 60, 40])
GROUPS = np.arange(200) // 4


def assert_partition(parts, n):
    joined = np.concatenate(parts)
    assert len(joined) == n and np.array_equal(np.sort(joined), np.arange(n))


def proportions(labels):
    return np.bincount(labels, minlength=3) / len(labels)


def test_train_val_test_disjoint_covering_stratified():
    train, val, test = train_val_test_split(LABELS, val=0.2, test=0.2, seed=1)
    assert_partition([train, val, test], 200)
    assert (len(train), len(val), len(test)) == (120, 40, 40)
    for part in (train, val, test):
        assert part.dtype == np.int64
        np.testing.assert_allclose(proportions(LABELS[part]), [0.5, 0.3, 0.2], atol=0.03)
    assert check_leakage({"train": train, "val": val, "test": test}) == {}


def test_train_val_test_groups_never_straddle():
    train, val, test = train_val_test_split(LABELS, val=0.2, test=0.2, groups=GROUPS, seed=3)
    assert_partition([train, val, test], 200)
    sets = [set(GROUPS[p]) for p in (train, val, test)]
    assert not (sets[0] & sets[1]) and not (sets[0] & sets[2]) and not (sets[1] & sets[2])
    assert check_leakage({"train": train, "val": val, "test": test}, groups=GROUPS) == {}
    assert 30 <= len(test) <= 50 and 30 <= len(val) <= 50  # about 20 % each
    for part in (val, test):  # patients are single-class here, so stratification holds
        np.testing.assert_allclose(proportions(LABELS[part]), [0.5, 0.3, 0.2], atol=0.1)


def test_train_val_test_groups_without_stratify():
    train, val, test = train_val_test_split(LABELS, val=0.25, test=0.25, groups=GROUPS,
                                            stratify=False, seed=0)
    assert_partition([train, val, test], 200)
    check_leakage({"train": train, "val": val, "test": test}, groups=GROUPS)


def test_zero_val_and_determinism():
    train, val, test = train_val_test_split(LABELS, val=0.0, test=0.3, seed=5)
    assert len(val) == 0 and len(test) == 60
    again = train_val_test_split(LABELS, val=0.0, test=0.3, seed=5)
    other = train_val_test_split(LABELS, val=0.0, test=0.3, seed=6)
    assert all(np.array_equal(a, b) for a, b in zip((train, val, test), again, strict=True))
    assert not np.array_equal(test, other[2])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"val": 0.6, "test": 0.5}, "val \\+ test"),
        ({"val": -0.1}, r"val must be a finite number in \[0.0, 1.0\)"),
        ({"test": 1.0}, r"test must be a finite number in \[0.0, 1.0\)"),
        ({"test": "0.2"}, r"test must be a finite number in \[0.0, 1.0\)"),
        ({"seed": -1}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"groups": np.arange(10)}, "groups must have shape"),
    ],
)
def test_train_val_test_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        train_val_test_split(LABELS, **kwargs)


def test_labels_bad_input():
    with pytest.raises(ValueError, match="non-empty 1-D"):
        train_val_test_split([])
    with pytest.raises(ValueError, match="non-empty 1-D"):
        train_val_test_split(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="NaN"):
        train_val_test_split(np.array([0.0, np.nan, 1.0]))
    with pytest.raises(ValueError, match="cannot hold out"):  # one item of class 1
        train_val_test_split([0, 0, 0, 0, 1], test=0.4)


def test_kfold_matches_sklearn_and_covers():
    folds = list(kfold(LABELS, 5, seed=2))
    reference = StratifiedKFold(5, shuffle=True, random_state=2).split(LABELS, LABELS)
    for (train, val), (_, ref_val) in zip(folds, reference, strict=True):
        np.testing.assert_array_equal(val, np.sort(ref_val))
        assert_partition([train, val], 200)
        np.testing.assert_allclose(proportions(LABELS[val]), [0.5, 0.3, 0.2], atol=1e-9)
    assert_partition([val for _, val in folds], 200)


@pytest.mark.parametrize("stratify", [True, False])
def test_kfold_groups(stratify):
    folds = list(kfold(LABELS, 4, groups=GROUPS, stratify=stratify, seed=0))
    assert len(folds) == 4
    assert_partition([val for _, val in folds], 200)
    for train, val in folds:
        assert not set(GROUPS[train]) & set(GROUPS[val])
    again = list(kfold(LABELS, 4, groups=GROUPS, stratify=stratify, seed=0))
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again, strict=True))


def test_kfold_unstratified_seeded():
    a = [v for _, v in kfold(LABELS, 3, stratify=False, seed=0)]
    b = [v for _, v in kfold(LABELS, 3, stratify=False, seed=1)]
    assert_partition(a, 200)
    assert not np.array_equal(a[0], b[0])


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ((LABELS, 1), {}, "k must be an integer >= 2"),
        ((LABELS, 2.5), {}, "k must be an integer"),
        ((LABELS, 60), {}, "smallest class has 40"),
        ((LABELS[:3], 4), {"stratify": False}, "at least 4 items"),
        ((LABELS, 51), {"groups": GROUPS}, "at least 51 groups"),
    ],
)
def test_kfold_bad_input(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        list(kfold(*args, **kwargs))


def test_balanced_holdout_equal_counts():
    rest, test = balanced_holdout(LABELS, 60, seed=0)
    assert_partition([rest, test], 200)
    assert np.bincount(LABELS[test]).tolist() == [20, 20, 20]
    np.testing.assert_array_equal(test, balanced_holdout(LABELS, 60, seed=0)[1])
    assert not np.array_equal(test, balanced_holdout(LABELS, 60, seed=1)[1])
    # the osteoporosis study's shape: 680 radiographs, 68 + 68 held out
    labels = np.repeat(["normal", "osteoporosis"], 340)
    rest, test = balanced_holdout(labels, 136, seed=0)
    assert (labels[test] == "osteoporosis").sum() == 68 and len(rest) == 544


@pytest.mark.parametrize(
    ("n_test", "match"),
    [(61, "multiple of the 3"), (0, "n_test must be an integer >= 1"), (150, "has only 40")],
)
def test_balanced_holdout_bad_input(n_test, match):
    with pytest.raises(ValueError, match=match):
        balanced_holdout(LABELS, n_test)


def test_check_leakage_finds_planted_index_and_patient():
    train, val, test = train_val_test_split(LABELS, groups=GROUPS, seed=0)
    leaky_test = np.append(test, train[0])  # the same image in train and test
    with pytest.raises(ValueError, match="leakage between splits: train/test"):
        check_leakage({"train": train, "val": val, "test": leaky_test})
    report = check_leakage({"train": train, "test": leaky_test}, raise_error=False)
    assert report == {"train/test": [("index", int(train[0]))]}
    # a patient split across train and val: image 0 goes to val, its siblings stay in train
    patient = GROUPS[train[0]]
    moved_train, moved_val = train[1:], np.append(val, train[0])
    report = check_leakage({"train": moved_train, "val": moved_val}, groups=GROUPS,
                           raise_error=False)
    assert report == {"train/val": [("group", int(patient))]}
    with pytest.raises(ValueError, match="group"):
        check_leakage({"train": moved_train, "val": moved_val}, groups=GROUPS)


def test_check_leakage_bad_input():
    with pytest.raises(ValueError, match="at least 2"):
        check_leakage({"train": [0, 1]})
    with pytest.raises(ValueError, match="integer indices"):
        check_leakage({"a": [0.5], "b": [1]})
    with pytest.raises(ValueError, match="outside groups"):
        check_leakage({"a": [0], "b": [9]}, groups=[0, 1])
