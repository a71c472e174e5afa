"""Who may write into a working directory: one live Snakemake run and the jobs it started.

Snakemake's locks are plain files, so a run killed with SIGKILL leaves them behind
and the next run refuses to start. Every run therefore also holds an OS lock on
``.snakemake/artistrec.run.lock``, which the kernel releases when the process dies:
if no process holds it, no run is alive and Snakemake's lock files are stale.

Killing only the Snakemake process (the out-of-memory killer, ``kill -9``) leaves its
jobs running, and an orphaned training job would go on writing checkpoints and a
model of the old settings into the next run's folders. So every job holds its own
lock, ``.snakemake/artistrec-jobs/{host}-{pid}.lock``, for as long as it lives. A
new run that finds no live run stops the orphans of this machine, waits until they
are gone, and only then removes stale locks and the hidden temporary files that
killed writes left. POSIX only.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import signal
import socket
import time
from pathlib import Path
from typing import IO

from artistrec.errors import InputError
from artistrec.layout import RESULTS

log = logging.getLogger(__name__)

PERSISTENCE = ".snakemake"
RUN_LOCK = "artistrec.run.lock"
JOBS = "artistrec-jobs"
ORPHAN_GRACE_S = 60.0  # how long a killed orphan may take to let go of its lock

_run_lock: IO[str] | None = None  # held open for the life of the Snakemake process
_job_lock: IO[str] | None = None  # held open for the life of a job


def release_stale_locks(persistence: str | Path = PERSISTENCE, workdir: str | Path = ".") -> None:
    """If no live Snakemake run holds this working directory, clean up after a killed one.

    Stops the orphaned jobs of the killed run, removes Snakemake's stale lock files and
    the hidden temporaries of interrupted writes, then holds the run lock shared for
    the life of this process. Call it from the main Snakemake process only.
    """
    global _run_lock
    folder = Path(persistence)
    folder.mkdir(parents=True, exist_ok=True)
    _run_lock = open(folder / RUN_LOCK, "a")  # noqa: SIM115  (kept open: the kernel drops the lock when this process dies)
    try:
        fcntl.flock(_run_lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fcntl.flock(_run_lock, fcntl.LOCK_SH)  # another live run: its locks and jobs are real
        return
    stop_orphaned_jobs(folder / JOBS)
    stale = sorted((folder / "locks").glob("*.lock"))
    for lock in stale:
        lock.unlink(missing_ok=True)
    if stale:
        log.warning("removed %d stale Snakemake locks left by a killed run", len(stale))
    remove_leftover_temporaries(Path(workdir))
    fcntl.flock(_run_lock, fcntl.LOCK_SH)


def hold_job_lock(rule: str, persistence: str | Path = PERSISTENCE) -> None:
    """Mark this process as a live job of the run until it exits (see the module's docstring)."""
    global _job_lock
    folder = Path(persistence) / JOBS
    folder.mkdir(parents=True, exist_ok=True)
    _job_lock = open(folder / f"{socket.gethostname()}-{os.getpid()}.lock", "w")  # noqa: SIM115  (held until exit)
    fcntl.flock(_job_lock, fcntl.LOCK_EX)
    json.dump({"pid": os.getpid(), "host": socket.gethostname(), "rule": rule}, _job_lock)
    _job_lock.flush()


def release_job_lock() -> None:
    """Remove this job's lock file (the kernel would drop the lock itself at exit)."""
    global _job_lock
    if _job_lock is not None:
        Path(_job_lock.name).unlink(missing_ok=True)
        _job_lock.close()
        _job_lock = None


def stop_orphaned_jobs(jobs: Path) -> None:
    """SIGKILL every job of this machine whose lock is still held, and wait until each is gone."""
    for lock_file in sorted(jobs.glob("*.lock")):
        holder = _holder(lock_file)
        if holder is None:
            continue
        if holder.get("host") != socket.gethostname() or "pid" not in holder:
            log.warning("a job of a killed run may still run: %s (%s)", lock_file.name, holder.get("rule"))
            continue
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(holder["pid"]), signal.SIGKILL)
        _wait_for(lock_file, holder)
        log.warning("stopped job %s (pid %s) left running by a killed run", holder.get("rule"), holder["pid"])


def _holder(lock_file: Path) -> dict | None:
    """None if the lock is free (its job is gone: the file is removed); else what its holder wrote."""
    with open(lock_file, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            text = handle.read()
        else:
            lock_file.unlink(missing_ok=True)
            return None
    try:
        return dict(json.loads(text))
    except (ValueError, TypeError):
        return {}


def _wait_for(lock_file: Path, holder: dict) -> None:
    deadline = time.monotonic() + ORPHAN_GRACE_S
    with open(lock_file, "a") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise InputError(
                        str(lock_file),
                        "job",
                        f"job {holder.get('rule')} (pid {holder.get('pid')}) of a killed run still runs",
                        f"stop it (kill -9 {holder.get('pid')}) and run snakemake again",
                    ) from None
                time.sleep(0.05)
    lock_file.unlink(missing_ok=True)


def remove_leftover_temporaries(workdir: Path) -> None:
    """Remove the hidden ``.{name}.*.tmp*`` files of writes a killed job never finished."""
    leftovers = [p for p in (workdir / RESULTS).rglob(".*.tmp*") if p.is_file()]
    leftovers += [p for p in workdir.glob(".*.tmp*") if p.is_file()]
    for path in leftovers:
        path.unlink(missing_ok=True)
    if leftovers:
        log.warning("removed %d temporary files of writes a killed run never finished", len(leftovers))
