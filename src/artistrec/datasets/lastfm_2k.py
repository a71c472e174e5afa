"""HetRec 2011 Last.fm-2k: its files, where they are, and how they become canonical tables.

The folder is ``datasets.lastfm-2k.dir``, else ``$LASTFM_2K_DIR``, else the checked
download of rule ``download_lastfm_2k``. The files are tab-separated; ``tags.dat``
is latin-1, the others are ASCII.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from artistrec.datasets.base import Bounds, Config, Dataset, RawFiles, Tables
from artistrec.errors import InputError
from artistrec.ingest import RawTable, artists_from_csv, count_distinct, listening_pairs, parse_ids, read_raw

ARTISTS = "artists.dat"
TAGS = "tags.dat"
USER_ARTISTS = "user_artists.dat"
USER_TAGGED = "user_taggedartists.dat"
FILES = (ARTISTS, TAGS, USER_ARTISTS, USER_TAGGED)
"""The files the workflow reads (in the order the config check reports a missing one)."""
LISTENING_FILES = (USER_ARTISTS, ARTISTS)
FEATURE_FILES = (TAGS, USER_TAGGED)
KEY_COLUMNS = {"tags": "tag", "taggers": "user_id"}
"""The key column of each source in CSV files of new artists."""
ARCHIVE_MEMBERS = (*FILES, "user_friends.dat", "readme.txt")
"""What the checked download unpacks."""

URL = "https://files.grouplens.org/datasets/hetrec2011/hetrec2011-lastfm-2k.zip"
MD5 = "296d61afe4e8632b173fc2dd3be20ce2"
DOWNLOAD_FOLDER = "resources/hetrec2011-lastfm-2k"
ENV_VAR = "LASTFM_2K_DIR"


def _tab(directory: Path, name: str, encoding: str = "utf-8") -> RawTable:
    return RawTable(directory / name, separator="\t", encoding=encoding)


def listening(directory: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Interactions (play counts as weights) and artist names of Last.fm-2k."""
    listens = _tab(directory, USER_ARTISTS)
    raw = read_raw(listens, ["userID", "artistID", "weight"], listening=("userID", "artistID"))
    interactions = listening_pairs(raw, "userID", "artistID", str(listens.path))
    artists = artists_from_csv(_tab(directory, ARTISTS), artist="id")
    return interactions, artists


def feature(directory: Path, source: str) -> pd.DataFrame:
    """One Last.fm-2k feature table from ``user_taggedartists.dat``.

    ``tags``: artist x tag name, weight = number of users who gave the tag.
    ``taggers``: artist x user who tagged it, weight = number of tags that user gave.
    """
    tag_names = _tag_names(directory)
    events = _tag_events(directory, tag_names)
    if source == "tags":
        table = (
            events.assign(key=tag_names.loc[events["tag_id"]].to_numpy())
            .groupby(["artist_id", "key"], as_index=False)["user_id"]
            .nunique()
            .rename(columns={"user_id": "weight"})
        )
    elif source == "taggers":
        table = (
            events.groupby(["artist_id", "user_id"], as_index=False)["tag_id"]
            .count()
            .rename(columns={"user_id": "key", "tag_id": "weight"})
        )
        table["key"] = table["key"].astype(str)
    else:
        raise InputError(
            "config", "datasets.lastfm-2k.features", f"has unknown source {source!r}", "use tags or taggers"
        )
    return table.astype({"weight": np.float64})


def _tag_names(directory: Path) -> pd.Series:
    """Tag name by tag id, from ``tags.dat``."""
    tags_table = _tab(directory, TAGS, encoding="latin-1")
    tag_raw = read_raw(tags_table, ["tagID", "tagValue"])
    tag_ids = parse_ids(tag_raw["tagID"], str(tags_table.path))
    repeated = pd.Series(tag_ids).duplicated().to_numpy()
    if repeated.any():
        line = tag_raw.index[int(np.flatnonzero(repeated)[0])]
        raise InputError(
            str(tags_table.path), f"column 'tagID' line {line}", "repeats a tag id", "give every tag one row"
        )
    return pd.Series(tag_raw["tagValue"].str.strip().to_numpy(), index=tag_ids)


def _tag_events(directory: Path, tag_names: pd.Series) -> pd.DataFrame:
    """The distinct (user, artist, tag) events of ``user_taggedartists.dat``, indexed by line."""
    tagged = _tab(directory, USER_TAGGED)
    tagged_raw = read_raw(tagged, ["userID", "artistID", "tagID"])
    name = str(tagged.path)
    events = pd.DataFrame(
        {
            "user_id": parse_ids(tagged_raw["userID"], name),
            "artist_id": parse_ids(tagged_raw["artistID"], name),
            "tag_id": parse_ids(tagged_raw["tagID"], name),
        },
        index=tagged_raw.index,
    ).drop_duplicates()
    unknown = ~events["tag_id"].isin(tag_names.index)
    if unknown.any():
        first = int(np.flatnonzero(unknown.to_numpy())[0])
        raise InputError(
            name,
            f"column 'tagID' line {events.index[first]}",
            f"tag {events['tag_id'].iloc[first]} is not in {TAGS}",
            f"use the {TAGS} that came with this copy",
        )
    return events


class LastFm2k(Dataset):
    name = "lastfm-2k"

    def given_folder(self, config: Config) -> tuple[str, str] | None:
        """``(the config key or variable that names it, folder)`` of a folder the user gave, if any."""
        configured = self.settings(config)["dir"]
        if configured:
            return f"datasets.{self.name}.dir", configured
        from_env = os.environ.get(ENV_VAR)
        return (f"${ENV_VAR}", from_env) if from_env else None

    def folder(self, config: Config) -> str:
        """The folder the user gave, else the checked download."""
        given = self.given_folder(config)
        return given[1] if given else DOWNLOAD_FOLDER

    def raw_files(self, config: Config) -> RawFiles:
        folder = self.folder(config)
        features = [os.path.join(folder, name) for name in FEATURE_FILES]
        return RawFiles(
            tables={"dir": folder},
            listening=[os.path.join(folder, name) for name in LISTENING_FILES],
            features={source: list(features) for source in self.sources(config)},
        )

    def key_columns(self, config: Config) -> dict[str, str]:
        """New artists' CSVs name a tag (``tags``) or a tagger's user id (``taggers``)."""
        return {source: KEY_COLUMNS[source] for source in self.sources(config) if source in KEY_COLUMNS}

    def read_listening(self, tables: Tables) -> tuple[pd.DataFrame, pd.DataFrame]:
        return listening(Path(tables["dir"]))

    def read_feature(self, tables: Tables, source: str) -> pd.DataFrame:
        return feature(Path(tables["dir"]), source)

    def check_raw_files(self, config: Config) -> None:
        """A folder the user gave holds every file (the download is checked by its own rule)."""
        given = self.given_folder(config)
        if given is None:
            return
        key, folder = given
        missing = [name for name in FILES if not (Path(folder) / name).is_file()]
        if missing:
            raise InputError(
                "config",
                key,
                f"folder {folder!r} has no {missing[0]}",
                "point it at the unpacked hetrec2011-lastfm-2k folder, or unset it to download the archive",
            )

    def bounds(self, config: Config) -> Bounds | None:
        """Distinct listened artists, tags and taggers in a folder the user gave (None before the download)."""
        given = self.given_folder(config)
        if given is None:
            return None
        directory = Path(given[1])
        artists = count_distinct(_tab(directory, USER_ARTISTS), "artistID")
        keys = {
            "tags": count_distinct(_tab(directory, USER_TAGGED), "tagID"),
            "taggers": count_distinct(_tab(directory, USER_TAGGED), "userID"),
        }
        return artists, keys
