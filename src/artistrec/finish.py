"""What ``snakemake`` prints when a run finishes: where the result is, which method won, what to try next."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from artistrec import io, methods
from artistrec.layout import RunFolder, batch_name

# A run's task is degenerate when popularity is nearly as good as the best method, or when a
# typical test artist is co-listened with a large share of the candidates: the metrics then
# cannot tell methods apart.
POPULARITY_WITHIN = 0.05
GROUND_TRUTH_SHARE = 0.25
TABLE_KEYS = {"map@1": "MAP@1", "map@5": "MAP@5", "map@10": "MAP@10", "map@20": "MAP@20", "ndcg@10": "NDCG@10"}


def degenerate_warnings(metrics: dict[str, Any], median_ground_truth: float) -> list[str]:
    """One line per reason the run's task is degenerate (none: the metrics can rank methods)."""
    scores, n_candidates = metrics["methods"], metrics["n_candidates"]
    warnings = []
    others = [row for row in scores if row != "popularity"]
    if "popularity" in scores and others:
        best = max(others, key=lambda row: scores[row]["map@10"])
        popularity, top = scores["popularity"]["map@10"], scores[best]["map@10"]
        if popularity >= (1 - POPULARITY_WITHIN) * top:
            warnings.append(
                f"popularity's MAP@10 ({popularity:.4f}) is within {POPULARITY_WITHIN:.0%} of the best method's "
                f"({best}, {top:.4f}): the candidates' popularity explains nearly everything"
            )
    if median_ground_truth > GROUND_TRUTH_SHARE * n_candidates:
        warnings.append(
            f"the median test artist is co-listened with {median_ground_truth:.0f} of the {n_candidates} candidates "
            f"(over {GROUND_TRUTH_SHARE:.0%}): nearly any list scores well"
        )
    return [f"degenerate task: {warning}" for warning in warnings]


def metrics_markdown(metrics: dict[str, Any]) -> str:
    """``metrics.md``: the methods by test MAP@10, 4 digits, the served method and the baselines marked."""
    scores = metrics["methods"]
    baselines = set(methods.baselines(list(scores)))
    served = metrics.get("served_method", {}).get("name")
    lines = [
        f"# {metrics['dataset']}, split seed {metrics['split_seed']}: {metrics['n_test_artists']} test artists, "
        f"{metrics['n_candidates']} candidates",
        "",
        "| method | kind | " + " | ".join(TABLE_KEYS.values()) + " |",
        "|---|---|" + "---:|" * len(TABLE_KEYS),
    ]
    for row in sorted(scores, key=lambda row: -scores[row]["map@10"]):
        kind = ("baseline" if row in baselines else "network") + (", served" if row == served else "")
        cells = " | ".join(f"{scores[row][key]:.4f}" for key in TABLE_KEYS)
        lines.append(f"| {row} | {kind} | {cells} |")
    lines += ["", *(f"Warning: {line}" for line in metrics.get("warnings", []))]
    return "\n".join(lines).rstrip("\n") + "\n"


def best_of(metrics: dict[str, Any], kind: methods.Kind, other_than: str | None = None) -> str | None:
    """The row of ``kind`` with the best test MAP@10 (ties: registry order), ``other_than`` that one; None: none."""
    rows = [row for row in metrics["methods"] if methods.kind_of(row) == kind and row != other_than]
    return max(rows, key=lambda row: (metrics["methods"][row]["map@10"], -rows.index(row)), default=None)


def run_summary(metrics: dict[str, Any], run: RunFolder, example_artist: int) -> str:
    """A few lines: the run, its served method against popularity and the best (other) baseline (a served
    baseline also against the best network), where to look, what to try."""
    served, scores = metrics["served_method"], metrics["methods"]
    served_baseline = methods.kind_of(served["name"]) == "baseline"
    compared = {
        "best other baseline" if served_baseline else "best baseline": best_of(metrics, "baseline", served["name"]),
        "best network": best_of(metrics, "network") if served_baseline else None,
    }
    against = [f"popularity {scores['popularity']['map@10']:.4f}"] + [
        f"{label} {row} {scores[row]['map@10']:.4f}" for label, row in compared.items() if row is not None
    ]
    return "\n".join(
        [
            f"artistrec: {metrics['dataset']}, split seed {metrics['split_seed']}: "
            f"{metrics['n_test_artists']} new (test) artists, {metrics['n_candidates']} candidates",
            f"  served method: {served['name']}, MAP@10 {served['test_map@10']:.4f} ({', '.join(against)})",
            f"  every method: {run.metrics_table} and metrics.json; report: make report",
            f"  try: .venv/bin/artistrec recommend {run.folder} {example_artist}",
            *(f"  warning: {line}" for line in metrics.get("warnings", [])),
        ]
    )


def print_run_summary(dataset: str, seed: int, new_artists: str | None = None) -> None:
    """Print ``run_summary`` of a finished run; nothing when the run has no metrics (another target was built).

    ``new_artists``: the config's batch folder; where its recommendations are, once scored.
    """
    run = RunFolder.of(dataset, seed)
    if not (Path(run.metrics).is_file() and Path(run.split()["test"]).is_file()):
        return
    metrics = io.read_json(run.metrics)
    if "served_method" in metrics:
        print(run_summary(metrics, run, int(io.read_ids(run.split()["test"])[0])))
    if new_artists is not None and Path(run.new_artists(batch_name(new_artists))).is_file():
        print(f"  new artists of {new_artists}: {run.new_artists(batch_name(new_artists))}")
