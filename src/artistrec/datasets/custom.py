"""The user's own CSV files in the seed's schema, named in the config (``datasets.custom``).

A file may name a column otherwise: ``columns`` (of a feature source, or
``datasets.custom.columns.interactions`` and ``.artists``) maps the seed's name to
the file's, e.g. ``{artists: artist_id}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.compute

from artistrec.datasets.base import Bounds, Config, CsvDataset, Tables, UserKeys
from artistrec.errors import InputError
from artistrec.ingest import RawTable, distinct_ids, read_columns, read_header

OTHER_SEPARATORS = ";\t|"


def _csv(path: str) -> RawTable:
    """How the config checks read a custom CSV: a spreadsheet's UTF-8 byte-order mark is common."""
    return RawTable(Path(path), encoding="utf-8-sig")


@dataclass(frozen=True)
class Column:
    """A column a configured file must have."""

    name: str
    """Its name in the file."""
    named_by: str
    """The config key that names it, or that would (a ``columns`` entry) where the seed's name is used."""
    given: bool
    """Whether ``named_by`` is in the config (else the seed's name applies)."""


@dataclass(frozen=True)
class ConfiguredFile:
    """A raw file named in the config, and the columns the ingest jobs will read from it."""

    key: str
    """The config key that names it."""
    path: str
    columns: list[Column]


Problem = tuple[str, str, str]
"""(config key, problem, fix) of one header problem."""


class Custom(CsvDataset):
    name = "custom"

    def raw_tables(self, config: Config) -> Tables:
        custom = self.settings(config)
        tables: Tables = {
            "interactions": custom["interactions"],
            "artists": custom["artists"],
            "features": {s: (v["path"], v["key"]) for s, v in custom["features"].items()},
        }
        columns = {table: names for table, names in custom.get("columns", {}).items() if names}
        renamed = {s: v["columns"] for s, v in custom["features"].items() if v.get("columns")}
        if renamed:
            columns["features"] = renamed
        if columns:  # absent otherwise: a config without any keeps the ingest jobs' params as they were
            tables["columns"] = columns
        return tables

    def configured_files(self, config: Config) -> dict[str, str]:
        """Each configured raw file under the config key that names it."""
        return {file.key: file.path for file in self.files(config)}

    def files(self, config: Config) -> list[ConfiguredFile]:
        """Each configured raw file with the columns the ingest jobs read, in config order."""
        artists = self.artists_file(config)
        return [self.listening_file(config), *([artists] if artists else []), *self.feature_files(config).values()]

    def listening_file(self, config: Config) -> ConfiguredFile:
        """The listening table: user and artist columns (and the weight column where one is named)."""
        custom, prefix = self.settings(config), f"datasets.{self.name}"
        given = custom.get("columns", {}).get("interactions", {})
        columns = _columns(f"{prefix}.columns.interactions", given, ("user_id", "artists"))
        return ConfiguredFile(f"{prefix}.interactions", custom["interactions"], columns)

    def artists_file(self, config: Config) -> ConfiguredFile | None:
        custom, prefix = self.settings(config), f"datasets.{self.name}"
        if not custom["artists"]:
            return None
        given = custom.get("columns", {}).get("artists", {})
        return ConfiguredFile(
            f"{prefix}.artists", custom["artists"], _columns(f"{prefix}.columns.artists", given, ("artists", "name"))
        )

    def feature_files(self, config: Config) -> dict[str, ConfiguredFile]:
        """Each source's file: artist and key columns (and the weight column where one is named)."""
        files = {}
        for source, settings in self.settings(config)["features"].items():
            prefix = f"datasets.{self.name}.features.{source}"
            artists, *weight = _columns(f"{prefix}.columns", settings.get("columns", {}), ("artists",))
            key = Column(settings["key"], f"{prefix}.key", given=True)
            files[source] = ConfiguredFile(f"{prefix}.path", settings["path"], [artists, key, *weight])
        return files

    def check_raw_files(self, config: Config) -> None:
        """Every configured file exists; then the headers of all of them have the columns read (one error)."""
        files = self.files(config)
        for file in files:
            if not Path(file.path).is_file():
                raise InputError(
                    "config",
                    file.key,
                    f"names {file.path!r}, which is not a file",
                    "fix the path (relative to the working directory)",
                )
        problems = [problem for file in files for problem in _header_problems(file)]
        if problems:
            raise _all_in_one(problems)

    def bounds(self, config: Config) -> Bounds:
        """Distinct artists of the listening table and distinct keys of each source.

        A table without rows, and a source none of whose artists is in the listening table, are errors.
        """
        listening = self.listening_file(config)
        artist = listening.columns[1].name
        artists, not_ids = distinct_ids(read_columns(_csv(listening.path), [artist]).column(artist))
        if len(artists) + not_ids == 0:
            raise _no_rows(listening)
        keys = {s: _source_keys(file, artists, listening.path) for s, file in self.feature_files(config).items()}
        return len(artists) + not_ids, keys

    def user_keys(self, config: Config) -> UserKeys | None:
        """The user source's distinct keys, and how many are user ids of the listening table."""
        source = self.settings(config)["user_source"]
        if source is None:
            return None
        listening, file = self.listening_file(config), self.feature_files(config)[source]
        user, key = listening.columns[0].name, file.columns[1].name
        users, _ = distinct_ids(read_columns(_csv(listening.path), [user]).column(user))
        keys, not_ids = distinct_ids(read_columns(_csv(file.path), [key]).column(key))
        user_ids = int(np.isin(keys, users).sum())
        return UserKeys(file.path, key, listening.path, len(keys) + not_ids, user_ids, not_ids)


def _columns(prefix: str, given: dict[str, str], required: tuple[str, ...]) -> list[Column]:
    """The ``required`` columns, then the weight column where ``given`` names one; ``{prefix}.{column}`` names each."""
    wanted = [*required, *(["weight"] if "weight" in given else [])]
    return [Column(given.get(c, c), f"{prefix}.{c}", c in given) for c in wanted]


def _header_problems(file: ConfiguredFile) -> list[Problem]:
    """What the header of ``file`` lacks (nothing where it cannot be read: the ingest jobs explain)."""
    try:
        header = read_header(_csv(file.path))
    except (OSError, ValueError):
        return []
    if header is None:
        return [(file.key, f"names {file.path!r}, which is empty", "export the table with its header row")]
    if len(header) == 1 and any(s in header[0] for s in OTHER_SEPARATORS):
        return [(file.key, f"names {file.path!r}, whose header is not comma-separated", "save the file as CSV")]
    found = ", ".join(header)
    problems = []
    for column in file.columns:
        if column.name in header:
            continue
        if column.given:
            taken = {c.name for c in file.columns if c is not column}
            choices = ", ".join([c for c in header if c not in taken] or header)
            problems.append(
                (
                    column.named_by,
                    f"names {column.name!r} but {file.path} has columns {found}",
                    f"set {column.named_by} to one of {choices}",
                )
            )
        else:
            problems.append(
                (
                    file.key,
                    f"names {file.path!r}, which has no column {column.name!r} (its columns: {found})",
                    f"rename that column of {file.path} to {column.name!r}, or name it in {column.named_by}",
                )
            )
    return problems


def _all_in_one(problems: list[Problem]) -> InputError:
    """One one-line error for several problems: the first key leads, the others follow with theirs."""
    (key, problem, fix), *others = problems
    problem += "".join(f"; {k}: {p}" for k, p, _ in others)
    return InputError("config", key, problem, "; ".join([fix, *(f for _, _, f in others)]))


def _no_rows(file: ConfiguredFile) -> InputError:
    return InputError(
        "config", file.key, f"names {file.path!r}, which has a header but no rows", "export the data rows too"
    )


def _source_keys(file: ConfiguredFile, listened: np.ndarray, listening: str) -> int:
    """Distinct keys of a feature source's file, which must have a row of a listened artist."""
    artist, key = file.columns[0].name, file.columns[1].name
    table = read_columns(_csv(file.path), [artist, key])
    if table.num_rows == 0:
        raise _no_rows(file)
    artists, _ = distinct_ids(table.column(artist))
    if not np.isin(artists, listened).any():
        raise InputError(
            "config",
            file.key,
            f"names {file.path!r}, but no artist of that file is in the listening table {listening}",
            f"give it the artist ids of {listening}, or remove the source",
        )
    return len(pyarrow.compute.unique(table.column(key)))
