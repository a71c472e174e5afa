"""Run a workflow step inside a Snakemake ``script:`` job.

Progress lines go to the console (stdout) and to the rule's log file. File
descriptor 2 is pointed at the log file, so library noise (TensorFlow's C++
start-up lines, warnings, tracebacks) lands in the log rather than the console.
Bad input ends the job with its one-line message and exit status 1.

Around the step, the job holds its lock (:mod:`artistrec.locks`), checks every
input artifact against its record (and, where its params name ``trained``, each
model's training params against the config's) and records each output
(:mod:`artistrec.records`).
"""

from __future__ import annotations

import errno
import logging
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

from artistrec import locks, parallel, records
from artistrec.errors import InputError

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Lines for the log file only (each training epoch, each method's metrics): the console
# gets the few lines that say what a step did.
DETAIL = logging.INFO - 5
logging.addLevelName(DETAIL, "DETAIL")


def configure_logging(log_file: str | None) -> None:
    console = logging.StreamHandler(sys.stdout)
    console.setLevel(logging.INFO)
    handlers: list[logging.Handler] = [console]
    if log_file:
        handlers.append(logging.FileHandler(log_file, mode="a", encoding="utf-8"))
    logging.basicConfig(level=DETAIL, format=FORMAT, handlers=handlers, force=True)
    for noisy in ("absl", "tensorflow", "h5py", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


def run(snakemake: Any, step: Callable[[], None]) -> None:
    log_file = str(snakemake.log[0]) if len(snakemake.log) else None
    console = os.dup(2)
    if log_file:
        os.makedirs(os.path.dirname(log_file) or ".", exist_ok=True)
        handle = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)
        os.dup2(handle, 2)
        os.close(handle)
    configure_logging(log_file)
    locks.hold_job_lock(str(snakemake.rule))
    parallel.use_threads(snakemake.threads)
    previous = signal.signal(signal.SIGTERM, _stopped)
    try:
        started = time.perf_counter()
        inputs = records.input_checksums(snakemake.input)
        records.check_trained(dict(snakemake.params.items()).get("trained", {}))
        checking = time.perf_counter() - started
        step()
        started = time.perf_counter()
        for output in snakemake.output:
            records.write_record(output, str(snakemake.rule), job_settings(snakemake), inputs)
        logging.getLogger(__name__).log(
            DETAIL,
            "records: %d inputs checked, %d outputs recorded in %.3f s",
            len(inputs),
            len(snakemake.output),
            checking + time.perf_counter() - started,
        )
    except InputError as err:
        fail(console, log_file, f"error: {err}")
    except Stopped:
        fix = "run snakemake again: finished steps and training checkpoints are kept"
        fail(console, log_file, f"error: rule {snakemake.rule}: stopped by SIGTERM before it finished; fix: {fix}")
    except Exception as err:
        os.write(2, traceback.format_exc().encode())  # fd 2 is the log file
        fail(console, log_file, unexpected(err, str(snakemake.rule), log_file))
    finally:
        signal.signal(signal.SIGTERM, previous)
        locks.release_job_lock()


class Stopped(BaseException):
    """SIGTERM reached the job (Snakemake or a batch system stopping it): not an error of its own."""


def _stopped(signum: int, frame: object) -> None:
    raise Stopped


def fail(console: int, log_file: str | None, line: str) -> None:
    """End the job with ``line`` on the console (and in the log): exit status 1."""
    os.write(console, f"{line}\n".encode())
    if log_file:
        os.write(2, f"{line}\n".encode())  # fd 2 is the log file
    sys.exit(1)


def unexpected(err: Exception, rule: str, log_file: str | None) -> str:
    """One line for an error that is no input problem: a full disk, or a bug whose traceback is in the log."""
    where = getattr(err, "filename", None) or f"rule {rule}"
    if isinstance(err, OSError) and err.errno == errno.ENOSPC:
        return f"error: {where}: no space left on device; fix: free disk space and run snakemake again"
    reason = (str(err).splitlines() or [""])[0][:200]
    return f"error: {where}: {type(err).__name__}: {reason}; fix: see the traceback in {log_file or 'the job output'}"


def job_settings(snakemake: Any) -> dict[str, Any]:
    """What a job was run with beyond its inputs: its wildcards and params, by name."""
    return {"wildcards": dict(snakemake.wildcards.items()), "params": dict(snakemake.params.items())}
