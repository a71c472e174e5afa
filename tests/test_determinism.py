"""Two complete runs from a clean state with the same config give the same artifacts, byte for byte."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from conftest import copy_workflow, snakemake

BYTE_IDENTICAL = (
    "data/interactions.parquet",
    "split/train.txt",
    "split/valid.txt",
    "split/test.txt",
    "candidates.txt",
    "svd/likes.npz",
    "svd/playlists.npz",
    "svd/tags.npz",
    "targets.npz",
    "targets_valid.npz",
    "recommendations/test.csv",
    "metrics.json",
)


def h5_arrays(path: Path) -> dict[str, np.ndarray]:
    """Every dataset in an HDF5 file (the file's bytes also hold creation times)."""
    arrays: dict[str, np.ndarray] = {}
    with h5py.File(path, "r") as handle:
        handle.visititems(
            lambda name, item: arrays.update({name: item[()]}) if isinstance(item, h5py.Dataset) else None
        )
    return arrays


def test_a_second_clean_run_reproduces_every_artifact(demo_run: Path, tmp_path: Path):
    second = copy_workflow(tmp_path / "wf")
    snakemake(second, "--", "results/demo/metrics.json")
    first_results, second_results = demo_run / "results" / "demo", second / "results" / "demo"
    for name in BYTE_IDENTICAL:
        assert (first_results / name).read_bytes() == (second_results / name).read_bytes(), name
    first_model, second_model = (h5_arrays(r / "model.h5") for r in (first_results, second_results))
    assert first_model.keys() == second_model.keys() and first_model
    for name, weights in first_model.items():
        assert np.array_equal(weights, second_model[name]), name
