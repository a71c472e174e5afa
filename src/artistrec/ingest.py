"""Read raw tables (the seed's CSV schema, or HetRec Last.fm-2k) into canonical tables.

Canonical tables, all keyed by integer ``artist_id``:

- interactions: ``user_id, artist_id, weight`` (one row per listening pair);
- artists: ``artist_id, name``;
- one feature table per side-information source: ``artist_id, key, weight``.

Every check raises :class:`~artistrec.errors.InputError` with one line that names
the file, the column (and line where there is one) and the fix. Harmless
irregularities are repaired and logged: a UTF-8 byte-order mark, extra columns,
exact duplicate rows (merged), repeated pairs with different weights (summed).
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from artistrec.errors import InputError

log = logging.getLogger(__name__)

INT64_MAX = np.iinfo(np.int64).max
_DIGITS = r"[0-9]+"


@dataclass(frozen=True)
class RawTable:
    """Where a raw table is and how to parse it."""

    path: Path
    separator: str = ","
    encoding: str = "utf-8"


def read_raw(table: RawTable, required: list[str], optional: list[str] = ()) -> pd.DataFrame:
    """Read a delimited text file as strings and check its columns.

    A UTF-8 BOM is stripped (logged); extra columns are dropped (logged); a missing
    required column, an empty file, a header without rows, undecodable text or a
    short (truncated) line is an error.
    """
    path = table.path
    name = str(path)
    if not path.is_file():
        raise InputError(name, "file", "does not exist", "check the path in the config")
    raw = path.read_bytes()
    if not raw.strip():
        raise InputError(name, "file", "is empty", "export the table again with a header row")
    encoding = table.encoding
    if encoding == "utf-8" and raw.startswith(b"\xef\xbb\xbf"):
        log.info("%s: stripped a UTF-8 byte-order mark", name)
        encoding = "utf-8-sig"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise InputError(
            name,
            f"line {line}",
            f"is not valid {table.encoding} text",
            f"re-save the file as {table.encoding} (for latin-1: iconv -f latin1 -t utf-8)",
        ) from None
    del raw
    frame = _parse(text, table.separator, name)
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InputError(
            name,
            f"column '{missing[0]}'",
            f"is missing (found: {', '.join(map(str, frame.columns))})",
            f"add the column; this table needs {', '.join(required)}",
        )
    keep = list(required) + [c for c in optional if c in frame.columns]
    extra = [c for c in frame.columns if c not in keep]
    if extra:
        log.info("%s: ignored extra columns %s", name, ", ".join(map(str, extra)))
    frame = frame[keep]
    if frame.empty:
        raise InputError(name, "rows", "the table has a header but no rows", "export the data rows too")
    _check_complete(frame, name)
    return frame


def _parse(text: str, separator: str, name: str) -> pd.DataFrame:
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=separator,
            dtype=str,
            keep_default_na=False,
            quoting=csv.QUOTE_NONE if separator == "\t" else csv.QUOTE_MINIMAL,
            skip_blank_lines=True,
        )
    except pd.errors.ParserError as err:
        raise InputError(name, "rows", f"cannot be parsed ({err})", "give every row the header's columns") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _check_complete(frame: pd.DataFrame, name: str) -> None:
    """Reject empty cells, which is also how a truncated last line shows up."""
    blank = frame.isna() | (frame.apply(lambda col: col.str.strip()) == "")
    if blank.to_numpy().any():
        row, col = np.argwhere(blank.to_numpy())[0]
        raise InputError(
            name,
            f"column '{frame.columns[col]}' line {row + 2}",
            "is empty (a missing value or a truncated line)",
            "fill in the value or delete the row",
        )


def parse_ids(column: pd.Series, name: str) -> np.ndarray:
    """Parse a column of non-negative integer ids that fit in int64."""
    text = column.str.strip()
    bad = ~text.str.fullmatch(_DIGITS)
    too_big = ~bad & ((text.str.len() > 19) | ((text.str.len() == 19) & (text > str(INT64_MAX))))
    invalid = (bad | too_big).to_numpy()
    if invalid.any():
        row = int(np.flatnonzero(invalid)[0])
        value = text.iloc[row]
        why = "is beyond int64" if too_big.iloc[row] else "is not a non-negative integer id"
        raise InputError(
            name,
            f"column '{column.name}' line {row + 2}",
            f"value {value!r} {why}",
            "use non-negative integer ids below 2**63",
        )
    return text.to_numpy().astype(np.int64)


def parse_weights(column: pd.Series, name: str) -> np.ndarray:
    values = pd.to_numeric(column.str.strip(), errors="coerce").to_numpy(dtype=np.float64)
    invalid = ~np.isfinite(values) | (values < 0)
    if invalid.any():
        row = int(np.flatnonzero(invalid)[0])
        raise InputError(
            name,
            f"column '{column.name}' line {row + 2}",
            f"value {column.iloc[row]!r} is not a non-negative number",
            "use non-negative numeric weights",
        )
    return values


def merge_duplicates(table: pd.DataFrame, keys: list[str], name: str) -> pd.DataFrame:
    """Merge exact duplicate rows and sum the weights of repeated key pairs, logging both."""
    n_rows = len(table)
    table = table.drop_duplicates()
    if len(table) < n_rows:
        log.info("%s: merged %d exact duplicate rows", name, n_rows - len(table))
    grouped = table.groupby(keys, sort=True, as_index=False)["weight"].sum()
    if len(grouped) < len(table):
        log.info("%s: summed the weights of %d repeated %s pairs", name, len(table) - len(grouped), "/".join(keys))
    return grouped.reset_index(drop=True)


def interactions_from_csv(table: RawTable, user: str = "user_id", artist: str = "artists") -> pd.DataFrame:
    """Listening pairs from the seed's ``users_artists.csv`` (``user_id, artists[, weight]``)."""
    name = str(table.path)
    raw = read_raw(table, [user, artist], ["weight"])
    frame = pd.DataFrame(
        {
            "user_id": parse_ids(raw[user], name),
            "artist_id": parse_ids(raw[artist], name),
            "weight": parse_weights(raw["weight"], name) if "weight" in raw else 1.0,
        }
    )
    return merge_duplicates(frame, ["user_id", "artist_id"], name)


def artists_from_csv(table: RawTable, artist: str = "artists", name_column: str = "name") -> pd.DataFrame:
    name = str(table.path)
    raw = read_raw(table, [artist, name_column])
    frame = pd.DataFrame({"artist_id": parse_ids(raw[artist], name), "name": raw[name_column].str.strip()})
    duplicated = frame["artist_id"].duplicated()
    if duplicated.any():
        row = int(np.flatnonzero(duplicated.to_numpy())[0])
        raise InputError(
            name, f"column '{artist}' line {row + 2}", "repeats an artist id", "give every artist one row"
        )
    return frame.sort_values("artist_id", ignore_index=True)


def feature_from_csv(table: RawTable, key: str, artist: str = "artists") -> pd.DataFrame:
    """A side-information table ``artists, <key>[, weight]`` as ``artist_id, key, weight``."""
    name = str(table.path)
    raw = read_raw(table, [artist, key], ["weight"])
    frame = pd.DataFrame(
        {
            "artist_id": parse_ids(raw[artist], name),
            "key": raw[key].str.strip(),
            "weight": parse_weights(raw["weight"], name) if "weight" in raw else 1.0,
        }
    )
    return merge_duplicates(frame, ["artist_id", "key"], name)


def names_for(artist_ids: np.ndarray, artists: pd.DataFrame | None) -> pd.DataFrame:
    """The artists table restricted to ``artist_ids``; an artist without a name gets its id."""
    table = pd.DataFrame({"artist_id": np.unique(artist_ids)})
    if artists is None:
        table["name"] = table["artist_id"].astype(str)
        return table
    table = table.merge(artists, on="artist_id", how="left")
    table["name"] = table["name"].fillna(table["artist_id"].astype(str))
    return table


def restrict_to_listened(
    features: pd.DataFrame, interactions: pd.DataFrame, source: str
) -> pd.DataFrame:
    """Drop feature rows of artists nobody listens to: they have no ground truth and no split."""
    listened = features["artist_id"].isin(interactions["artist_id"].unique())
    dropped = int((~listened).sum())
    if dropped:
        n_artists = features.loc[~listened, "artist_id"].nunique()
        log.info("%s: dropped %d rows of %d artists that appear in no listening row", source, dropped, n_artists)
    return features.loc[listened].reset_index(drop=True)


# --- HetRec 2011 Last.fm-2k -------------------------------------------------------


def lastfm_2k_listening(directory: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Interactions (play counts as weights) and artist names of Last.fm-2k."""
    listens = RawTable(directory / "user_artists.dat", separator="\t")
    raw = read_raw(listens, ["userID", "artistID", "weight"])
    name = str(listens.path)
    interactions = merge_duplicates(
        pd.DataFrame(
            {
                "user_id": parse_ids(raw["userID"], name),
                "artist_id": parse_ids(raw["artistID"], name),
                "weight": parse_weights(raw["weight"], name),
            }
        ),
        ["user_id", "artist_id"],
        name,
    )
    artists = artists_from_csv(RawTable(directory / "artists.dat", separator="\t"), artist="id")
    return interactions, artists


def lastfm_2k_feature(directory: Path, source: str) -> pd.DataFrame:
    """One Last.fm-2k feature table from ``user_taggedartists.dat``.

    ``tags``: artist x tag name, weight = number of users who gave the tag.
    ``taggers``: artist x user who tagged it, weight = number of tags that user gave.
    ``tags.dat`` is latin-1; the other files are ASCII.
    """
    tags_table = RawTable(directory / "tags.dat", separator="\t", encoding="latin-1")
    tag_raw = read_raw(tags_table, ["tagID", "tagValue"])
    tag_names = pd.Series(
        tag_raw["tagValue"].str.strip().to_numpy(), index=parse_ids(tag_raw["tagID"], str(tags_table.path))
    )
    tagged = RawTable(directory / "user_taggedartists.dat", separator="\t")
    tagged_raw = read_raw(tagged, ["userID", "artistID", "tagID"])
    name = str(tagged.path)
    events = pd.DataFrame(
        {
            "user_id": parse_ids(tagged_raw["userID"], name),
            "artist_id": parse_ids(tagged_raw["artistID"], name),
            "tag_id": parse_ids(tagged_raw["tagID"], name),
        }
    ).drop_duplicates()
    unknown = ~events["tag_id"].isin(tag_names.index)
    if unknown.any():
        row = int(np.flatnonzero(unknown.to_numpy())[0])
        raise InputError(
            name,
            f"column 'tagID' line {row + 2}",
            f"tag {events['tag_id'].iloc[row]} is not in tags.dat",
            "use the tags.dat that came with this copy",
        )
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
        raise InputError("config", "datasets.lastfm-2k.features", f"has unknown source {source!r}", "use tags or taggers")
    return table.astype({"weight": np.float64})
