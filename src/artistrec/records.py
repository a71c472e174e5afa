"""A record beside every artifact: the sha256 of its content and what wrote it, checked before use.

Snakemake decides what to re-run from modification times and its own metadata, so a
file changed in place (a truncated model, a split file edited by hand, weights
overwritten with the time restored) would otherwise be read as what its job wrote.
Each job therefore writes ``.{name}.record.json`` beside each of its outputs: the
output's sha256 and size, the rule, its settings (the job's params) and the sha256 of
every input it read. The next job, ``artistrec recommend``, the batch job and
``compare`` check a file against its record before reading it; ``artistrec verify``
checks a whole run. A record names paths relative to the working directory, so a
moved workflow folder still verifies.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from artistrec import io
from artistrec.datasets import DATASETS
from artistrec.errors import InputError
from artistrec.layout import RESULTS

FIX = "delete it and run snakemake again, which rebuilds it"
_CHUNK = 1 << 20
_checked: dict[tuple[str, int, int, int], str] = {}  # (path, inode, size, mtime) -> sha256 of a verified file


def record_path(path: str | os.PathLike[str]) -> Path:
    """``.{name}.record.json`` beside ``path`` (hidden: the folder shows the artifacts)."""
    target = Path(path)
    return target.with_name(f".{target.name}.record.json")


def sha256_of(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def is_artifact(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` (relative to the working directory) is written by a workflow job.

    Raw files (the dataset's tables, a batch of new artists) and a ``metrics.json``
    kept by hand under ``results/`` (``results/before/``, for ``compare``) have no
    record; what lies in a dataset's folder ``results/{dataset}/`` and the root
    ``metrics.json`` must have one.
    """
    parts = Path(path).parts
    in_dataset = len(parts) > 2 and parts[0] == RESULTS and parts[1] in DATASETS
    return in_dataset or tuple(parts) == ("metrics.json",)


def write_record(
    path: str | os.PathLike[str], rule: str, settings: Mapping[str, Any], inputs: Mapping[str, str]
) -> None:
    """Record ``path`` as written by ``rule`` with ``settings`` from ``inputs`` (path -> sha256)."""
    io.write_json(
        record_path(path),
        {
            "path": str(path),
            "sha256": sha256_of(path),
            "size": os.path.getsize(path),
            "rule": rule,
            "settings": json.loads(json.dumps(dict(settings), default=str)),
            "inputs": dict(inputs),
        },
    )


def read_record(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The record of ``path``, or a one-line error when it is missing or unreadable."""
    try:
        record = io.read_json(record_path(path))
        return {**record, "sha256": str(record["sha256"]), "inputs": dict(record["inputs"])}
    except FileNotFoundError:
        problem = "has no record of what wrote it (made by hand, by an older artistrec, or by a killed job)"
    except (InputError, KeyError, TypeError, AttributeError):
        problem = f"its record {record_path(path).name} is unreadable"
    raise InputError(str(path), "record", problem, FIX)


def shown(path: str | os.PathLike[str]) -> str:
    """``path`` as a message names it: relative to the working directory when inside it."""
    relative = os.path.relpath(path)
    return str(path) if relative.startswith("..") else relative


def check(path: str | os.PathLike[str]) -> str:
    """The sha256 of ``path`` after checking it against its record; a one-line error when they differ."""
    path = shown(path)
    if not Path(path).is_file():
        raise InputError(str(path), "file", "is missing", FIX)
    stat = os.stat(path)
    key = (str(Path(path).resolve()), stat.st_ino, stat.st_size, stat.st_mtime_ns)
    if key in _checked:
        return _checked[key]
    record = read_record(path)
    actual = sha256_of(path)
    if actual != record["sha256"]:
        raise InputError(
            str(path),
            "content",
            f"is not what rule {record.get('rule', '?')} wrote (sha256 {actual[:12]}, recorded {record['sha256'][:12]}): "
            "it was changed or damaged after it was written",
            FIX,
        )
    _checked[key] = actual
    return actual


def input_checksums(paths: Iterable[str | os.PathLike[str]]) -> dict[str, str]:
    """The sha256 of each input file of a job, artifacts checked against their records first."""
    checksums = {}
    for path in dict.fromkeys(str(p) for p in paths):
        if Path(path).is_dir():
            continue
        checksums[path] = check(path) if is_artifact(path) else sha256_of(path)
    return checksums


def locator(path: str | os.PathLike[str], record: Mapping[str, Any]) -> Callable[[str], Path | None]:
    """Where the record's input paths are now, for ``path`` wherever its folder was moved.

    The record names paths from the working directory (``results/demo/split-42/run.json``);
    the part ``path`` shares with it at the end (``demo/split-42/run.json`` for a run
    folder copied elsewhere) says where that tree is now. An input outside the moved
    tree (a raw file) is not found: None.
    """
    actual, recorded = Path(path).resolve().parts, Path(record["path"]).parts
    shared = 0
    while shared < min(len(actual), len(recorded)) and actual[-1 - shared] == recorded[-1 - shared]:
        shared += 1
    base, prefix = Path(*actual[: len(actual) - shared]), recorded[: len(recorded) - shared]

    def locate(name: str) -> Path | None:
        parts = Path(name).parts
        return base.joinpath(*parts[len(prefix) :]) if parts[: len(prefix)] == prefix else None

    return locate


def check_inputs_of(path: str | os.PathLike[str]) -> None:
    """Check ``path`` and every artifact its job read: still there, each still what was read then.

    A reader of a finished run (``artistrec recommend``) checks the run's ``run.json``
    this way, which covers every model, SVD file and table the evaluation read.
    """
    check(path)
    record = read_record(path)
    locate = locator(path, record)
    for name, recorded in record["inputs"].items():
        source = locate(name)
        if source is None or not is_artifact(name) or not source.is_file():
            continue  # a missing input is reported by whoever reads it, with its own fix
        if check(source) != recorded:
            raise InputError(
                shown(source),
                "content",
                f"is not the file {Path(path).name} was computed from (it was rebuilt or replaced since)",
                f"re-run snakemake, which brings {Path(path).name} up to date",
            )


def check_trained(expected: Mapping[str, Mapping[str, Any]]) -> None:
    """Refuse a model whose record shows other training params than ``expected`` (model file -> params).

    Snakemake re-runs a training when its params change, but a model written by a job
    it no longer knows (an orphan of a killed run) carries no such metadata; its record does.
    """
    for path, params in expected.items():
        recorded = read_record(path)["settings"].get("params", {})
        wanted = json.loads(json.dumps(dict(params), default=str))
        for key, value in wanted.items():
            if recorded.get(key) != value:
                raise InputError(
                    shown(path),
                    "settings",
                    f"was trained with {key} {recorded.get(key)!r}, but the config gives {value!r}",
                    "delete it and run snakemake again, which trains it with the config's settings",
                )
