"""The benchmark scripts run on tiny inputs (nothing here is timed; benchmarks/ measures speed)."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from snakemake.utils import update_config

from artistrec import config as artistrec_config
from artistrec import demo
from artistrec.io import read_ids, read_parquet

from conftest import REPO, run_folder

sys.path.insert(0, str(REPO / "benchmarks"))
import demo_realism
import evaluation_vs_notebook
import scale


def tiny_interactions() -> pd.DataFrame:
    listening = demo.generate(demo.DemoSpec(n_users=150, n_artists=250, n_playlists=20, tag_events=200))[
        "users_artists"
    ]
    return pd.DataFrame({"user_id": listening["user_id"], "artist_id": listening["artists"], "weight": 1.0})


def test_the_notebook_loop_and_artistrec_give_the_same_map_on_the_same_split_and_scores():
    settings = {"test_fraction": 0.2, "valid_fraction": 0.1, "seed": 3, "n_candidates": 60}
    rows = evaluation_vs_notebook.compare(tiny_interactions(), settings, repeats=1)
    assert [row["scores"] for row in rows] == ["popularity", "random"]
    for row in rows:
        assert row["difference"] <= evaluation_vs_notebook.TOLERANCE
        assert 0 < row["map"][20] <= 1
    assert rows[0]["map"] != rows[1]["map"]  # two different rankings really were scored
    assert "x |" in evaluation_vs_notebook.table(rows, repeats=1)


def test_the_notebook_loop_leaves_out_artists_without_ground_truth_like_artistrec():
    # user 1 listens to artists 10 and 20; user 2 only to 30, so 30 has no co-listened artist.
    user_artists = pd.DataFrame({"user_id": [1, 1, 2], "artists": [10, 20, 30]})
    scores = np.array([[1.0, 0.0], [0.0, 1.0]])
    maps = evaluation_vs_notebook.notebook_map(
        scores, user_artists, test=np.array([10, 30]), artists_idxs_for_rec=np.array([20, 10])
    )
    assert maps[1] == 1.0  # only artist 10 counts, and its top recommendation (20) is a hit


def test_the_scale_configfile_sets_known_keys_to_last_fm_360k_sizes():
    base = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    merged = copy.deepcopy(base)
    update_config(merged, scale.scale_config(1.0, max_epochs=2, candidates="all"))
    artistrec_config.validate(merged, REPO / "workflow" / "schemas" / "config.schema.yaml")
    generator = merged["datasets"]["demo"]["generator"]
    assert (generator["n_users"], generator["n_artists"]) == (360_000, 160_000)
    assert merged["model"]["max_epochs"] == 2 and merged["n_candidates"] == "all"
    assert scale.scale_config(1.0, 2, "5000")["n_candidates"] == 5000
    assert scale.results_folder(1.0, scale.DEFAULT_CANDIDATES).name == "1"
    assert scale.results_folder(1.0, "all").name == "1-candidates-all"


def test_scale_tables_come_from_the_benchmark_files_of_a_finished_run(demo_run: Path):
    summary = scale.collect(demo_run, fraction=0.01, wall_s=1.0, code=scale.commit(), candidates="100")
    assert summary["listens"] == len(read_parquet(demo_run / "results" / "demo" / "data" / "interactions.parquet"))
    assert summary["n_candidates"] == len(read_ids(run_folder(demo_run) / "candidates.txt"))
    assert {"demo_data", "ingest", "targets", "train_default", "tune_knn", "evaluate"} <= set(summary["steps"])
    assert all(step["s"] > 0 and step["max_rss_mb"] > 0 for step in summary["steps"].values())
    assert summary["epoch_seconds"]["default"] and summary["epoch_seconds"]["listeners"]
    # A run twice the size that took twice as long: every time exponent is 1.
    doubled = copy.deepcopy(summary)
    doubled.update(fraction=0.02, listens=2 * summary["listens"])
    for step in doubled["steps"].values():
        step["s"] *= 2
    text = scale.tables([doubled, summary])
    evaluate_row = next(line for line in text.splitlines() if line.startswith("| evaluate |"))
    assert evaluate_row.split("|")[-2].strip() == "1.00"
    assert scale.is_training(scale.step_order([summary])[-1])
    epochs = text.splitlines()[-1].split("|")[1:-1]  # size, the softmax tower's epochs, the listener network's
    assert epochs[0].strip() == "2%" and all(float(cell.split(",")[0]) > 0 for cell in epochs[1:])
    assert f"| {summary['n_candidates']} | " in text.splitlines()[2]
    assert f"| {summary['measured']} | {summary['commit']} |" in text.splitlines()[2]
    assert list(scale.by_candidates([summary, {"fraction": 1.0}])) == [scale.DEFAULT_CANDIDATES, "100"]


def test_scale_tables_replace_only_their_own_block_of_the_docs_page(tmp_path: Path):
    page = tmp_path / "performance.md"
    (begin, end), (all_begin, all_end) = scale.markers(scale.DEFAULT_CANDIDATES), scale.markers("all")
    page.write_text(f"before\n{begin}\nold\n{end}\nbetween\n{all_begin}\nold all\n{all_end}\nafter\n")
    scale.write_tables(page, "| new | tables |", scale.DEFAULT_CANDIDATES)
    scale.write_tables(page, "| new | all |", "all")
    assert page.read_text() == (
        f"before\n{begin}\n| new | tables |\n{end}\nbetween\n{all_begin}\n| new | all |\n{all_end}\nafter\n"
    )
    page.write_text("no markers\n")
    with pytest.raises(SystemExit, match="no lines"):
        scale.write_tables(page, "| new |", "all")


def test_the_batch_benchmark_scores_copies_of_the_test_artists_and_prints_their_rate(demo_run):
    import new_artists

    run = run_folder(demo_run)
    rows = [{"run": "demo", **new_artists.one(run, size, k=5)} for size in (30, 130)]
    assert [row["artists"] for row in rows] == [30, 130]
    assert all(row["batch_s"] > 0 and row["peak_mb"] > 0 for row in rows)
    assert "| demo | " in new_artists.table(rows) and "130" in new_artists.table(rows)


def test_the_record_checks_benchmark_sums_every_jobs_records_line_and_verifies_the_run(demo_run):
    import record_checks

    row = record_checks.measure(demo_run, "demo", 42)
    assert row["jobs"] >= 20 and 0 < row["records_s"] < row["jobs_s"]
    assert row["verify_problems"] == 0 and row["verify_artifacts"] > 40
    assert f"| {row['jobs']} | " in record_checks.table(row)


def test_the_clusters_benchmark_times_every_fit_against_full_kmeans_on_the_same_vectors():
    import clusters

    shape = (400, 8)
    rows = clusters.measure_synthetic(clusters.synthetic_vectors(shape, blobs=4), [2, 4], seed=0)
    assert list(rows) == list(clusters.FITS) and all(row["s"] > 0 and row["k"] in (2, 4) for row in rows.values())
    table = clusters.synthetic_table(rows, shape)
    assert "| full KMeans (before) | " in table and " 1.000 | " in table


def test_the_listener_head_benchmark_times_the_full_and_the_sampled_layer_on_listening_of_the_shape_asked():
    import listener_head

    inputs, listening = listener_head.synthetic_listening(200, 500, seed=0)
    assert inputs.shape == (200, listener_head.INPUT_DIMS) and listening.shape == (200, 500)
    assert set(np.unique(listening.data).tolist()) == {1.0} and listening.getnnz(axis=1).min() >= 1
    rows = [listener_head.epochs(0.002, sampled, n_epochs=1) for sampled in (False, True)]
    assert [row["train artists x users"] for row in rows] == ["259 x 720"] * 2
    assert rows[0]["users scored per batch"] == "every user" and "drawn" in rows[1]["users scored per batch"]
    assert all(float(row["seconds per epoch"]) > 0 for row in rows)


def test_the_softmax_head_benchmark_times_the_full_and_the_sampled_softmax_on_co_listening_of_the_shape_asked():
    import softmax_head

    inputs, targets = softmax_head.synthetic_co_listening(200, 500, seed=0)
    assert inputs.shape == (200, softmax_head.INPUT_DIMS) and targets.shape == (200, 500)
    assert np.allclose(targets.sum(axis=1), 1.0) and targets.getnnz(axis=1).min() >= 1
    rows = [softmax_head.speed(0.002, sampled, n_epochs=1) for sampled in (False, True)]
    assert [row["train artists x candidates"] for row in rows] == ["259 x 288"] * 2
    assert rows[0]["softmax"] == "full" and "drawn per batch" in rows[1]["softmax"]
    assert all(float(row["seconds per epoch"]) > 0 for row in rows)


def test_the_demo_realism_table_measures_listening_shape_on_known_pairs():
    # Artist 0: users 0-2 (two like it, one of them listens); artists 1 and 2: one listener each.
    listening = pd.DataFrame({"user": [0, 1, 2, 0, 1], "artist": [0, 0, 0, 1, 2]})
    side = pd.DataFrame({"user": [0, 5], "artist": [0, 0]})
    shape = demo_realism.listening_shape(listening, side)
    assert shape["listened artists per user (artists / users)"] == "1.0"
    assert shape["artists with one listener"] == "67%"
    assert shape["median ground truth (co-listened candidates)"] == "1"  # 0: 1 and 2; 1: 0; 2: 0
    assert shape["a liker's or tagger's pair is listened to"] == "50%"


def test_the_demo_realism_table_reads_last_fm_2k_through_its_dataset(lastfm_dir):
    shape = demo_realism.lastfm_2k(lastfm_dir)  # the numbers of docs/results.md, "The demo"
    assert shape["artists with one listener"] == "61%"
    assert shape["median ground truth (co-listened candidates)"] == "28"
    assert shape["a liker's or tagger's pair is listened to"] == "29%"


def test_the_demo_oracle_knows_the_genres_and_beats_popularity_on_a_finished_demo_run(demo_run):
    import demo_oracle

    measured = demo_oracle.measure(run_folder(demo_run))
    maps = measured["maps"]
    assert list(maps) == ["oracle", "network_listeners", "content_knn_listeners", "popularity"]
    assert 0 < maps["popularity"]["map@10"] < maps["oracle"]["map@10"] <= 1
    assert measured["setting"]["scale"] in demo_oracle.SCALES
    assert "| oracle | " in demo_oracle.table(measured) and "| 1.000 |" in demo_oracle.table(measured)


def test_the_served_methods_top_10_is_of_the_artists_genre_far_more_often_than_populars(demo_run):
    """The demo knows each artist's genre (docs/results.md measures 90% on the default run; this tiny
    run trains for a few epochs only)."""
    import demo_genres

    shares, served = demo_genres.run_genre_shares(run_folder(demo_run))
    assert served in shares and set(shares.index) >= {"popularity", "network_listeners", "content_knn_listeners"}
    assert shares[served] > 0.6 > 3 * shares["popularity"]
