"""DDP: ``fit`` in 2 CPU processes (Gloo, loopback) equals one process with the same global batch.

The two workers are started the way ``torchrun`` starts them: same script, with ``RANK``,
``LOCAL_RANK``, ``WORLD_SIZE``, ``MASTER_ADDR`` and ``MASTER_PORT`` in the environment.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from dentpy.train import fit, load_checkpoint
from dentpy.train.distributed import ShardSampler, is_main_process, shard_loader, world_size

ROOT = Path(__file__).resolve().parents[1]

WORKER = r'''
import sys
import torch
from torch import nn
import torch.distributed as dist
sys.path.insert(0, {tests!r})
from test_distributed import make_problem, mae
from dentpy.train import fit

torch.set_num_threads(1)
model, train, val = make_problem(batch_size=4)
history = fit(model, train, val, nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=0.1), 3,
              metrics={{"mae": mae}}, device="cpu", checkpoint_dir={ckpt!r}, restore_best=False,
              progress=False)
assert dist.get_world_size() == 2
if dist.get_rank() == 0:
    torch.save({{"model": model.state_dict(), "history": history.to_dict()}}, {out!r})
dist.destroy_process_group()
'''


def make_problem(batch_size: int):
    """A linear model and loaders over fixed data; the init is the same in every process."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(32, 3, generator=g)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.1 * torch.randn(32, 1, generator=g)
    torch.manual_seed(0)
    model = nn.Linear(3, 1)
    train = DataLoader(TensorDataset(x, y), batch_size=batch_size)
    val = DataLoader(TensorDataset(x[:13], y[:13]), batch_size=batch_size)  # 13: uneven shards
    return model, train, val


def mae(outputs: torch.Tensor, targets: torch.Tensor) -> float:
    return (outputs - targets).abs().mean().item()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ddp_two_cpu_processes_equal_single_process(tmp_path: Path):
    script = tmp_path / "worker.py"
    out = tmp_path / "ddp.pt"
    script.write_text(WORKER.format(tests=str(ROOT / "tests"), ckpt=str(tmp_path / "ckpt"),
                                    out=str(out)))
    port = str(free_port())
    procs = []
    for rank in range(2):
        env = dict(os.environ, RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE="2",
                   MASTER_ADDR="127.0.0.1", MASTER_PORT=port, OMP_NUM_THREADS="1",
                   CUDA_VISIBLE_DEVICES="", PYTHONPATH=str(ROOT))
        env.pop("CI", None)
        procs.append(subprocess.Popen([sys.executable, str(script)], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT))
    logs = [p.communicate(timeout=120)[0].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0], "\n".join(logs)

    model, train, val = make_problem(batch_size=8)  # the same global batch in one process
    history = fit(model, train, val, nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=0.1),
                  3, metrics={"mae": mae}, device="cpu", restore_best=False, progress=False)
    ddp = torch.load(out, weights_only=False)
    for key, value in model.state_dict().items():
        torch.testing.assert_close(ddp["model"][key], value, atol=1e-5, rtol=0)
    for column in ("train_loss", "val_loss", "train_mae", "val_mae"):
        torch.testing.assert_close(torch.tensor(ddp["history"]["epochs"][column]),
                                   torch.tensor(history[column]), atol=1e-5, rtol=1e-5)
    last = load_checkpoint(tmp_path / "ckpt" / "last.pt")
    assert last["epoch"] == 3 and last["config"]["world_size"] == 2


def test_helpers_outside_a_process_group():
    assert is_main_process() and world_size() == 1
    _, train, val = make_problem(batch_size=4)
    sampler = ShardSampler(13, rank=1, world_size=2)
    assert list(sampler) == [1, 3, 5, 7, 9, 11] and len(sampler) == 6
    sharded = shard_loader(train, train=True)
    assert sharded.batch_size == 4 and shard_loader(sharded, train=True) is sharded
