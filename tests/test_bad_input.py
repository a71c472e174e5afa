"""Bad input never becomes a wrong number: it is repaired and logged, or stopped with one line.

Every kind of bad input below is fed to the ingest step it would reach in a real run
(the `custom` CSV path and the `lastfm-2k` path). An error must be one line naming
the file, the column or line, and the fix, and must leave the tables of an earlier
good run byte for byte as they were, with no temporary file left behind. A repair
must be logged and give the table the clean input gives. The last tests run the
same through Snakemake: non-zero exit, the one-line message on the console, no
half-written artifact.
"""

from __future__ import annotations

import hashlib
import logging
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from artistrec import io, steps
from artistrec.datasets import get_dataset
from artistrec.download import MEMBERS, unpack_checked
from artistrec.errors import InputError
from artistrec.ingest import RawTable, interactions_from_csv

from conftest import HANG_LIMIT, SNAKEMAKE, copy_workflow

# --- clean inputs (invented, in the seed's schema and in the HetRec Last.fm-2k layout) ---

USERS_ARTISTS = "user_id,artists\n1,10\n1,11\n2,10\n2,12\n3,11\n3,12\n"
LIKES = "artists,user_id\n10,1\n10,2\n11,3\n12,1\n"

USER_ARTISTS_DAT = "userID\tartistID\tweight\n1\t10\t50\n1\t11\t7\n2\t10\t3\n2\t12\t40\n3\t11\t12\n"
ARTISTS_DAT = "id\tname\turl\tpictureURL\n10\tAlpha\thttp://a\t\n11\tBeta\thttp://b\t\n12\tGamma\thttp://c\t\n"
TAGS_DAT = "tagID\ttagValue\n1\trock\n2\tbjörk-like\n3\tjazz\n"  # written as latin-1, as HetRec ships it
TAGGED_DAT = (
    "userID\tartistID\ttagID\tday\tmonth\tyear\n"
    "1\t10\t1\t1\t1\t2010\n2\t10\t1\t1\t1\t2010\n2\t11\t2\t1\t1\t2010\n3\t12\t3\t1\t1\t2010\n"
)


@dataclass(frozen=True)
class Bad:
    """Input the step must refuse with a one-line error naming ``field`` in ``file``."""

    kind: str
    file: str
    content: bytes | None  # None: the file does not exist
    field: str


@dataclass(frozen=True)
class Repaired:
    """Input the step must repair, logging ``logged``, into the table the clean input gives."""

    kind: str
    file: str
    content: bytes
    logged: str


def utf8(text: str) -> bytes:
    return text.encode("utf-8")


def ids(case: Bad | Repaired) -> str:
    return case.kind.replace(" ", "-")


# --- the custom CSV path ---------------------------------------------------------------

BAD_CUSTOM_LISTENING = [
    Bad("missing file", "users_artists.csv", None, "file"),
    Bad("empty file", "users_artists.csv", b"", "file"),
    Bad("header only", "users_artists.csv", b"user_id,artists\n", "rows"),
    Bad("missing column", "users_artists.csv", b"user_id,artist\n1,10\n", "column 'artists'"),
    Bad("repeated column", "users_artists.csv", b"user_id,artists,artists\n1,10,11\n", "column 'artists'"),
    Bad("semicolon separated", "users_artists.csv", b"user_id;artists\n1;10\n", "column 'user_id'"),
    Bad("text id", "users_artists.csv", b"user_id,artists\n1,10\n2,abc\n", "column 'artists' line 3"),
    Bad("float id", "users_artists.csv", b"user_id,artists\n1,10.0\n", "column 'artists' line 2"),
    Bad("negative id", "users_artists.csv", b"user_id,artists\n-1,10\n", "column 'user_id' line 2"),
    Bad("id beyond int64", "users_artists.csv", b"user_id,artists\n1,9223372036854775808\n", "column 'artists' line 2"),
    Bad("NaN id", "users_artists.csv", b"user_id,artists\n1,10\n2,NaN\n", "column 'artists' line 3"),
    Bad("empty user cell", "users_artists.csv", b"user_id,artists\n1,10\n,11\n", "column 'user_id' line 3"),
    Bad("no user has an artist", "users_artists.csv", b"user_id,artists\n1,\n2,\n", "rows"),
    Bad("NaN weight", "users_artists.csv", b"user_id,artists,weight\n1,10,NaN\n", "column 'weight' line 2"),
    Bad("negative weight", "users_artists.csv", b"user_id,artists,weight\n1,10,-3\n", "column 'weight' line 2"),
    Bad(
        "infinite weight", "users_artists.csv", b"user_id,artists,weight\n1,10,2\n2,11,inf\n", "column 'weight' line 3"
    ),
    Bad(
        "absurd weight", "users_artists.csv", b"user_id,artists,weight\n1,10,2\n2,11,1e300\n", "column 'weight' line 3"
    ),
    Bad("only weight-0 pairs", "users_artists.csv", b"user_id,artists,weight\n1,10,0\n", "weight"),
    Bad("more fields than the header", "users_artists.csv", b"user_id,artists\n1,10,5\n2,11\n", "line 2"),
    Bad("more fields in a later row", "users_artists.csv", b"user_id,artists\n1,10\n2,11,5\n", "line 3"),
    Bad("unclosed quote", "users_artists.csv", b'user_id,artists\n1,"10\n2,11\n', "rows"),
    Bad("truncated last line", "users_artists.csv", b"user_id,artists\n1,10\n2", "line 3"),
    Bad("truncated after the comma", "users_artists.csv", b"user_id,artists\n1,10\n2,", "line 3"),
    Bad("latin-1 text", "users_artists.csv", "user_id,artists,note\n1,10,Björk\n".encode("latin-1"), "line 2"),
    Bad("binary spreadsheet", "users_artists.csv", b"PK\x03\x04\x14\x00\x00\x00", "file"),
    Bad(
        "line numbers count blank lines",
        "users_artists.csv",
        b"user_id,artists\n\n1,10\n\n2,x\n",
        "column 'artists' line 5",
    ),
    Bad(
        "repeated artist in the artists table",
        "artists.csv",
        b"artists,name\n10,A\n11,B\n10,C\n",
        "column 'artists' line 4",
    ),
    Bad("artists table without names", "artists.csv", b"artists\n10\n", "column 'name'"),
]

REPAIRED_CUSTOM_LISTENING = [
    Repaired(
        "extra columns",
        "users_artists.csv",
        utf8(USERS_ARTISTS.replace("\n", ",x\n").replace("artists,x", "artists,country")),
        "ignored extra columns country",
    ),
    Repaired(
        "duplicated rows", "users_artists.csv", utf8(USERS_ARTISTS + "1,10\n2,12\n"), "merged 2 exact duplicate rows"
    ),
    Repaired(
        "a user with no artists",
        "users_artists.csv",
        utf8(USERS_ARTISTS + "4,\n"),
        "skipped 1 rows of users with no artists",
    ),
    Repaired(
        "weight-0 pair (no plays)",
        "users_artists.csv",
        utf8(USERS_ARTISTS.replace("\n", ",1\n").replace("artists,1", "artists,weight") + "4,10,0\n"),
        "dropped 1 listening pairs with weight 0",
    ),
    Repaired(
        "UTF-8 with BOM", "users_artists.csv", b"\xef\xbb\xbf" + utf8(USERS_ARTISTS), "stripped a UTF-8 byte-order mark"
    ),
    Repaired(
        "Windows line endings",
        "users_artists.csv",
        utf8(USERS_ARTISTS.replace("\n", "\r\n")),
        "Windows (CR LF) line endings",
    ),
    Repaired(
        "blank lines",
        "users_artists.csv",
        utf8(USERS_ARTISTS.replace("\n2,10", "\n\n2,10") + "\n\n"),
        "skipped 3 blank lines",
    ),
    Repaired(
        "artists nobody listens to",
        "artists.csv",
        b"artists,name\n10,Alpha\n11,Beta\n12,Gamma\n98,Silent\n99,Quiet\n",
        "artists.csv: dropped 2 artists nobody listens to",
    ),
]

BAD_CUSTOM_FEATURES = [
    Bad("feature file missing", "likes.csv", None, "file"),
    Bad("feature key column missing", "likes.csv", b"artists,user\n10,1\n", "column 'user_id'"),
    Bad("empty feature key", "likes.csv", b"artists,user_id\n10,1\n11,\n", "column 'user_id' line 3"),
    Bad("text artist id in a feature table", "likes.csv", b"artists,user_id\nten,1\n", "column 'artists' line 2"),
    Bad(
        "absurd feature weight", "likes.csv", b"artists,user_id,weight\n10,1,1\n11,2,1e300\n", "column 'weight' line 3"
    ),
]

REPAIRED_CUSTOM_FEATURES = [
    Repaired(
        "artist never listened to",
        "likes.csv",
        utf8(LIKES + "99,1\n99,2\n"),
        "dropped 2 rows of 1 artists that appear in no listening row",
    ),
    Repaired("duplicated feature rows", "likes.csv", utf8(LIKES + "10,1\n"), "merged 1 exact duplicate rows"),
]


def custom_raw(folder: Path) -> dict:
    """The clean custom tables in ``folder``, described as rule ``ingest`` passes them."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "users_artists.csv").write_text(USERS_ARTISTS, encoding="utf-8")
    (folder / "artists.csv").write_text("artists,name\n10,Alpha\n11,Beta\n12,Gamma\n", encoding="utf-8")
    (folder / "likes.csv").write_text(LIKES, encoding="utf-8")
    return {
        "interactions": str(folder / "users_artists.csv"),
        "artists": str(folder / "artists.csv"),
        "features": {"likes": (str(folder / "likes.csv"), "user_id")},
    }


def put(path: Path, content: bytes | None) -> None:
    if content is None:
        path.unlink()
    else:
        path.write_bytes(content)


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``folder`` (hidden temporary files too) with its bytes and mtime."""
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def assert_one_line(error: InputError, file: Path | str, field: str) -> None:
    message = str(error)
    assert "\n" not in message
    assert message.startswith(f"{file}: {field}: "), message
    assert "; fix: " in message and message.split("; fix: ")[1].strip(), message


class GoodRun:
    """Clean raw tables in ``folder`` and the canonical tables an earlier ingest made of them in ``out``."""

    def __init__(self, tmp_path: Path, dataset: str) -> None:
        self.dataset = dataset
        self.raw = (
            {"dir": str(lastfm_folder(tmp_path / "raw"))} if dataset == "lastfm-2k" else custom_raw(tmp_path / "raw")
        )
        self.folder = Path(self.raw.get("dir") or tmp_path / "raw")
        self.out = tmp_path / "results" / "data"
        self.ingest_listening()

    def ingest_listening(self) -> None:
        steps.ingest_listening(
            self.dataset, self.raw, str(self.out / "interactions.parquet"), str(self.out / "artists.parquet")
        )

    def ingest_feature(self, source: str) -> None:
        steps.ingest_feature(
            self.dataset, self.raw, source, str(self.out / "interactions.parquet"), str(self.out / f"{source}.parquet")
        )


@pytest.mark.parametrize("case", REPAIRED_CUSTOM_FEATURES, ids=ids)
def test_harmless_custom_feature_input_is_repaired_and_logged(case: Repaired, tmp_path: Path, caplog):
    run = GoodRun(tmp_path, "custom")
    run.ingest_feature("likes")
    clean = io.read_parquet(run.out / "likes.parquet")
    put(run.folder / case.file, case.content)
    with caplog.at_level(logging.INFO, logger="artistrec"):
        run.ingest_feature("likes")
    assert case.logged in caplog.text
    pd.testing.assert_frame_equal(io.read_parquet(run.out / "likes.parquet"), clean)


def test_a_feature_table_of_artists_nobody_listens_to_is_an_error_naming_the_source(tmp_path: Path):
    run = GoodRun(tmp_path, "custom")
    put(run.folder / "likes.csv", b"artists,user_id\n98,1\n99,2\n")
    with pytest.raises(InputError, match=r"^likes: artist_id: .*; fix: "):
        run.ingest_feature("likes")
    assert not (run.out / "likes.parquet").exists()


def test_a_feature_table_whose_artists_are_all_test_artists_stops_the_svd(tmp_path: Path):
    """Its SVD would be fitted on nothing: an error naming the source, and no svd file."""
    features = pd.DataFrame({"artist_id": [7, 7, 8], "key": ["a", "b", "c"], "weight": [1.0, 2.0, 1.0]})
    io.write_parquet(tmp_path / "likes.parquet", features)
    split = {"train": [1, 2, 3, 4, 5], "valid": [6], "test": [7, 8]}
    for part, members in split.items():
        io.write_ids(tmp_path / f"{part}.txt", np.asarray(members))
    out = tmp_path / "svd" / "likes.npz"
    with pytest.raises(InputError, match=r"^likes: artist_id: no train artist has side information.*; fix: "):
        steps.svd(
            str(tmp_path / "likes.parquet"),
            {p: str(tmp_path / f"{p}.txt") for p in split},
            "custom",
            "likes",
            1,
            "log",
            0,
            str(out),
        )
    assert not out.parent.exists() or not any(out.parent.iterdir())


# --- the lastfm-2k path -----------------------------------------------------------------


def lastfm_folder(folder: Path) -> Path:
    """A tiny folder in the HetRec 2011 Last.fm-2k layout, with invented rows."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "user_artists.dat").write_text(USER_ARTISTS_DAT, encoding="ascii")
    (folder / "artists.dat").write_text(ARTISTS_DAT, encoding="utf-8")
    (folder / "tags.dat").write_text(TAGS_DAT, encoding="latin-1")
    (folder / "user_taggedartists.dat").write_text(TAGGED_DAT, encoding="ascii")
    return folder


BAD_LASTFM_LISTENING = [
    Bad("listening file missing", "user_artists.dat", None, "file"),
    Bad("artists file missing", "artists.dat", None, "file"),
    Bad("weight column missing", "user_artists.dat", b"userID\tartistID\n1\t10\n", "column 'weight'"),
    Bad("comma separated instead of tabs", "user_artists.dat", b"userID,artistID,weight\n1,10,5\n", "column 'userID'"),
    Bad("truncated last line", "user_artists.dat", utf8(USER_ARTISTS_DAT + "3\t1"), "line 7"),
    Bad("float play count id", "user_artists.dat", utf8(USER_ARTISTS_DAT + "3.5\t10\t1\n"), "column 'userID' line 7"),
    Bad("negative play count", "user_artists.dat", utf8(USER_ARTISTS_DAT + "4\t10\t-1\n"), "column 'weight' line 7"),
    Bad("repeated artist id", "artists.dat", utf8(ARTISTS_DAT + "10\tAgain\thttp://d\t\n"), "column 'id' line 5"),
]

REPAIRED_LASTFM_LISTENING = [
    Repaired(
        "Windows line endings", "user_artists.dat", utf8(USER_ARTISTS_DAT.replace("\n", "\r\n")), "Windows (CR LF)"
    ),
    Repaired(
        "a user with no artists",
        "user_artists.dat",
        utf8(USER_ARTISTS_DAT + "9\t\t\n"),
        "skipped 1 rows of users with no artists",
    ),
    Repaired(
        "duplicated rows", "user_artists.dat", utf8(USER_ARTISTS_DAT + "1\t10\t50\n"), "merged 1 exact duplicate rows"
    ),
]

BAD_LASTFM_FEATURES = [
    Bad("tags file missing", "tags.dat", None, "file"),
    Bad("repeated tag id", "tags.dat", (TAGS_DAT + "3\tblues\n").encode("latin-1"), "column 'tagID' line 5"),
    Bad(
        "tag missing from tags.dat",
        "user_taggedartists.dat",
        utf8(TAGGED_DAT + "1\t11\t4\t1\t1\t2010\n"),
        "column 'tagID' line 6",
    ),
    Bad(
        "text artist id among tags",
        "user_taggedartists.dat",
        utf8(TAGGED_DAT + "1\tx\t1\t1\t1\t2010\n"),
        "column 'artistID' line 6",
    ),
]


def by_dataset(**cases: list) -> list:
    """``(dataset, case)`` pairs, with ids that name both."""
    return [
        pytest.param(dataset.replace("_", "-"), case, id=f"{dataset}-{ids(case)}")
        for dataset, cs in cases.items()
        for case in cs
    ]


FEATURE_SOURCE = {"custom": "likes", "lastfm-2k": "tags"}


@pytest.mark.parametrize(("dataset", "case"), by_dataset(custom=BAD_CUSTOM_LISTENING, lastfm_2k=BAD_LASTFM_LISTENING))
def test_bad_listening_input_stops_with_one_line_and_keeps_the_earlier_tables(dataset: str, case: Bad, tmp_path: Path):
    run = GoodRun(tmp_path, dataset)
    earlier = snapshot(run.out)
    put(run.folder / case.file, case.content)
    with pytest.raises(InputError) as raised:
        run.ingest_listening()
    assert_one_line(raised.value, run.folder / case.file, case.field)
    assert snapshot(run.out) == earlier


@pytest.mark.parametrize(
    ("dataset", "case"), by_dataset(custom=REPAIRED_CUSTOM_LISTENING, lastfm_2k=REPAIRED_LASTFM_LISTENING)
)
def test_harmless_listening_input_is_repaired_and_logged(dataset: str, case: Repaired, tmp_path: Path, caplog):
    run = GoodRun(tmp_path, dataset)
    clean = {table: io.read_parquet(run.out / f"{table}.parquet") for table in ("interactions", "artists")}
    put(run.folder / case.file, case.content)
    with caplog.at_level(logging.INFO, logger="artistrec"):
        run.ingest_listening()
    assert case.logged in caplog.text
    for table, frame in clean.items():
        pd.testing.assert_frame_equal(io.read_parquet(run.out / f"{table}.parquet"), frame)


def test_a_weight_above_the_bound_is_refused_naming_the_bound_and_one_at_the_bound_gives_finite_vectors(
    tmp_path: Path,
):
    """1e300 with the raw weighting would make an infinite SVD row; the bound (MAX_WEIGHT) keeps every row finite."""
    run = GoodRun(tmp_path, "custom")
    put(run.folder / "likes.csv", b"artists,user_id,weight\n10,1,1\n10,2,1e9\n11,3,1\n12,1,1e10\n")
    with pytest.raises(InputError) as raised:
        run.ingest_feature("likes")
    assert str(raised.value) == (
        f"{run.folder / 'likes.csv'}: column 'weight' line 5: value '1e10' is above 1,000,000,000, the largest weight "
        "the workflow accepts; fix: rescale the column to weights of at most 1,000,000,000 (or drop it: every row "
        "then weighs 1)"
    )
    rows = [(10, 1, 1e9), (10, 2, 1), (11, 3, 1e9), (11, 1, 1e9), (12, 1, 1), (12, 3, 1e9)]
    put(run.folder / "likes.csv", utf8("artists,user_id,weight\n" + "".join(f"{a},{u},{w:g}\n" for a, u, w in rows)))
    run.ingest_feature("likes")
    split = {"train": [10, 11], "valid": [12], "test": []}
    for part, members in split.items():
        io.write_ids(tmp_path / f"{part}.txt", np.asarray(members, dtype=np.int64))
    for weighting in ("raw", "log", "tfidf", "bm25"):
        out = tmp_path / "svd" / f"{weighting}.npz"
        steps.svd(
            str(run.out / "likes.parquet"),
            {p: str(tmp_path / f"{p}.txt") for p in split},
            "custom",
            "likes",
            1,
            weighting,
            0,
            str(out),
        )
        with np.load(out) as fitted:
            assert np.isfinite(fitted["vectors"]).all() and np.abs(fitted["vectors"]).max() > 0, weighting


def test_custom_files_with_their_own_column_names_read_as_the_seeds_schema_when_mapped(tmp_path: Path):
    """``columns`` in the config maps the seed's names to the file's: the same tables as the seed's names give."""
    run = GoodRun(tmp_path, "custom")
    run.ingest_feature("likes")
    clean = {name: io.read_parquet(run.out / f"{name}.parquet") for name in ("interactions", "artists", "likes")}
    renamed = {"users_artists.csv": ("user_id,artists", "uid,artist_id"), "artists.csv": ("artists,name", "id,title")}
    for file, (seed, own) in renamed.items():
        put(run.folder / file, (run.folder / file).read_bytes().replace(seed.encode(), own.encode()))
    put(run.folder / "likes.csv", utf8("artist,user_id,count\n" + LIKES.split("\n", 1)[1].replace("\n", ",3\n")))
    clean["likes"] = clean["likes"].assign(weight=3.0)
    custom = {
        "interactions": run.raw["interactions"],
        "artists": run.raw["artists"],
        "columns": {
            "interactions": {"user_id": "uid", "artists": "artist_id"},
            "artists": {"artists": "id", "name": "title"},
        },
        "features": {
            "likes": {
                "path": run.raw["features"]["likes"][0],
                "key": "user_id",
                "columns": {"artists": "artist", "weight": "count"},
            }
        },
    }
    run.raw = get_dataset("custom").raw_tables({"datasets": {"custom": custom}})
    run.ingest_listening()
    run.ingest_feature("likes")
    for name, frame in clean.items():
        pd.testing.assert_frame_equal(io.read_parquet(run.out / f"{name}.parquet"), frame)


@pytest.mark.parametrize(("dataset", "case"), by_dataset(custom=BAD_CUSTOM_FEATURES, lastfm_2k=BAD_LASTFM_FEATURES))
def test_a_bad_feature_table_stops_with_one_line_and_keeps_the_earlier_table(dataset: str, case: Bad, tmp_path: Path):
    run = GoodRun(tmp_path, dataset)
    run.ingest_feature(FEATURE_SOURCE[dataset])
    earlier = snapshot(run.out)
    put(run.folder / case.file, case.content)
    with pytest.raises(InputError) as raised:
        run.ingest_feature(FEATURE_SOURCE[dataset])
    assert_one_line(raised.value, run.folder / case.file, case.field)
    assert snapshot(run.out) == earlier


def test_tags_dat_resaved_as_utf8_with_bom_gives_the_same_tags(tmp_path: Path, caplog):
    """HetRec ships tags.dat in latin-1; a copy re-saved by an editor as UTF-8 with BOM reads the same."""
    run = GoodRun(tmp_path, "lastfm-2k")
    run.ingest_feature("tags")
    clean = io.read_parquet(run.out / "tags.parquet")
    assert "björk-like" in set(clean["key"])
    put(run.folder / "tags.dat", b"\xef\xbb\xbf" + utf8(TAGS_DAT))
    with caplog.at_level(logging.INFO, logger="artistrec"):
        run.ingest_feature("tags")
    assert "stripped a UTF-8 byte-order mark" in caplog.text
    pd.testing.assert_frame_equal(io.read_parquet(run.out / "tags.parquet"), clean)


def archive_of(members: tuple[str, ...], path: Path) -> str:
    """Zip ``members`` (invented content) like the HetRec archive; return its MD5."""
    with zipfile.ZipFile(path, "w") as bundle:
        for member in members:
            bundle.writestr(f"hetrec2011-lastfm-2k/{member}", f"invented {member}\n")
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_an_archive_whose_md5_does_not_match_is_refused_before_unpacking(tmp_path: Path):
    archive = tmp_path / "hetrec2011-lastfm-2k.zip"
    archive_of(MEMBERS, archive)
    folder = tmp_path / "unpacked"
    with pytest.raises(InputError) as raised:
        unpack_checked(archive, "296d61afe4e8632b173fc2dd3be20ce2", folder)
    assert_one_line(raised.value, archive, "md5")
    assert not folder.exists()


def test_an_archive_lacking_a_file_unpacks_nothing(tmp_path: Path):
    archive = tmp_path / "hetrec2011-lastfm-2k.zip"
    md5 = archive_of(MEMBERS[:-1], archive)
    folder = tmp_path / "unpacked"
    with pytest.raises(InputError) as raised:
        unpack_checked(archive, md5, folder)
    assert_one_line(raised.value, archive, MEMBERS[-1])
    assert not folder.exists() or not any(folder.iterdir())


def test_an_archive_with_the_right_md5_unpacks_every_file(tmp_path: Path):
    archive = tmp_path / "hetrec2011-lastfm-2k.zip"
    md5 = archive_of(MEMBERS, archive)
    unpack_checked(archive, md5, tmp_path / "unpacked")
    assert sorted(p.name for p in (tmp_path / "unpacked").iterdir()) == sorted(MEMBERS)


# --- end to end through Snakemake --------------------------------------------------------

CUSTOM_TARGETS = ("results/custom/split-42/split/train.txt", "results/custom/data/features_likes.parquet")


def custom_listening(n_users: int = 30, n_artists: int = 30) -> str:
    """Every user listens to four artists in a row (mod n_artists): enough for a split."""
    rows = [f"{u},{(u + k) % n_artists}" for u in range(n_users) for k in range(4)]
    return "user_id,artists\n" + "\n".join(rows) + "\n"


@pytest.fixture(scope="module")
def custom_workflow(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workflow copy whose `custom` dataset has run up to the split and the likes table."""
    workdir = copy_workflow(tmp_path_factory.mktemp("custom") / "wf")
    data = workdir / "data"
    data.mkdir()
    (data / "users_artists.csv").write_text(custom_listening(), encoding="utf-8")
    (data / "likes.csv").write_text(
        "artists,user_id\n" + "".join(f"{a},{u}\n" for a in range(30) for u in range(a % 5, 30, 7)), encoding="utf-8"
    )
    custom = {"interactions": "data/users_artists.csv", "artists": None, "dims": [2]}
    custom["features"] = {"likes": {"path": "data/likes.csv", "key": "user_id", "dim": 2, "weighting": "log"}}
    settings = {"dataset": "custom", "n_candidates": 10, "datasets": {"custom": custom}}  # 30 artists in all
    (workdir / "custom.yaml").write_text(yaml.safe_dump(settings))
    finished = run_custom(workdir)
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    return workdir


def run_custom(workdir: Path) -> subprocess.CompletedProcess:
    command = [SNAKEMAKE, "--cores", "2", "--configfile", "custom.yaml", "--", *CUSTOM_TARGETS]
    return subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=HANG_LIMIT)


def error_lines(finished: subprocess.CompletedProcess) -> list[str]:
    return [line for line in (finished.stdout + finished.stderr).splitlines() if line.startswith("error: ")]


def run_with(workdir: Path, file: str, content: str) -> subprocess.CompletedProcess:
    """Run the workflow with ``data/{file}`` replaced by ``content``, then put the good file back."""
    data_file = workdir / "data" / file
    good = data_file.read_bytes()
    data_file.write_text(content, encoding="utf-8", newline="")
    try:
        return run_custom(workdir)
    finally:
        data_file.write_bytes(good)


def test_snakemake_stops_on_bad_input_with_one_line_and_leaves_every_other_artifact(custom_workflow: Path):
    """First a feature table goes bad, then the listening table.

    Each time: a non-zero exit, one line on the console naming file, column, line
    and fix, the failing job's stale outputs gone (Snakemake deletes them before
    the job runs) rather than half-written, and every other artifact untouched.
    """
    results = custom_workflow / "results" / "custom"
    cases = [
        (
            "likes.csv",
            "artists,user_id\n1,2\n1,3\n2,4\n1,\n",
            "error: data/likes.csv: column 'user_id' line 5: is empty (a missing value); fix: ",
            {"data/features_likes.parquet"},
        ),
        (
            "users_artists.csv",
            custom_listening().replace("\n3,", "\n3.0,", 1),
            "error: data/users_artists.csv: column 'user_id' line 14: value '3.0' is not a non-negative integer id; fix: ",
            {"data/interactions.parquet", "data/artists.parquet"},
        ),
    ]
    for file, content, message, failed_outputs in cases:
        earlier = snapshot(results)
        finished = run_with(custom_workflow, file, content)
        assert finished.returncode != 0
        lines = error_lines(finished)
        assert len(lines) == 1 and lines[0].startswith(message), lines
        assert snapshot(results) == {name: value for name, value in earlier.items() if name not in failed_outputs}


def test_snakemake_repairs_a_bom_crlf_export_with_duplicates_into_the_clean_table(custom_workflow: Path):
    results = custom_workflow / "results" / "custom"
    clean = interactions_from_csv(RawTable(custom_workflow / "data" / "users_artists.csv"))
    repaired = "\ufeff" + (custom_listening() + "0,1\n").replace("\n", "\r\n")
    finished = run_with(custom_workflow, "users_artists.csv", repaired)
    assert finished.returncode == 0, finished.stderr[-3000:]
    log = (custom_workflow / "logs" / "custom" / "ingest.log").read_text(encoding="utf-8")
    for repair in ("stripped a UTF-8 byte-order mark", "Windows (CR LF) line endings", "merged 1 exact duplicate rows"):
        assert repair in log
    pd.testing.assert_frame_equal(io.read_parquet(results / "data" / "interactions.parquet"), clean)
    assert not list(results.rglob(".*.tmp*")), "a temporary file was left behind"
