"""What every dataset provides to the workflow: its raw files, their readers and early checks.

The workflow never branches on a dataset's name: the Snakefile's input functions,
the ingest steps and the config checks ask the dataset object from
:func:`artistrec.datasets.get_dataset`. A dataset is one module with one subclass
of :class:`Dataset`, a line in the registry (``artistrec.datasets.DATASETS``) and
its entries in ``config.yaml`` and the config schema.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from artistrec.ingest import (
    RawTable,
    artists_from_csv,
    feature_from_csv,
    interactions_from_csv,
    listened_artists_only,
)

Config = dict[str, Any]
Tables = dict[str, Any]
"""Where the ingest jobs find a dataset's raw tables: a plain value, passed as a rule's ``params``."""
Bounds = tuple[int, dict[str, int]]
"""Upper bounds of (listened artists, columns per feature source)."""
COLUMNS = {
    "interactions": ("user_id", "artists", "weight"),
    "artists": ("artists", "name"),
    "features": ("artists", "weight"),
}
"""The columns of each kind of CSV table in the seed's schema (besides a feature source's key)."""


@dataclass(frozen=True)
class RawFiles:
    """A dataset's raw files as the workflow sees them.

    ``listening`` and ``features[source]`` are the inputs of the ingest jobs (paths,
    so that editing a raw file re-runs its job); ``tables`` is what those jobs
    receive to read them (see :meth:`Dataset.read_listening`).
    """

    tables: Tables
    listening: list[str]
    features: dict[str, list[str]]


@dataclass(frozen=True)
class UserKeys:
    """The distinct keys of the user source's raw file, looked up among the listening table's user ids."""

    file: str
    column: str
    listening: str
    keys: int
    """Distinct keys (values of ``column``)."""
    user_ids: int
    """Of them, user ids of ``listening``."""
    not_ids: int
    """Of them, no id at all: not a non-negative integer (text, ``-1``, ``1.5``)."""

    @property
    def share(self) -> float:
        return self.user_ids / self.keys if self.keys else 1.0


class Dataset(ABC):
    """One dataset: where its raw files are, how to read them, what to check before any job."""

    name: ClassVar[str]
    """The key under ``datasets`` in the config, and the ``{dataset}`` of result paths."""

    def settings(self, config: Config) -> dict[str, Any]:
        """This dataset's section of the config."""
        return config["datasets"][self.name]

    def sources(self, config: Config) -> list[str]:
        """The configured feature sources, in config order."""
        return list(self.settings(config)["features"])

    @abstractmethod
    def key_columns(self, config: Config) -> dict[str, str]:
        """Each configured source's key column in CSV files of new artists (``artists, <key>[, weight]``)."""

    @abstractmethod
    def raw_files(self, config: Config) -> RawFiles:
        """The raw files of the listening table and of each configured feature source."""

    @abstractmethod
    def read_listening(self, tables: Tables) -> tuple[pd.DataFrame, pd.DataFrame | None]:
        """Canonical interactions, and the artists table (None: the dataset has no names)."""

    @abstractmethod
    def read_feature(self, tables: Tables, source: str) -> pd.DataFrame:
        """The canonical feature table (``artist_id, key, weight``) of one source."""

    @abstractmethod
    def check_raw_files(self, config: Config) -> None:
        """Raise a one-line :class:`InputError` naming the config key of a raw file that is missing
        (or, where the dataset can tell from the header, lacks a column it needs).

        Only existence and headers: the ingest jobs check the content, and know whether
        it changed since the last run.
        """

    def bounds(self, config: Config) -> Bounds | None:
        """Upper bounds, never below the true counts, of what the raw data holds; None if unknown yet.

        May raise ``OSError``, ``ValueError``, ``KeyError`` or ``pyarrow.ArrowException``
        on unreadable raw data: the caller treats that as unknown, since the ingest jobs
        report exactly what is wrong. Raises :class:`InputError` where what it counts is
        certainly unusable (a table without rows, a source none of whose artists is listened to).
        """
        return None

    def user_keys(self, config: Config) -> UserKeys | None:
        """The configured user source's keys against the listening table's user ids; None if unknown
        (no user source, or raw files not there yet). May raise like :meth:`bounds`.
        """
        return None


class CsvDataset(Dataset):
    """A dataset in the seed's CSV schema (UTF-8, comma-separated, header row).

    Its :meth:`raw_tables` are ``{"interactions": path, "artists": path or None,
    "features": {source: (path, key column)}}``, and where the files name a column
    otherwise (see :data:`COLUMNS`), ``"columns": {"interactions": {column: its name},
    "artists": {...}, "features": {source: {...}}}``.
    """

    @abstractmethod
    def raw_tables(self, config: Config) -> Tables:
        """The paths of the CSV tables and each configured source's key column."""

    def key_columns(self, config: Config) -> dict[str, str]:
        """The key column of each source's CSV: new artists' files use the same names."""
        return {source: key for source, (_, key) in self.raw_tables(config)["features"].items()}

    def raw_files(self, config: Config) -> RawFiles:
        tables = self.raw_tables(config)
        listening = [tables["interactions"]] + ([tables["artists"]] if tables["artists"] else [])
        features = {source: [path] for source, (path, _) in tables["features"].items()}
        return RawFiles(tables, listening, features)

    def read_listening(self, tables: Tables) -> tuple[pd.DataFrame, pd.DataFrame | None]:
        listening = column_names(tables, "interactions")
        interactions = interactions_from_csv(
            RawTable(Path(tables["interactions"])), listening["user_id"], listening["artists"], listening["weight"]
        )
        if not tables.get("artists"):
            return interactions, None
        names = column_names(tables, "artists")
        artists = artists_from_csv(RawTable(Path(tables["artists"])), names["artists"], names["name"])
        return interactions, listened_artists_only(artists, interactions, tables["artists"])

    def read_feature(self, tables: Tables, source: str) -> pd.DataFrame:
        path, key = tables["features"][source]
        names = column_names(tables, "features", source)
        return feature_from_csv(RawTable(Path(path)), key=key, artist=names["artists"], weight=names["weight"])


def column_names(tables: Tables, table: str, source: str | None = None) -> dict[str, str]:
    """Each column of a CSV table (see :data:`COLUMNS`) by the name its file gives it.

    ``table`` is ``interactions``, ``artists`` or ``features`` (then of ``source``).
    """
    given = tables.get("columns", {}).get(table, {})
    renamed = given.get(source, {}) if table == "features" else given
    return {column: renamed.get(column, column) for column in COLUMNS[table]}
