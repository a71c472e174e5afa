"""The evidence rules on the tiny demo: the sweep on valid artists and the multi-seed summary."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from artistrec import methods

from conftest import run_folder, snakemake


@pytest.fixture(scope="module")
def evidence_run(demo_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo run plus `snakemake sweep seeds` (tests/config.yaml: seeds 42 and 1)."""
    workdir = tmp_path_factory.mktemp("evidence") / "wf"
    shutil.copytree(demo_run, workdir, symlinks=True)
    snakemake(workdir, "--", "sweep", "seeds")
    return workdir


def test_the_sweep_trains_one_model_per_point_and_tables_their_validation_map(evidence_run: Path):
    table = pd.read_csv(evidence_run / "results" / "demo" / "sweep" / "sweep_summary.tsv", sep="\t")
    # tests/config.yaml: dims [4, 8] (default 8), weightings log and tfidf (the default mixes
    # them), towers [] and [32] (default [32]); dropout and learning rate have one value each.
    # Each axis also shows its config value, measured by the default model.
    assert sorted(table["point"]) == [
        "default",
        "dim-4",
        "dim-8",
        "dropout-0.5",
        "lr-0.001",
        "tower-32",
        "tower-linear",
        "weighting-log",
        "weighting-mixed",
        "weighting-tfidf",
    ]
    defaults = table[table["is_default"]]
    assert sorted(defaults["point"]) == ["default", "dim-8", "dropout-0.5", "lr-0.001", "tower-32", "weighting-mixed"]
    assert defaults["map@10"].nunique() == 1
    assert table[["map@1", "map@5", "map@10", "map@20"]].apply(lambda c: c.between(0, 1)).all().all()
    for point in ("default", "dim-4", "tower-linear", "weighting-log", "weighting-tfidf"):
        assert (run_folder(evidence_run) / "models" / point / "valid.json").is_file()
    plot = evidence_run / "results" / "demo" / "sweep" / "sweep.png"
    assert plot.read_bytes().startswith(b"\x89PNG") and plot.stat().st_size > 5000


def test_the_seeds_summary_aggregates_every_seeds_run(evidence_run: Path):
    summary = json.loads((evidence_run / "results" / "demo" / "metrics_summary.json").read_text())
    assert summary["split_seeds"] == [42, 1] and summary["n_seeds"] == 2
    per_seed = [json.loads((run_folder(evidence_run, seed=s) / "metrics.json").read_text()) for s in (42, 1)]
    network = summary["subsets"]["all"]["network"]["map@10"]
    assert network["values"] == [d["methods"]["network"]["map@10"] for d in per_seed]
    assert network["mean"] == pytest.approx(sum(network["values"]) / 2)
    assert set(summary["subsets"]) == {"all", "with_side_information", "without_side_information", "long_tail"}
    assert summary["subsets"]["long_tail"] == {}  # 100 candidates: no long tail beyond the 1,000 most popular
    comparison = summary["comparisons"]["network_knn"]["all"]["map@10"]
    assert methods.kind_of(comparison["baseline"]) == "baseline"
    assert comparison["verdict"] in {"win", "tie", "loss"}
    table = (evidence_run / "results" / "demo" / "metrics_summary.md").read_text()
    assert "| method | MAP@1 | MAP@5 | MAP@10 | MAP@20 |" in table
    assert "| network | " in table and " ± " in table


def test_after_the_evidence_run_nothing_is_scheduled(evidence_run: Path):
    finished = snakemake(evidence_run, "-n", "--", "sweep", "seeds")
    assert "Nothing to be done" in finished.stdout
