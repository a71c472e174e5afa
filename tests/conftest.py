"""Shared fixtures: a copy of the workflow in a temporary folder, and a way to run it."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from artistrec.layout import RunFolder

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
WORKFLOW_FILES = ("Snakefile", "config.yaml", "workflow", "profiles", "src", "envs")
TEST_CONFIG = REPO / "tests" / "config.yaml"
MAIN_SEED = 42  # split.seed of config.yaml: the main run
# Subprocess limits only catch hangs: a slow or loaded machine makes the suite slower, never red.
HANG_LIMIT = float(os.environ.get("ARTISTREC_TEST_HANG_LIMIT", 4 * 3600))  # seconds


@contextlib.contextmanager
def killed_after_epochs(monkeypatch: pytest.MonkeyPatch, epochs: int) -> Iterator[list[int]]:
    """A training killed (KeyboardInterrupt) right after its checkpoint of epoch ``epochs``; yields the
    epochs it checkpointed. Checkpointing is itself again on leaving.
    """
    from artistrec.model import Checkpoints  # TensorFlow: only for the tests that train

    original, saved = Checkpoints.save, []

    def save_then_die(self, model, state, improved, slots=None):
        original(self, model, state, improved, slots)
        saved.append(state.epoch)
        if len(saved) == epochs:
            raise KeyboardInterrupt(f"killed after epoch {epochs}")

    monkeypatch.setattr(Checkpoints, "save", save_then_die)
    try:
        yield saved
    finally:
        monkeypatch.setattr(Checkpoints, "save", original)


def run_folder(workdir: Path, dataset: str = "demo", seed: int = MAIN_SEED) -> Path:
    """Where one split seed's run keeps its artifacts."""
    return workdir / RunFolder.of(dataset, seed).folder


def metrics_document(methods: dict) -> dict:
    """A metrics.json payload of a small demo run with the given per-method metrics."""
    return {
        "dataset": "demo",
        "n_test_artists": 10,
        "n_test_artists_without_features": 1,
        "n_test_artists_without_ground_truth": 0,
        "n_candidates": 50,
        "methods": methods,
    }


def evaluation_inputs(run: Path, users: Path | None = None):
    """The evaluate step's inputs of a finished tiny demo run (tests/config.yaml; the default network only)."""
    from artistrec.methods.context import EvaluationInputs

    data = run.parent / "data"
    sources = (("likes", "log"), ("playlists", "log"), ("tags", "tfidf"))
    return EvaluationInputs(
        split={part: str(run / "split" / f"{part}.txt") for part in ("train", "valid", "test")},
        candidates=str(run / "candidates.txt"),
        interactions=str(data / "interactions.parquet"),
        targets=str(run / "targets.npz"),
        models={"default": str(run / "models" / "default" / "model.h5")},
        knn=str(run / "knn.json"),
        knn_svd={dim: [str(run / "svd" / s / f"{w}-{dim}.npz") for s, w in sources] for dim in (4, 8)},
        clusters=None,
        users=None if users is None else str(users),
        features={},
    )


def lastfm_2k_dir() -> Path:
    return Path(os.environ.get("LASTFM_2K_DIR", REPO.parent / "shared" / "data" / "hetrec2011-lastfm-2k"))


@pytest.fixture(scope="session")
def lastfm_dir() -> Path:
    """The real Last.fm-2k copy; missing is a skip locally and a failure in CI."""
    folder = lastfm_2k_dir()
    if not (folder / "user_artists.dat").is_file():
        message = f"Last.fm-2k not found in {folder}; set LASTFM_2K_DIR"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return folder


def copy_workflow(target: Path) -> Path:
    """A fresh copy of the workflow (no results) in ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOW_FILES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(source, target / name)
    return target


def snakemake(
    workdir: Path, *args: str, check: bool = True, timeout: float = HANG_LIMIT
) -> subprocess.CompletedProcess:
    """Run Snakemake in ``workdir`` with the tiny test config; return the finished process.

    ``args`` may name another ``--configfile`` (it then replaces the test config) and,
    after ``--``, targets.
    """
    config = [] if "--configfile" in args else ["--configfile", str(TEST_CONFIG)]
    command = [SNAKEMAKE, "--cores", "2", "--resources", "gpu=1", *config, *args]
    result = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result


@pytest.fixture
def workflow_copy(tmp_path: Path) -> Path:
    return copy_workflow(tmp_path / "wf")


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One complete tiny demo run shared by the read-only end-to-end tests."""
    workdir = copy_workflow(tmp_path_factory.mktemp("demo") / "wf")
    snakemake(workdir)
    return workdir
