"""`artistrec recommend`: similar artists of a known artist or of a new artist's side information."""

from __future__ import annotations

import json
import shutil
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
from artistrec.methods.base import Queries
from artistrec.recommend import SERVABLE, ResultsFolder, Source, find_artist, key_row, project, recommend

from conftest import HANG_LIMIT, run_folder

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
        matrix = source_matrix(
            io.read_parquet(data_of(demo_run) / f"features_{source.name}.parquet"), source.artist_ids
        )
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


# --- the command on a finished demo run --------------------------------------------------------


def test_recommend_by_name_prints_json_and_keeps_the_console_free_of_tensorflow_noise(demo_run):
    results = results_of(demo_run)
    artists = io.read_parquet(data_of(demo_run) / "artists.parquet")
    artist = artists.iloc[0]
    result = subprocess.run(
        [ARTISTREC, "recommend", str(results), artist["name"].upper(), "--json", "-k", "5"],
        capture_output=True,
        text=True,
        timeout=HANG_LIMIT,
    )
    assert result.returncode == 0 and result.stderr == ""
    answer = json.loads(result.stdout)
    assert answer["query"]["artist_id"] == artist["artist_id"]
    rows = answer["recommendations"]
    assert [r["rank"] for r in rows] == [1, 2, 3, 4, 5]
    names = artists.set_index("artist_id")["name"]
    assert all(names[r["artist_id"]] == r["name"] for r in rows)


def test_the_artist_asked_about_is_never_recommended_to_itself(demo_run):
    results = results_of(demo_run)
    candidates = io.read_ids(results / "candidates.txt")
    for artist in candidates[:3]:
        answer = recommend(results, str(artist), k=candidates.shape[0])
        ids = [r["artist_id"] for r in answer["recommendations"]]
        assert artist not in ids and len(ids) == candidates.shape[0] - 1


def informed_test_artists(results: Path, evaluated: pd.DataFrame) -> np.ndarray:
    """Test artists with side information (the others are ranked by popularity in the evaluation)."""
    svd = Source.read(results / "svd" / "tags" / "tfidf-8.npz", "tags")
    informed = svd.artist_ids[np.abs(svd.vectors).any(axis=1)]
    return evaluated.loc[evaluated["artist_id"].isin(informed), "artist_id"].unique()


@pytest.mark.parametrize("method", list(SERVABLE))
def test_recommendations_of_test_artists_rank_like_the_evaluation(demo_run, capsys, method):
    results = results_of(demo_run)
    evaluated = pd.read_csv(results / "recommendations" / "test.csv").query("method == @method")
    for artist in informed_test_artists(results, evaluated)[:3]:
        status, out, _ = run_cli(
            capsys, "recommend", str(results), str(artist), "--json", "-k", "20", "--method", method
        )
        answer = json.loads(out)
        assert status == 0 and answer["method"] == method
        ours = [r["artist_id"] for r in answer["recommendations"]]
        assert ours == evaluated.loc[evaluated["artist_id"] == artist, "candidate_id"].tolist()


def test_the_default_method_is_the_runs_served_method_the_best_on_valid_artists(demo_run, capsys):
    results = results_of(demo_run)
    record = io.read_json(results / "run.json")
    metrics = io.read_json(results / "metrics.json")
    served = record["served_method"]
    assert served["name"] in SERVABLE and served["test_map@10"] == metrics["methods"][served["name"]]["map@10"]
    valid = served["valid_map@10_of"]
    assert set(valid) <= set(SERVABLE) and served["valid_map@10"] == max(valid.values()) == valid[served["name"]]
    artist = io.read_ids(results / "split" / "test.txt")[0]
    status, out, _ = run_cli(capsys, "recommend", str(results), str(artist), "--json", "-k", "5")
    assert status == 0 and json.loads(out)["method"] == served["name"]


def test_the_listener_network_scores_the_chance_that_a_likely_listener_listens(demo_run, capsys):
    results = results_of(demo_run)
    evaluated = pd.read_csv(results / "recommendations" / "test.csv").query("method == 'network_listeners'")
    artist = informed_test_artists(results, evaluated)[0]
    status, out, _ = run_cli(
        capsys, "recommend", str(results), str(artist), "--json", "-k", "5", "--method", "network_listeners"
    )
    answer = json.loads(out)
    assert status == 0 and answer["method"] == "network_listeners"
    scores = evaluated.loc[evaluated["artist_id"] == artist, "score"].head(5).to_numpy()
    shown = [r["score"] for r in answer["recommendations"]]
    assert shown == pytest.approx(-np.expm1(-scores), rel=1e-5)
    assert all(0 < p <= 1 for p in shown) and shown == sorted(shown, reverse=True)


@pytest.mark.parametrize("method", ["network_listeners", "content_knn_listeners"])
def test_a_new_artists_given_users_of_the_user_source_add_their_listening_rates(demo_run, method):
    """On the demo the user source is likes: a user who likes a new artist is one of its linked users, so
    the candidates that user listens to rise and no other moves, as the taggers' do in the evaluation."""
    results = results_of(demo_run)
    interactions = io.read_parquet(data_of(demo_run) / "interactions.parquet")
    liker = io.read_parquet(data_of(demo_run) / "features_likes.parquet")["key"].value_counts().index[0]
    run = ResultsFolder(results, method)
    liking = run.new_artist_queries({"likes": [str(liker)]})
    assert liking.links is not None and liking.links.nnz == 1
    alone = run.served.serve(run, Queries(liking.inputs, liking.content, None))[0]
    liked = run.served.serve(run, liking)[0]
    listened = np.isin(run.candidates, interactions.loc[interactions["user_id"] == int(liker), "artist_id"])
    assert run.user_source == "likes" and listened.any() and not listened.all()
    assert (liked[listened] > alone[listened]).all()
    assert np.array_equal(liked[~listened], alone[~listened])


def test_recommend_for_new_tags_prints_a_table(demo_run, capsys):
    results = results_of(demo_run)
    tags = io.read_parquet(data_of(demo_run) / "features_tags.parquet")["key"].value_counts().index[:2].tolist()
    status, out, _ = run_cli(capsys, "recommend", str(results), "--tags", *tags, "-k", "3")
    lines = out.splitlines()
    served = io.read_json(results / "run.json")["served_method"]["name"]
    assert status == 0 and lines[0] == f"Similar artists to tags: {', '.join(tags)}, by {served}"
    assert lines[1].split() == ["rank", "artist_id", "name", "score"] and len(lines) == 5


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["No Such Artist"], "is neither an artist id nor a name"),
        (["--tags", "no-such-tag"], "tags keys: unknown 'no-such-tag'"),
        (["--side", "moods", "happy"], "'moods' is not a feature source of this run"),
        (["1", "-k", "100000"], "--top: is 100000, more than the run's 100 candidates; fix: give at most 100"),
        ([], "give one of an artist, side information or --batch FOLDER"),
    ],
)
def test_bad_questions_end_with_one_error_line_and_status_1(demo_run, capsys, arguments, message):
    status, out, err = run_cli(capsys, "recommend", str(results_of(demo_run)), *arguments)
    assert status == 1 and out == ""
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_a_folder_that_is_no_finished_run_is_an_error_naming_run_json(tmp_path, capsys):
    status, out, err = run_cli(capsys, "recommend", str(tmp_path), "Muse")
    assert status == 1 and out == "" and err.count("\n") == 1
    assert err.startswith(
        f"error: {tmp_path}: run.json: is missing: not a finished run; fix: give a finished run folder"
    )


def test_asking_for_the_listener_network_of_a_run_without_it_is_an_error(demo_run, tmp_path, capsys):
    copy = tmp_path / "demo"
    shutil.copytree(demo_run / "results" / "demo", copy)
    (copy / "split-42" / "models" / "listeners" / "model.h5").unlink()
    status, _, err = run_cli(capsys, "recommend", str(copy / "split-42"), "1", "--method", "network_listeners")
    assert status == 1
    assert err == (
        f"error: {copy / 'split-42'}: models/listeners/model.h5: is missing; "
        "fix: run with methods.network_listeners: true, or ask --method network\n"
    )
