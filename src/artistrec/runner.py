"""Run a workflow step inside a Snakemake ``script:`` job.

Progress lines go to the console (stdout) and to the rule's log file. File
descriptor 2 is pointed at the log file, so library noise (TensorFlow's C++
start-up lines, warnings, tracebacks) lands in the log rather than the console.
Bad input ends the job with its one-line message and exit status 1.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from typing import Any

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
    try:
        step()
    except InputError as err:
        line = f"error: {err}\n"
        os.write(console, line.encode())
        if log_file:
            sys.stderr.write(line)  # fd 2 is the log file
        sys.exit(1)
