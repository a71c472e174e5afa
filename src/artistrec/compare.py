"""Several runs' ``metrics.json`` side by side, with the difference to a baseline run.

Like ``dvc metrics diff``: one row per (method, metric), one column per run, and
after each non-baseline run a column with its difference to the baseline.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from artistrec import io, records
from artistrec.errors import InputError
from artistrec.layout import RunFolder

log = logging.getLogger(__name__)

# metrics.json key -> label, in the order the tables show them.
METRIC_LABELS = {
    "map@1": "MAP@1",
    "map@5": "MAP@5",
    "map@10": "MAP@10",
    "map@20": "MAP@20",
    "ndcg@10": "NDCG@10",
    "recall@20": "Recall@20",
    "coverage@20": "coverage@20",
    "long_tail@20": "long tail@20",
}
INTERVAL_KEY = "map@10_ci95"
RUN_COUNTS = {
    "n_test_artists": "test artists",
    "n_test_artists_without_features": "test artists without side information",
    "n_test_artists_without_ground_truth": "test artists without ground truth",
    "n_candidates": "candidates",
    "n_tuning_artists": "valid artists settings are tuned on",
}
MISSING = "—"


@dataclass(frozen=True)
class Run:
    name: str
    metrics: dict[str, Any]


def metrics_file(path: str | Path) -> Path:
    """A run is a ``metrics.json`` file or a folder holding one (a run folder, or a kept copy's)."""
    path = Path(path)
    return Path(RunFolder(str(path)).metrics) if path.is_dir() else path


def read_metrics(path: str | Path) -> dict[str, Any]:
    file = metrics_file(path)
    if not file.is_file():
        raise InputError(
            str(file), "metrics.json", "does not exist", "give a results folder of a finished run or its metrics.json"
        )
    if records.record_path(file).is_file():  # a metrics.json copied by hand carries no record
        records.check(file)
    metrics = io.read_json(file)
    if not isinstance(metrics, dict) or not isinstance(metrics.get("methods"), dict):
        raise InputError(str(file), "methods", "is missing", "give a metrics.json written by the evaluate step")
    return metrics


def run_names(paths: list[str]) -> list[str]:
    """Each run's folder name; where two folders share a name, the paths as given."""
    names = [metrics_file(p).parent.name or str(p) for p in paths]
    if len(set(names)) < len(names):
        return [str(p) for p in paths]
    return names


def difference(value: Any, baseline: Any) -> str:
    if not isinstance(value, (int, float)) or not isinstance(baseline, (int, float)):
        return MISSING
    if isinstance(value, int) and isinstance(baseline, int):
        return f"{value - baseline:+d}"
    # Rounded first, plus 0.0, so that a tiny negative difference shows as +0.0000, not -0.0000.
    return f"{round(value - baseline, 4) + 0.0:+.4f}"


def shown(value: Any) -> str:
    if value is None:
        return MISSING
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, list):
        return "[" + ", ".join(f"{v:.4f}" for v in value) + "]"
    return str(value)


def comparison_rows(runs: list[Run], every_metric: bool = True) -> list[tuple[str, str, list[Any]]]:
    """(method, metric label, one value per run) rows; None where a run lacks the value.

    ``every_metric``: the run counts and every metric of every method; else the dataset,
    the test artists and MAP@10 per method (what to read first).
    """
    rows: list[tuple[str, str, list[Any]]] = [("", "dataset", [r.metrics.get("dataset") for r in runs])]
    counts = RUN_COUNTS if every_metric else {"n_test_artists": RUN_COUNTS["n_test_artists"]}
    rows += [("", label, [r.metrics.get(key) for r in runs]) for key, label in counts.items()]
    labels = METRIC_LABELS if every_metric else {"map@10": METRIC_LABELS["map@10"]}
    methods = list(dict.fromkeys(m for r in runs for m in r.metrics["methods"]))
    for method in methods:
        values = [r.metrics["methods"].get(method, {}) for r in runs]
        rows += [(method, label, [v.get(key) for v in values]) for key, label in labels.items()]
        if every_metric:
            rows.append((method, "MAP@10 95% interval", [v.get(INTERVAL_KEY) for v in values]))
    return rows


def comparison_markdown(runs: list[Run], baseline: int = 0, every_metric: bool = True) -> str:
    """A Markdown table of the runs' values (``comparison_rows``), with each run's difference to ``runs[baseline]``."""
    order = [baseline] + [i for i in range(len(runs)) if i != baseline]
    header = ["method", "metric", f"{runs[baseline].name} (baseline)"]
    for i in order[1:]:
        header += [runs[i].name, f"Δ {runs[i].name}"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for method, metric, values in comparison_rows(runs, every_metric):
        cells = [method, metric, shown(values[baseline])]
        for i in order[1:]:
            cells += [shown(values[i]), difference(values[i], values[baseline])]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def compare(paths: list[str], names: list[str] | None = None, baseline: int = 0, every_metric: bool = True) -> str:
    """Read the runs at ``paths`` (folders or metrics.json files) and compare them to ``paths[baseline]``."""
    names = names or run_names(paths)
    runs = [Run(name, read_metrics(path)) for name, path in zip(names, paths)]
    return comparison_markdown(runs, baseline, every_metric)


def compare_step(metrics_files: list[str], names: list[str], out: str) -> None:
    io.write_text(out, compare(metrics_files, names))
    log.info("compared %d runs against %s", len(metrics_files), names[0])
