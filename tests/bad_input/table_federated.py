"""Bad-input rows of federated segmentation (``dentpy.federated``)."""

from __future__ import annotations

import torch
from torch import nn

from bad_input import bad
from dentpy import federated as fd
from dentpy.federated import flower as fl

P = "dentpy.federated."
GATE, UNET, PROX, FEDAVG = P + "AttentionGate", P + "TinyAttentionUNet", P + "proximal_term", \
    P + "fedavg"
LOCAL, PART, RUN, SCORES, SEED = (P + "local_update", P + "partition_clients",
                                  P + "run_federated", P + "segmentation_scores",
                                  P + "client_seed")
FLOWER, PORT = P + "flower.run_flower", P + "flower.free_port"
NAN = float("nan")
X = torch.rand(2, 1, 8, 8)
M = (X > 0.5).float()


def _net() -> fd.TinyAttentionUNet:
    return fd.TinyAttentionUNet(base=2, depth=1)


def _state() -> dict:
    return {k: v.clone() for k, v in _net().state_dict().items()}


def _gate_call(x, g):
    return fd.AttentionGate(2, 3, 2)(x, g)


ROWS = [
    bad(GATE, "out of range", lambda: fd.AttentionGate(0, 3, 2), match="x_channels"),
    bad(GATE, "not an integer", lambda: fd.AttentionGate(2, 3.5, 2), match="g_channels"),
    bad(GATE, "unknown option", lambda: fd.AttentionGate(2, 3, 2, norm="group"), match="norm"),
    bad(GATE, "wrong rank", lambda: _gate_call(torch.rand(2, 8, 8), torch.rand(1, 3, 8, 8)),
        match="x"),
    bad(GATE, "mismatched lengths",
        lambda: _gate_call(torch.rand(1, 2, 8, 8), torch.rand(1, 3, 4, 4)), match="g must"),
    bad(GATE, "wrong type", lambda: _gate_call(None, torch.rand(1, 3, 8, 8)), match="x"),
    bad(UNET, "out of range", lambda: fd.TinyAttentionUNet(depth=0), match="depth"),
    bad(UNET, "not an integer", lambda: fd.TinyAttentionUNet(base=4.5), match="base"),
    bad(UNET, "wrong rank", lambda: _net()(torch.rand(1, 8, 8)), match="x"),
    bad(UNET, "out of range", lambda: _net()(torch.rand(1, 1, 7, 8)), match="divisible"),
    bad(UNET, "nan or inf", lambda: _net()(torch.full((1, 1, 8, 8), NAN)), match="x"),
    bad(PROX, "wrong type", lambda: fd.proximal_term("net", _state()), match="model"),
    bad(PROX, "wrong type", lambda: fd.proximal_term(_net(), None), match="global_state"),
    bad(PROX, "mismatched lengths",
        lambda: fd.proximal_term(nn.Linear(2, 2), {"weight": torch.zeros(3, 2),
                                                   "bias": torch.zeros(2)}),
        match="global_state"),
    bad(PROX, "empty", lambda: fd.proximal_term(nn.Linear(2, 2), {}), match="global_state"),
    bad(PROX, "nan or inf",
        lambda: fd.proximal_term(nn.Linear(1, 1), {"weight": torch.full((1, 1), NAN),
                                                   "bias": torch.zeros(1)}),
        match="global_state"),
    bad(FEDAVG, "empty", lambda: fd.fedavg([], []), match="states"),
    bad(FEDAVG, "mismatched lengths", lambda: fd.fedavg([_state()], [1, 2]), match="sizes"),
    bad(FEDAVG, "out of range", lambda: fd.fedavg([_state(), _state()], [0, 0]), match="sizes"),
    bad(FEDAVG, "nan or inf", lambda: fd.fedavg([_state()], [NAN]), match="sizes"),
    bad(FEDAVG, "mismatched lengths",
        lambda: fd.fedavg([{"w": torch.zeros(2)}, {"w": torch.zeros(3)}], [1, 1]),
        match="states"),
    bad(FEDAVG, "wrong type", lambda: fd.fedavg(_state(), [1]), match="states"),
    bad(LOCAL, "wrong type", lambda: fd.local_update(None, X, M), match="model"),
    bad(LOCAL, "wrong rank", lambda: fd.local_update(_net(), X[0], M), match="images"),
    bad(LOCAL, "mismatched lengths", lambda: fd.local_update(_net(), X, M[:1]), match="masks"),
    bad(LOCAL, "wrong dtype", lambda: fd.local_update(_net(), X, X), match="masks"),
    bad(LOCAL, "out of range", lambda: fd.local_update(_net(), X, M, mu=-1.0), match="mu"),
    bad(LOCAL, "not an integer", lambda: fd.local_update(_net(), X, M, epochs=1.5),
        match="epochs"),
    bad(LOCAL, "out of range", lambda: fd.local_update(_net(), X, M, lr=0.0), match="lr"),
    bad(LOCAL, "nan or inf", lambda: fd.local_update(_net(), X * NAN, M), match="images"),
    bad(LOCAL, "empty", lambda: fd.local_update(_net(), X[:0], M[:0]), match="images"),
    bad(PART, "out of range", lambda: fd.partition_clients([0, 3], 3, 0.5), match="home"),
    bad(PART, "out of range", lambda: fd.partition_clients([0, 1], 3, 1.5),
        match="heterogeneity"),
    bad(PART, "wrong dtype", lambda: fd.partition_clients([0.5, 1.0], 3, 0.5), match="home"),
    bad(PART, "empty", lambda: fd.partition_clients([], 3, 0.5), match="home"),
    bad(PART, "not an integer", lambda: fd.partition_clients([0, 1], 2.5, 0.5),
        match="n_clients"),
    bad(PART, "nan or inf", lambda: fd.partition_clients([0, 1], 3, NAN),
        match="heterogeneity"),
    bad(RUN, "wrong type", lambda: fd.run_federated(None, [(X, M)], rounds=1), match="model_fn"),
    bad(RUN, "empty", lambda: fd.run_federated(_net, [], rounds=1), match="clients"),
    bad(RUN, "wrong type", lambda: fd.run_federated(_net, [X], rounds=1), match=r"clients\[0\]"),
    bad(RUN, "out of range", lambda: fd.run_federated(_net, [(X, M)], rounds=0), match="rounds"),
    bad(RUN, "wrong type", lambda: fd.run_federated(_net, [(X, M)], rounds=1, eval_fn=3),
        match="eval_fn"),
    bad(RUN, "mismatched lengths", lambda: fd.run_federated(_net, [(X, M[:1])], rounds=1),
        match="masks"),
    bad(SCORES, "mismatched lengths", lambda: fd.segmentation_scores(X, M[:1]),
        match="logits and masks"),
    bad(SCORES, "wrong rank", lambda: fd.segmentation_scores(X[0], M[0]), match="logits"),
    bad(SCORES, "wrong dtype", lambda: fd.segmentation_scores(M.long(), M), match="logits"),
    bad(SCORES, "nan or inf", lambda: fd.segmentation_scores(X * NAN, M), match="logits"),
    bad(SEED, "out of range", lambda: fd.client_seed(-1, 0, 0), match="seed"),
    bad(SEED, "not an integer", lambda: fd.client_seed(0, 1.5, 0), match="round_"),
    bad(FLOWER, "empty", lambda: fl.run_flower([], _state(), rounds=1), match="clients"),
    bad(FLOWER, "wrong type", lambda: fl.run_flower([(X, M)], None, rounds=1,
                                                   model_kwargs=dict(base=2, depth=1)),
        match="init_state"),
    bad(FLOWER, "mismatched lengths", lambda: fl.run_flower([(X, M)], _state(), rounds=1),
        match="init_state"),
    bad(FLOWER, "out of range", lambda: fl.run_flower([(X, M)], _state(), rounds=0),
        match="rounds"),
    bad(FLOWER, "out of range", lambda: fl.run_flower([(X, M)], _state(), rounds=1,
                                                     timeout=0), match="timeout"),
    bad(FLOWER, "wrong dtype", lambda: fl.run_flower([(X, X)], _state(), rounds=1),
        match="masks"),
]

EXEMPT = {PORT: "takes no argument"}
