"""A workflow step as a job: its inputs checked, its outputs recorded, any failure one line on the console."""

from __future__ import annotations

import errno
import json
import os
import signal
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp

from artistrec import io, records, runner
from artistrec.errors import InputError


class Named(dict):
    """What Snakemake's named lists offer a script: iteration over values, ``items()``."""

    def __iter__(self):
        return iter(self.values())


def job(tmp_path: Path, inputs: list[str], outputs: list[str]) -> SimpleNamespace:
    return SimpleNamespace(
        rule="step",
        input=Named({f"in{i}": path for i, path in enumerate(inputs)}),
        output=Named({f"out{i}": path for i, path in enumerate(outputs)}),
        params=Named({"size": 3}),
        wildcards=Named({"dataset": "demo"}),
        log=[str(tmp_path / "logs" / "step.log")],
        threads=1,
    )


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "raw.csv").write_text("user_id,artists\n1,2\n")
    return tmp_path


def test_a_job_records_each_output_with_its_rule_settings_and_the_checksums_of_its_inputs(workdir: Path):
    step = job(workdir, ["raw.csv"], ["results/demo/a.txt"])
    runner.run(step, lambda: io.write_text("results/demo/a.txt", "1\n"))
    record = records.read_record("results/demo/a.txt")
    assert record["rule"] == "step" and record["sha256"] == records.sha256_of("results/demo/a.txt")
    assert record["settings"] == {"wildcards": {"dataset": "demo"}, "params": {"size": 3}}
    assert record["inputs"] == {"raw.csv": records.sha256_of("raw.csv")}
    assert not list((workdir / ".snakemake" / "artistrec-jobs").iterdir()), "the job's lock outlived it"


def test_an_input_artifact_changed_after_it_was_written_stops_the_job_before_its_step(workdir: Path, capfd):
    io.write_text("results/demo/a.txt", "1\n")
    records.write_record("results/demo/a.txt", "step", {}, {})
    Path("results/demo/a.txt").write_text("2\n")
    ran = []
    with pytest.raises(SystemExit) as stopped:
        runner.run(job(workdir, ["results/demo/a.txt"], ["results/demo/b.txt"]), lambda: ran.append(1))
    assert stopped.value.code == 1 and not ran
    (line,) = capfd.readouterr().err.splitlines()
    assert line.startswith("error: results/demo/a.txt: content: is not what rule step wrote")


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (
            OSError(errno.ENOSPC, "No space left on device", "results/demo/a.txt"),
            "error: results/demo/a.txt: no space left on device; fix: free disk space",
        ),
        (
            ZeroDivisionError("division by zero"),
            "error: rule step: ZeroDivisionError: division by zero; fix: see the traceback in ",
        ),
    ],
)
def test_an_unexpected_failure_is_one_line_on_the_console_and_its_traceback_is_in_the_log(
    workdir: Path, capfd, failure: Exception, expected: str
):
    def step() -> None:
        raise failure

    with pytest.raises(SystemExit):
        runner.run(job(workdir, ["raw.csv"], ["results/demo/a.txt"]), step)
    (line,) = capfd.readouterr().err.splitlines()
    assert line.startswith(expected)
    assert "Traceback" in (workdir / "logs" / "step.log").read_text()
    assert not Path("results/demo/a.txt").exists() and not records.record_path("results/demo/a.txt").exists()


def test_a_job_stopped_by_sigterm_says_so_in_one_line_and_records_nothing(workdir: Path, capfd):
    def step() -> None:
        io.write_text("results/demo/a.txt", "1\n")
        os.kill(os.getpid(), signal.SIGTERM)

    with pytest.raises(SystemExit):
        runner.run(job(workdir, ["raw.csv"], ["results/demo/a.txt"]), step)
    (line,) = capfd.readouterr().err.splitlines()
    assert line == (
        "error: rule step: stopped by SIGTERM before it finished; "
        "fix: run snakemake again: finished steps and training checkpoints are kept"
    )
    assert not records.record_path("results/demo/a.txt").exists()
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_a_record_that_is_not_json_is_one_line_naming_the_artifact(workdir: Path):
    io.write_text("results/demo/a.txt", "1\n")
    records.record_path("results/demo/a.txt").write_text("{not json")
    with pytest.raises(InputError, match=r"^results/demo/a.txt: record: its record .a.txt.record.json is unreadable"):
        records.check("results/demo/a.txt")
    records.record_path("results/demo/a.txt").write_text(json.dumps({"path": "results/demo/a.txt"}))
    with pytest.raises(InputError, match="is unreadable"):
        records.check("results/demo/a.txt")


def test_a_numeric_artifact_with_an_infinite_value_is_never_written(tmp_path: Path):
    vectors = np.array([[1.0, np.inf], [0.5, 0.25]], dtype=np.float32)
    with pytest.raises(InputError, match=r"svd.npz: vectors: would hold 1 infinite or NaN values of 4"):
        io.write_npz(tmp_path / "svd.npz", artist_ids=np.array([1, 2]), vectors=vectors)
    with pytest.raises(InputError, match=r"targets.npz: data: would hold 1 infinite or NaN values"):
        io.write_sparse(tmp_path / "targets.npz", sp.csr_matrix(np.array([[0.0, np.nan]])))
    assert not list(tmp_path.iterdir())
