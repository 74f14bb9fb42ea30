"""Flower as separate processes (server + clients over 127.0.0.1) == the hand-built rounds."""

from __future__ import annotations

import psutil
import pytest
import torch

from dentpy.federated import TinyAttentionUNet, run_federated
from dentpy.federated.flower import free_port, run_flower


def _ours() -> list[psutil.Process]:
    return [p for p in psutil.Process().children(recursive=True)
            if "dentpy.federated.flower" in " ".join(p.cmdline())]


def _clients():
    generator = torch.Generator().manual_seed(0)
    out = []
    for _ in range(2):
        x = torch.rand(4, 1, 8, 16, generator=generator)
        out.append((x, (x > 0.6).float()))
    return out


def test_flower_processes_match_hand_built_rounds():
    kwargs = dict(base=2, depth=1)
    torch.manual_seed(0)
    init = {k: v.clone() for k, v in TinyAttentionUNet(**kwargs).state_dict().items()}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        hand = [run_federated(lambda: TinyAttentionUNet(**kwargs), _clients(), rounds=r, mu=0.5,
                              batch_size=2, lr=1e-2, seed=1, init_state=init)[0]
                for r in (1, 2)]
    finally:
        torch.set_num_threads(threads)
    out = run_flower(_clients(), init, rounds=2, mu=0.5, batch_size=2, lr=1e-2, seed=1,
                     model_kwargs=kwargs, timeout=120)
    assert len(out["states"]) == 2
    for ours, theirs in zip(hand, out["states"], strict=True):
        torch.testing.assert_close(theirs, ours, rtol=1e-4, atol=1e-5)
    moved = max(float((out["states"][-1][k] - init[k]).abs().max()) for k in init)
    assert moved > 1e-3
    assert "aggregate_fit: received 2 results" in out["logs"]["server"]
    assert not _ours()  # every process we started has ended


def test_flower_timeout_cleans_up():
    torch.manual_seed(0)
    init = TinyAttentionUNet(base=2, depth=1).state_dict()
    with pytest.raises(RuntimeError, match="did not finish"):
        run_flower(_clients(), init, rounds=1, model_kwargs=dict(base=2, depth=1), timeout=0.5)
    assert not _ours()


def test_free_port_is_bindable():
    import socket

    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
