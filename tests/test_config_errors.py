"""A bad config stops the run before any job, with one line naming the key.

Checks that need the data (more candidates than train artists, an SVD `dim` not
below its source's number of columns) run in the first job that has the data
(candidates, svd): also one line naming the key, and nothing is trained.
"""

from __future__ import annotations

import copy
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
    ("zero SVD dim", changed("datasets.lastfm-2k.features.tags.dim", 0), "datasets.lastfm-2k.features.tags.dim"),
    ("empty feature-source list (demo)", changed("datasets.demo.features", {}), "datasets.demo.features"),
    (
        "user source that is no feature source",
        changed("datasets.demo.user_source", "playlist"),
        "datasets.demo.user_source",
    ),
    ("number for the user source", changed("datasets.lastfm-2k.user_source", 1), "datasets.lastfm-2k.user_source"),
    ("empty feature-source list (custom)", changed("dataset", "custom"), "datasets.custom.features"),
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
    # the files exist now; the next check reads them: one listened artist is too few for 1000 candidates
    with pytest.raises(InputError, match=r"^config: n_candidates: is 1000 but the data has at most 1 train artists"):
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
    assert not list(results.rglob(".*")), "a temporary file was left behind"
