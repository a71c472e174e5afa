"""A run killed with SIGKILL loses nothing: the same command finishes it, with the same result.

The whole Snakemake process group is killed twice: once while an SVD job runs,
once while the network trains (after its first epoch is checkpointed). Each time
no artifact is half-written (writers rename a complete temporary file into
place), and the re-run of the same command resumes: training continues from its
checkpoint, and the final metrics equal those of an uninterrupted run.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

from artistrec import io
from artistrec.config import release_stale_locks

from conftest import HANG_LIMIT, SNAKEMAKE, TEST_CONFIG, copy_workflow, run_folder

COMMAND = [
    SNAKEMAKE,
    "--cores",
    "2",
    "--resources",
    "gpu=1",
    "--configfile",
    str(TEST_CONFIG),
    "--",
    "results/demo/split-42/metrics.json",
]


def start(workdir: Path, log: Path) -> subprocess.Popen:
    """Start the run as its own process group, as a shell or a batch system would."""
    with open(log, "ab") as output:
        return subprocess.Popen(COMMAND, cwd=workdir, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)


def kill_when(run: subprocess.Popen, ready: Callable[[], bool], console: Path, timeout: float = HANG_LIMIT) -> None:
    """SIGKILL the run's whole process group (Snakemake and its jobs) as soon as ``ready()``."""
    deadline = time.monotonic() + timeout
    while not ready():
        assert run.poll() is None, "the run ended before the moment to kill it:\n" + console.read_text()[-3000:]
        assert time.monotonic() < deadline, "timed out waiting for the moment to kill the run"
        time.sleep(0.005)
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()


def svd_running(workdir: Path) -> Callable[[], bool]:
    """An SVD job has started its work (its log file is opened when the step begins)."""
    return lambda: any((workdir / "logs" / "demo" / "split-42").glob("svd_*.log"))


def assert_every_artifact_complete(results: Path) -> None:
    """Every visible file reads back whole; only dot-named temporary files may be partial."""
    readers = {
        ".parquet": io.read_parquet,
        ".txt": io.read_ids,
        ".json": io.read_json,
        ".csv": pd.read_csv,
        ".md": lambda path: path.read_text(encoding="utf-8"),
        ".tsv": lambda path: pd.read_csv(path, sep="\t"),
        ".npz": lambda path: np.load(path, allow_pickle=False).files,
        ".h5": lambda path: h5py.File(path, "r").close(),
        ".keras": lambda path: zipfile.ZipFile(path).testzip(),
    }
    for path in results.rglob("*"):
        if path.is_file() and not path.name.startswith("."):
            readers[path.suffix](path)


def test_a_run_killed_in_the_svd_and_in_training_resumes_to_the_uninterrupted_result(demo_run: Path, tmp_path: Path):
    workdir = copy_workflow(tmp_path / "wf")
    results = run_folder(workdir)
    model = results / "models" / "default" / "model.h5"
    console = tmp_path / "console.log"

    kill_when(start(workdir, console), svd_running(workdir), console)
    assert not model.exists()
    assert_every_artifact_complete(results)

    state = results / "checkpoints" / "default" / "state.json"
    kill_when(start(workdir, console), state.is_file, console)
    assert not model.exists(), "training ended before the kill: the test proves nothing"
    assert_every_artifact_complete(results)
    epochs_done = io.read_json(state)["epoch"] + 1

    finished = subprocess.run(COMMAND, cwd=workdir, capture_output=True, text=True, timeout=HANG_LIMIT)
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    train_log = (workdir / "logs" / "demo" / "split-42" / "train_default.log").read_text(encoding="utf-8")
    assert f"resuming from the checkpoint of epoch {epochs_done}" in train_log
    reference = run_folder(demo_run)
    assert json.loads((results / "metrics.json").read_text()) == json.loads((reference / "metrics.json").read_text())
    history, uninterrupted = (pd.read_csv(r / "models" / "default" / "history.csv") for r in (results, reference))
    pd.testing.assert_frame_equal(history.drop(columns="seconds"), uninterrupted.drop(columns="seconds"))
    assert_every_artifact_complete(results)


def test_snakemake_locks_left_by_a_killed_run_are_removed_but_a_live_runs_are_kept(tmp_path: Path):
    persistence = tmp_path / ".snakemake"
    (persistence / "locks").mkdir(parents=True)
    lock = persistence / "locks" / "0.output.lock"
    lock.write_text("results/demo/metrics.json\n")
    with open(persistence / "artistrec.run.lock", "a") as live_run:
        fcntl.flock(live_run, fcntl.LOCK_SH)
        release_stale_locks(persistence)
        assert lock.exists()
    release_stale_locks(persistence)
    assert not lock.exists()
