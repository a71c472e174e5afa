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
import yaml

from artistrec import io, records
from artistrec.locks import release_stale_locks

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


def live_jobs(workdir: Path) -> list[int]:
    """Pids of the jobs whose lock is held: jobs alive, whether or not their Snakemake is."""
    pids = []
    for lock_file in (workdir / ".snakemake" / "artistrec-jobs").glob("*.lock"):
        with open(lock_file) as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                pids.append(int(json.loads(lock_file.read_text())["pid"]))
    return pids


def is_alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not yet reaped, does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_an_orphaned_training_job_never_writes_into_the_next_run_which_ends_with_the_model_of_its_settings(
    tmp_path: Path,
):
    workdir = copy_workflow(tmp_path / "wf")
    model = run_folder(workdir) / "models" / "default" / "model.h5"
    settings = yaml.safe_load(TEST_CONFIG.read_text())
    slow, changed = tmp_path / "slow.yaml", tmp_path / "changed.yaml"
    slow.write_text(yaml.safe_dump({**settings, "model": {**settings["model"], "max_epochs": 400, "patience": 400}}))
    changed.write_text(yaml.safe_dump({**settings, "model": {**settings["model"], "max_epochs": 2, "patience": 1}}))
    command = [SNAKEMAKE, "--cores", "2", "--resources", "gpu=1", "--", str(model.relative_to(workdir))]
    console = tmp_path / "console.log"
    with open(console, "ab") as output:
        first = subprocess.Popen(
            [*command[:-2], "--configfile", str(slow), *command[-2:]], cwd=workdir, stdout=output, stderr=output
        )
    state = run_folder(workdir) / "checkpoints" / "default" / "state.json"
    deadline = time.monotonic() + HANG_LIMIT
    while not state.is_file():
        assert first.poll() is None and time.monotonic() < deadline, console.read_text()[-3000:]
        time.sleep(0.01)
    first.kill()  # SIGKILL to Snakemake alone, as the out-of-memory killer sends it
    first.wait()
    orphans = live_jobs(workdir)
    assert orphans, "the training job died with Snakemake: the test proves nothing"

    rerun = subprocess.run(
        [*command[:-2], "--configfile", str(changed), *command[-2:]],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=HANG_LIMIT,
    )
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert "left running by a killed run" in rerun.stderr
    assert not any(is_alive(pid) for pid in orphans)
    record = records.read_record(model)
    assert record["sha256"] == records.sha256_of(model)
    assert record["settings"]["params"]["settings"]["max_epochs"] == 2
    assert len(pd.read_csv(model.with_name("history.csv"))) <= 2
    time.sleep(1)  # an orphan that survived would write now
    assert records.check(model) == record["sha256"]
    assert not list((workdir / "results").rglob(".*.tmp*"))


def test_temporary_files_of_killed_writes_are_removed_when_no_run_is_alive(tmp_path: Path):
    persistence = tmp_path / ".snakemake"
    leftovers = [
        tmp_path / "results" / "demo" / "split-42" / "models" / "default" / ".model.h5.k2x9.tmp.h5",
        tmp_path / "results" / "demo" / "split-42" / "checkpoints" / "default" / ".epoch-3.keras.a1b2.tmp.keras",
        tmp_path / ".metrics.json.q7w8.tmp.json",
    ]
    for path in leftovers:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"partial")
    kept = tmp_path / "results" / "demo" / "split-42" / "models" / "default" / ".model.h5.record.json"
    kept.write_text("{}")
    persistence.mkdir()
    with open(persistence / "artistrec.run.lock", "a") as live_run:
        fcntl.flock(live_run, fcntl.LOCK_SH)
        release_stale_locks(persistence, tmp_path)
        assert all(path.exists() for path in leftovers), "a live run's temporary files were removed"
    release_stale_locks(persistence, tmp_path)
    assert not any(path.exists() for path in leftovers) and kept.exists()
