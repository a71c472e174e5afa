"""The synthetic demo: the generator's tables (:mod:`artistrec.demo`) as CSVs in the seed's schema.

Rule ``demo_data`` writes them under :data:`RAW_FOLDER` from ``datasets.demo.generator``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from artistrec import io
from artistrec.datasets.base import Bounds, Config, CsvDataset, Tables
from artistrec.demo import DemoSpec
from artistrec.layout import DatasetFolder

RAW_FOLDER = DatasetFolder.of("demo").path("raw")
LISTENING = "users_artists"
ARTISTS = "artists"
FEATURES = {"likes": ("likes", "user_id"), "playlists": ("playlists", "playlist_id"), "tags": ("user_tags", "tag")}
"""Each feature source's generated table and key column."""
TABLES = (LISTENING, ARTISTS, *(table for table, _ in FEATURES.values()))
"""The generator's tables, one CSV each."""


def raw_file(table: str, folder: str | Path = RAW_FOLDER) -> str:
    return os.path.join(folder, f"{table}.csv")


def raw_outputs() -> dict[str, str]:
    """The CSVs rule ``demo_data`` writes, by table name."""
    return {table: raw_file(table) for table in TABLES}


def write_raw(tables: dict[str, pd.DataFrame], folder: Path) -> None:
    """Write the generator's tables as the CSVs the demo reads (each one atomically)."""
    for table, frame in tables.items():
        with io.atomic_path(raw_file(table, folder)) as tmp:
            frame.to_csv(tmp, index=False)


class Demo(CsvDataset):
    name = "demo"

    def raw_tables(self, config: Config) -> Tables:
        return {
            "interactions": raw_file(LISTENING),
            "artists": raw_file(ARTISTS),
            "features": {s: (raw_file(FEATURES[s][0]), FEATURES[s][1]) for s in self.sources(config)},
        }

    def check_raw_files(self, config: Config) -> None:
        """Nothing to check: rule ``demo_data`` writes the raw files."""

    def bounds(self, config: Config) -> Bounds:
        """From the generator's settings: its raw files do not exist before the run."""
        spec = DemoSpec(**self.settings(config)["generator"])
        keys = {"likes": spec.n_users, "playlists": spec.n_playlists, "tags": spec.n_genres * spec.tags_per_genre}
        return spec.n_artists, keys
