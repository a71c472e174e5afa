import os
import sys
from pathlib import Path

# The workflow's logic lives in the artistrec package under src/; jobs (local or
# on a cluster) find it too, even without `pip install -e .`.
sys.path.insert(0, str(Path(workflow.basedir) / "src"))

from artistrec import config as artistrec_config
from artistrec.errors import InputError

artistrec_config.export_package_path()
if workflow.is_main_process:
    # A run killed with SIGKILL leaves Snakemake's lock files behind; drop them
    # when no live run holds them, so the same command simply runs again.
    artistrec_config.release_stale_locks()

try:
    artistrec_config.validate(
        config, Path(workflow.basedir) / "workflow/schemas/config.schema.yaml"
    )
except InputError as err:
    sys.exit(f"error: {err}")


wildcard_constraints:
    dataset="demo|lastfm-2k|custom",
    source="[A-Za-z][A-Za-z0-9_]*",


DEFAULT_DATASET = config["dataset"]
LASTFM_2K_FILES = list(artistrec_config.LASTFM_2K_FILES)
LASTFM_2K_DOWNLOAD = "resources/hetrec2011-lastfm-2k"


def settings(*keys):
    """A config section as a key-sorted dict: a params value whose text does not
    depend on the order of keys in the config files, so reordering them re-runs nothing.
    """
    section = config
    for key in keys:
        section = section[key]
    return dict(sorted(section.items()))


def results(dataset, *parts):
    return os.path.join("results", dataset, *parts)


def sources(dataset):
    """Feature sources of a dataset, in config order (the network's input order)."""
    return list(artistrec_config.feature_settings(config, dataset))


def source_setting(wildcards, key):
    return config["datasets"][wildcards.dataset]["features"][wildcards.source][key]


def split_files(dataset):
    return {
        part: results(dataset, "split", f"{part}.txt")
        for part in ("train", "valid", "test")
    }


def split_inputs(wildcards):
    return split_files(wildcards.dataset)


def svd_inputs(wildcards):
    return [
        results(wildcards.dataset, "svd", f"{s}.npz")
        for s in sources(wildcards.dataset)
    ]


def lastfm_2k_dir():
    return artistrec_config.lastfm_2k_dir(config, LASTFM_2K_DOWNLOAD)


def custom_features():
    return config["datasets"]["custom"]["features"]


def raw_tables(wildcards):
    """Where ingest reads a dataset's raw tables (paths are inputs, so edits re-run it)."""
    if wildcards.dataset == "demo":
        from artistrec.demo import DEMO_FEATURES

        raw = results("demo", "raw")
        return {
            "interactions": f"{raw}/users_artists.csv",
            "artists": f"{raw}/artists.csv",
            "features": {
                s: (f"{raw}/{DEMO_FEATURES[s][0]}.csv", DEMO_FEATURES[s][1])
                for s in sources("demo")
            },
        }
    if wildcards.dataset == "lastfm-2k":
        return {"dir": lastfm_2k_dir()}
    custom = config["datasets"]["custom"]
    return {
        "interactions": custom["interactions"],
        "artists": custom["artists"],
        "features": {s: (v["path"], v["key"]) for s, v in custom_features().items()},
    }


def listening_files(wildcards):
    """The raw listening (and artist name) files of a dataset, for staleness checks."""
    tables = raw_tables(wildcards)
    if "dir" in tables:
        return [
            os.path.join(tables["dir"], n) for n in ("user_artists.dat", "artists.dat")
        ]
    return [tables["interactions"]] + ([tables["artists"]] if tables["artists"] else [])


def feature_files(wildcards):
    """The raw files behind one feature source."""
    tables = raw_tables(wildcards)
    if "dir" in tables:
        return [
            os.path.join(tables["dir"], n)
            for n in ("tags.dat", "user_taggedartists.dat")
        ]
    return [tables["features"][wildcards.source][0]]
