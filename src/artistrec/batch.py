"""New artists in batch: a folder of side information in, a file of similar artists out.

The production job of a music service (rule ``recommend_new``, ``artistrec recommend
RUN --batch FOLDER``). The folder holds one CSV per feature source of the run,
``{source}.csv`` with columns ``artists, <key>[, weight]`` (the run's key column
names, ``run.json``), and optionally ``artists.csv`` (``artists, name``). New
artists are scored a chunk at a time through :class:`artistrec.recommend.ResultsFolder`,
whose served method's ``serve`` is the call the evaluate step made for the test
artists: a test artist written out as a new one gets the same top list, and memory
is bounded by the chunk, not by the batch.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import scipy.sparse as sp

from artistrec import io
from artistrec.errors import InputError
from artistrec.features import source_matrix
from artistrec.ingest import RawTable, artists_from_csv, feature_from_csv
from artistrec.layout import RunFolder
from artistrec.matrices import positions
from artistrec.neighbours import CHUNK_ELEMENTS
from artistrec.recommend import ResultsFolder, Source

log = logging.getLogger(__name__)

NAMES_FILE = "artists.csv"


@dataclass(frozen=True)
class NewArtists:
    """A checked batch: the new artists (sorted ids) and their raw side information.

    ``counts[source]`` is new artists x the run's keys of that source (raw weights, keys
    the run does not know left out); ``linked`` the user source's rows (``artist_id, key``;
    None: the run has no user source).
    """

    artist_ids: np.ndarray
    counts: dict[str, sp.csr_matrix]
    linked: pd.DataFrame | None


def source_files(folder: Path, run: ResultsFolder) -> dict[str, Path]:
    """Each source's CSV in ``folder``; a missing one, or a CSV that is no source of the run, is an error."""
    if not folder.is_dir():
        raise InputError(str(folder), "folder", "does not exist", "give a folder with one CSV per feature source")
    keys = run.record["keys"]
    for path in sorted(folder.glob("*.csv")):
        if path.stem not in run.available and path.name != NAMES_FILE:
            raise InputError(
                str(path),
                "file name",
                f"{path.stem!r} is not a feature source of this run",
                f"name each file after a source ({', '.join(f'{s}.csv' for s in run.available)}) or {NAMES_FILE}",
            )
    files = {source: folder / f"{source}.csv" for source in run.available}
    for source, path in files.items():
        if not path.is_file():
            header = f"artists,{keys[source]}"
            fix = f"write it with the header {header} (the header alone if these artists have no {source})"
            raise InputError(str(path), "file", f"is missing (the run reads the source {source!r})", fix)
    return files


def read_source(path: Path, source: Source, key: str, run_artists: np.ndarray) -> pd.DataFrame:
    """One source's rows (``artist_id, key, weight``), checked: no artist of the run, some key the run knows."""
    table = feature_from_csv(RawTable(path), key=key, allow_empty=True)
    refuse_run_artists(table["artist_id"].to_numpy(), run_artists, path)
    known = positions(table["key"].to_numpy().astype(str), source.keys.astype(str)) >= 0
    if table.shape[0] and not known.any():
        example = ", ".join(map(repr, source.keys[:3].tolist()))
        raise InputError(
            str(path),
            f"column '{key}'",
            f"none of its {table.shape[0]} keys is a {source.name} key of the run",
            f"use the keys the run was trained on, such as {example}",
        )
    if not known.all():
        unknown = table.loc[~known, "key"]
        log.info(
            "%s: %d of %d rows have keys the run does not know (%d distinct, such as %r): left out",
            path,
            unknown.shape[0],
            table.shape[0],
            unknown.nunique(),
            unknown.iloc[0],
        )
    return table


def refuse_run_artists(artist_ids: np.ndarray, run_artists: np.ndarray, path: Path) -> None:
    """A new artist's id must not be an artist of the run: the two would be confused."""
    taken = positions(artist_ids, run_artists) >= 0
    if taken.any():
        first = int(artist_ids[np.flatnonzero(taken)[0]])
        raise InputError(
            str(path),
            "column 'artists'",
            f"{int(taken.sum())} rows name artists of the run (such as {first}), not new artists",
            "give new artists ids the run does not use, or ask for a known artist with artistrec recommend RUN ARTIST",
        )


def read_new_artists(folder: str | Path, run: ResultsFolder) -> NewArtists:
    """The batch in ``folder``, checked with one-line errors that name the file and the fix."""
    folder = Path(folder)
    files = source_files(folder, run)
    run_artists = np.union1d(run.run_artists, run.artists["artist_id"].to_numpy())
    tables = {
        name: read_source(path, run.available[name], run.record["keys"][name], run_artists)
        for name, path in files.items()
    }
    given = [table["artist_id"].to_numpy() for table in tables.values()]
    if (folder / NAMES_FILE).is_file():  # names: also lists artists without side information
        named = artists_from_csv(RawTable(folder / NAMES_FILE))["artist_id"].to_numpy()
        refuse_run_artists(named, run_artists, folder / NAMES_FILE)
        given.append(named)
    artist_ids = np.unique(np.concatenate(given))
    if artist_ids.shape[0] == 0:
        raise InputError(str(folder), "rows", "no file names a new artist", "add rows to the source files")
    counts = {
        name: source_matrix(table, artist_ids, run.available[name].keys.astype(str)).counts
        for name, table in tables.items()
    }
    linked = tables[run.user_source][["artist_id", "key"]] if run.user_source in tables else None
    return NewArtists(artist_ids, counts, linked)


def export_batch(
    run: str | Path, artist_ids: np.ndarray, folder: str | Path, offset: int, weights: bool = True
) -> Path:
    """Write the side information of the run's ``artist_ids`` as a batch of new artists (ids + ``offset``).

    What the evaluation scored for a test artist, a batch job must score for its copy
    (the tests and ``benchmarks/new_artists.py`` rely on it). ``weights=False`` leaves
    the weight column out (each row then counts once).
    """
    record = io.read_json(Path(run) / "run.json")
    data = RunFolder(str(run)).dataset
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for source, key in record["keys"].items():
        table = io.read_parquet(data.features(source))
        table = table[table["artist_id"].isin(artist_ids)]
        columns = {"artists": table["artist_id"] + offset, key: table["key"]}
        if weights:
            columns["weight"] = table["weight"]
        pd.DataFrame(columns).to_csv(folder / f"{source}.csv", index=False)
    names = pd.DataFrame({"artists": artist_ids + offset, "name": [f"New {i}" for i in artist_ids]})
    names.to_csv(folder / NAMES_FILE, index=False)
    return folder


def chunk_rows(run: ResultsFolder) -> int:
    """New artists per chunk: about ``CHUNK_ELEMENTS`` scores (or listener chances) at a time."""
    width = max(int(run.candidates.shape[0]), int(run.listening.candidate_listen.shape[1]))
    return max(1, CHUNK_ELEMENTS // width)


def recommended_chunks(run: ResultsFolder, new: NewArtists, k: int, chunk: int) -> Iterator[tuple[pd.DataFrame, int]]:
    """The top ``k`` of each new artist (``artist_id, rank, candidate_id, name, score``), ``chunk`` artists
    at a time, ranked as the evaluation
    ranks; with each chunk, how many of its artists have side information (the others: popularity order).
    """
    links = None if new.linked is None else run.linked_users(new.linked, new.artist_ids)
    for start in range(0, new.artist_ids.shape[0], chunk):
        rows = slice(start, start + chunk)
        queries = run.new_queries(
            {name: counts[rows] for name, counts in new.counts.items()}, None if links is None else links[rows]
        )
        top, scores = run.top(queries, k)
        ids = run.candidates[top].ravel()
        table = pd.DataFrame(
            {
                "artist_id": np.repeat(new.artist_ids[rows], top.shape[1]),
                "rank": np.tile(np.arange(1, top.shape[1] + 1), top.shape[0]),
                "candidate_id": ids,
                "name": run.names.reindex(ids).fillna("").astype(str).to_numpy(),
                "score": scores.ravel(),
            }
        )
        yield table, int(queries.informed.sum())


def recommend_batch(
    results: str | Path,
    folder: str | Path,
    output: str | Path,
    k: int,
    method: str | None = None,
    chunk: int | None = None,
    progress: bool = False,
) -> dict[str, int | str]:
    """Score the new artists in ``folder`` with the finished run ``results`` and write ``output``
    (``recommendations.csv``) and its Parquet copy beside it, both or neither. Returns the counts.
    """
    return score_batch(ResultsFolder(results, method), folder, output, k, chunk, progress)


def score_batch(
    run: ResultsFolder,
    folder: str | Path,
    output: str | Path,
    k: int,
    chunk: int | None = None,
    progress: bool = False,
) -> dict[str, int | str]:
    """``recommend_batch`` with the run already open (its networks loaded on first use)."""
    run.check_top(k)
    new = read_new_artists(folder, run)
    output = Path(output)
    counts = {"new_artists": int(new.artist_ids.shape[0]), "with_side_information": 0}
    with io.atomic_path(output) as csv_tmp, io.atomic_path(output.with_suffix(".parquet")) as parquet_tmp:
        writer: pq.ParquetWriter | None = None
        done = 0
        for table, informed in recommended_chunks(run, new, k, chunk or chunk_rows(run)):
            table.to_csv(csv_tmp, mode="a", header=writer is None, index=False)
            batch = pa.Table.from_pandas(table, preserve_index=False)
            writer = writer or pq.ParquetWriter(parquet_tmp, batch.schema)
            writer.write_table(batch)
            counts["with_side_information"] += informed
            done += table["artist_id"].nunique()
            if progress:
                print(f"\rnew artists scored: {done:,} of {counts['new_artists']:,}", end="", file=sys.stderr)
        if writer is not None:
            writer.close()
    if progress:
        print(file=sys.stderr)
    without = counts["new_artists"] - counts["with_side_information"]
    log.info(
        "%s: %d new artists scored by %s, %d with side information, %d without (popularity order); wrote %s",
        folder,
        counts["new_artists"],
        run.method,
        counts["with_side_information"],
        without,
        output,
    )
    return {"method": run.method, **counts}
