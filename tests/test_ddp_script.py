"""data_scripts/ddp_train.py: 2 CPU processes under torchrun (Gloo) equal 1 process, batch x2."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "data_scripts" / "ddp_train.py"
TINY = dict(n_train=16, n_val=8, epochs=2, width=4, seed=3)


def load_script():
    spec = importlib.util.spec_from_file_location("ddp_train", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_torchrun_two_cpu_processes_equal_one_process(tmp_path: Path):
    out = tmp_path / "ddp.pt"
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="", OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    args = ["--device", "cpu", "--batch-size", "4", "--out", str(out), "--quiet"]
    for key, value in TINY.items():
        args += [f"--{key.replace('_', '-')}", str(value)]
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
         str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    ddp = torch.load(out, weights_only=False)
    assert ddp["world_size"] == 2

    torch.set_num_threads(1)
    model, history = load_script().train(batch_size=8, device="cpu", **TINY)
    for name, weight in model.state_dict().items():
        torch.testing.assert_close(ddp["model"][name], weight, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(torch.tensor(ddp["history"]["epochs"]["val_loss"]),
                               torch.tensor(history["val_loss"]), rtol=1e-4, atol=1e-5)


def test_make_model_shapes_and_bad_width():
    module = load_script()
    logits = module.make_model(4)(torch.rand(2, 1, 96, 160))
    assert logits.shape == (2, 5)
    with pytest.raises(ValueError, match="width"):
        module.make_model(6)
