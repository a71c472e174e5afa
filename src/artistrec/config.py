"""What the Snakefile does before any job runs: config checks and the package path."""

from __future__ import annotations

import itertools
import logging
import os
from pathlib import Path
from typing import Any

import jsonschema
import pyarrow
import yaml

from artistrec.candidates import ALL
from artistrec.datasets import get_dataset
from artistrec.errors import InputError
from artistrec.split import split_sizes

log = logging.getLogger(__name__)

MIN_USER_KEY_SHARE = 0.5
"""The share of the user source's distinct keys that must be user ids of the listening table.

A source keyed by anything else (playlist ids, tags) links artists to the wrong users,
or to none; its ids may overlap the user ids, but rarely most of them. Below this share
the run is refused before any job.
"""


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
    check_user_source(config)


def check_user_source(config: dict[str, Any]) -> None:
    """The user source's keys are user ids of the listening table (see :data:`MIN_USER_KEY_SHARE`).

    Its keys that are no id at all (text, negative, fractional) link no user: logged.
    """
    dataset = config["dataset"]
    try:
        keys = get_dataset(dataset).user_keys(config)
    except (OSError, ValueError, KeyError, pyarrow.ArrowException):
        return  # unreadable raw data: the ingest jobs report exactly what is wrong
    if keys is None or keys.keys == 0:
        return
    if keys.share < MIN_USER_KEY_SHARE:
        raise InputError(
            "config",
            f"datasets.{dataset}.user_source",
            f"{config['datasets'][dataset]['user_source']!r} has keys of which only {int(100 * keys.share)}% "
            f"are user ids of {keys.listening} ({keys.user_ids} of {keys.keys} in {keys.file})",
            "name a source keyed by user_id, or null",
        )
    if keys.not_ids:
        log.warning(
            "%s: column '%s': dropped %d keys that are no user id (not a non-negative integer) from the user source",
            keys.file,
            keys.column,
            keys.not_ids,
        )


def check_data_limits(config: dict[str, Any]) -> None:
    """The split, ``n_candidates`` and each SVD ``dim`` against what the raw data can offer at most.

    The bounds come from the dataset (the generator's settings, or the distinct ids
    in the raw files read column-wise without validation), and are never below the
    true counts: an error here is certain, while a limit the bound cannot see is still
    caught, naming the same key, by the split, candidates or svd job.
    """
    bounds = data_bounds(config)
    if bounds is None:
        return
    n_artists, n_keys = bounds
    check_split_size(n_artists, config["split"]["test_fraction"], config["split"]["valid_fraction"])
    n_train, _, _ = split_sizes(n_artists, config["split"]["test_fraction"], config["split"]["valid_fraction"])
    if config["n_candidates"] != ALL and config["n_candidates"] > n_train:
        raise InputError(
            "config",
            "n_candidates",
            f"is {config['n_candidates']} but the data has at most {n_train} train artists",
            f"set n_candidates to at most {n_train}",
        )
    dataset = config["dataset"]
    for source, settings in config["datasets"][dataset]["features"].items():
        if source in n_keys and settings["dim"] >= n_keys[source]:
            fix = f"set it below {n_keys[source]}" if n_keys[source] > 1 else "give the source more keys, or remove it"
            raise InputError(
                "config",
                f"datasets.{dataset}.features.{source}.dim",
                f"is {settings['dim']} but source '{source}' has at most {n_keys[source]} columns",
                fix,
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


def check_split_size(n_artists: int, test_fraction: float, valid_fraction: float) -> None:
    """At most ``n_artists`` artists give every part of the split (train, valid, test) an artist.

    The sizes grow with the number of artists, so a part empty at the upper bound is empty for the data.
    """
    if min(split_sizes(n_artists, test_fraction, valid_fraction)) > 0:
        return
    needed = next(n for n in itertools.count(n_artists + 1) if min(split_sizes(n, test_fraction, valid_fraction)) > 0)
    raise InputError(
        "config",
        "split",
        f"the data has at most {n_artists} listened artists, too few to split into train, valid and test artists "
        f"with test_fraction {test_fraction} and valid_fraction {valid_fraction} (that takes at least {needed})",
        f"use data with at least {needed} listened artists, or other split fractions",
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
