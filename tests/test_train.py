"""Tests for dentpy.train: fit, History, checkpoints, early stopping, cross-validation."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset

from dentpy.train import (
    Chance,
    EarlyStopping,
    History,
    chance_level,
    cross_validate,
    fit,
    fold_indices,
    load_checkpoint,
    predict,
    save_checkpoint,
    score_test,
    scored_tests,
)
from dentpy.train.evaluate import _forget_scored_tests
from dentpy.train.loop import _progress_enabled

matplotlib.use("Agg")


def regression_data(n: int = 64, seed: int = 0) -> TensorDataset:
    """y = 2 x0 - x1 + 0.5 + small noise: a linear model can learn it."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 2, generator=g)
    y = (2 * x[:, :1] - x[:, 1:] + 0.5) + 0.01 * torch.randn(n, 1, generator=g)
    return TensorDataset(x, y)


def classification_data(n: int = 60, seed: int = 0) -> TensorDataset:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, generator=g)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).long()
    return TensorDataset(x, y)


def loaders(data: TensorDataset, batch_size: int = 16, seed: int = 0):
    train = DataLoader(data, batch_size=batch_size, shuffle=True,
                       generator=torch.Generator().manual_seed(seed))
    val = DataLoader(regression_data(32, seed=1) if data.tensors[1].dtype == torch.float32
                     else classification_data(30, seed=1), batch_size=batch_size)
    return train, val


def accuracy(outputs: torch.Tensor, targets: torch.Tensor) -> float:
    return (outputs.argmax(1) == targets).float().mean().item()


class DictData(Dataset):
    def __init__(self, base: TensorDataset, keys=("image", "label")):
        self.base, self.keys = base, keys

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, i: int) -> dict:
        x, y = self.base[i]
        return {self.keys[0]: x, self.keys[1]: y, "id": i}


def test_loss_decreases_on_learnable_toy():
    torch.manual_seed(0)
    model = nn.Linear(2, 1)
    train, val = loaders(regression_data())
    history = fit(model, train, val, nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=0.1),
                  6, progress=False)
    assert len(history) == 6
    assert history["epoch"] == [1, 2, 3, 4, 5, 6]
    assert history.train_loss[-1] < 0.05 * history.train_loss[0]
    assert history.val_loss[-1] < 0.05 * history.val_loss[0]
    assert history.best_epoch == int(np.argmin(history.val_loss)) + 1
    assert {"lr", "time_s"} <= set(history.keys())
    torch.testing.assert_close(model.weight.detach(), torch.tensor([[2.0, -1.0]]), atol=0.05,
                               rtol=0)


def test_metrics_match_predictions_at_epoch_end():
    torch.manual_seed(0)
    model = nn.Linear(3, 2)
    train, val = loaders(classification_data())
    history = fit(model, train, val, nn.CrossEntropyLoss(),
                  torch.optim.Adam(model.parameters(), lr=0.05), 2,
                  metrics={"acc": accuracy}, restore_best=False, progress=False)
    outputs, targets = predict(model, val)
    assert history["val_acc"][-1] == pytest.approx(accuracy(outputs, targets))
    assert history["val_loss"][-1] == pytest.approx(
        nn.functional.cross_entropy(outputs, targets).item(), rel=1e-5)
    assert 0 <= history["train_acc"][-1] <= 1


def test_dict_batches_and_custom_keys():
    torch.manual_seed(0)
    data = regression_data()
    model = nn.Linear(2, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    train = DataLoader(DictData(data), batch_size=16)
    history = fit(model, train, None, nn.MSELoss(), opt, 2, monitor="train_loss",
                  progress=False)
    assert history.train_loss[1] < history.train_loss[0]
    custom = DataLoader(DictData(data, keys=("x", "y")), batch_size=16)
    fit(model, custom, None, nn.MSELoss(), opt, 1, monitor="train_loss", input_key="x",
        target_key="y", progress=False)
    with pytest.raises(ValueError, match="input_key"):
        fit(model, custom, None, nn.MSELoss(), opt, 1, monitor="train_loss", progress=False)


class DropoutNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 1))

    def forward(self, x):
        return self.net(x)


def make_run(seed: int):
    """Model, optimizer, scheduler and a shuffling loader; ``seed`` only sets the init."""
    torch.manual_seed(seed)
    model = DropoutNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)
    train = DataLoader(regression_data(), batch_size=10, shuffle=True,
                       generator=torch.Generator().manual_seed(123))
    val = DataLoader(regression_data(20, seed=3), batch_size=10)
    return model, optimizer, scheduler, train, val


def test_resume_gives_identical_weights(tmp_path: Path):
    torch.manual_seed(7)
    model, opt, sched, train, val = make_run(0)
    straight = fit(model, train, val, nn.MSELoss(), opt, 4, scheduler=sched,
                   checkpoint_dir=tmp_path / "a", restore_best=False, progress=False)

    torch.manual_seed(7)
    model_b, opt_b, sched_b, train_b, val_b = make_run(0)
    fit(model_b, train_b, val_b, nn.MSELoss(), opt_b, 2, scheduler=sched_b,
        checkpoint_dir=tmp_path / "b", restore_best=False, progress=False)
    torch.manual_seed(999)  # a fresh session: different global RNG, different init
    model_c, opt_c, sched_c, train_c, val_c = make_run(1)
    resumed = fit(model_c, train_c, val_c, nn.MSELoss(), opt_c, 4, scheduler=sched_c,
                  checkpoint_dir=tmp_path / "b", resume=True, restore_best=False,
                  progress=False)

    for key, value in model.state_dict().items():
        assert torch.equal(value, model_c.state_dict()[key]), key
    assert resumed.train_loss == straight.train_loss
    assert resumed.val_loss == straight.val_loss
    assert opt_c.param_groups[0]["lr"] == pytest.approx(opt.param_groups[0]["lr"])


def test_checkpoint_contents(tmp_path: Path):
    import dentpy

    torch.manual_seed(0)
    model, opt, sched, train, val = make_run(0)
    history = fit(model, train, val, nn.MSELoss(), opt, 3, scheduler=sched,
                  checkpoint_dir=tmp_path, config={"run": "unit"}, progress=False)
    last = load_checkpoint(tmp_path / "last.pt")
    best = load_checkpoint(tmp_path / "best.pt")
    assert {"model", "optimizer", "scheduler", "epoch", "rng", "history", "config",
            "dentpy_version"} <= set(last)
    assert last["epoch"] == 3 and last["dentpy_version"] == dentpy.__version__
    assert last["config"]["run"] == "unit" and last["config"]["optimizer"] == "Adam"
    assert {"python", "numpy", "torch", "generators"} <= set(last["rng"])
    assert len(last["rng"]["generators"]) == 1
    assert best["epoch"] == history.best_epoch
    assert History.from_dict(last["history"]).val_loss == history.val_loss
    # restore_best=True: the model ends with the best epoch's weights
    for key, value in model.state_dict().items():
        assert torch.equal(value, best["model"][key])
    assert not list(tmp_path.glob("*.tmp"))


def test_restore_best_picks_the_validation_best_not_the_last(tmp_path: Path):
    torch.manual_seed(0)
    model = nn.Linear(2, 1)
    train, val = loaders(regression_data())
    history = fit(model, train, val, nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=0.1),
                  3, mode="max", checkpoint_dir=tmp_path, progress=False)
    assert history.best_epoch == 1  # the worst loss is the "best" under mode="max"
    epoch1 = load_checkpoint(tmp_path / "best.pt")
    assert epoch1["epoch"] == 1
    assert torch.equal(model.weight, epoch1["model"]["weight"])
    assert not torch.equal(model.weight, load_checkpoint(tmp_path / "last.pt")["model"]["weight"])


def test_failed_save_keeps_previous_checkpoint(tmp_path: Path, monkeypatch):
    path = tmp_path / "last.pt"
    save_checkpoint({"epoch": 1, "w": torch.ones(3)}, path)
    before = path.read_bytes()

    def broken_save(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(RuntimeError, match="disk full"):
        save_checkpoint({"epoch": 2, "w": torch.zeros(3)}, path)
    assert path.read_bytes() == before
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind
    monkeypatch.undo()
    assert load_checkpoint(path)["epoch"] == 1


def test_failed_save_inside_fit_keeps_last_epoch(tmp_path: Path, monkeypatch):
    torch.manual_seed(0)
    model, opt, sched, train, val = make_run(0)
    fit(model, train, val, nn.MSELoss(), opt, 1, checkpoint_dir=tmp_path, progress=False)
    monkeypatch.setattr(torch, "save", lambda *a, **k: (_ for _ in ()).throw(OSError("boom")))
    with pytest.raises(OSError, match="boom"):
        fit(model, train, val, nn.MSELoss(), opt, 3, checkpoint_dir=tmp_path, resume=True,
            progress=False)
    monkeypatch.undo()
    assert load_checkpoint(tmp_path / "last.pt")["epoch"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.pt", "last.pt"]


def test_save_and_load_checkpoint_errors(tmp_path: Path):
    with pytest.raises(ValueError, match="does not exist"):
        save_checkpoint({}, tmp_path / "missing" / "x.pt")
    with pytest.raises(ValueError, match="path does not exist"):
        load_checkpoint(tmp_path / "none.pt")


def test_early_stopping_stops():
    torch.manual_seed(0)
    model = nn.Linear(2, 1)
    train, val = loaders(regression_data())
    frozen = torch.optim.SGD(model.parameters(), lr=0.0)  # val loss never improves
    history = fit(model, train, val, nn.MSELoss(), frozen, 20, early_stopping=2, progress=False)
    assert len(history) == 3 and history.stopped_early
    learning = torch.optim.SGD(model.parameters(), lr=0.1)
    history = fit(model, train, val, nn.MSELoss(), learning, 20,
                  early_stopping=EarlyStopping(patience=1, min_delta=1e9), progress=False)
    assert len(history) == 2 and history.stopped_early
    history = fit(model, train, val, nn.MSELoss(), learning, 3,
                  early_stopping=EarlyStopping(patience=5), progress=False)
    assert len(history) == 3 and not history.stopped_early


def test_plateau_scheduler_gets_the_monitored_value():
    torch.manual_seed(0)
    model = nn.Linear(2, 1)
    train, val = loaders(regression_data())
    opt = torch.optim.SGD(model.parameters(), lr=1e-6)  # tiny: val loss stays flat
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.5)
    history = fit(model, train, val, nn.MSELoss(), opt, 3, scheduler=sched, progress=False)
    assert history["lr"] == [1e-6, 5e-7, 2.5e-7]


def test_non_finite_loss_raises():
    model = nn.Linear(2, 1)
    x = torch.full((8, 2), float("nan"))
    train = DataLoader(TensorDataset(x, torch.zeros(8, 1)), batch_size=4)
    with pytest.raises(FloatingPointError, match="train_loss"):
        fit(model, train, None, nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=0.1), 2,
            monitor="train_loss", progress=False)


def test_bad_arguments(tmp_path: Path):
    model = nn.Linear(2, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    train, val = loaders(regression_data())
    args = (model, train, val, nn.MSELoss(), opt)
    cases = [
        (dict(epochs=0), "epochs"),
        (dict(epochs=2.5), "epochs"),
        (dict(epochs=1, mode="avg"), "mode"),
        (dict(epochs=1, monitor="val_acc"), "monitor"),
        (dict(epochs=1, resume=True), "checkpoint_dir"),
        (dict(epochs=1, early_stopping=-1), "patience"),
        (dict(epochs=1, early_stopping="yes"), "early_stopping"),
        (dict(epochs=1, scheduler_interval="step"), "scheduler_interval"),
        (dict(epochs=1, metrics={"loss": accuracy}), "metrics"),
        (dict(epochs=1, max_grad_norm=0), "max_grad_norm"),
        (dict(epochs=1, device="tpu"), "device"),
    ]
    for kwargs, word in cases:
        with pytest.raises(ValueError, match=word):
            fit(*args, progress=False, **kwargs)
    with pytest.raises(ValueError, match="monitor"):
        fit(model, train, None, nn.MSELoss(), opt, 1, progress=False)  # no val_loss
    with pytest.raises(ValueError, match="optimizer"):
        fit(model, train, val, nn.MSELoss(), "sgd", 1)
    with pytest.raises(ValueError, match="train_loader"):
        fit(model, [1, 2], val, nn.MSELoss(), opt, 1)
    empty = DataLoader(TensorDataset(torch.zeros(0, 2), torch.zeros(0, 1)), batch_size=4)
    with pytest.raises(ValueError, match="val_loader is empty"):
        fit(model, train, empty, nn.MSELoss(), opt, 1)
    triples = DataLoader(TensorDataset(torch.zeros(4, 2), torch.zeros(4, 1), torch.zeros(4)),
                         batch_size=2)
    with pytest.raises(ValueError, match="pair"):
        fit(model, triples, None, nn.MSELoss(), opt, 1, monitor="train_loss", progress=False)


def test_history_round_trip_and_plot():
    history = History(monitor="val_acc", mode="max")
    history.append({"epoch": 1, "train_loss": 1.0, "val_loss": 0.9, "val_acc": 0.6})
    history.append({"epoch": 2, "train_loss": 0.5, "val_loss": 0.7, "val_acc": 0.8})
    history.append({"epoch": 3, "train_loss": 0.4, "val_loss": 0.8, "val_acc": float("nan")})
    assert history.best_epoch == 2 and history.best_value == 0.8
    assert history.epochs_without_improvement() == 1
    again = History.from_dict(history.to_dict())
    assert json.dumps(again.to_dict()) == json.dumps(history.to_dict())
    assert again["val_loss"] == history["val_loss"]
    fig = history.plot(["loss", "acc"])
    assert len(fig.axes[0].lines) == 4  # train/val loss, val acc, best-epoch line
    with pytest.raises(ValueError, match="keys"):
        history.plot(["dice"])
    with pytest.raises(KeyError, match="val_dice"):
        history["val_dice"]
    with pytest.raises(ValueError, match="mode"):
        History(mode="lowest")


def test_progress_is_quiet_in_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    assert _progress_enabled(True) and not _progress_enabled(False)
    monkeypatch.setenv("CI", "true")
    assert not _progress_enabled(True)  # pytest's stderr is not a TTY


def test_fold_indices_have_no_leakage():
    rng = np.random.default_rng(0)
    n = 120
    groups = np.repeat(np.arange(30), 4)  # 30 patients, 4 images each
    labels = np.repeat(rng.integers(0, 2, 30), 4)
    test, folds = fold_indices(n, 4, labels=labels, groups=groups, test_fraction=0.2, seed=0)
    assert len(folds) == 4
    rest = np.setdiff1d(np.arange(n), test)
    assert len(test) > 0 and not set(groups[test]) & set(groups[rest])
    assert np.array_equal(np.sort(np.concatenate([va for _, va in folds])), rest)
    for train, val in folds:
        assert not set(train) & set(val)
        assert np.array_equal(np.sort(np.concatenate([train, val])), rest)
        assert not set(groups[train]) & set(groups[val])
        assert not set(test) & (set(train) | set(val))
    # labels only: same folds as scikit-learn's StratifiedKFold
    from sklearn.model_selection import StratifiedKFold

    _, folds = fold_indices(n, 3, labels=labels, seed=1)
    reference = StratifiedKFold(3, shuffle=True, random_state=1).split(np.zeros(n), labels)
    for (train, val), (ref_train, ref_val) in zip(folds, reference, strict=True):
        assert np.array_equal(val, ref_val) and np.array_equal(train, ref_train)


def test_fold_indices_bad_arguments():
    with pytest.raises(ValueError, match="k must"):
        fold_indices(10, 1)
    with pytest.raises(ValueError, match="at least"):
        fold_indices(3, 5)
    with pytest.raises(ValueError, match="labels"):
        fold_indices(10, 2, labels=[0, 1])
    with pytest.raises(ValueError, match="NaN"):
        fold_indices(4, 2, groups=[0.0, 1.0, np.nan, 2.0])
    with pytest.raises(ValueError, match="test_fraction"):
        fold_indices(10, 2, test_fraction=1.5)
    with pytest.raises(ValueError, match="distinct groups"):
        fold_indices(10, 3, groups=[0] * 5 + [1] * 5)


def test_cross_validate_end_to_end():
    data = classification_data(48)
    labels = data.tensors[1].numpy()
    result = cross_validate(lambda: nn.Linear(3, 2), data, 3, loss_fn=nn.CrossEntropyLoss(),
                            epochs=2, labels=labels, test_fraction=0.25, batch_size=8,
                            metrics={"acc": accuracy}, progress=False)
    assert len(result.folds) == 3 and len(result.test_indices) == 12
    seen = np.sort(np.concatenate([fold.val_indices for fold in result.folds]))
    assert np.array_equal(seen, np.setdiff1d(np.arange(48), result.test_indices))
    for fold in result.folds:
        assert fold.val_outputs.shape == (len(fold.val_indices), 2)
        assert torch.equal(fold.val_targets, data.tensors[1][fold.val_indices])
        assert fold.test_outputs.shape == (12, 2)
        assert len(fold.history) == 2
    summary = result.summary()
    mean, sd = summary["val_acc"]
    assert np.isclose(mean, result.best_values("val_acc").mean()) and sd >= 0
    assert "val_loss" in str(result)
    with pytest.raises(ValueError, match="batch_size"):
        cross_validate(lambda: nn.Linear(3, 2), data, 3, loss_fn=nn.CrossEntropyLoss(),
                       epochs=1, batch_size=0)


def test_amp_and_compile_are_ignored_off_cuda_and_resume_starts_fresh(tmp_path: Path):
    torch.manual_seed(0)
    model = nn.Linear(2, 1)
    train, val = loaders(regression_data())
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    history = fit(model, train, val, nn.MSELoss(), opt, 2, device="cpu", amp=True,
                  compile=True, checkpoint_dir=tmp_path, resume=True, progress=False)
    assert len(history) == 2  # nothing to resume from: a fresh run
    config = load_checkpoint(tmp_path / "last.pt")["config"]
    assert config["amp"] is False and config["compile"] is False and config["device"] == "cpu"
    weights = model.weight.detach().clone()
    again = fit(model, train, val, nn.MSELoss(), opt, 2, device="cpu", checkpoint_dir=tmp_path,
                resume=True, progress=False)
    assert again.val_loss == history.val_loss and torch.equal(model.weight, weights)


def test_fit_shuffles_like_a_plain_loop_over_the_same_loader():
    """fit must draw each epoch's order once from the loader, as `for batch in loader` does."""
    data = TensorDataset(torch.arange(16.0)[:, None], torch.zeros(16, dtype=torch.long))
    seen = []

    class Spy(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.zeros(1))

        def forward(self, x):
            seen.extend(x[:, 0].tolist())
            return torch.zeros(len(x), 2) + self.weight

    generator = torch.Generator().manual_seed(3)
    loader = DataLoader(data, batch_size=4, shuffle=True, generator=generator)
    model = Spy()
    fit(model, loader, None, nn.functional.cross_entropy,
        torch.optim.SGD(model.parameters(), lr=0.1), 1, monitor="train_loss", progress=True)
    generator.manual_seed(3)
    expected = [x[:, 0].tolist() for x, _ in loader]
    assert seen == [v for batch in expected for v in batch]


def test_history_at_best_reads_the_chosen_epoch_not_the_column_maximum():
    history = History()  # monitor val_loss, mode min
    history.append({"epoch": 1, "val_loss": 0.9, "val_acc": 0.9})
    history.append({"epoch": 2, "val_loss": 0.5, "val_acc": 0.6})
    history.append({"epoch": 3, "val_loss": 0.7, "val_acc": 0.8})
    assert history.best_epoch == 2
    assert history.at_best("val_acc") == 0.6  # not max(val_acc) == 0.9
    with pytest.raises(ValueError, match="column"):
        history.at_best("val_dice")
    diverged = History()
    diverged.append({"epoch": 1, "val_loss": float("nan")})
    with pytest.raises(ValueError, match="best epoch"):
        diverged.at_best("epoch")
    resumed = History.from_dict(history.to_dict())
    assert resumed.at_best("val_loss") == 0.5


def test_fit_restores_the_epoch_it_reports_as_best():
    torch.manual_seed(0)
    model = nn.Linear(3, 2)
    train, val = loaders(classification_data())
    history = fit(model, train, val, nn.CrossEntropyLoss(),
                  torch.optim.SGD(model.parameters(), lr=2.0), 6,  # a large, noisy step
                  metrics={"acc": accuracy}, progress=False)
    outputs, targets = predict(model, val)
    assert history.at_best("val_loss") == pytest.approx(
        nn.functional.cross_entropy(outputs, targets).item(), rel=1e-5)
    assert history.at_best("val_acc") == pytest.approx(accuracy(outputs, targets))


def test_chance_level_known_answers():
    # two balanced classes: entropy log 2, accuracy 1/2
    chance = chance_level([0, 1, 0, 1])
    assert isinstance(chance, Chance)
    assert chance.loss == pytest.approx(np.log(2)) and chance.accuracy == 0.5
    # 3 of class 2, 1 of class 0: a constant (0.25, 0, 0.75) is the best constant prediction
    chance = chance_level(torch.tensor([2, 2, 0, 2]))
    expected = -(0.25 * np.log(0.25) + 0.75 * np.log(0.75))
    assert chance.loss == pytest.approx(expected) and chance.accuracy == 0.75
    constant = torch.log(torch.tensor([[0.25, 1e-12, 0.75]])).expand(4, 3)
    assert nn.functional.cross_entropy(constant, torch.tensor([2, 2, 0, 2])).item() == \
        pytest.approx(chance.loss, rel=1e-6)
    assert chance_level(np.array([3, 3, 3])) == Chance(0.0, 1.0)
    assert chance_level([1.0, 0.0]).accuracy == 0.5  # integer-valued floats are accepted


def test_chance_level_bad_input():
    cases = [([], "targets"), ([[0, 1]], "targets"), ([0.5, 1.0], "integer"),
             ([-1, 0], ">= 0"), ([True, False], "integer")]
    for targets, word in cases:
        with pytest.raises(ValueError, match=word):
            chance_level(targets)
    with pytest.raises(ValueError, match="num_classes"):
        chance_level([0, 3], num_classes=3)
    with pytest.raises(ValueError, match="num_classes"):
        chance_level([0, 1], num_classes=0)


@pytest.fixture()
def fresh_test_record():
    _forget_scored_tests()
    yield
    _forget_scored_tests()


def test_score_test_scores_once_and_refuses_other_weights(fresh_test_record):
    torch.manual_seed(0)
    data = classification_data(40, seed=5)
    test_loader = DataLoader(data, batch_size=16)
    model = nn.Linear(3, 2)
    result = score_test(model, test_loader, {"acc": accuracy})
    outputs, targets = predict(model, test_loader)
    assert result["acc"] == pytest.approx(accuracy(outputs, targets))
    assert torch.equal(result.outputs, outputs) and torch.equal(result.targets, targets)
    # the same weights again (a re-run cell): the same result, nothing new recorded
    again = score_test(model, DataLoader(data, batch_size=7), {"acc": accuracy})
    assert again is result and len(scored_tests()) == 1
    # other weights on the same items, even through a shuffled loader: refused
    other = nn.Linear(3, 2)
    shuffled = DataLoader(data, batch_size=5, shuffle=True,
                          generator=torch.Generator().manual_seed(1))
    with pytest.raises(ValueError, match="test_loader.*already scored"):
        score_test(other, shuffled, {"acc": accuracy})
    # ...unless the reason is given, and then it is recorded
    lesson = score_test(other, shuffled, {"acc": accuracy}, repeat="leakage lesson")
    log = scored_tests()
    assert [(r["test_set"], r["scoring"], r["reason"]) for r in log] == [
        (1, 1, None), (1, 2, "leakage lesson")]
    assert log[1]["scores"] == lesson.scores and log[0]["items"] == 40
    # a different test set is a new first scoring
    score_test(other, DataLoader(classification_data(20, seed=6), batch_size=8),
               {"acc": accuracy})
    assert scored_tests()[-1]["test_set"] == 2 and scored_tests()[-1]["reason"] is None


def test_score_test_sees_trained_weights_as_other_weights(fresh_test_record):
    torch.manual_seed(0)
    model = nn.Linear(3, 2)
    train, val = loaders(classification_data())
    test_loader = DataLoader(classification_data(30, seed=9), batch_size=10)
    score_test(model, test_loader, {"acc": accuracy})  # before training
    fit(model, train, val, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.5),
        2, progress=False)
    with pytest.raises(ValueError, match="already scored"):
        score_test(model, test_loader, {"acc": accuracy})  # after: another model


def test_score_test_dict_batches_and_bad_input(fresh_test_record):
    model = nn.Linear(2, 1)
    dict_loader = DataLoader(DictData(regression_data(12)), batch_size=4)
    mse = {"mse": lambda out, y: nn.functional.mse_loss(out, y).item()}
    assert score_test(model, dict_loader, mse)["mse"] >= 0
    with pytest.raises(KeyError, match="mse"):
        score_test(model, dict_loader, mse)["acc"]
    loader = DataLoader(regression_data(8), batch_size=4)
    cases = [
        (("net", loader, mse), {}, "model"),
        ((model, [1, 2], mse), {}, "test_loader"),
        ((model, loader, {}), {}, "metrics"),
        ((model, loader, {"mse": 3}), {}, "metrics"),
        ((model, loader, mse), {"repeat": "  "}, "repeat"),
    ]
    for args, kwargs, word in cases:
        with pytest.raises(ValueError, match=word):
            score_test(*args, **kwargs)
    empty = DataLoader(TensorDataset(torch.zeros(0, 2), torch.zeros(0, 1)), batch_size=4)
    with pytest.raises(ValueError, match="test_loader is empty"):
        score_test(model, empty, mse)
