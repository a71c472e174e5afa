"""Configuration checks that run before any job: schema first, then cross-key rules."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from artistrec.errors import InputError


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


def feature_settings(config: dict[str, Any], dataset: str) -> dict[str, dict[str, Any]]:
    """The feature sources of ``dataset`` in config order."""
    return dict(config["datasets"][dataset]["features"])


def lastfm_2k_dir(config: dict[str, Any], download_folder: str) -> str:
    """The Last.fm-2k folder: the config's ``dir``, else ``$LASTFM_2K_DIR``, else the checked download."""
    return config["datasets"]["lastfm-2k"]["dir"] or os.environ.get("LASTFM_2K_DIR") or download_folder


def export_package_path() -> None:
    """Put this package's folder on PYTHONPATH, so every job (local or cluster) imports it."""
    package_root = str(Path(__file__).resolve().parents[1])
    current = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if package_root not in current:
        os.environ["PYTHONPATH"] = os.pathsep.join([package_root, *current])
