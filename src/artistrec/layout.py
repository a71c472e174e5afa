"""Where everything of a dataset and of a run lives: the only place that spells the results layout.

``results/{dataset}/`` holds what one dataset shares (its ingested tables, the
report, the multi-seed summary and the sweep); ``results/{dataset}/split-{seed}/``
holds one split seed's run, from the split to the metrics. Paths are strings, so
the rules use the same methods with wildcards (``RunFolder.of("{dataset}", "{seed}")``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

RESULTS = "results"
SPLIT_PARTS = ("train", "valid", "test")


def results_path(*parts: str) -> str:
    """A path under ``results/`` outside any dataset (``results/compare/``, a kept run's copy)."""
    return os.path.join(RESULTS, *parts)


def batch_name(folder: str | os.PathLike[str]) -> str:
    """A batch of new artists is named by its folder: ``new/{batch}/`` of the run that scores it."""
    return Path(folder).resolve().name


@dataclass(frozen=True)
class DatasetFolder:
    """``results/{dataset}``: the ingested tables and what spans the dataset's runs."""

    folder: str

    @classmethod
    def of(cls, dataset: str) -> DatasetFolder:
        return cls(os.path.join(RESULTS, dataset))

    def path(self, *parts: str) -> str:
        return os.path.join(self.folder, *parts)

    @property
    def interactions(self) -> str:
        return self.path("data", "interactions.parquet")

    @property
    def artists(self) -> str:
        return self.path("data", "artists.parquet")

    def features(self, source: str) -> str:
        return self.path("data", f"features_{source}.parquet")

    def report(self, item: str) -> str:
        return self.path("report", item)

    @property
    def metrics_summary(self) -> str:
        """``metrics_summary.json`` (and ``.md``, ``with_suffix``): every method over the split seeds."""
        return self.path("metrics_summary.json")

    def sweep(self, file: str) -> str:
        """``sweep/sweep_summary.tsv`` and ``sweep/sweep.png``: the sweep on valid artists."""
        return self.path("sweep", file)

    def benchmark(self, step: str) -> str:
        return self.path("benchmarks", f"{step}.tsv")

    def run(self, seed: int | str) -> RunFolder:
        return RunFolder(self.path(f"split-{seed}"))


@dataclass(frozen=True)
class RunFolder:
    """``results/{dataset}/split-{seed}``: one split seed's run."""

    folder: str

    @classmethod
    def of(cls, dataset: str, seed: int | str) -> RunFolder:
        return DatasetFolder.of(dataset).run(seed)

    @classmethod
    def of_model(cls, model_file: str | os.PathLike[str]) -> RunFolder:
        """The run of ``models/{name}/model.h5`` (or of any file beside it)."""
        return cls(str(Path(model_file).parents[2]))

    def path(self, *parts: str) -> str:
        return os.path.join(self.folder, *parts)

    @property
    def dataset(self) -> DatasetFolder:
        return DatasetFolder(str(Path(self.folder).parent))

    def split(self) -> dict[str, str]:
        """``split/{part}.txt`` of each part, train, valid and test."""
        return {part: self.path("split", f"{part}.txt") for part in SPLIT_PARTS}

    @property
    def candidates(self) -> str:
        return self.path("candidates.txt")

    def svd(self, source: str, weighting: str, dim: int | str) -> str:
        return self.path("svd", source, f"{weighting}-{dim}.npz")

    @property
    def targets(self) -> str:
        return self.path("targets.npz")

    @property
    def valid_targets(self) -> str:
        return self.path("targets_valid.npz")

    def model(self, name: str, file: str = "model.h5") -> str:
        """A trained network's files: ``model.h5``, ``history.csv``, ``inputs.json``, ``valid.json``."""
        return self.path("models", name, file)

    def checkpoints(self, name: str) -> str:
        return self.path("checkpoints", name)

    @property
    def knn(self) -> str:
        return self.path("knn.json")

    def clusters(self, file: str = "clusters.npz") -> str:
        return self.path("clusters", file)

    @property
    def metrics(self) -> str:
        return self.path("metrics.json")

    @property
    def metrics_table(self) -> str:
        """``metrics.md``: the methods sorted by MAP@10, for people."""
        return self.path("metrics.md")

    @property
    def recommendations(self) -> str:
        return self.path("recommendations", "test.csv")

    def new_artists(self, batch: str, file: str = "recommendations.csv") -> str:
        """``new/{batch}/recommendations.csv`` (and ``.parquet``): a batch of new artists scored by the run."""
        return self.path("new", batch, file)

    @property
    def record(self) -> str:
        """``run.json``: what the run is (dataset, seed, user source, methods, served method, inputs)."""
        return self.path("run.json")

    def benchmark(self, step: str) -> str:
        return self.path("benchmarks", f"{step}.tsv")

    def relative(self, path: str | os.PathLike[str]) -> str:
        """``path`` relative to the run folder (as ``inputs.json`` and ``run.json`` record files)."""
        return os.path.relpath(path, self.folder)
