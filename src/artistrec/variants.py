"""Model variants: the default model, its sweep points and its feature-source ablations.

A variant is named by one path segment, so that each has its own artifacts under
``models/{variant}/`` and is re-run only when its own settings change:

- ``default``: the features and model of the config;
- ``only-{source}``: the default model on one feature source (the ablation);
- ``member-{i}``: the default model with model seed ``seed + i``, a member of
  the network ensemble (``default`` is member 0);
- ``{axis}-{value}``: the default with one setting changed (a sweep point), for
  the axes ``dim`` (SVD size of every source), ``weighting`` (of every source),
  ``tower`` (``linear`` or widths joined by ``-``), ``dropout`` and ``lr``.

The sweep varies one axis at a time around the defaults: the full grid of the
config's lists (hundreds of trainings) is out of reach, and the one-at-a-time
design answers the question a user asks of each setting.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from artistrec import io, records
from artistrec.errors import InputError
from artistrec.layout import RunFolder

DEFAULT = "default"
SWEEP_AXES = ("dim", "weighting", "tower", "dropout", "lr")


@dataclass(frozen=True)
class Variant:
    """What one model variant trains on and how: SVD settings per source (in input order) and model settings."""

    features: dict[str, dict[str, Any]]
    model: dict[str, Any]


def tower_name(hidden_units: list[int]) -> str:
    return "-".join(str(units) for units in hidden_units) or "linear"


def number_name(value: float) -> str:
    return format(value, "g")


def default_value(config: dict[str, Any], dataset: str, axis: str) -> str:
    """The config's value of a sweep axis, as it appears in a variant name."""
    features = config["datasets"][dataset]["features"]
    if axis == "dim":
        dims = {settings["dim"] for settings in features.values()}
        return str(dims.pop()) if len(dims) == 1 else "mixed"
    if axis == "weighting":
        weightings = {settings["weighting"] for settings in features.values()}
        return weightings.pop() if len(weightings) == 1 else "mixed"
    model = config["model"]
    return {
        "tower": tower_name(model["hidden_units"]),
        "dropout": number_name(model["dropout"]),
        "lr": number_name(model["learning_rate"]),
    }[axis]


def sweep_grid(config: dict[str, Any], dataset: str) -> dict[str, list[str]]:
    """Each sweep axis's values as they appear in variant names, in config order."""
    sweep = config["sweep"]
    return {
        "dim": [str(dim) for dim in config["datasets"][dataset]["dims"]],
        "weighting": list(sweep["weighting"]),
        "tower": [tower_name(units) for units in sweep["hidden_units"]],
        "dropout": [number_name(value) for value in sweep["dropout"]],
        "lr": [number_name(value) for value in sweep["learning_rate"]],
    }


def sweep_points(config: dict[str, Any], dataset: str) -> dict[str, tuple[str, str]]:
    """Variant name -> (axis, value) of every sweep point; ``default`` stands for the config's own values."""
    points = {DEFAULT: ("default", "")}
    for axis, values in sweep_grid(config, dataset).items():
        default = default_value(config, dataset, axis)
        points.update({f"{axis}-{value}": (axis, value) for value in values if value != default})
    return points


def ablation_variants(sources: list[str]) -> list[str]:
    """``only-{source}`` for each source, when there is more than one."""
    return [f"only-{source}" for source in sources] if len(sources) > 1 else []


def ensemble_members(size: int) -> list[str]:
    """The variants averaged by a ``network_ensemble`` of ``size`` (empty when it is off)."""
    return [DEFAULT, *(f"member-{i}" for i in range(1, size))] if size > 1 else []


def variant_settings(config: dict[str, Any], dataset: str, variant: str) -> Variant:
    """Features and model settings of a variant name (see the module docstring)."""
    features = {
        source: {"dim": settings["dim"], "weighting": settings["weighting"]}
        for source, settings in config["datasets"][dataset]["features"].items()
    }
    model = dict(config["model"])
    if variant == DEFAULT:
        return Variant(features, model)
    axis, _, value = variant.partition("-")
    if axis == "only" and value in features:
        return Variant({value: features[value]}, model)
    if axis == "member" and value.isdigit():
        return Variant(features, {**model, "seed": model["seed"] + int(value)})
    if axis not in SWEEP_AXES or value not in sweep_grid(config, dataset)[axis]:
        raise InputError(
            "variant",
            variant,
            "is neither default, only-<source>, member-<i> nor a point of the config's sweep grid",
            f"use one of: {', '.join([*sweep_points(config, dataset), *ablation_variants(list(features)), 'member-<i>'])}",
        )
    if axis == "dim":
        features = {source: {**settings, "dim": int(value)} for source, settings in features.items()}
    elif axis == "weighting":
        features = {source: {**settings, "weighting": value} for source, settings in features.items()}
    elif axis == "tower":
        model["hidden_units"] = [] if value == "linear" else [int(units) for units in value.split("-")]
    elif axis == "dropout":
        model["dropout"] = float(value)
    else:
        model["learning_rate"] = float(value)
    return Variant(features, model)


def model_inputs(model_file: str | Path) -> list[tuple[str, Path]]:
    """(source, SVD file) of each input block of a trained variant, in input order (its ``inputs.json``)."""
    run = RunFolder.of_model(model_file)
    inputs_file = Path(model_file).with_name("inputs.json")
    records.check(inputs_file)
    inputs = io.read_json(inputs_file)
    return [(entry["source"], Path(run.path(entry["svd"]))) for entry in inputs]


def input_files(model_file: str | Path) -> list[str]:
    """The SVD files a trained variant reads, in input order (its ``inputs.json``)."""
    return [str(path) for _, path in model_inputs(model_file)]
