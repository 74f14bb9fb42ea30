"""The job queue: one worker thread that trains the queued jobs of a store, in order.

The queue itself lives on disk (each job's ``status.json``), so it survives a restart: a new
:class:`JobQueue` on the same store picks up, oldest first, every job still ``queued`` and every
job that was ``running`` when the server stopped (that one starts again from step 0; its log
says so).
"""

from __future__ import annotations

import math
import queue
import threading
import time
import traceback

from dentpy import _checks
from dentpy.serve.segmenter import train_segmenter
from dentpy.serve.store import Store


class JobQueue:
    """Runs the jobs of ``store`` one at a time in a background thread (call :meth:`start`)."""

    def __init__(self, store: Store) -> None:
        if not isinstance(store, Store):
            raise _checks.ArgumentTypeError(f"store must be a dentpy.serve.store.Store, got "
                                            f"{_checks.describe(store)}")
        self.store = store
        self._pending: queue.Queue[str | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def start(self) -> JobQueue:
        """Re-queue unfinished jobs found on disk, then start the worker thread."""
        if self._thread is not None:
            return self
        for status in self.store.jobs():
            if status["state"] == "running":
                self.store.log(status["id"], "the server stopped during training; starting again")
                self.store.update(status["id"], state="queued", step=0, history=[])
            if status["state"] in ("queued", "running"):
                self._pending.put(status["id"])
        self._thread = threading.Thread(target=self._work, name="dentpy-jobs", daemon=True)
        self._thread.start()
        return self

    def submit(self, job_id: str) -> None:
        """Put a queued job at the end of the line."""
        self.store.job_folder(job_id)  # NotFound for a wrong id
        self._pending.put(job_id)

    def stop(self, timeout: float = 30.0) -> None:
        """Let the running job finish its current step's log point, then end the worker."""
        timeout = _checks.number("timeout", timeout, low=0)
        self._stopping.set()
        self._pending.put(None)
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def wait(self, job_id: str, timeout: float = 60.0) -> dict:
        """Block until the job is done or failed; its status (``TimeoutError`` after
        ``timeout`` seconds)."""
        timeout = _checks.number("timeout", timeout, low=0)
        deadline = time.monotonic() + timeout
        while True:
            status = self.store.status(job_id)
            if status["state"] in ("done", "failed"):
                return status
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} still {status['state']} after {timeout} s")
            time.sleep(0.05)

    def _work(self) -> None:
        while not self._stopping.is_set():
            job_id = self._pending.get()
            if job_id is None:
                break
            if self.store.status(job_id)["state"] != "queued":
                continue  # submitted twice, or already handled
            self.run(job_id)

    def run(self, job_id: str) -> dict:
        """Train one job now (in the calling thread) and record the outcome on disk."""
        store = self.store
        config = store.config(job_id)
        started = time.time()
        store.update(job_id, state="running", started=started, step=0, history=[])
        store.log(job_id, f"training started: {config.to_dict()}")
        history: list[dict] = []

        def on_log(point: dict) -> None:
            point = {k: None if isinstance(v, float) and math.isnan(v) else v
                     for k, v in point.items()}  # JSON has no NaN
            history.append(point)
            store.update(job_id, step=point["step"], history=history)
            dice = "-" if point["val_dice"] is None else f"{point['val_dice']:.4f}"
            store.log(job_id, f"step {point['step']}: loss {point['loss']:.4f}, "
                      f"validation Dice {dice}")
            if self._stopping.is_set():
                raise InterruptedError("the server is stopping")

        try:
            images, masks = store.load_dataset(store.status(job_id)["dataset"])
            model, _ = train_segmenter(images, masks, config, on_log=on_log)
            store.save_weights(job_id, model)
        except InterruptedError:
            store.log(job_id, "stopped with the server; it runs again after a restart")
            return store.status(job_id)
        except Exception as error:  # a failed job records why, the worker goes on
            store.log(job_id, "failed:\n" + traceback.format_exc())
            return store.update(job_id, state="failed", error=f"{type(error).__name__}: {error}",
                                finished=time.time())
        finished = time.time()
        store.log(job_id, f"done in {finished - started:.2f} s")
        return store.update(job_id, state="done", finished=finished, seconds=finished - started)
