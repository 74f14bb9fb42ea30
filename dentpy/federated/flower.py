"""FedAvg / FedProx through Flower, with the server and every client in its own process.

:func:`run_flower` writes each client's data and the initial weights to a temporary folder,
starts ``python -m dentpy.federated.flower server ...`` and one ``... client ...`` per client
(each in its own process group), lets them talk gRPC over 127.0.0.1 on a free port, and reads
back the global weights the server saved after every round. Whatever happens, every process
group it started is ended and the folder removed. No Ray: Flower's legacy ``start_server`` /
``start_client`` entry points (deprecated in 1.x but present in 1.42) run one process each.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from dentpy import _checks
from dentpy.federated import TinyAttentionUNet, _client_data, client_seed, local_update

__all__ = ["free_port", "run_flower"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _end(process: subprocess.Popen) -> None:
    """End a process group we started: SIGTERM, then SIGKILL after 3 s."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=3)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=3)


def run_flower(clients: Sequence[tuple[Any, Any]], init_state: Mapping[str, torch.Tensor], *,
               rounds: int, mu: float = 0.0, local_epochs: int = 1, batch_size: int = 8,
               lr: float = 1e-3, seed: int = 0, model_kwargs: Mapping[str, int] | None = None,
               timeout: float = 120.0) -> dict[str, Any]:
    """Run ``rounds`` of Flower's FedProx strategy (FedAvg when ``mu = 0``) across processes.

    ``clients``: ``(images, masks)`` per client, as for :func:`dentpy.federated.run_federated`;
    ``init_state``: the starting weights of ``TinyAttentionUNet(**model_kwargs)``. Each client
    process runs :func:`dentpy.federated.local_update` with ``client_seed(seed, round, k)``,
    so the result can be compared with the hand-built loop. Returns ``{"states": [global
    state after round 1, 2, ...], "seconds": wall time, "logs": {name: text}}``; raises
    ``RuntimeError`` (with the processes' logs) if a process fails or ``timeout`` passes.
    """
    data = _client_data(clients)
    rounds = _checks.integer("rounds", rounds, low=1)
    mu = _checks.number("mu", mu, low=0)
    local_epochs = _checks.integer("local_epochs", local_epochs, low=1)
    batch_size = _checks.integer("batch_size", batch_size, low=1)
    lr = _checks.number("lr", lr, low=0, low_open=True)
    seed = _checks.integer("seed", seed, low=0)
    timeout = _checks.number("timeout", timeout, low=0, low_open=True)
    model_kwargs = dict(model_kwargs or {})
    if not isinstance(init_state, Mapping) or not init_state:
        raise _checks.ArgumentTypeError(f"init_state must be a non-empty state dict, got "
                                        f"{_checks.describe(init_state)}")
    template = TinyAttentionUNet(**model_kwargs).state_dict()
    if list(init_state) != list(template) or any(
            tuple(init_state[k].shape) != tuple(template[k].shape) for k in template):
        raise ValueError("init_state does not match TinyAttentionUNet(**model_kwargs)'s keys "
                         "and shapes")
    settings = dict(rounds=rounds, mu=mu, local_epochs=local_epochs, batch_size=batch_size,
                    lr=lr, seed=seed, model_kwargs=model_kwargs, n_clients=len(data))
    processes: dict[str, subprocess.Popen] = {}
    logs: dict[str, str] = {}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="dentpy-flower-") as folder:
        work = Path(folder)
        (work / "settings.json").write_text(json.dumps(settings))
        np.savez(work / "init.npz", *[v.detach().cpu().numpy() for v in init_state.values()])
        for k, (images, masks) in enumerate(data):
            np.savez(work / f"client{k}.npz", images=images.numpy(), masks=masks.numpy())
        port = free_port()
        env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
        command = [sys.executable, "-m", "dentpy.federated.flower"]

        def launch(name: str, *args: str) -> None:
            log = open(work / f"{name}.log", "w")  # noqa: SIM115 - closed with the folder
            processes[name] = subprocess.Popen(
                [*command, *args, "--work", str(work), "--port", str(port)],
                stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)

        try:
            launch("server", "server")
            for k in range(len(data)):
                launch(f"client{k}", "client", "--cid", str(k))
            deadline = time.monotonic() + timeout
            server = processes["server"]
            while server.poll() is None:
                failed = [n for n, p in processes.items() if p.poll() not in (None, 0)]
                if failed or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            done = server.poll() == 0 and (work / f"round{rounds}.npz").exists()
            for name in processes:
                path = work / f"{name}.log"
                logs[name] = path.read_text() if path.exists() else ""
            if not done:
                raise RuntimeError(
                    f"the Flower run did not finish (server exit {server.poll()}, "
                    f"{time.monotonic() > deadline and 'timed out' or 'a process failed'}); "
                    f"last lines of the logs:\n" + "\n".join(
                        f"--- {n}\n" + "\n".join(t.splitlines()[-15:]) for n, t in logs.items()))
            states = []
            keys = list(init_state)
            for round_ in range(1, rounds + 1):
                with np.load(work / f"round{round_}.npz") as saved:
                    arrays = [saved[f"arr_{i}"] for i in range(len(keys))]
                states.append({k: torch.from_numpy(a.copy()) for k, a in
                               zip(keys, arrays, strict=True)})
        finally:
            for process in processes.values():
                _end(process)
    return dict(states=states, seconds=time.perf_counter() - start, logs=logs)


# ---- the two process entry points -----------------------------------------------------------

def _serve(work: Path, port: int) -> None:
    import flwr
    from flwr.common import ndarrays_to_parameters, parameters_to_ndarrays
    from flwr.server.strategy import FedProx

    settings = json.loads((work / "settings.json").read_text())
    with np.load(work / "init.npz") as saved:
        init = [saved[f"arr_{i}"] for i in range(len(saved.files))]

    class SavingFedProx(FedProx):
        """Flower's FedProx (plain FedAvg aggregation; ``proximal_mu`` sent to clients), which
        also saves the global weights after each round."""

        def aggregate_fit(self, server_round, results, failures):
            parameters, metrics = super().aggregate_fit(server_round, results, failures)
            if parameters is not None:
                arrays = parameters_to_ndarrays(parameters)
                np.savez(work / f"round{server_round}.tmp.npz", *arrays)
                os.replace(work / f"round{server_round}.tmp.npz",
                           work / f"round{server_round}.npz")
            return parameters, metrics

    n = settings["n_clients"]
    strategy = SavingFedProx(
        fraction_fit=1.0, fraction_evaluate=0.0, min_fit_clients=n, min_evaluate_clients=0,
        min_available_clients=n, accept_failures=False,
        initial_parameters=ndarrays_to_parameters(init), proximal_mu=float(settings["mu"]),
        on_fit_config_fn=lambda r: {"server_round": r})
    flwr.server.start_server(server_address=f"127.0.0.1:{port}",
                             config=flwr.server.ServerConfig(num_rounds=settings["rounds"]),
                             strategy=strategy)


def _client(work: Path, port: int, cid: int) -> None:
    import flwr

    torch.set_num_threads(1)
    settings = json.loads((work / "settings.json").read_text())
    with np.load(work / f"client{cid}.npz") as saved:
        images, masks = torch.from_numpy(saved["images"]), torch.from_numpy(saved["masks"])
    model = TinyAttentionUNet(**settings["model_kwargs"])
    keys = list(model.state_dict())

    class Clinic(flwr.client.NumPyClient):
        def fit(self, parameters, config):
            state = {k: torch.from_numpy(np.array(a, copy=True)) for k, a in
                     zip(keys, parameters, strict=True)}
            new, n, _ = local_update(
                model, images, masks, global_state=state, mu=float(config["proximal_mu"]),
                epochs=settings["local_epochs"], batch_size=settings["batch_size"],
                lr=settings["lr"],
                seed=client_seed(settings["seed"], int(config["server_round"]), cid))
            return [v.numpy() for v in new.values()], n, {}

    flwr.client.start_client(server_address=f"127.0.0.1:{port}", client=Clinic().to_client(),
                             insecure=True, max_wait_time=60.0)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("role", choices=("server", "client"))
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cid", type=int, default=0)
    args = parser.parse_args(argv)
    if args.role == "server":
        _serve(args.work, args.port)
    else:
        _client(args.work, args.port, args.cid)


if __name__ == "__main__":
    main()
