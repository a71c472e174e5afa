"""Runs that verify themselves: every artifact carries a record of its content and of what wrote it.

A damaged or edited artifact ends in one line naming it (or in the clean result once
it is rebuilt), never in a run that exits 0 with a wrong number.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from artistrec import records
from artistrec.verify import run_artifacts, verify_run

from conftest import HANG_LIMIT, REPO, run_folder, snakemake

ARTISTREC = [sys.executable, "-m", "artistrec.cli"]


@pytest.fixture
def finished_run(demo_run: Path, tmp_path: Path) -> Path:
    """A private copy of the finished tiny demo run (records and Snakemake's metadata included)."""
    workdir = tmp_path / "wf"
    shutil.copytree(demo_run, workdir, symlinks=True)
    return workdir


def artistrec(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    return subprocess.run([*ARTISTREC, *args], cwd=workdir, capture_output=True, text=True, timeout=HANG_LIMIT, env=env)


def error_lines(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in (result.stdout + result.stderr).splitlines() if line.startswith("error: ")]


def served_model(workdir: Path) -> str:
    """The model file of the run's served method, relative to the working directory."""
    record = json.loads((run_folder(workdir) / "run.json").read_text())
    name = "listeners" if record["served_method"]["name"] == "network_listeners" else "default"
    return f"results/demo/split-42/models/{name}/model.h5"


def test_every_job_output_has_a_record_naming_its_rule_settings_and_inputs(demo_run: Path):
    model = run_folder(demo_run) / "models" / "default" / "model.h5"
    record = records.read_record(model)
    assert record["sha256"] == records.sha256_of(model) and record["rule"] == "train"
    assert record["settings"]["params"]["settings"]["hidden_units"] == [32]
    assert "results/demo/split-42/targets.npz" in record["inputs"]
    assert all(records.record_path(path).is_file() for path in run_artifacts(run_folder(demo_run)))


def test_verify_passes_a_clean_run_and_finds_a_flipped_byte_in_any_artifact(finished_run: Path):
    run = run_folder(finished_run)
    clean = artistrec(finished_run, "verify", "results/demo/split-42")
    assert clean.returncode == 0 and "every artifact matches its record" in clean.stdout
    artifacts = run_artifacts(run) + sorted((run.parent / "data").glob("*.parquet"))
    for path in artifacts:
        content = path.read_bytes()
        flipped = bytearray(content)
        flipped[len(content) // 2] ^= 0x01
        path.write_bytes(bytes(flipped))
        found = verify_run(run).findings
        path.write_bytes(content)
        assert any(str(path.relative_to(finished_run)) in f.message and f.kind == "damaged" for f in found), path
    assert len(artifacts) > 40
    assert verify_run(run).findings == []


def test_a_truncated_model_stops_the_run_in_one_line_and_a_rebuild_gives_the_clean_result(
    demo_run: Path, finished_run: Path
):
    model = run_folder(finished_run) / "models" / "default" / "model.h5"
    model.write_bytes(model.read_bytes()[: model.stat().st_size // 2])
    failed = snakemake(finished_run, check=False)
    assert failed.returncode != 0
    assert any(
        line.startswith("error: results/demo/split-42/models/default/model.h5: content: ")
        and "; fix: delete it" in line
        for line in error_lines(failed)
    ), failed.stdout[-3000:]
    model.unlink()
    snakemake(finished_run)
    for name in ("metrics.json", "recommendations/test.csv", "run.json"):
        assert (run_folder(finished_run) / name).read_bytes() == (run_folder(demo_run) / name).read_bytes(), name


def test_random_bytes_over_an_svd_file_are_refused_in_one_line_naming_it(finished_run: Path):
    svd = run_folder(finished_run) / "svd" / "likes" / "log-8.npz"
    svd.write_bytes(np.random.default_rng(0).bytes(svd.stat().st_size))
    refused = artistrec(finished_run, "recommend", "results/demo/split-42", "20")
    assert refused.returncode == 1
    assert error_lines(refused) == [line for line in refused.stderr.splitlines() if line]
    assert error_lines(refused)[0].startswith("error: results/demo/split-42/svd/likes/log-8.npz: content: ")


def test_a_line_deleted_from_the_split_stops_the_run_naming_the_split_file(demo_run: Path, finished_run: Path):
    test_file = run_folder(finished_run) / "split" / "test.txt"
    test_file.write_text("".join(test_file.read_text().splitlines(keepends=True)[1:]))
    failed = snakemake(finished_run, check=False)
    assert failed.returncode != 0
    assert any(
        line.startswith("error: results/demo/split-42/split/test.txt: content: ") for line in error_lines(failed)
    )
    metrics = run_folder(finished_run) / "metrics.json"
    assert not metrics.exists() or metrics.read_bytes() == (run_folder(demo_run) / "metrics.json").read_bytes()


def test_weights_overwritten_with_the_time_restored_are_refused_by_recommend_and_found_by_verify(
    demo_run: Path, finished_run: Path
):
    model = finished_run / served_model(finished_run)
    times = model.stat()
    with open(model, "r+b") as handle:
        handle.seek(model.stat().st_size // 2)
        handle.write(np.random.default_rng(1).bytes(4096))
    os.utime(model, ns=(times.st_atime_ns, times.st_mtime_ns))
    assert "Nothing to be done" in snakemake(finished_run).stderr
    assert (run_folder(finished_run) / "metrics.json").read_bytes() == (
        run_folder(demo_run) / "metrics.json"
    ).read_bytes()
    refused = artistrec(finished_run, "recommend", "results/demo/split-42", "20")
    assert refused.returncode == 1
    (line,) = error_lines(refused)
    assert line.startswith(f"error: {served_model(finished_run)}: content: is not what rule ")
    verified = artistrec(finished_run, "verify", "results/demo/split-42")
    assert verified.returncode == 1 and f"damaged: {served_model(finished_run)}: content" in verified.stdout


def test_an_artifact_without_a_record_is_refused_as_unrecorded(finished_run: Path):
    records.record_path(run_folder(finished_run) / "run.json").unlink()
    refused = artistrec(finished_run, "recommend", "results/demo/split-42", "20")
    assert error_lines(refused) == [
        "error: results/demo/split-42/run.json: record: has no record of what wrote it (made by hand, by an older "
        "artistrec, or by a killed job); fix: delete it and run snakemake again, which rebuilds it"
    ]


def test_a_run_moved_out_of_its_working_directory_still_verifies_and_serves(demo_run: Path, tmp_path: Path):
    moved = tmp_path / "archive" / "demo"
    shutil.copytree(demo_run / "results" / "demo", moved, symlinks=True)
    assert verify_run(moved / "split-42").findings == []
    served = artistrec(tmp_path, "recommend", str(moved / "split-42"), "20")
    assert served.returncode == 0, served.stderr


def test_a_model_whose_record_shows_other_training_settings_is_refused_by_evaluate(finished_run: Path):
    model = run_folder(finished_run) / "models" / "default" / "model.h5"
    record = records.read_record(model)
    record["settings"]["params"]["settings"]["max_epochs"] = 400  # as an orphan of another config would record it
    records.record_path(model).write_text(json.dumps(record))
    failed = snakemake(finished_run, "--forcerun", "evaluate", check=False)
    assert failed.returncode != 0
    assert "error: results/demo/split-42/models/default/model.h5: settings: was trained with settings " in "\n".join(
        error_lines(failed)
    )
