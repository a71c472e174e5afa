"""What the Snakefile does before any job runs: config checks, package path, stale locks."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import jsonschema
import pyarrow
import yaml

from artistrec.datasets import get_dataset
from artistrec.errors import InputError
from artistrec.split import split_sizes

log = logging.getLogger(__name__)


def _key_path(error: jsonschema.ValidationError) -> str:
    path = ".".join(str(p) for p in error.absolute_path)
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return ".".join(filter(None, [path, extra[0] if extra else ""]))
    if error.validator == "required":
        missing = [k for k in error.validator_value if k not in error.instance]
        return ".".join(filter(None, [path, missing[0] if missing else ""]))
    return path or "(top level)"


def validate(config: dict[str, Any], schema_file: str | Path) -> None:
    """Raise :class:`InputError` naming the first offending key of ``config``."""
    schema = yaml.safe_load(Path(schema_file).read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(config))
    if error is not None:
        key = _key_path(error)
        if error.validator == "additionalProperties":
            problem, fix = "is not a known key", "remove it or fix its spelling (see config.yaml)"
        elif error.validator == "required":
            problem, fix = "is missing", "add it (config.yaml documents every key)"
        else:
            problem, fix = f"is {error.instance!r}: {error.message}", "give a value of the documented type and range"
        raise InputError("config", key, problem, fix)
    check_rules(config)


def check_rules(config: dict[str, Any]) -> None:
    """Rules a JSON schema cannot state."""
    split = config["split"]
    if split["test_fraction"] + split["valid_fraction"] >= 1:
        raise InputError(
            "config",
            "split.valid_fraction",
            f"test_fraction + valid_fraction = {split['test_fraction'] + split['valid_fraction']} leaves no train artists",
            "make the two fractions sum to less than 1",
        )
    dataset = config["dataset"]
    if not config["datasets"][dataset]["features"]:
        raise InputError(
            "config",
            f"datasets.{dataset}.features",
            "lists no feature source",
            "name at least one source of side information",
        )
    user_source = config["datasets"][dataset]["user_source"]
    if user_source is not None and user_source not in config["datasets"][dataset]["features"]:
        raise InputError(
            "config",
            f"datasets.{dataset}.user_source",
            f"{user_source!r} is not one of the dataset's feature sources",
            f"name a source keyed by user id ({', '.join(config['datasets'][dataset]['features'])}) or null",
        )
    get_dataset(dataset).check_raw_files(config)
    check_data_limits(config)


def check_data_limits(config: dict[str, Any]) -> None:
    """``n_candidates`` and each SVD ``dim`` against what the raw data can offer at most.

    The bounds come from the dataset (the generator's settings, or the distinct ids
    in the raw files read column-wise without validation), and are never below the
    true counts: an error here is certain, while a limit the bound cannot see is still
    caught, naming the same key, by the candidates or svd job.
    """
    bounds = data_bounds(config)
    if bounds is None:
        return
    n_artists, n_keys = bounds
    n_train, _, _ = split_sizes(n_artists, config["split"]["test_fraction"], config["split"]["valid_fraction"])
    if config["n_candidates"] > n_train:
        raise InputError(
            "config",
            "n_candidates",
            f"is {config['n_candidates']} but the data has at most {n_train} train artists",
            f"set n_candidates to at most {n_train}",
        )
    dataset = config["dataset"]
    for source, settings in config["datasets"][dataset]["features"].items():
        if source in n_keys and settings["dim"] >= n_keys[source]:
            raise InputError(
                "config",
                f"datasets.{dataset}.features.{source}.dim",
                f"is {settings['dim']} but source '{source}' has at most {n_keys[source]} columns",
                f"set it below {n_keys[source]}",
            )
    # Every source is reduced to each of the dataset's dims (sweep, kNN tuning).
    configured = {source: n for source, n in n_keys.items() if source in config["datasets"][dataset]["features"]}
    if configured:
        source, fewest = min(configured.items(), key=lambda item: item[1])
        too_large = [dim for dim in config["datasets"][dataset]["dims"] if dim >= fewest]
        if too_large:
            raise InputError(
                "config",
                f"datasets.{dataset}.dims",
                f"lists {too_large[0]} but source '{source}' has at most {fewest} columns",
                f"list only sizes below {fewest}",
            )


def data_bounds(config: dict[str, Any]) -> tuple[int, dict[str, int]] | None:
    """Upper bounds of (listened artists, columns per feature source), or None if unknown yet."""
    try:
        return get_dataset(config["dataset"]).bounds(config)
    except (OSError, ValueError, KeyError, pyarrow.ArrowException):
        return None  # unreadable raw data: the ingest jobs report exactly what is wrong


def feature_settings(config: dict[str, Any], dataset: str) -> dict[str, dict[str, Any]]:
    """The feature sources of ``dataset`` in config order."""
    return dict(config["datasets"][dataset]["features"])


def export_package_path() -> None:
    """Put this package's folder on PYTHONPATH, so every job (local or cluster) imports it."""
    package_root = str(Path(__file__).resolve().parents[1])
    current = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if package_root not in current:
        os.environ["PYTHONPATH"] = os.pathsep.join([package_root, *current])


_run_lock = None  # held open for the life of the Snakemake process


def release_stale_locks(persistence: str | Path = ".snakemake") -> None:
    """Remove Snakemake's directory locks if no live Snakemake run holds them.

    Snakemake's locks are plain files, so a run killed with SIGKILL leaves them
    behind and the next run refuses to start. Every run therefore also holds an
    OS lock on ``artistrec.run.lock``, which the kernel releases when the process
    dies: if no other process holds it, any Snakemake lock files are stale. Call
    this from the main Snakemake process only (not from cluster jobs). POSIX only.
    """
    import fcntl

    global _run_lock
    folder = Path(persistence)
    folder.mkdir(parents=True, exist_ok=True)
    _run_lock = open(folder / "artistrec.run.lock", "a")  # noqa: SIM115  (kept open: the kernel drops the lock when this process dies)
    try:
        fcntl.flock(_run_lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fcntl.flock(_run_lock, fcntl.LOCK_SH)  # another live run: its locks are real
        return
    stale = sorted((folder / "locks").glob("*.lock"))
    for lock in stale:
        lock.unlink(missing_ok=True)
    if stale:
        log.warning("removed %d stale Snakemake locks left by a killed run", len(stale))
    fcntl.flock(_run_lock, fcntl.LOCK_SH)
