"""A bad config stops the run before any job, with one line naming the key.

Checks that need the data (more candidates than train artists, an SVD `dim` not
below its source's number of columns) run in the first job that has the data
(candidates, svd): also one line naming the key, and nothing is trained.
"""

from __future__ import annotations

import copy
import logging
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from artistrec.config import validate
from artistrec.errors import InputError

from conftest import HANG_LIMIT, REPO, SNAKEMAKE, TEST_CONFIG, copy_workflow, run_folder

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
DEFAULTS = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))


def changed(path: str, value: Any) -> dict[str, Any]:
    """The default config with the key at dotted ``path`` set to ``value`` (``DELETE`` removes it)."""
    config = copy.deepcopy(DEFAULTS)
    *parents, last = path.split(".")
    node = config
    for key in parents:
        node = node[key]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return config


DELETE = object()
CUSTOM_FILES = {
    "interactions": "data/users_artists.csv",
    "artists": None,
    "features": {},
    "user_source": None,
    "dims": [4],
}
CUSTOM_LIKES = {"likes": {"path": "data/likes.csv", "key": "user_id", "dim": 4, "weighting": "log"}}

# (what is wrong, config, the key the error must name)
BAD_CONFIGS = [
    ("unknown top-level key", {**DEFAULTS, "n_candidate": 10}, "n_candidate"),
    ("unknown nested key", changed("model.hidden_unit", [8]), "model.hidden_unit"),
    (
        "unknown key of a feature source",
        changed("datasets.demo.features.tags.dims", 8),
        "datasets.demo.features.tags.dims",
    ),
    ("missing key", changed("model.batch_size", DELETE), "model.batch_size"),
    ("string for an integer", changed("n_candidates", "1000"), "n_candidates"),
    ("number for a list", changed("model.hidden_units", 256), "model.hidden_units"),
    ("float for an integer seed", changed("split.seed", 1.5), "split.seed"),
    ("string for a boolean", changed("model.require_gpu", "yes"), "model.require_gpu"),
    (
        "unknown weighting",
        changed("datasets.demo.features.tags.weighting", "idf"),
        "datasets.demo.features.tags.weighting",
    ),
    ("unknown dataset", changed("dataset", "lastfm-360k"), "dataset"),
    ("zero candidates", changed("n_candidates", 0), "n_candidates"),
    ("a word other than all for the candidates", changed("n_candidates", "most"), "n_candidates"),
    ("no listener minimum", changed("candidates.min_listeners", 0), "candidates.min_listeners"),
    ("zero SVD dim", changed("datasets.lastfm-2k.features.tags.dim", 0), "datasets.lastfm-2k.features.tags.dim"),
    ("empty feature-source list (demo)", changed("datasets.demo.features", {}), "datasets.demo.features"),
    (
        "user source that is no feature source",
        changed("datasets.demo.user_source", "playlist"),
        "datasets.demo.user_source",
    ),
    ("number for the user source", changed("datasets.lastfm-2k.user_source", 1), "datasets.lastfm-2k.user_source"),
    ("empty feature-source list (custom)", changed("dataset", "custom"), "datasets.custom.features"),
    (
        "unknown column of the listening table",
        changed("datasets.custom.columns", {"interactions": {"plays": "count"}}),
        "datasets.custom.columns.interactions",
    ),
    (
        "a feature source's key given as a column",
        changed("datasets.custom.features", {"likes": {**CUSTOM_LIKES["likes"], "columns": {"key": "usr"}}}),
        "datasets.custom.features.likes.columns",
    ),
    ("test fraction 0", changed("split.test_fraction", 0), "split.test_fraction"),
    ("test fraction 1", changed("split.test_fraction", 1), "split.test_fraction"),
    ("negative test fraction", changed("split.test_fraction", -0.1), "split.test_fraction"),
    ("test fraction above 1", changed("split.test_fraction", 1.5), "split.test_fraction"),
    ("valid fraction 0", changed("split.valid_fraction", 0.0), "split.valid_fraction"),
    (
        "fractions summing to 1",
        {**DEFAULTS, "split": {"test_fraction": 0.5, "valid_fraction": 0.5, "seed": 1}},
        "split.valid_fraction",
    ),
    (
        "fractions summing above 1",
        {**DEFAULTS, "split": {"test_fraction": 0.7, "valid_fraction": 0.4, "seed": 1}},
        "split.valid_fraction",
    ),
]


@pytest.mark.parametrize(("config", "key"), [case[1:] for case in BAD_CONFIGS], ids=[case[0] for case in BAD_CONFIGS])
def test_a_bad_config_is_one_line_naming_the_key(config: dict[str, Any], key: str):
    with pytest.raises(InputError) as raised:
        validate(config, SCHEMA)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"config: {key}: "), message
    assert message.split("; fix: ")[1].strip(), message


def test_the_default_config_is_valid():
    validate(copy.deepcopy(DEFAULTS), SCHEMA)


def test_every_train_artist_as_candidates_is_a_valid_config():
    validate(changed("n_candidates", "all"), SCHEMA)


def test_a_custom_file_that_does_not_exist_is_named_before_any_job(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    config = changed("datasets.custom", {**CUSTOM_FILES, "features": CUSTOM_LIKES}) | {"dataset": "custom"}
    with pytest.raises(InputError, match=r"^config: datasets\.custom\.interactions: names 'data/users_artists\.csv'"):
        validate(config, SCHEMA)
    (tmp_path / "data" / "users_artists.csv").write_text("user_id,artists\n1,2\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"^config: datasets\.custom\.features\.likes\.path: "):
        validate(config, SCHEMA)
    (tmp_path / "data" / "likes.csv").write_text("artists,user_id\n2,1\n", encoding="utf-8")
    # the files exist now; the next check reads them: ten listened artists are too few for 1000 candidates
    listening = "user_id,artists\n" + "".join(f"1,{artist}\n" for artist in range(10))
    (tmp_path / "data" / "users_artists.csv").write_text(listening, encoding="utf-8")
    with pytest.raises(InputError, match=r"^config: n_candidates: is 1000 but the data has at most 8 train artists"):
        validate(config, SCHEMA)


def test_a_lastfm_folder_without_its_files_is_named_before_any_job(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("LASTFM_2K_DIR", raising=False)
    configured = changed("datasets.lastfm-2k.dir", str(tmp_path)) | {"dataset": "lastfm-2k"}
    with pytest.raises(InputError, match=r"^config: datasets\.lastfm-2k\.dir: folder .* has no artists\.dat; fix: "):
        validate(configured, SCHEMA)
    monkeypatch.setenv("LASTFM_2K_DIR", str(tmp_path))
    with pytest.raises(InputError, match=r"^config: \$LASTFM_2K_DIR: folder .* has no artists\.dat; fix: "):
        validate(changed("dataset", "lastfm-2k"), SCHEMA)
    monkeypatch.delenv("LASTFM_2K_DIR")
    validate(changed("dataset", "lastfm-2k"), SCHEMA)  # no folder given: the checked download provides it


def test_an_svd_dim_above_the_columns_of_real_data_is_named_before_any_job(lastfm_dir: Path, monkeypatch):
    monkeypatch.setenv("LASTFM_2K_DIR", str(lastfm_dir))
    config = changed("datasets.lastfm-2k.features.taggers.dim", 5000) | {"dataset": "lastfm-2k"}
    # Last.fm-2k has fewer than 2,000 users, so fewer taggers.
    with pytest.raises(InputError, match=r"^config: datasets\.lastfm-2k\.features\.taggers\.dim: is 5000 but source"):
        validate(config, SCHEMA)


# --- the custom dataset's files, read before any job ---------------------------------------

USERS = range(1, 21)
LISTENING = "user_id,artists\n" + "".join(f"{u},{u + k}\n" for u in USERS for k in range(4))  # artists 1..23
LIKES_CSV = "artists,user_id\n" + "".join(f"{a},{u}\n" for a in range(1, 24) for u in USERS if (a + u) % 3 == 0)


def custom_config(folder: Path, files: dict[str, str], features: dict[str, str], **custom: Any) -> dict[str, Any]:
    """The default config running `custom` on ``files`` (name: content) written to ``folder/data``.

    ``features`` gives each source's key column; its file is ``data/{source}.csv``.
    """
    (folder / "data").mkdir(exist_ok=True)
    for name, content in {"users_artists": LISTENING, **files}.items():
        (folder / "data" / f"{name}.csv").write_text(content, encoding="utf-8")
    sources = {s: {"path": f"data/{s}.csv", "key": key, "dim": 4, "weighting": "log"} for s, key in features.items()}
    settings = {**CUSTOM_FILES, "features": sources, **custom}
    return changed("datasets.custom", settings) | {"dataset": "custom", "n_candidates": 10}


def refusal(config: dict[str, Any]) -> str:
    """The one-line message of the InputError that ``validate`` raises."""
    with pytest.raises(InputError) as raised:
        validate(config, SCHEMA)
    message = str(raised.value)
    assert "\n" not in message and message.count("; fix: ") == 1, message
    return message


def test_a_user_source_keyed_by_anything_but_user_ids_is_refused_before_any_job(tmp_path: Path, monkeypatch):
    """Playlist ids 1..200 overlap the user ids 1..20 only partly; tags are no ids at all."""
    monkeypatch.chdir(tmp_path)
    files = {
        "likes": LIKES_CSV,
        "playlists": "artists,playlist_id\n" + "".join(f"{p % 23 + 1},{p}\n" for p in range(1, 201)),
        "tags": "artists,tag\n" + "".join(f"{a},tag{a % 7}\n" for a in range(1, 24)),
    }
    features = {"likes": "user_id", "playlists": "playlist_id", "tags": "tag"}
    for source, share, counts in (("playlists", "10%", "20 of 200"), ("tags", "0%", "0 of 7")):
        message = refusal(custom_config(tmp_path, files, features, user_source=source))
        assert message == (
            f"config: datasets.custom.user_source: '{source}' has keys of which only {share} are user ids of "
            f"data/users_artists.csv ({counts} in data/{source}.csv); fix: name a source keyed by user_id, or null"
        )
    validate(custom_config(tmp_path, files, features, user_source="likes"), SCHEMA)


def test_keys_of_the_user_source_that_are_no_user_id_are_dropped_with_a_log_line(tmp_path: Path, monkeypatch, caplog):
    monkeypatch.chdir(tmp_path)
    likes = LIKES_CSV + "1,abc\n2,-3\n3,4.5\n4,-3\n"
    config = custom_config(tmp_path, {"likes": likes}, {"likes": "user_id"}, user_source="likes")
    with caplog.at_level(logging.INFO, logger="artistrec"):
        validate(config, SCHEMA)
    assert "data/likes.csv: column 'user_id': dropped 3 keys that are no user id" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="artistrec"):
        validate(custom_config(tmp_path, {"likes": LIKES_CSV}, {"likes": "user_id"}, user_source="likes"), SCHEMA)
    assert "dropped" not in caplog.text


@pytest.mark.parametrize(
    ("content", "problem"),
    [("artists,user_id\n", "has a header but no rows"), ("", "is empty"), ("\n\n", "is empty")],
    ids=["header-only", "empty", "blank-lines"],
)
def test_a_feature_file_without_rows_is_named_with_the_key_that_names_it(
    tmp_path: Path, monkeypatch, content: str, problem: str
):
    monkeypatch.chdir(tmp_path)
    message = refusal(custom_config(tmp_path, {"likes": content}, {"likes": "user_id"}))
    assert message.startswith(f"config: datasets.custom.features.likes.path: names 'data/likes.csv', which {problem}")


def test_a_listening_file_without_rows_is_named_with_the_key_that_names_it(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = custom_config(tmp_path, {"likes": LIKES_CSV, "users_artists": "user_id,artists\n"}, {"likes": "user_id"})
    message = refusal(config)
    assert message.startswith(
        "config: datasets.custom.interactions: names 'data/users_artists.csv', which has a header but no rows"
    )


def test_a_feature_file_of_artists_nobody_listens_to_is_named_before_any_job(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    unknown = "artists,user_id\n" + "".join(f"{a},{u}\n" for a in (98, 99) for u in USERS)
    message = refusal(
        custom_config(tmp_path, {"likes": LIKES_CSV, "tags": unknown}, {"likes": "user_id", "tags": "user_id"})
    )
    assert message.startswith(
        "config: datasets.custom.features.tags.path: names 'data/tags.csv', but no artist of that file "
        "is in the listening table data/users_artists.csv; fix: "
    )


def test_too_few_artists_to_split_are_named_before_any_job(tmp_path: Path, monkeypatch):
    """Five artists: 10% test and 10% valid of them round to none, whatever n_candidates says."""
    monkeypatch.chdir(tmp_path)
    five = "user_id,artists\n" + "".join(f"{u},{(u + k) % 5 + 1}\n" for u in USERS for k in range(2))
    five_likes = "artists,user_id\n" + "".join(f"{a},{u}\n" for a in range(1, 6) for u in USERS)
    message = refusal(custom_config(tmp_path, {"users_artists": five, "likes": five_likes}, {"likes": "user_id"}))
    assert message.startswith(
        "config: split: the data has at most 5 listened artists, too few to split into train, valid and test "
        "artists with test_fraction 0.1 and valid_fraction 0.1 (that takes at least 7); fix: "
    )
    fractions = {"test_fraction": 0.2, "valid_fraction": 0.25, "seed": 1}
    config = custom_config(tmp_path, {"users_artists": five, "likes": five_likes}, {"likes": "user_id"})
    message = refusal(config | {"split": fractions})  # now it splits, and the next limit speaks
    assert message.startswith("config: n_candidates: is 10 but the data has at most 3 train artists")


def test_files_with_their_own_column_names_pass_when_the_config_maps_them(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    files = {
        "users_artists": LISTENING.replace("user_id,artists", "uid,artist_id"),
        "likes": LIKES_CSV.replace("artists,user_id", "artist_id,user_id"),
    }
    config = custom_config(tmp_path, files, {"likes": "user_id"}, user_source="likes")
    config["datasets"]["custom"]["columns"] = {"interactions": {"user_id": "uid", "artists": "artist_id"}}
    config["datasets"]["custom"]["features"]["likes"]["columns"] = {"artists": "artist_id"}
    validate(config, SCHEMA)


def test_a_key_column_that_is_not_in_the_file_names_the_config_key_that_names_it(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    message = refusal(custom_config(tmp_path, {"likes": LIKES_CSV}, {"likes": "usr"}))
    assert message == (
        "config: datasets.custom.features.likes.key: names 'usr' but data/likes.csv has columns artists, user_id; "
        "fix: set datasets.custom.features.likes.key to one of user_id"
    )


def test_every_missing_column_of_every_file_is_in_one_error(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    files = {
        "users_artists": LISTENING.replace("user_id,artists", "user_id,artist"),
        "likes": LIKES_CSV,
        "tags": "artists,tag,count\n1,rock,3\n",
    }
    config = custom_config(tmp_path, files, {"likes": "usr", "tags": "tag"})
    config["datasets"]["custom"]["features"]["tags"]["columns"] = {"artists": "artist_id", "weight": "n"}
    message = refusal(config)
    problems, fixes = message.split("; fix: ")
    assert problems.split("; ") == [
        "config: datasets.custom.interactions: names 'data/users_artists.csv', which has no column 'artists' "
        "(its columns: user_id, artist)",
        "datasets.custom.features.likes.key: names 'usr' but data/likes.csv has columns artists, user_id",
        "datasets.custom.features.tags.columns.artists: names 'artist_id' but data/tags.csv has columns artists, tag, count",
        "datasets.custom.features.tags.columns.weight: names 'n' but data/tags.csv has columns artists, tag, count",
    ]
    assert fixes.split("; ") == [
        "rename that column of data/users_artists.csv to 'artists', or name it in "
        "datasets.custom.columns.interactions.artists",
        "set datasets.custom.features.likes.key to one of user_id",
        "set datasets.custom.features.tags.columns.artists to one of artists, count",
        "set datasets.custom.features.tags.columns.weight to one of artists, count",
    ]


# --- through Snakemake -------------------------------------------------------------------


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_workflow(tmp_path_factory.mktemp("config") / "wf")


def snakemake_with(workdir: Path, config: dict[str, Any], *args: str) -> subprocess.CompletedProcess:
    (workdir / "bad.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    command = [SNAKEMAKE, "--cores", "2", "--resources", "gpu=1", "--configfile", "bad.yaml", *args]
    return subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=HANG_LIMIT)


def config_error_line(finished: subprocess.CompletedProcess, key: str) -> str:
    """The one console line of a config error (``error: `` is the prefix of errors raised in a job)."""
    output = (finished.stdout + finished.stderr).splitlines()
    lines = [line for line in output if line.startswith((f"config: {key}: ", f"error: config: {key}: "))]
    assert len(lines) == 1, "\n".join(output[-40:])
    return lines[0]


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"n_candidatez": 10}, "n_candidatez"),
        ({"model": {"batch_size": "big"}}, "model.batch_size"),
        ({"dataset": "custom"}, "datasets.custom.features"),
        ({"split": {"test_fraction": 1.0}}, "split.test_fraction"),
        ({"split": {"test_fraction": 0.6, "valid_fraction": 0.9}}, "split.valid_fraction"),
        ({"dataset": "custom", "datasets": {"custom": {"features": CUSTOM_LIKES}}}, "datasets.custom.interactions"),
        ({"n_candidates": 100_000}, "n_candidates"),
        (
            {"datasets": {"demo": {"features": {"tags": {"dim": 100_000, "weighting": "log"}}}}},
            "datasets.demo.features.tags.dim",
        ),
        ({"datasets": {"demo": {"dims": [8, 100_000]}}}, "datasets.demo.dims"),
        ({"methods": {"network_knn": "yes"}}, "methods.network_knn"),
    ],
    ids=[
        "unknown-key",
        "wrong-type",
        "no-feature-source",
        "fraction-1",
        "fractions-sum",
        "missing-custom-file",
        "more-candidates-than-artists",
        "dim-above-columns",
        "sweep-dim-above-columns",
        "method-switch-type",
    ],
)
def test_a_dry_run_fails_on_a_bad_config_naming_the_key(workdir: Path, config: dict[str, Any], key: str):
    finished = snakemake_with(workdir, config, "-n")
    assert finished.returncode != 0
    assert "; fix: " in config_error_line(finished, key)


def test_no_job_runs_with_a_bad_config(workdir: Path):
    finished = snakemake_with(workdir, {"split": {"valid_fraction": 0}})
    assert finished.returncode != 0
    config_error_line(finished, "split.valid_fraction")
    assert not (workdir / "results").exists() and not (workdir / "logs").exists()


def test_too_many_candidates_for_the_actual_data_stop_the_candidates_job_and_keep_the_earlier_model(
    demo_run: Path, tmp_path: Path
):
    """Before any job the limit is checked against an upper bound of the train artists; one
    candidate more than the actual train artists passes that bound and is caught by the
    candidates job. Training never starts, and the model of the earlier run stays as it was.
    """
    workdir = tmp_path / "wf"
    shutil.copytree(demo_run, workdir, symlinks=True)
    results = run_folder(workdir)
    model = results / "models" / "default" / "model.h5"
    earlier_model = model.read_bytes()
    n_train = len((results / "split" / "train.txt").read_text().split())
    tiny = yaml.safe_load(TEST_CONFIG.read_text(encoding="utf-8"))
    tiny["n_candidates"] = n_train + 1
    finished = snakemake_with(workdir, tiny, "--", str(model.relative_to(workdir)))
    assert finished.returncode != 0
    assert config_error_line(finished, "n_candidates").startswith(
        f"error: config: n_candidates: is {n_train + 1} but there are only {n_train} train artists"
    )
    assert not re.search(r"^\s*(local)?rule train:", finished.stdout, flags=re.MULTILINE)
    assert model.read_bytes() == earlier_model
    assert not (results / "candidates.txt").exists()
    assert not list(results.rglob(".*.tmp*")), "a temporary file was left behind"
