"""Metrics aggregated over split seeds, and the hyperparameter sweep's table and figure.

Every method of a run is evaluated on the same split, so across seeds the
methods' metrics are paired: a model is compared with a baseline through the
per-seed differences, whose spread is much smaller than either method's.
"""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from artistrec import io
from artistrec.compare import METRIC_LABELS
from artistrec.metrics import K_VALUES

if TYPE_CHECKING:
    from matplotlib.figure import Figure

MAP_KEYS = tuple(f"map@{k}" for k in K_VALUES)
ALL = "all"
DEFAULT_POINT_AXIS = "default"
# A difference of means within this many standard errors of zero is a tie.
TIE_STANDARD_ERRORS = 2.0


def subset_methods(document: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """subset -> method -> metrics of one metrics.json; the subset "all" is every test artist."""
    subsets = {ALL: document["methods"]}
    subsets.update({name: subset["methods"] for name, subset in document.get("subsets", {}).items()})
    return subsets


def check_comparable(documents: list[dict[str, Any]]) -> None:
    if not documents:
        raise ValueError("no metrics documents to aggregate")
    datasets = sorted({str(d["dataset"]) for d in documents})
    if len(datasets) > 1:
        raise ValueError(f"metrics of different datasets cannot be aggregated: {', '.join(datasets)}")
    seeds = [d["split_seed"] for d in documents]
    if len(set(seeds)) < len(seeds):
        raise ValueError(f"split seeds repeat, so some seeds would count twice: {seeds}")
    layouts = {
        tuple((subset, tuple(sorted(methods))) for subset, methods in subset_methods(d).items()) for d in documents
    }
    if len(layouts) > 1:
        raise ValueError(f"metrics documents have different subsets or method sets: {sorted(layouts)}")


def statistics(values: list[float]) -> dict[str, Any]:
    n = len(values)
    std = float(np.std(values, ddof=1)) if n > 1 else 0.0
    return {"mean": float(np.mean(values)), "std": std, "sem": std / math.sqrt(n), "values": values}


def is_scalar(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def aggregate(documents: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean, sample std and standard error of every scalar metric over split seeds, per subset and method.

    ``values`` keeps the per-seed values in the order of ``split_seeds``, for paired comparisons.
    """
    check_comparable(documents)
    per_document = [subset_methods(d) for d in documents]
    subsets = {
        subset: {
            method: {
                metric: statistics([float(d[subset][method][metric]) for d in per_document])
                for metric, value in metrics.items()
                if is_scalar(value)
            }
            for method, metrics in methods.items()
        }
        for subset, methods in per_document[0].items()
    }
    return {
        "dataset": documents[0]["dataset"],
        "split_seeds": [d["split_seed"] for d in documents],
        "n_seeds": len(documents),
        "subsets": subsets,
    }


def paired_comparison(model: dict[str, Any], baseline: dict[str, Any]) -> dict[str, Any]:
    """Difference of means, its standard error from the per-seed differences, and the verdict.

    With one seed the standard error is undefined (``None``) and the verdict is a tie.
    """
    differences = np.asarray(model["values"]) - np.asarray(baseline["values"])
    difference = float(differences.mean())
    n = differences.shape[0]
    sem = float(np.std(differences, ddof=1) / math.sqrt(n)) if n > 1 else None
    if sem is None or difference == 0.0 or abs(difference) < TIE_STANDARD_ERRORS * sem:
        verdict = "tie"
    else:
        verdict = "win" if difference > 0 else "loss"
    relative = difference / baseline["mean"] if baseline["mean"] != 0 else None
    return {"difference": difference, "relative_gain": relative, "sem": sem, "verdict": verdict}


def comparisons(
    summary: dict[str, Any],
    model: str,
    baselines: list[str],
    metric_keys: tuple[str, ...] = MAP_KEYS,
) -> dict[str, dict[str, dict[str, Any]]]:
    """Per subset and metric: ``model`` against the baseline with the best mean (ties: the first listed)."""
    result: dict[str, dict[str, dict[str, Any]]] = {}
    for subset, methods in summary["subsets"].items():
        if not methods:
            continue  # an empty subset: nothing to compare
        result[subset] = {}
        for metric in metric_keys:
            best = max(baselines, key=lambda b: methods[b][metric]["mean"])
            result[subset][metric] = {
                "baseline": best,
                "model_mean": methods[model][metric]["mean"],
                "baseline_mean": methods[best][metric]["mean"],
                **paired_comparison(methods[model][metric], methods[best][metric]),
            }
    return result


def markdown_table(
    summary: dict[str, Any],
    subset: str,
    methods: list[str] | None = None,
    metric_keys: tuple[str, ...] = MAP_KEYS,
) -> str:
    """One row per method, each cell "mean ± std" over seeds; by default the best MAP@10 first."""
    metrics = summary["subsets"][subset]
    if methods is None:
        methods = sorted(metrics, key=lambda m: -metrics[m]["map@10"]["mean"])
    header = "| method | " + " | ".join(METRIC_LABELS.get(k, k) for k in metric_keys) + " |"
    rule = "|---|" + "---:|" * len(metric_keys)
    rows = [
        f"| {method} | "
        + " | ".join(f"{metrics[method][k]['mean']:.4f} ± {metrics[method][k]['std']:.4f}" for k in metric_keys)
        + " |"
        for method in methods
    ]
    return "\n".join([header, rule, *rows]) + "\n"


def sweep_table(points: dict[str, dict[str, Any]], defaults: dict[str, str]) -> pd.DataFrame:
    """One row per sweep point, sorted by axis and then best validation MAP@10 first.

    The index is each point's position in ``points`` (the grid order), which
    ``sweep_plot`` uses to lay the values out as the grid lists them.
    """
    table = pd.DataFrame(
        [
            {
                "point": name,
                "axis": point["axis"],
                "value": str(point["value"]),
                "is_default": point["axis"] == DEFAULT_POINT_AXIS
                or str(point["value"]) == str(defaults[point["axis"]]),
                **{key: float(point["valid"][key]) for key in MAP_KEYS},
                "epochs": int(point["epochs"]),
            }
            for name, point in points.items()
        ]
    )
    return table.sort_values(["axis", "map@10"], ascending=[True, False])


def sweep_figure(table: pd.DataFrame) -> Figure:
    """Validation MAP@10 per value, one panel per swept axis, values in grid order; the config default's bar in orange.

    The dashed line is the MAP@10 of the defaults (every setting at its config value).
    """
    from matplotlib.figure import Figure  # imported here: only the sweep summary draws
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    axes_names = [a for a in table["axis"].unique() if a != DEFAULT_POINT_AXIS]
    default_map = table.loc[table["is_default"], "map@10"].max()
    figure = Figure(figsize=(3.2 * len(axes_names), 3.6), layout="constrained")
    panels = figure.subplots(1, len(axes_names), sharey=True, squeeze=False)[0]
    for panel, axis in zip(panels, axes_names, strict=True):
        rows = table[table["axis"] == axis].sort_index()
        panel.bar(rows["value"], rows["map@10"], color=np.where(rows["is_default"], "tab:orange", "tab:blue"))
        panel.axhline(default_map, color="grey", linestyle="--")
        panel.set_xlabel(axis)
        panel.tick_params(axis="x", labelsize=8)
        panel.grid(alpha=0.3, axis="y")
    # Differences between settings are a few hundredths: start the axis near the lowest bar.
    panels[0].set_ylim(max(0.0, table["map@10"].min() - 0.02), table["map@10"].max() + 0.01)
    panels[0].set_ylabel("validation MAP@10")
    panels[0].legend(
        handles=[
            Patch(color="tab:orange", label="config default"),
            Line2D([], [], color="grey", linestyle="--", label="all defaults"),
        ],
        fontsize=8,
    )
    figure.suptitle("Validation MAP@10 by setting")
    return figure


def sweep_plot(table: pd.DataFrame, out: str | os.PathLike[str]) -> None:
    """Write ``sweep_figure`` as PNG, atomically."""
    with io.atomic_path(out) as tmp:
        sweep_figure(table).savefig(tmp, format="png", dpi=120)
