"""The dataset registry: one list of datasets, and what each tells the workflow about its raw files."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from artistrec import demo
from artistrec.datasets import DATASETS, get_dataset, lastfm_2k
from artistrec.datasets import demo as demo_dataset
from artistrec.errors import InputError

from conftest import REPO

CONFIG = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
SCHEMA = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text(encoding="utf-8"))


def test_the_registry_the_config_and_the_schema_name_the_same_datasets():
    assert list(DATASETS) == SCHEMA["properties"]["dataset"]["enum"]
    assert set(DATASETS) == set(SCHEMA["properties"]["datasets"]["required"]) == set(CONFIG["datasets"])
    assert all(dataset.name == name for name, dataset in DATASETS.items())


def test_an_unknown_dataset_is_one_line_naming_the_config_key():
    with pytest.raises(InputError, match=r"^config: dataset: is 'nope', not a known dataset; fix: use one of demo, "):
        get_dataset("nope")


def test_the_demo_reads_the_tables_its_generator_writes(tmp_path: Path):
    tables = demo.generate(demo.DemoSpec(n_users=30, n_artists=40, n_playlists=5, tag_events=50))
    assert tuple(tables) == demo_dataset.TABLES
    demo_dataset.write_raw(tables, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{t}.csv" for t in demo_dataset.TABLES)
    files = get_dataset("demo").raw_files(CONFIG)
    assert list(files.features) == list(CONFIG["datasets"]["demo"]["features"])
    read = {Path(f).name for f in files.listening} | {Path(f).name for fs in files.features.values() for f in fs}
    assert read == {f"{t}.csv" for t in demo_dataset.TABLES}


def test_lastfm_files_come_from_the_configured_folder_else_the_variable_else_the_download(monkeypatch):
    monkeypatch.delenv(lastfm_2k.ENV_VAR, raising=False)
    dataset, config = get_dataset("lastfm-2k"), copy.deepcopy(CONFIG)
    assert dataset.raw_files(config).tables == {"dir": lastfm_2k.DOWNLOAD_FOLDER}
    assert dataset.bounds(config) is None  # nothing to count before the download
    monkeypatch.setenv(lastfm_2k.ENV_VAR, "/from/env")
    files = dataset.raw_files(config)
    assert files.listening == ["/from/env/user_artists.dat", "/from/env/artists.dat"]
    assert files.features["tags"] == ["/from/env/tags.dat", "/from/env/user_taggedartists.dat"]
    config["datasets"]["lastfm-2k"]["dir"] = "/configured"
    assert dataset.raw_files(config).tables == {"dir": "/configured"}
    assert set(lastfm_2k.FILES) == {*lastfm_2k.LISTENING_FILES, *lastfm_2k.FEATURE_FILES}
    assert set(lastfm_2k.FILES) < set(lastfm_2k.ARCHIVE_MEMBERS)


def test_custom_listening_files_include_the_artists_table_only_when_configured():
    config = copy.deepcopy(CONFIG)
    custom = config["datasets"]["custom"]
    custom["features"] = {"likes": {"path": "data/likes.csv", "key": "user_id", "dim": 4, "weighting": "log"}}
    files = get_dataset("custom").raw_files(config)
    assert files.listening == [custom["interactions"]]
    assert files.features == {"likes": ["data/likes.csv"]}
    assert files.tables["features"] == {"likes": ("data/likes.csv", "user_id")}
    custom["artists"] = "data/artists.csv"
    assert get_dataset("custom").raw_files(config).listening == [custom["interactions"], "data/artists.csv"]
