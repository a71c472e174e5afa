"""What ``snakemake`` prints when a run finishes: where the result is, which method won, what to try next."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from artistrec import io, methods
from artistrec.layout import RunFolder, batch_name


def best_baseline(metrics: dict[str, Any]) -> str:
    """The baseline row with the best test MAP@10 (ties: registry order)."""
    baselines = methods.baselines(list(metrics["methods"]))
    return max(baselines, key=lambda row: (metrics["methods"][row]["map@10"], -baselines.index(row)))


def run_summary(metrics: dict[str, Any], run: RunFolder, example_artist: int) -> str:
    """A few lines: the run, its served method against popularity and the best baseline, where to look, what to try."""
    served, scores = metrics["served_method"], metrics["methods"]
    baseline = best_baseline(metrics)
    return "\n".join(
        [
            f"artistrec: {metrics['dataset']}, split seed {metrics['split_seed']}: "
            f"{metrics['n_test_artists']} new (test) artists, {metrics['n_candidates']} candidates",
            f"  served method: {served['name']}, MAP@10 {served['test_map@10']:.4f} "
            f"(popularity {scores['popularity']['map@10']:.4f}, best baseline {baseline} {scores[baseline]['map@10']:.4f})",
            f"  every method: metrics.json (the copy of {run.metrics}); report: snakemake --report report.html",
            f"  try: .venv/bin/artistrec recommend {run.folder} {example_artist}",
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
