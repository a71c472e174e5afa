"""The user's own CSV files in the seed's schema, named in the config (``datasets.custom``)."""

from __future__ import annotations

from pathlib import Path

from artistrec.datasets.base import Bounds, Config, CsvDataset, Tables
from artistrec.errors import InputError
from artistrec.ingest import RawTable, count_distinct


def _csv(path: str) -> RawTable:
    """How the bounds read a custom CSV: a spreadsheet's UTF-8 byte-order mark is common."""
    return RawTable(Path(path), encoding="utf-8-sig")


class Custom(CsvDataset):
    name = "custom"

    def raw_tables(self, config: Config) -> Tables:
        custom = self.settings(config)
        return {
            "interactions": custom["interactions"],
            "artists": custom["artists"],
            "features": {s: (v["path"], v["key"]) for s, v in custom["features"].items()},
        }

    def configured_files(self, config: Config) -> dict[str, str]:
        """Each configured raw file under the config key that names it."""
        custom = self.settings(config)
        files = {f"datasets.{self.name}.interactions": custom["interactions"]}
        if custom["artists"]:
            files[f"datasets.{self.name}.artists"] = custom["artists"]
        files.update({f"datasets.{self.name}.features.{s}.path": v["path"] for s, v in custom["features"].items()})
        return files

    def check_raw_files(self, config: Config) -> None:
        for key, path in self.configured_files(config).items():
            if not Path(path).is_file():
                raise InputError(
                    "config",
                    key,
                    f"names {path!r}, which is not a file",
                    "fix the path (relative to the working directory)",
                )

    def bounds(self, config: Config) -> Bounds:
        """Distinct artists of the listening table and distinct keys of each source."""
        custom = self.settings(config)
        artists = count_distinct(_csv(custom["interactions"]), "artists")
        keys = {s: count_distinct(_csv(v["path"]), v["key"]) for s, v in custom["features"].items()}
        return artists, keys
