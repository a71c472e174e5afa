"""New artists in batch: a folder of side information scored by a finished run, as the evaluation scores."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from artistrec import io
from artistrec.batch import export_batch, recommend_batch
from artistrec.cli import main
from artistrec.errors import InputError
from artistrec.recommend import SERVABLE, ResultsFolder, recommend

from conftest import REPO, copy_workflow, run_folder, snakemake

OFFSET = 10_000_000  # new ids: the run's artist ids moved out of its range


def write_batch(run: Path, folder: Path, artist_ids: np.ndarray, weights: bool = True) -> Path:
    """The side information of ``artist_ids`` of a finished run, written out as a batch of new artists."""
    return export_batch(run, artist_ids, folder, OFFSET, weights)


def served_rows(run: Path, method: str | None = None) -> pd.DataFrame:
    """The rows of the run's ``recommendations/test.csv`` of ``method`` (None: the served method)."""
    served = method or io.read_json(run / "run.json")["served_method"]["name"]
    evaluated = pd.read_csv(run / "recommendations" / "test.csv")
    return evaluated[evaluated["method"] == served].drop(columns="method").reset_index(drop=True)


def batch_rows(output: Path) -> pd.DataFrame:
    """A batch's recommendations as the evaluation's rows (original ids, without the names)."""
    rows = pd.read_csv(output).drop(columns="name")
    return rows.assign(artist_id=rows["artist_id"] - OFFSET)


@pytest.mark.parametrize("method", [None, *SERVABLE])
def test_test_artists_scored_as_new_artists_get_exactly_the_evaluations_top_lists(demo_run, tmp_path, method):
    run = run_folder(demo_run)
    batch = write_batch(run, tmp_path / "batch", io.read_ids(run / "split" / "test.txt"))
    counts = recommend_batch(run, batch, tmp_path / "out" / "recommendations.csv", k=20, method=method)
    pd.testing.assert_frame_equal(batch_rows(tmp_path / "out" / "recommendations.csv"), served_rows(run, method))
    parquet = pd.read_parquet(tmp_path / "out" / "recommendations.parquet")
    pd.testing.assert_frame_equal(parquet, pd.read_csv(tmp_path / "out" / "recommendations.csv"), check_dtype=False)
    assert counts["new_artists"] == io.read_ids(run / "split" / "test.txt").shape[0]


def test_memory_is_bounded_by_the_chunk_and_the_chunk_changes_nothing(demo_run, tmp_path):
    run = run_folder(demo_run)
    batch = write_batch(run, tmp_path / "batch", io.read_ids(run / "split" / "test.txt"))
    recommend_batch(run, batch, tmp_path / "whole.csv", k=20)
    recommend_batch(run, batch, tmp_path / "chunked.csv", k=20, chunk=7)
    assert (tmp_path / "whole.csv").read_bytes() == (tmp_path / "chunked.csv").read_bytes()


def side_information_of(batch: Path, artist: int) -> dict[str, list[str]]:
    """The keys a batch gives one new artist, per source (sources without any left out)."""
    given = {}
    for path in sorted(batch.glob("*.csv")):
        table = pd.read_csv(path, dtype=str)
        keys = table.loc[table["artists"] == str(artist)].iloc[:, 1].tolist()
        if path.name != "artists.csv" and keys:
            given[path.stem] = keys
    return given


@pytest.mark.parametrize("method", list(SERVABLE))
def test_a_new_artists_top_list_in_a_batch_equals_recommend_for_it_alone(demo_run, tmp_path, method):
    run = run_folder(demo_run)
    batch = write_batch(run, tmp_path / "batch", io.read_ids(run / "split" / "test.txt"), weights=False)
    recommend_batch(run, batch, tmp_path / "out.csv", k=10, method=method)
    together = pd.read_parquet(tmp_path / "out.parquet")
    folder = ResultsFolder(run, method)
    column = {candidate: i for i, candidate in enumerate(folder.candidates)}
    asked = 0
    for artist in together["artist_id"].unique():
        given = side_information_of(batch, artist)
        if given and asked < 4:
            alone = recommend(run, side_information=given, k=10, method=method)["recommendations"]
            ours = together[together["artist_id"] == artist]
            assert [r["artist_id"] for r in alone] == ours["candidate_id"].tolist()
            scores = folder.scored(folder.new_artist_queries(given))  # the artist's scores alone
            top = np.array([[column[candidate] for candidate in ours["candidate_id"]]])
            assert np.take_along_axis(scores, top, axis=1)[0].tolist() == ours["score"].tolist()
            assert [r["score"] for r in alone] == SERVABLE[method].chance(scores, top)[0].tolist()
            asked += 1
    assert asked == 4


def test_the_command_writes_the_batch_under_the_run_and_says_how_many_it_scored(demo_run, tmp_path, capsys):
    copy = tmp_path / "results"
    shutil.copytree(demo_run / "results", copy)
    run = copy / "demo" / "split-42"
    batch = write_batch(run, tmp_path / "week-49", io.read_ids(run / "split" / "test.txt")[:5])
    assert main(["recommend", str(run), "--batch", str(batch), "-k", "3"]) == 0
    out = capsys.readouterr().out
    written = run / "new" / "week-49" / "recommendations.csv"
    assert out.startswith("5 new artists (") and out.rstrip().endswith(str(written))
    table = pd.read_csv(written)
    assert table.columns.tolist() == ["artist_id", "rank", "candidate_id", "name", "score"]
    assert table.shape[0] == 15 and table["rank"].tolist() == [1, 2, 3] * 5


# --- bad batches: one line naming the file and the fix, nothing written -------------------------


def bad_batches(run: Path, folder: Path) -> dict[str, tuple[Path, str]]:
    """Each kind of bad batch: the file the error must name and a part of its message."""
    test = io.read_ids(run / "split" / "test.txt")[:5]

    def good(name: str) -> Path:
        return write_batch(run, folder / name, test)

    cases = {}
    missing = good("missing-source")
    (missing / "playlists.csv").unlink()
    cases["missing-source"] = (missing / "playlists.csv", "is missing (the run reads the source 'playlists')")
    other = good("other-source")
    (other / "moods.csv").write_text("artists,mood\n10000001,happy\n")
    cases["other-source"] = (other / "moods.csv", "'moods' is not a feature source of this run")
    unknown = good("unknown-keys")
    (unknown / "tags.csv").write_text("artists,tag\n10000001,no-such-tag\n10000002,nor-this\n")
    cases["unknown-keys"] = (unknown / "tags.csv", "none of its 2 keys is a tags key of the run")
    empty = good("empty-file")
    (empty / "likes.csv").write_text("")
    cases["empty-file"] = (empty / "likes.csv", "is empty")
    latin = good("latin-1")
    (latin / "tags.csv").write_bytes("artists,tag\n10000001,Motörhead\n".encode("latin-1"))
    cases["latin-1"] = (latin / "tags.csv", "is not valid utf-8 text")
    known = good("known-artist")
    (known / "tags.csv").write_text(f"artists,tag\n{test[0]},metal-1\n")
    cases["known-artist"] = (known / "tags.csv", "name artists of the run")
    cases["no-folder"] = (folder / "no-folder", "does not exist")
    return cases


def test_bad_batches_are_refused_with_one_line_naming_the_file_and_nothing_is_written(demo_run, tmp_path):
    run = run_folder(demo_run)
    for name, (named, problem) in bad_batches(run, tmp_path).items():
        output = tmp_path / "out" / name / "recommendations.csv"
        with pytest.raises(InputError) as raised:
            recommend_batch(run, tmp_path / name, output, k=5)
        message = str(raised.value)
        assert message.startswith(f"{named}: ") and problem in message, (name, message)
        assert "; fix: " in message and "\n" not in message
        assert not output.parent.exists() or not any(output.parent.iterdir()), name


def test_keys_the_run_does_not_know_are_counted_and_left_out(demo_run, tmp_path, caplog):
    run = run_folder(demo_run)
    test = io.read_ids(run / "split" / "test.txt")
    batch = write_batch(run, tmp_path / "batch", test)
    tags = pd.read_csv(batch / "tags.csv")
    extra = pd.DataFrame({"artists": tags["artists"].unique()[:3], "tag": "no-such-tag", "weight": 1.0})
    pd.concat([tags, extra]).to_csv(batch / "tags.csv", index=False)
    with caplog.at_level("INFO"):
        recommend_batch(run, batch, tmp_path / "out" / "recommendations.csv", k=20)
    assert f"3 of {tags.shape[0] + 3} rows have keys the run does not know" in caplog.text
    pd.testing.assert_frame_equal(batch_rows(tmp_path / "out" / "recommendations.csv"), served_rows(run))


# --- the rule ----------------------------------------------------------------------------------


def test_snakemake_new_scores_the_batch_once_and_again_when_it_changes(demo_run, tmp_path):
    workdir = tmp_path / "wf"
    shutil.copytree(demo_run, workdir, symlinks=True)
    run = run_folder(workdir)
    batch = write_batch(run, tmp_path / "week-49", io.read_ids(run / "split" / "test.txt")[:6])
    snakemake(workdir, "--config", f"new_artists={batch}", "--", "new")
    output = run / "new" / "week-49" / "recommendations.csv"
    assert output.is_file() and (output.with_suffix(".parquet")).is_file()
    assert "Nothing to be done" in snakemake(workdir, "-n", "--config", f"new_artists={batch}", "--", "new").stdout
    (batch / "tags.csv").write_text((batch / "tags.csv").read_text() + f"{OFFSET + 1},metal-1,1.0\n")
    again = snakemake(workdir, "-n", "--config", f"new_artists={batch}", "--", "new").stdout
    assert re.findall(r"^(?:local)?rule (\w+):", again, re.MULTILINE) == ["recommend_new", "new"]
    unset = snakemake(workdir, "--", "new", check=False)
    assert unset.returncode != 0
    assert "error: config: new_artists: is not set" in unset.stdout + unset.stderr


# --- Last.fm-2k ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lastfm_served_run(lastfm_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small Last.fm-2k run to the metrics: the default network and the listener network, small towers."""
    workdir = copy_workflow(tmp_path_factory.mktemp("lastfm-batch") / "wf")
    os.environ["LASTFM_2K_DIR"] = str(lastfm_dir)
    small = {
        "dataset": "lastfm-2k",
        "datasets": {
            "lastfm-2k": {
                "features": {"tags": {"dim": 32, "weighting": "bm25"}, "taggers": {"dim": 32, "weighting": "bm25"}},
                "dims": [32],
            }
        },
        "model": {"hidden_units": [64], "max_epochs": 3, "patience": 2},
        "methods": {
            "network_ensemble": 0,
            "network_knn": False,
            "network_embedding_knn": False,
            "ablation": False,
            "cluster_popularity": False,
            "content_knn_raw": False,
        },
        "evaluation": {"knn_k": [25, 100], "knn_power": [3], "user_listening_weights": [0, 1], "bootstrap": 10},
    }
    config = workdir / "small.yaml"
    config.write_text(yaml.safe_dump(small))
    snakemake(
        workdir, "--configfile", str(REPO / "config.yaml"), str(config), "--", "results/lastfm-2k/split-42/run.json"
    )
    return run_folder(workdir, "lastfm-2k")


@pytest.mark.lastfm
def test_on_lastfm_2k_test_artists_as_a_batch_get_exactly_the_evaluations_top_lists(lastfm_served_run, tmp_path):
    run = lastfm_served_run
    batch = write_batch(run, tmp_path / "batch", io.read_ids(run / "split" / "test.txt"))
    recommend_batch(run, batch, tmp_path / "out" / "recommendations.csv", k=20)
    pd.testing.assert_frame_equal(batch_rows(tmp_path / "out" / "recommendations.csv"), served_rows(run))
