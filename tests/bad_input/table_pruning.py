"""Bad-input rows of channel pruning (``dentpy.pruning``)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from bad_input import bad, documented
from dentpy import pruning as pr

P = "dentpy.pruning."
PRUNABLE, TAYLOR, LOWEST = P + "prunable_convs", P + "taylor_importance", P + "prune_lowest"
SCHEDULE, PARAMS, FLOPS, LATENCY = (P + "pruning_schedule", P + "count_parameters",
                                    P + "count_flops", P + "time_latency")
NAN = float("nan")
X = torch.randn(2, 1, 8, 8)
Y = torch.rand(2, 1, 8, 8)


def _net() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 1, 1))


def _layers(net: nn.Module) -> dict[str, nn.Module]:
    return {"0": net[0]}


def _taylor(batches=((X, Y),), loss=F.mse_loss, **kw):
    net = _net()
    return pr.taylor_importance(net, list(batches) if isinstance(batches, tuple) else batches,
                                loss, **{"layers": _layers(net), **kw})


def _no_activation():
    net = _net()  # the last convolution has no activation after it
    return pr.taylor_importance(net, [(X, Y)], F.mse_loss, layers={"2": net[2]},
                                site="activation")


def _lowest(scores=None, n=1, example=X, **kw):
    net = _net()
    scores = {"0": torch.arange(4.0)} if scores is None else scores
    return pr.prune_lowest(net, scores, n, **{"layers": _layers(net), "example": example, **kw})


ROWS = [
    bad(PRUNABLE, "wrong type", lambda: pr.prunable_convs("net"), "model"),
    bad(PRUNABLE, "wrong type", lambda: pr.prunable_convs(_net(), exclude=nn.ReLU()), "exclude"),
    bad(PRUNABLE, "wrong type", lambda: pr.prunable_convs(_net(), exclude=[3]), r"exclude\[0\]"),
    bad(PRUNABLE, "empty", lambda: pr.prunable_convs(nn.Linear(2, 2)), "no prunable"),
    bad(TAYLOR, "wrong type", lambda: pr.taylor_importance(None, [(X, Y)], F.mse_loss,
                                                           layers={}), "model"),
    bad(TAYLOR, "empty", lambda: _taylor(layers={}), "layers"),
    bad(TAYLOR, "wrong type", lambda: _taylor(layers={"x": nn.ReLU()}), "layers"),
    bad(TAYLOR, "out of range", lambda: _taylor(layers={"x": nn.Conv2d(1, 2, 1)}),
        "not a module of model"),
    bad(TAYLOR, "wrong type", lambda: _taylor(loss="mse"), "loss_fn"),
    bad(TAYLOR, "unknown option", lambda: _taylor(reduction="mean"), "reduction"),
    bad(TAYLOR, "unknown option", lambda: _taylor(site="input"), "site"),
    bad(TAYLOR, "wrong type", lambda: _taylor(normalise=1), "normalise"),
    bad(TAYLOR, "empty", lambda: _taylor(batches=[]), "batches"),
    bad(TAYLOR, "wrong type", lambda: _taylor(batches=X), "batches"),
    bad(TAYLOR, "wrong type", lambda: _taylor(batches=[X]), r"batches\[0\]"),
    bad(TAYLOR, "wrong dtype",
        lambda: _taylor(batches=[(torch.zeros(2, 1, 8, 8, dtype=torch.long), Y)]),
        r"batches\[0\]\[0\]"),
    bad(TAYLOR, "nan or inf", lambda: _taylor(batches=[(torch.full((2, 1, 8, 8), NAN), Y)]),
        r"batches\[0\]\[0\]"),
    bad(TAYLOR, "wrong rank", lambda: _taylor(batches=[(torch.zeros(8), Y)]),
        r"batches\[0\]\[0\]"),
    bad(TAYLOR, "wrong type", lambda: _taylor(loss=lambda out, t: "loss"), "loss_fn"),
    bad(TAYLOR, "nan or inf", lambda: _taylor(loss=lambda out, t: out.sum() * NAN), "loss_fn"),
    bad(TAYLOR, "out of range",
        lambda: pr.taylor_importance(nn.Sequential(nn.Conv2d(1, 1, 1)), [(X, Y)], F.mse_loss,
                                     layers={"0": nn.Sequential(nn.Conv2d(1, 1, 1))[0]}),
        "not a module of model"),
    bad(TAYLOR, "unknown option", _no_activation, "no activation"),
    documented(TAYLOR, "degenerate",
               lambda: _taylor(loss=lambda out, t: out.sum() * 0.0),
               lambda r: bool(torch.all(r["0"] == 0))),
    bad(LOWEST, "wrong type", lambda: _lowest(scores=[0, 1, 2, 3]), "scores"),
    bad(LOWEST, "mismatched lengths", lambda: _lowest(scores={"1": torch.arange(4.0)}),
        "same names"),
    bad(LOWEST, "mismatched lengths", lambda: _lowest(scores={"0": torch.arange(3.0)}),
        r"scores\['0'\]"),
    bad(LOWEST, "nan or inf", lambda: _lowest(scores={"0": torch.tensor([0, 1, NAN, 3])}),
        r"scores\['0'\]"),
    bad(LOWEST, "wrong rank", lambda: _lowest(scores={"0": torch.zeros(2, 2)}), r"scores\['0'\]"),
    bad(LOWEST, "out of range", lambda: _lowest(n=4), "n must be"),
    bad(LOWEST, "out of range", lambda: _lowest(n=-1), "n must be"),
    bad(LOWEST, "not an integer", lambda: _lowest(n=1.5), "n must be"),
    bad(LOWEST, "out of range", lambda: _lowest(min_channels=0), "min_channels"),
    bad(LOWEST, "wrong type", lambda: _lowest(example="x"), "example"),
    bad(LOWEST, "wrong rank", lambda: _lowest(example=torch.zeros(8, 8)), "example"),
    documented(LOWEST, "degenerate", lambda: _lowest(n=0), lambda r: r == {"0": []}),
    bad(SCHEDULE, "out of range", lambda: pr.pruning_schedule(1.0, 3), "final_ratio"),
    bad(SCHEDULE, "nan or inf", lambda: pr.pruning_schedule(NAN, 3), "final_ratio"),
    bad(SCHEDULE, "not an integer", lambda: pr.pruning_schedule(0.5, 2.5), "steps"),
    bad(SCHEDULE, "out of range", lambda: pr.pruning_schedule(0.5, 0), "steps"),
    bad(SCHEDULE, "unknown option", lambda: pr.pruning_schedule(0.5, 2, kind="cosine"), "kind"),
    documented(SCHEDULE, "degenerate", lambda: pr.pruning_schedule(0.0, 2),
               lambda r: r == [0.0, 0.0]),
    bad(PARAMS, "wrong type", lambda: pr.count_parameters({"w": 1}), "model"),
    bad(FLOPS, "wrong type", lambda: pr.count_flops(None, X), "model"),
    bad(FLOPS, "wrong type", lambda: pr.count_flops(_net(), [[1, 2]]), "example"),
    bad(FLOPS, "nan or inf", lambda: pr.count_flops(_net(), torch.full((1, 1, 4, 4), NAN)),
        "example"),
    bad(FLOPS, "wrong rank", lambda: pr.count_flops(_net(), torch.zeros(4, 4)), "example"),
    bad(LATENCY, "wrong type", lambda: pr.time_latency("net", X), "models"),
    bad(LATENCY, "empty", lambda: pr.time_latency([], X), "models"),
    bad(LATENCY, "wrong type", lambda: pr.time_latency([_net(), 3], X), r"models\[1\]"),
    bad(LATENCY, "out of range", lambda: pr.time_latency(_net(), X, repeats=0), "repeats"),
    bad(LATENCY, "not an integer", lambda: pr.time_latency(_net(), X, warmup=1.5), "warmup"),
    bad(LATENCY, "out of range", lambda: pr.time_latency(_net(), X, threads=0), "threads"),
    bad(LATENCY, "wrong dtype", lambda: pr.time_latency(_net(), X.long()), "example"),
]


EXEMPT: dict[str, str] = {}
