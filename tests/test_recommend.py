"""`artistrec recommend`: similar artists of a known artist or of a new artist's side information."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from artistrec import io
from artistrec.cli import main
from artistrec.errors import InputError
from artistrec.features import WeightingStats, source_matrix
from artistrec.recommend import Source, find_artist, key_row, project, top_similar
from conftest import run_folder

ARTISTREC = str(Path(sys.executable).with_name("artistrec"))


def results_of(demo_run: Path) -> Path:
    return run_folder(demo_run)


def data_of(demo_run: Path) -> Path:
    return demo_run / "results" / "demo" / "data"


def tiny_source(weighting: str = "log") -> Source:
    return Source(
        name="tags",
        path=Path("svd/tags.npz"),
        artist_ids=np.array([1, 2]),
        vectors=np.zeros((2, 1), np.float32),
        keys=np.array(["metal", "Rock", "rock"]),
        stats=WeightingStats(idf=np.ones(3), mean_length=1.0),
        components=np.ones((1, 3), np.float32),
        weighting=weighting,
    )


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


# --- projecting new side information ---------------------------------------------------


def test_projecting_an_artists_raw_side_information_reproduces_its_svd_vector(demo_run):
    for path in sorted((results_of(demo_run) / "svd").glob("*/*.npz")):
        source = Source.read(path, path.parent.name)
        matrix = source_matrix(io.read_parquet(data_of(demo_run) / f"features_{source.name}.parquet"), source.artist_ids)
        assert np.array_equal(matrix.keys, source.keys)
        rows = np.flatnonzero(np.diff(matrix.counts.indptr) > 0)[:50]
        projected = project(source, matrix.counts[rows])
        assert np.allclose(projected, source.vectors[rows], rtol=1e-4, atol=1e-5), source.weighting


def test_a_new_artists_row_counts_each_given_key_once_matching_case_insensitively():
    row = key_row(tiny_source(), ["ROCK", "metal", "metal"])
    assert row.toarray().tolist() == [[2.0, 1.0, 1.0]]


def test_an_unknown_key_is_an_error_that_suggests_close_matches():
    with pytest.raises(InputError, match="unknown 'rokc'.*close matches: rock"):
        key_row(tiny_source(), ["metal", "rokc"])


def test_tfidf_multiplies_the_log_counts_by_the_stored_train_idf():
    source = tiny_source("tfidf")
    source = Source(**{**source.__dict__, "stats": WeightingStats(idf=np.array([2.0, 1.0, 1.0]), mean_length=1.0)})
    vector = project(source, sp.csr_matrix(np.array([[np.e - 1, 0.0, 0.0]])))
    assert vector[0, 0] == pytest.approx(2.0)


def test_bm25_uses_the_stored_train_mean_length():
    source = tiny_source("bm25")
    source = Source(**{**source.__dict__, "stats": WeightingStats(idf=np.ones(3), mean_length=2.0)})
    # one key counted twice, a row as long as the train mean: 2 * 2.2 / (2 + 1.2)
    vector = project(source, sp.csr_matrix(np.array([[2.0, 0.0, 0.0]])))
    assert vector[0, 0] == pytest.approx(2 * 2.2 / 3.2)


# --- finding the artist ---------------------------------------------------------------------

ARTISTS = pd.DataFrame({"artist_id": [1, 2, 3, 311], "name": ["Björk", "Muse", "muse", "Air"]})


def test_an_artist_is_found_by_id_or_by_case_insensitive_name():
    assert find_artist(ARTISTS, "311") == 311
    assert find_artist(ARTISTS, "björk") == 1
    assert find_artist(ARTISTS, " AIR ") == 311


def test_a_name_shared_by_several_artists_asks_for_the_id():
    with pytest.raises(InputError, match="names several artists \\(2, 3\\); fix: give the artist id"):
        find_artist(ARTISTS, "MUSE")


def test_an_unknown_artist_is_an_error_that_suggests_close_names():
    with pytest.raises(InputError, match="close matches: björk"):
        find_artist(ARTISTS, "bjork")


def test_the_artist_asked_about_is_never_recommended_to_itself():
    logits = np.array([5.0, 4.0, 3.0, 2.0])
    table = top_similar(logits, np.array([10, 20, 30, 40]), pd.Series({10: "a", 20: "b"}), 3, exclude=10)
    assert table["artist_id"].tolist() == [20, 30, 40]
    assert table["name"].tolist() == ["b", "30", "40"]
    assert np.all(np.diff(table["score"]) <= 0) and table["score"].sum() < 1


# --- the command on a finished demo run --------------------------------------------------------


def test_recommend_by_name_prints_json_and_keeps_the_console_free_of_tensorflow_noise(demo_run):
    results = results_of(demo_run)
    artists = io.read_parquet(data_of(demo_run) / "artists.parquet")
    artist = artists.iloc[0]
    result = subprocess.run(
        [ARTISTREC, "recommend", str(results), artist["name"].upper(), "--json", "-k", "5"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0 and result.stderr == ""
    answer = json.loads(result.stdout)
    assert answer["query"]["artist_id"] == artist["artist_id"]
    rows = answer["recommendations"]
    assert [r["rank"] for r in rows] == [1, 2, 3, 4, 5]
    names = artists.set_index("artist_id")["name"]
    assert all(names[r["artist_id"]] == r["name"] for r in rows)


def test_recommendations_of_a_test_artist_rank_like_the_evaluation(demo_run, capsys):
    results = results_of(demo_run)
    evaluated = pd.read_csv(results / "recommendations" / "test.csv").query("method == 'network'")
    svd = Source.read(results / "svd" / "tags" / "tfidf-8.npz", "tags")
    informed = svd.artist_ids[np.abs(svd.vectors).any(axis=1)]
    artist = int(evaluated.loc[evaluated["artist_id"].isin(informed), "artist_id"].iloc[0])
    status, out, _ = run_cli(capsys, "recommend", str(results), str(artist), "--json", "-k", "10")
    assert status == 0
    ours = [r["artist_id"] for r in json.loads(out)["recommendations"]]
    assert ours == evaluated.loc[evaluated["artist_id"] == artist, "candidate_id"].head(10).tolist()


def test_a_candidate_is_recommended_every_other_candidate_but_never_itself(demo_run, capsys):
    results = results_of(demo_run)
    candidates = io.read_ids(results / "candidates.txt")
    status, out, _ = run_cli(capsys, "recommend", str(results), str(candidates[0]), "--json", "-k", "1000")
    recommended = [r["artist_id"] for r in json.loads(out)["recommendations"]]
    assert status == 0 and sorted(recommended) == sorted(candidates[1:].tolist())


def test_recommend_for_new_tags_prints_a_table(demo_run, capsys):
    results = results_of(demo_run)
    tags = io.read_parquet(data_of(demo_run) / "features_tags.parquet")["key"].value_counts().index[:2].tolist()
    status, out, _ = run_cli(capsys, "recommend", str(results), "--tags", *tags, "-k", "3")
    lines = out.splitlines()
    assert status == 0 and lines[0] == f"Similar artists to tags: {', '.join(tags)}"
    assert lines[1].split() == ["rank", "artist_id", "name", "score"] and len(lines) == 5


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["No Such Artist"], "is neither an artist id nor a name"),
        (["--tags", "no-such-tag"], "tags keys: unknown 'no-such-tag'"),
        (["--side", "moods", "happy"], "'moods' is not a feature source of this run"),
        ([], "give either an artist or side information"),
    ],
)
def test_bad_questions_end_with_one_error_line_and_status_1(demo_run, capsys, arguments, message):
    status, out, err = run_cli(capsys, "recommend", str(results_of(demo_run)), *arguments)
    assert status == 1 and out == ""
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_a_results_folder_without_a_model_is_an_error(tmp_path, capsys):
    status, _, err = run_cli(capsys, "recommend", str(tmp_path), "Muse")
    assert status == 1
    assert err.startswith(f"error: {tmp_path}: models/default/model.h5: is missing; fix: give a run folder")
