"""`artistrec compare` and `rule compare`: several runs' metrics side by side, against a baseline."""

from __future__ import annotations

import copy
import json
import os
import sys
from pathlib import Path

import pytest

from artistrec.cli import main
from artistrec.compare import Run, comparison_markdown, run_names

from conftest import copy_workflow, metrics_document, snakemake

BASE = metrics_document(
    {
        "network": {
            "map@1": 0.5,
            "map@5": 0.4,
            "map@10": 0.3,
            "map@20": 0.2,
            "ndcg@10": 0.35,
            "recall@20": 0.1,
            "coverage@20": 0.8,
            "map@10_ci95": [0.25, 0.35],
        },
    }
)


def changed(**network: float) -> dict:
    metrics = copy.deepcopy(BASE)
    metrics["methods"]["network"].update(network)
    return metrics


def rows_of(table: str) -> dict[tuple[str, str], list[str]]:
    """(method, metric) -> the remaining cells of a Markdown table."""
    rows = {}
    for line in table.splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[(cells[0], cells[1])] = cells[2:]
    return rows


def write_run(folder: Path, metrics: dict) -> Path:
    folder.mkdir(parents=True)
    (folder / "metrics.json").write_text(json.dumps(metrics))
    return folder


def test_each_run_sits_beside_the_baseline_with_its_difference():
    table = comparison_markdown([Run("seed0", BASE), Run("seed1", changed(**{"map@10": 0.35, "ndcg@10": 0.35 - 1e-9}))])
    assert table.splitlines()[0] == "| method | metric | seed0 (baseline) | seed1 | Δ seed1 |"
    rows = rows_of(table)
    assert rows[("network", "MAP@10")] == ["0.3000", "0.3500", "+0.0500"]
    assert rows[("network", "MAP@1")] == ["0.5000", "0.5000", "+0.0000"]
    assert rows[("network", "NDCG@10")] == ["0.3500", "0.3500", "+0.0000"]
    assert rows[("", "test artists")] == ["10", "10", "+0"]
    assert rows[("network", "MAP@10 95% interval")] == ["[0.2500, 0.3500]", "[0.2500, 0.3500]", "—"]


def test_the_baseline_column_comes_first_whichever_run_it_is():
    table = comparison_markdown([Run("a", BASE), Run("b", changed(**{"map@10": 0.1}))], baseline=1)
    assert table.splitlines()[0] == "| method | metric | b (baseline) | a | Δ a |"
    assert rows_of(table)[("network", "MAP@10")] == ["0.1000", "0.3000", "+0.2000"]


def test_a_method_missing_from_a_run_shows_a_dash():
    other = copy.deepcopy(BASE)
    other["methods"]["popularity"] = BASE["methods"]["network"]
    rows = rows_of(comparison_markdown([Run("a", BASE), Run("b", other)]))
    assert rows[("popularity", "MAP@10")] == ["—", "0.3000", "—"]


def test_runs_are_named_by_folder_or_by_path_where_folders_share_a_name(tmp_path):
    first = write_run(tmp_path / "x" / "demo", BASE)
    second = write_run(tmp_path / "y" / "demo", BASE)
    other = write_run(tmp_path / "y" / "seed1", BASE)
    assert run_names([str(first / "metrics.json"), str(other)]) == ["demo", "seed1"]
    assert run_names([str(first), str(second)]) == [str(first), str(second)]


def test_compare_command_prints_markdown_against_the_chosen_baseline(tmp_path, capsys):
    one = write_run(tmp_path / "one", BASE)
    two = write_run(tmp_path / "two", changed(**{"map@10": 0.4}))
    assert main(["compare", str(one), str(two), "--baseline", "two"]) == 0
    table = capsys.readouterr().out
    assert table.splitlines()[0] == "| method | metric | two (baseline) | one | Δ one |"
    assert rows_of(table)[("network", "MAP@10")] == ["0.4000", "0.3000", "-0.1000"]


def test_the_command_shows_map_at_10_per_method_and_every_metric_with_all(tmp_path, capsys):
    one = write_run(tmp_path / "one", BASE)
    two = write_run(tmp_path / "two", changed(**{"map@10": 0.4}))
    assert main(["compare", str(one), str(two)]) == 0
    short = rows_of(capsys.readouterr().out)
    assert {metric for method, metric in short if method} == {"MAP@10"}
    assert ("", "test artists") in short and ("", "candidates") not in short
    assert main(["compare", str(one), str(two), "--all"]) == 0
    every = rows_of(capsys.readouterr().out)
    assert {"MAP@1", "NDCG@10", "MAP@10 95% interval"} <= {metric for _, metric in every}
    assert set(short) < set(every) and all(every[row] == short[row] for row in short)


def test_compare_command_writes_the_table_to_a_file(tmp_path, capsys):
    one = write_run(tmp_path / "one", BASE)
    assert main(["compare", str(one), str(one), "-o", str(tmp_path / "table.md")]) == 0
    assert capsys.readouterr().out == ""
    assert (tmp_path / "table.md").read_text().startswith("| method | metric |")


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "metrics.json: does not exist"),
        ("{", "content: cannot be read (Expecting property name enclosed in double quotes: line 1 column 2"),
        ("{}", "methods: is missing"),
    ],
)
def test_a_run_without_readable_metrics_is_a_one_line_error(tmp_path, capsys, content, message):
    folder = tmp_path / "run"
    folder.mkdir()
    if content is not None:
        (folder / "metrics.json").write_text(content)
    assert main(["compare", str(folder), str(folder)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_an_unknown_baseline_is_an_error(tmp_path, capsys):
    one = write_run(tmp_path / "one", BASE)
    assert main(["compare", str(one), "--baseline", "two"]) == 1
    assert "'two' is not among the runs" in capsys.readouterr().err


def test_compare_rule_tables_archived_runs_under_results(tmp_path):
    workdir = copy_workflow(tmp_path / "wf")
    write_run(workdir / "results" / "seed0", BASE)
    write_run(workdir / "results" / "seed1", changed(**{"map@10": 0.25}))
    # A flag first: conftest.snakemake ends with --configfile, which would take a bare target as a config file.
    snakemake(workdir, "--printshellcmds", "results/compare/seed0+seed1.md")
    rows = rows_of((workdir / "results" / "compare" / "seed0+seed1.md").read_text())
    assert rows[("network", "MAP@10")] == ["0.3000", "0.2500", "-0.0500"]


def test_a_reader_that_closes_the_pipe_early_ends_the_command_quietly(tmp_path, monkeypatch):
    one = tmp_path / "one" / "metrics.json"
    one.parent.mkdir()
    one.write_text(json.dumps(BASE))
    read_end, write_end = os.pipe()
    os.close(read_end)  # like `artistrec compare ... | head` after head has exited
    monkeypatch.setattr(sys, "stdout", os.fdopen(write_end, "w"))
    assert main(["compare", str(one), str(one)]) == 0
