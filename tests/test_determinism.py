"""Two complete runs from a clean state with the same config give the same artifacts, byte for byte."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from conftest import copy_workflow, snakemake

# Under results/demo/.
BYTE_IDENTICAL = (
    "data/interactions.parquet",
    "split-42/split/train.txt",
    "split-42/split/valid.txt",
    "split-42/split/test.txt",
    "split-42/candidates.txt",
    "split-42/svd/likes/log-8.npz",
    "split-42/svd/playlists/log-4.npz",
    "split-42/svd/tags/tfidf-8.npz",
    "split-42/targets.npz",
    "split-42/targets_valid.npz",
    "split-42/knn.json",
    "split-42/clusters/clusters.npz",
    "split-42/recommendations/test.csv",
    "split-42/metrics.json",
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
    snakemake(second, "--", "results/demo/split-42/metrics.json")
    first_results, second_results = demo_run / "results" / "demo", second / "results" / "demo"
    for name in BYTE_IDENTICAL:
        assert (first_results / name).read_bytes() == (second_results / name).read_bytes(), name
    first_model, second_model = (
        h5_arrays(r / "split-42/models/default/model.h5") for r in (first_results, second_results)
    )
    assert first_model.keys() == second_model.keys() and first_model
    for name, weights in first_model.items():
        assert np.array_equal(weights, second_model[name]), name
