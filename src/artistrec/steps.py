"""One function per workflow step: paths and parameters in, artifacts out.

The Snakemake scripts under ``workflow/scripts`` only unpack the ``snakemake``
object and call these, so every step can also be run and tested without Snakemake.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from artistrec import demo, io
from artistrec.candidates import select_candidates
from artistrec.errors import InputError
from artistrec.features import fit_svd, save_svd, source_matrix
from artistrec.ingest import (
    RawTable,
    artists_from_csv,
    feature_from_csv,
    interactions_from_csv,
    lastfm_2k_feature,
    lastfm_2k_listening,
    names_for,
    restrict_to_listened,
)
from artistrec.matrices import listeners
from artistrec.split import split_artists
from artistrec.targets import build_targets

log = logging.getLogger(__name__)


def write_demo(folder: str, generator: dict[str, Any]) -> None:
    tables = demo.generate(demo.DemoSpec(**generator))
    demo.write(tables, Path(folder))
    for name, table in tables.items():
        log.info("demo %s: %d rows", name, len(table))


def ingest_listening(dataset: str, raw: dict[str, Any], interactions_out: str, artists_out: str) -> None:
    """Write the canonical interactions and artists tables of one dataset.

    ``raw`` says where the raw tables are: ``{"dir": ...}`` for lastfm-2k, else
    ``{"interactions": path, "artists": path or None, ...}`` in the seed's CSV schema.
    """
    if dataset == "lastfm-2k":
        interactions, artists = lastfm_2k_listening(Path(raw["dir"]))
    else:
        interactions = interactions_from_csv(RawTable(Path(raw["interactions"])))
        artists = artists_from_csv(RawTable(Path(raw["artists"]))) if raw.get("artists") else None
    log.info(
        "interactions: %d listening pairs, %d users, %d artists",
        len(interactions), interactions["user_id"].nunique(), interactions["artist_id"].nunique(),
    )  # fmt: skip
    io.write_parquet(artists_out, names_for(interactions["artist_id"].to_numpy(), artists))
    io.write_parquet(interactions_out, interactions)


def ingest_feature(dataset: str, raw: dict[str, Any], source: str, interactions_file: str, out: str) -> None:
    """Write one canonical feature table, restricted to artists somebody listens to.

    ``raw["features"][source]`` is ``(path, key column)`` for CSV datasets.
    """
    if dataset == "lastfm-2k":
        table = lastfm_2k_feature(Path(raw["dir"]), source)
    else:
        path, key = raw["features"][source]
        table = feature_from_csv(RawTable(Path(path)), key=key)
    table = restrict_to_listened(table, io.read_parquet(interactions_file), source)
    if table.empty:
        raise InputError(
            source, "artist_id", "no artist of this source appears in the listening table", "check its artist ids"
        )
    log.info("%s: %d rows, %d artists, %d keys", source, len(table), table["artist_id"].nunique(), table["key"].nunique())
    io.write_parquet(out, table)


def split(interactions_file: str, test_fraction: float, valid_fraction: float, seed: int, out: dict[str, str]) -> None:
    interactions = io.read_parquet(interactions_file)
    parts = split_artists(interactions["artist_id"].to_numpy(), test_fraction, valid_fraction, seed)
    for name in ("train", "valid", "test"):
        ids = getattr(parts, name)
        if ids.shape[0] == 0:
            raise InputError(
                "config", f"split.{name}", f"leaves no {name} artists", "use more artists or other split fractions"
            )
        io.write_ids(out[name], ids)
        log.info("%s: %d artists", name, ids.shape[0])


def read_split(files: dict[str, str]) -> dict[str, np.ndarray]:
    return {name: io.read_ids(path) for name, path in files.items()}


def all_artists(parts: dict[str, np.ndarray]) -> np.ndarray:
    return np.sort(np.concatenate([parts["train"], parts["valid"], parts["test"]]))


def candidates(interactions_file: str, train_file: str, n_candidates: int, out: str) -> None:
    chosen = select_candidates(io.read_parquet(interactions_file), io.read_ids(train_file), n_candidates)
    io.write_ids(out, chosen)
    log.info("candidates: the %d most-listened train artists", chosen.shape[0])


def svd(features_file: str, split_files: dict[str, str], source: str, dim: int, weighting: str, seed: int, out: str) -> None:
    parts = read_split(split_files)
    matrix = source_matrix(io.read_parquet(features_file), all_artists(parts))
    fitted = fit_svd(matrix, parts["train"], dim, weighting, seed, source)
    without = int((np.abs(fitted.vectors).sum(axis=1) == 0).sum())
    log.info("%s: %d of %d artists have no side information (zero vectors)", source, without, matrix.artist_ids.shape[0])
    save_svd(out, fitted, weighting)


def targets(interactions_file: str, split_files: dict[str, str], candidates_file: str, out: str, valid_out: str) -> None:
    parts = read_split(split_files)
    artist_ids = all_artists(parts)
    listen = listeners(io.read_parquet(interactions_file), artist_ids)
    chosen = io.read_ids(candidates_file)
    for name, path in (("train", out), ("valid", valid_out)):
        matrix = build_targets(listen, artist_ids, parts[name], chosen)
        empty = int((np.diff(matrix.indptr) == 0).sum())
        log.info("%s targets: %d x %d, %d non-zeros, %d empty rows", name, *matrix.shape, matrix.nnz, empty)
        io.write_sparse(path, matrix)


def history_table(history: list[dict[str, float]]) -> pd.DataFrame:
    return pd.DataFrame(history, columns=["epoch", "loss", "val_loss", "seconds"])
