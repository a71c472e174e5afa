"""Read raw delimited tables (the seed's CSV schema, or a dataset's own) into canonical tables.

Which files a dataset has and how they map to these tables is in :mod:`artistrec.datasets`.

Canonical tables, all keyed by integer ``artist_id``:

- interactions: ``user_id, artist_id, weight`` (one row per listening pair);
- artists: ``artist_id, name``;
- one feature table per side-information source: ``artist_id, key, weight``.

Every check raises :class:`~artistrec.errors.InputError` with one line that names
the file, the column (and line where there is one) and the fix. Harmless
irregularities are repaired and logged: a UTF-8 byte-order mark, Windows or old
Mac line endings, blank lines, extra columns, exact duplicate rows (merged),
repeated pairs with different weights (summed), listening rows of a user with no
artist, listening pairs with weight 0 (no plays: not a listen), and rows of the
artists table for artists nobody listens to.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow
import pyarrow.compute
import pyarrow.csv

from artistrec.errors import InputError

log = logging.getLogger(__name__)

INT64_MAX = np.iinfo(np.int64).max
_DIGITS = r"[0-9]+"
MAX_WEIGHT = 1e9
"""The largest weight a raw table may give. Far above any real count (plays, likes, taggers),
and low enough for what follows: the feature vectors are float32 (largest 3.4e38), the
weightings sum a row's weights over its keys and the SVD squares them, so even a million
keys of weight 1e9 (sums of 1e15, squares of 1e18) stay finite and keep float32's 7 digits
for the other entries' scale; 1e300 would turn a row into inf."""


@dataclass(frozen=True)
class RawTable:
    """Where a raw table is and how to parse it."""

    path: Path
    separator: str = ","
    encoding: str = "utf-8"


def read_raw(
    table: RawTable,
    required: Sequence[str],
    optional: Sequence[str] = (),
    *,
    listening: tuple[str, str] | None = None,
    allow_empty: bool = False,
) -> pd.DataFrame:
    """Read a delimited text file as strings, indexed by line number, and check it.

    A UTF-8 BOM is stripped, blank lines are skipped and extra columns dropped (all
    logged). A missing file, an empty or binary file, undecodable text, a missing
    or repeated required column, a header without rows, a row with more fields than
    the header, a cut-off last line and an empty cell are errors.

    ``listening`` names the user and artist columns of a listening table: there a
    row with a user and nothing else is a user with no artists, dropped (logged).
    ``allow_empty``: a header without rows is a table without rows, not an error.
    """
    name = str(table.path)
    text = _decode(table, name)
    parsed = _parse(text, table.separator, name)
    empty_lines = (parsed == "").all(axis=1)  # nothing, or only separators
    frame = _select_columns(parsed, _header(text, table.separator), list(required), list(optional), name)
    _check_last_line(frame, text, name)
    blank = frame.apply(lambda column: column.str.strip() == "")
    frame, blank = _without_rows(frame, blank, empty_lines, name, "blank lines")
    if frame.empty and not allow_empty:
        raise InputError(name, "rows", "the table has a header but no rows", "export the data rows too")
    if listening is not None:
        user = listening[0]
        only_user = ~blank[user] & blank.drop(columns=user).all(axis=1)
        frame, blank = _without_rows(frame, blank, only_user, name, f"rows of users with no artists (only '{user}')")
        if frame.empty:
            raise InputError(name, "rows", "no user has an artist", "export the listening rows")
    if blank.to_numpy().any():
        line, column = blank.stack().idxmax()
        raise InputError(
            name, f"column '{column}' line {line}", "is empty (a missing value)", "fill in the value or delete the row"
        )
    return frame


def _without_rows(
    frame: pd.DataFrame, blank: pd.DataFrame, drop: pd.Series, name: str, what: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    if drop.any():
        log.info("%s: skipped %d %s", name, int(drop.sum()), what)
    return frame[~drop], blank[~drop]


def _decode(table: RawTable, name: str) -> str:
    path = table.path
    if not path.is_file():
        raise InputError(name, "file", "does not exist", "check the path in the config")
    raw = path.read_bytes()
    if not raw.strip():
        raise InputError(name, "file", "is empty", "export the table again with a header row")
    if b"\x00" in raw:
        raise InputError(
            name, "file", "is binary (a spreadsheet or an archive?), not delimited text", "export it as CSV text"
        )
    encoding = table.encoding
    if raw.startswith(codecs.BOM_UTF8):
        # A BOM is proof of UTF-8, also in a file that should be latin-1 (re-saved by an editor).
        log.info("%s: stripped a UTF-8 byte-order mark (read as UTF-8)", name)
        encoding = "utf-8-sig"
    if b"\r" in raw:
        log.info("%s: read Windows (CR LF) line endings", name)
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        expected = encoding.removesuffix("-sig")
        raise InputError(
            name,
            f"line {line}",
            f"is not valid {expected} text",
            f"re-save the file as {expected} (from latin-1: iconv -f latin1 -t utf-8)",
        ) from None


def _parse(text: str, separator: str, name: str) -> pd.DataFrame:
    """Parse every line (blank ones too, so that the index is the line number)."""
    try:
        with warnings.catch_warnings():
            # pandas warns, then drops the extra field, when the first row has one too many.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(
                io.StringIO(text),
                sep=separator,
                dtype=str,
                keep_default_na=False,
                index_col=False,
                quoting=csv.QUOTE_NONE if separator == "\t" else csv.QUOTE_MINIMAL,
                skip_blank_lines=False,
            )
    except pd.errors.ParserWarning:
        raise InputError(
            name, "line 2", "has more fields than the header", "give every row the header's columns"
        ) from None
    except pd.errors.ParserError as err:
        fields = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(err))
        if fields:
            header, line, seen = fields.groups()
            problem = f"has {seen} fields, the header {header}"
            raise InputError(name, f"line {line}", problem, "give every row the header's columns") from None
        reason = str(err).strip().splitlines()[0]
        raise InputError(name, "rows", f"cannot be parsed ({reason})", "check the quoting and the separator") from None
    frame.index = np.arange(2, frame.shape[0] + 2)
    return frame


def _header(text: str, separator: str) -> list[str]:
    """The column names as written (pandas renames a repeated name to ``name.1``)."""
    first_line = io.StringIO(text).readline()
    return [c.strip() for c in next(csv.reader([first_line], delimiter=separator))]


def _select_columns(
    frame: pd.DataFrame, header: list[str], required: list[str], optional: list[str], name: str
) -> pd.DataFrame:
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        found = ", ".join(header)
        other_separator = len(header) == 1 and any(s in header[0] for s in ";\t|,")
        fix = (
            "save the file with the separator this table uses (comma for CSV, tab for .dat)"
            if other_separator
            else f"add the column; this table needs {', '.join(required)}"
        )
        raise InputError(name, f"column '{missing[0]}'", f"is missing (found: {found})", fix)
    keep = required + [c for c in optional if c in frame.columns]
    repeated = [c for c in keep if header.count(c) > 1]
    if repeated:
        raise InputError(name, f"column '{repeated[0]}'", "appears twice in the header", "keep one of the two columns")
    extra = [c for c in frame.columns if c not in keep]
    if extra:
        log.info("%s: ignored extra columns %s", name, ", ".join(extra))
    return frame[keep]


def _check_last_line(frame: pd.DataFrame, text: str, name: str) -> None:
    """A last line without a line ending and with an empty cell was cut off mid-write."""
    if text.endswith(("\n", "\r")) or frame.empty:
        return
    last = frame.iloc[-1]
    if (last.str.strip() == "").any():
        raise InputError(
            name,
            f"line {frame.index[-1]}",
            "is cut off (the file ends in the middle of a row)",
            "export or copy the file again completely",
        )


def _id_problems(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Which stripped values are no non-negative integer, and which are one beyond int64."""
    bad = ~text.str.fullmatch(_DIGITS).astype(bool)
    too_big = ~bad & ((text.str.len() > 19) | ((text.str.len() == 19) & (text > str(INT64_MAX))))
    return bad, too_big


def parse_ids(column: pd.Series, name: str) -> np.ndarray:
    """Parse a column of non-negative integer ids that fit in int64 (index: line numbers)."""
    text = column.str.strip()
    bad, too_big = _id_problems(text)
    invalid = (bad | too_big).to_numpy()
    if invalid.any():
        row = int(np.flatnonzero(invalid)[0])
        value = text.iloc[row]
        why = "is beyond int64" if too_big.iloc[row] else "is not a non-negative integer id"
        raise InputError(
            name,
            f"column '{column.name}' line {column.index[row]}",
            f"value {value!r} {why}",
            "use non-negative integer ids below 2**63",
        )
    return text.to_numpy().astype(np.int64)


def parse_weights(column: pd.Series, name: str) -> np.ndarray:
    """Parse a column of finite non-negative weights of at most :data:`MAX_WEIGHT` (index: line numbers)."""
    values = pd.to_numeric(column.str.strip(), errors="coerce").to_numpy(dtype=np.float64)
    _refuse_first(
        column,
        ~np.isfinite(values) | (values < 0),
        name,
        "is not a finite non-negative number",
        "use non-negative numeric weights",
    )
    _refuse_first(
        column,
        values > MAX_WEIGHT,
        name,
        f"is above {MAX_WEIGHT:,.0f}, the largest weight the workflow accepts",
        f"rescale the column to weights of at most {MAX_WEIGHT:,.0f} (or drop it: every row then weighs 1)",
    )
    return values


def _refuse_first(column: pd.Series, bad: np.ndarray, name: str, problem: str, fix: str) -> None:
    """A one-line error naming the first row of ``column`` where ``bad`` holds (if any)."""
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(
            name, f"column '{column.name}' line {column.index[row]}", f"value {column.iloc[row]!r} {problem}", fix
        )


def without_silent_pairs(interactions: pd.DataFrame, name: str) -> pd.DataFrame:
    """Drop listening pairs with weight 0: no plays is no listen (the targets count listeners)."""
    silent = interactions["weight"].to_numpy() == 0
    if silent.any():
        log.info("%s: dropped %d listening pairs with weight 0 (no plays)", name, int(silent.sum()))
        interactions = interactions[~silent].reset_index(drop=True)
    if interactions.empty:
        raise InputError(
            name, "weight", "every listening pair has weight 0", "export the play counts or drop the column"
        )
    return interactions


def merge_duplicates(table: pd.DataFrame, keys: list[str], name: str) -> pd.DataFrame:
    """Merge exact duplicate rows and sum the weights of repeated key pairs, logging both; sorted by the keys.

    Integer key pairs that are already unique (the usual export) are only sorted,
    as one int64 code per pair (``pair_codes``): a fraction of pandas' hashing of
    every row.
    """
    pairs = pair_codes(*(table[key].to_numpy() for key in keys))
    if pairs is not None:
        order = np.argsort(pairs, kind="stable")
        ordered = pairs[order]
        if not (ordered[1:] == ordered[:-1]).any():
            return table[[*keys, "weight"]].iloc[order].reset_index(drop=True)
    n_rows = len(table)
    table = table.drop_duplicates()
    if len(table) < n_rows:
        log.info("%s: merged %d exact duplicate rows", name, n_rows - len(table))
    grouped = table.groupby(keys, sort=True, as_index=False)["weight"].sum()
    if len(grouped) < len(table):
        log.info("%s: summed the weights of %d repeated %s pairs", name, len(table) - len(grouped), "/".join(keys))
    return grouped.reset_index(drop=True)


def pair_codes(first: np.ndarray, second: np.ndarray) -> np.ndarray | None:
    """One int64 per (first, second) pair of non-negative integer ids, ordered as the pairs; None when the
    ids are not such integers or the codes would not fit."""
    if not (first.dtype.kind in "iu" and second.dtype.kind in "iu") or first.size == 0:
        return None
    if min(first.min(), second.min()) < 0 or (int(first.max()) + 1) * (int(second.max()) + 1) >= 2**63:
        return None
    return first.astype(np.int64) * (int(second.max()) + 1) + second.astype(np.int64)


def listening_pairs(raw: pd.DataFrame, user: str, artist: str, name: str, weight: str = "weight") -> pd.DataFrame:
    """Canonical interactions from a checked raw listening table (weight 1 without a weight column)."""
    frame = pd.DataFrame(
        {
            "user_id": parse_ids(raw[user], name),
            "artist_id": parse_ids(raw[artist], name),
            "weight": parse_weights(raw[weight], name) if weight in raw else 1.0,
        }
    )
    return merge_duplicates(without_silent_pairs(frame, name), ["user_id", "artist_id"], name)


def interactions_from_csv(
    table: RawTable, user: str = "user_id", artist: str = "artists", weight: str = "weight"
) -> pd.DataFrame:
    """Listening pairs from the seed's ``users_artists.csv`` (``user_id, artists[, weight]``, or the given names)."""
    raw = read_raw(table, [user, artist], [weight], listening=(user, artist))
    return listening_pairs(raw, user, artist, str(table.path), weight)


def artists_from_csv(table: RawTable, artist: str = "artists", name_column: str = "name") -> pd.DataFrame:
    name = str(table.path)
    raw = read_raw(table, [artist, name_column])
    frame = pd.DataFrame({"artist_id": parse_ids(raw[artist], name), "name": raw[name_column].str.strip()})
    duplicated = frame["artist_id"].duplicated()
    if duplicated.any():
        line = raw.index[int(np.flatnonzero(duplicated.to_numpy())[0])]
        raise InputError(name, f"column '{artist}' line {line}", "repeats an artist id", "give every artist one row")
    return frame.sort_values("artist_id", ignore_index=True)


def feature_from_csv(
    table: RawTable, key: str, artist: str = "artists", allow_empty: bool = False, weight: str = "weight"
) -> pd.DataFrame:
    """A side-information table ``artists, <key>[, weight]`` (or the given names) as ``artist_id, key, weight``
    (``allow_empty``: a header without rows is an empty table).
    """
    name = str(table.path)
    raw = read_raw(table, [artist, key], [weight], allow_empty=allow_empty)
    frame = pd.DataFrame(
        {
            "artist_id": parse_ids(raw[artist], name),
            "key": raw[key].str.strip(),
            "weight": parse_weights(raw[weight], name) if weight in raw else 1.0,
        }
    )
    return merge_duplicates(frame, ["artist_id", "key"], name)


def listened_artists_only(artists: pd.DataFrame, interactions: pd.DataFrame, name: str) -> pd.DataFrame:
    """Drop rows of the artists table ``name`` for artists nobody listens to (logged): no run uses them."""
    listened = artists["artist_id"].isin(interactions["artist_id"].unique())
    if not listened.all():
        log.info("%s: dropped %d artists nobody listens to", name, int((~listened).sum()))
    return artists.loc[listened].reset_index(drop=True)


def names_for(artist_ids: np.ndarray, artists: pd.DataFrame | None) -> pd.DataFrame:
    """The artists table restricted to ``artist_ids``; an artist without a name gets its id."""
    table = pd.DataFrame({"artist_id": np.unique(artist_ids)})
    if artists is None:
        table["name"] = table["artist_id"].astype(str)
        return table
    table = table.merge(artists, on="artist_id", how="left")
    table["name"] = table["name"].fillna(table["artist_id"].astype(str))
    return table


def restrict_to_listened(features: pd.DataFrame, interactions: pd.DataFrame, source: str) -> pd.DataFrame:
    """Drop feature rows of artists nobody listens to: they have no ground truth and no split."""
    listened = features["artist_id"].isin(interactions["artist_id"].unique())
    dropped = int((~listened).sum())
    if dropped:
        n_artists = features.loc[~listened, "artist_id"].nunique()
        log.info("%s: dropped %d rows of %d artists that appear in no listening row", source, dropped, n_artists)
    return features.loc[listened].reset_index(drop=True)


# --- the config checks' look at the raw files before any job runs ------------------------
# Fast on large files and without any check: an unreadable file raises (``OSError``,
# ``KeyError``, ``ValueError`` or ``pyarrow.ArrowException``) for the ingest jobs to explain.


def read_header(table: RawTable) -> list[str] | None:
    """The column names of a delimited file's header as written; None for an empty file.

    Raises ``ValueError`` for a binary file (``UnicodeDecodeError`` for undecodable text).
    """
    with table.path.open("rb") as file:
        first = file.readline(1 << 20)
    if b"\x00" in first:
        raise ValueError(f"{table.path} is binary")
    text = first.decode(table.encoding).removeprefix("\ufeff")
    if text.strip():
        return _header(text, table.separator)
    if _has_text(table):
        raise ValueError(f"{table.path} starts with a blank line")
    return None


def _has_text(table: RawTable) -> bool:
    """Whether a file holds anything but whitespace (read in blocks)."""
    with table.path.open("rb") as file:
        while block := file.read(1 << 20):
            if block.strip():
                return True
    return False


def read_columns(table: RawTable, columns: Sequence[str]) -> pyarrow.Table:
    """Some columns of a delimited file, as strings, read column-wise (blank lines skipped)."""
    return pyarrow.csv.read_csv(
        table.path,
        read_options=pyarrow.csv.ReadOptions(encoding=table.encoding),
        parse_options=pyarrow.csv.ParseOptions(delimiter=table.separator),
        convert_options=pyarrow.csv.ConvertOptions(
            include_columns=list(columns), column_types=dict.fromkeys(columns, pyarrow.string())
        ),
    )


def count_distinct(table: RawTable, column: str) -> int:
    """Distinct values of one column, read column-wise and without any check (an upper bound of its ids)."""
    return len(pyarrow.compute.unique(read_columns(table, [column]).column(column)))


def distinct_ids(column: pyarrow.ChunkedArray) -> tuple[np.ndarray, int]:
    """The sorted distinct ids (as :func:`parse_ids` reads them) among a column's values, and how
    many of its distinct values are no id (not a non-negative integer below 2**63: text, -1, 1.5).
    """
    values = pyarrow.compute.unique(pyarrow.compute.fill_null(column, ""))
    text = pd.Series(values.to_pylist(), dtype=object).str.strip()
    bad, too_big = _id_problems(text)
    invalid = (bad | too_big).to_numpy()
    return np.unique(text[~invalid].to_numpy().astype(np.int64)), int(invalid.sum())
