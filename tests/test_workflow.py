"""The workflow end to end on the tiny demo config: artifacts, and what re-runs when."""

import json
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from artistrec import io, methods, metrics
from artistrec.batch import export_batch, recommend_batch
from artistrec.clusters import read_clusters
from artistrec.errors import InputError
from artistrec.evaluate_step import evaluate_step
from artistrec.features import fit_weighting, source_matrix, stack_vectors, weigh
from artistrec.matrices import listeners, positions, source_users
from artistrec.methods import listeners as nl
from artistrec.methods.blend import log_votes
from artistrec.methods.cluster_popularity import cluster_popularity_scores
from artistrec.methods.popularity import with_fallback
from artistrec.methods.user_listening import user_listening_scores, with_user_listening
from artistrec.metrics import query_map, whole
from artistrec.model import load_model, scores
from artistrec.neighbours import VOTES, content_knn_scores, nearest_train_artists, vote_rows
from artistrec.recommend import recommend
from artistrec.split import all_artists, read_split, tuning_artists
from artistrec.variants import model_inputs
from artistrec.vectors import content_vectors, has_side_information, sigmoid

from conftest import HANG_LIMIT, SNAKEMAKE, TEST_CONFIG, copy_workflow, evaluation_inputs, run_folder, snakemake

SOURCES = {"likes": "log", "playlists": "log", "tags": "tfidf"}  # source: weighting in tests/config.yaml
DEMO_KEYS = {"likes": "user_id", "playlists": "playlist_id", "tags": "tag"}  # key columns of new artists' CSVs
CONFIG = yaml.safe_load((TEST_CONFIG.parents[1] / "config.yaml").read_text())
PLAN = methods.Plan(
    "demo",
    SOURCES,
    CONFIG["datasets"]["demo"]["user_source"],
    {**CONFIG["methods"], **yaml.safe_load(TEST_CONFIG.read_text())["methods"]},
)
METHODS = set(methods.rows(PLAN))  # the rows the registry promises for tests/config.yaml
# Report items that depend on the model and its evaluation, and on the whole config.
MODEL_REPORT = {"report_loss": 1, "report_metrics": 1, "report_examples": 1, "report_run": 1}


def planned_jobs(workdir: Path, *args: str) -> dict[str, int]:
    """Rule -> job count that a dry run would execute."""
    output = snakemake(workdir, "-n", *args).stdout
    if "Nothing to be done" in output:
        return {}
    table = output.split("Job stats:")[1].split("total")[0]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M)}


def extra_config(workdir: Path, settings: dict) -> str:
    """A config file for ``--configfile``; it replaces tests/config.yaml, so pass all of it."""
    path = workdir / "extra.yaml"
    path.write_text(yaml.safe_dump(settings))
    return str(path)


def test_split_files_are_disjoint_sorted_and_cover_every_listened_artist(demo_run):
    results = run_folder(demo_run)
    parts = {p: io.read_ids(results / "split" / f"{p}.txt") for p in ("train", "valid", "test")}
    listened = np.unique(pd.read_parquet(demo_run / "results" / "demo" / "data" / "interactions.parquet").artist_id)
    together = np.concatenate(list(parts.values()))
    assert np.array_equal(np.sort(together), listened)
    assert all(np.all(np.diff(ids) > 0) for ids in parts.values())
    assert parts["test"].shape[0] == round(0.1 * listened.shape[0])


def test_candidates_are_the_most_listened_train_artists(demo_run):
    results = run_folder(demo_run)
    candidates = io.read_ids(results / "candidates.txt")
    train = io.read_ids(results / "split" / "train.txt")
    listeners = (
        pd.read_parquet(demo_run / "results" / "demo" / "data" / "interactions.parquet")
        .groupby("artist_id")
        .user_id.nunique()
    )
    assert candidates.shape[0] == 100 and np.isin(candidates, train).all()
    counts = listeners.loc[candidates].to_numpy()
    assert np.all(np.diff(counts) <= 0)
    assert counts[-1] >= listeners.loc[np.setdiff1d(train, candidates)].max()


def test_svd_and_targets_are_aligned_with_the_split(demo_run):
    results = run_folder(demo_run)
    train = io.read_ids(results / "split" / "train.txt")
    for source, weighting in SOURCES.items():
        svd = io.read_npz(results / "svd" / source / f"{weighting}-8.npz")
        assert svd["vectors"].shape == (svd["artist_ids"].shape[0], 8)
        assert svd["vectors"].dtype == np.float32 and svd["explained_variance_ratio"].shape == (8,)
    targets = io.read_sparse(results / "targets.npz")
    assert targets.shape == (train.shape[0], 100)
    sums = np.asarray(targets.sum(axis=1)).ravel()
    assert np.allclose(sums[sums > 0], 1.0, atol=1e-5)


def test_model_history_metrics_and_recommendations_are_written(demo_run):
    results = run_folder(demo_run)
    history = pd.read_csv(results / "models" / "default" / "history.csv")
    assert list(history.columns) == ["epoch", "loss", "val_loss", "seconds"] and len(history) >= 1
    metrics = json.loads((demo_run / "metrics.json").read_text())
    assert metrics == json.loads((results / "metrics.json").read_text())
    valid = io.read_ids(results / "split" / "valid.txt")
    assert metrics["n_tuning_artists"] == 40 < valid.shape[0]  # tests/config.yaml: settings chosen on a draw
    assert json.loads((results / "knn.json").read_text())["tuning_artists"] == 40
    assert set(metrics["methods"]) == METHODS
    assert metrics["subsets"]["long_tail"] == {"n_test_artists": 0, "methods": {}}  # 100 candidates: no tail
    for subset in ("with_side_information", "without_side_information"):
        assert set(metrics["subsets"][subset]["methods"]) == METHODS
    assert metrics["subsets"]["without_side_information"]["n_test_artists"] > 0
    for values in metrics["methods"].values():
        assert set(values) == {
            "map@1",
            "map@5",
            "map@10",
            "map@20",
            "ndcg@10",
            "recall@20",
            "coverage@20",
            "long_tail@20",
            "map@10_ci95",
        }
        low, high = values["map@10_ci95"]
        assert low <= values["map@10"] <= high
    recommendations = pd.read_csv(results / "recommendations" / "test.csv")
    assert list(recommendations.columns) == ["method", "artist_id", "rank", "candidate_id", "score"]
    assert len(recommendations) == len(METHODS) * 20 * metrics["n_test_artists"]


def test_both_knns_are_tuned_on_valid_artists_over_the_configs_settings(demo_run):
    results = run_folder(demo_run)
    settings = yaml.safe_load(TEST_CONFIG.read_text())["evaluation"]
    knn = json.loads((results / "knn.json").read_text())
    scored = {(row["dim"], row["k"], row["power"], row["votes"]) for row in knn["valid"]}
    grid = {
        (d, k, float(p), votes)
        for d in (4, 8)
        for k in settings["knn_k"]
        for p in settings["knn_power"]
        for votes in settings["knn_votes"]
    }
    assert scored < grid and {d for d, *_ in scored} == {4, 8}  # one axis at a time, both SVD sizes tried
    best = max(knn["valid"], key=lambda row: row["map@10"])
    assert knn["chosen"]["valid_map@10"] == best["map@10"]
    embedding = json.loads((results / "metrics.json").read_text())["tuning"]["network_embedding_knn"]
    assert embedding["k"] in settings["knn_k"] and embedding["power"] in settings["knn_power"]
    assert embedding["votes"] in settings["knn_votes"]


KNN_ORDER = (1, 2, 3, 0, 1, 2, 1)  # the kNNs' tuning: k, power, votes, space, k, power, k


def one_axis_at_a_time(valid_maps, axes, start, order):
    """The setting tuning one axis at a time reaches over a full grid's valid MAP@10s (ties: an axis's earlier value)."""
    best = start
    for axis in order:
        options = [best[:axis] + (value,) + best[axis + 1 :] for value in axes[axis]]
        best = max(options, key=lambda s: (valid_maps[s]["map@10"], -options.index(s)))
    return best


@pytest.mark.parametrize("votes", VOTES)
def test_the_knn_cluster_and_listener_methods_score_as_the_tuned_settings_say_recomputed_from_the_artifacts(
    demo_run, tmp_path, votes
):
    results = run_folder(demo_run)
    knn = json.loads((results / "knn.json").read_text())
    knn["chosen"]["votes"] = votes  # as if valid artists had chosen these votes
    io.write_json(tmp_path / "knn.json", knn)
    knn = knn["chosen"]
    split_files = {part: str(results / "split" / f"{part}.txt") for part in ("train", "valid", "test")}
    files = [str(results / "svd" / source / f"{weighting}-{knn['dim']}.npz") for source, weighting in SOURCES.items()]
    data = demo_run / "results" / "demo" / "data"
    interactions, likes = data / "interactions.parquet", data / "features_likes.parquet"
    user_weights = [0.25, 1.0, 4.0]
    ks, powers, scales = [5, 10], [1.0, 4.0], [0.3, 1.0]
    listener_model = str(results / "models" / "listeners" / "model.h5")
    inputs = replace(
        evaluation_inputs(results, users=likes),
        models={"default": str(results / "models" / "default" / "model.h5"), "listeners": listener_model},
        knn=str(tmp_path / "knn.json"),
        clusters=str(results / "clusters" / "clusters.npz"),
        features={source: str(data / f"features_{source}.parquet") for source in SOURCES},
    )
    switches = {"network_ensemble": 0, "network_knn": False, "network_embedding_knn": False, "ablation": False}
    switches |= {"cluster_popularity": True, "network_listeners": True, "content_knn_raw": True}
    settings = {"top_k": 20, "bootstrap": 10, "seed": 0, "user_listening_weights": user_weights}
    settings |= {"knn_k": ks, "knn_power": powers, "knn_votes": list(VOTES), "listener_scales": scales}
    settings["listener_users"] = 300  # of the demo's 400 users
    settings["tuning_artists"] = 30  # of the demo's valid artists: every setting is chosen on this draw
    outputs = {"metrics": str(tmp_path / "metrics.json"), "recommendations": str(tmp_path / "test.csv")}
    evaluate_step(
        inputs,
        methods.Plan("demo", SOURCES, "likes", switches),
        42,
        settings,
        outputs | {"record": str(tmp_path / "run.json"), "table": str(tmp_path / "metrics.md")},
        DEMO_KEYS,
    )

    parts = read_split(split_files)
    test, train, artist_ids = parts["test"], parts["train"], all_artists(parts)
    assert parts["valid"].shape[0] > 30
    parts["valid"] = tuning_artists(parts["valid"], 30)

    def reported_tuning(method):
        return json.loads((tmp_path / "metrics.json").read_text())["tuning"][method]

    candidates, targets = io.read_ids(results / "candidates.txt"), io.read_sparse(results / "targets.npz")

    def content_knn_of(queries):
        blocks = [stack_vectors([path], queries) for path in files]
        train_blocks = [stack_vectors([path], train) for path in files]
        return content_knn_scores(blocks, train_blocks, targets, knn["k"], knn["power"], votes)

    listen = listeners(io.read_parquet(interactions), artist_ids)
    users = source_users(io.read_parquet(likes), io.read_parquet(interactions), artist_ids)

    def with_users(queries, weight):
        user_listening = user_listening_scores(users, listen, artist_ids, queries, candidates)
        return with_user_listening(log_votes(content_knn_of(queries)), log_votes(user_listening), weight)

    content_knn = content_knn_of(test)

    # content_knn_raw: the same kNN on each source's weighted key counts, dense here
    raw = reported_tuning("content_knn_raw")
    weighted = {}
    for source, weighting in SOURCES.items():
        counts = source_matrix(io.read_parquet(data / f"features_{source}.parquet"), artist_ids).counts
        weighted[source] = weigh(counts, weighting, fit_weighting(counts, positions(train, artist_ids))).toarray()

    def content_knn_raw_of(queries, k=raw["k"], power=raw["power"], kind=raw["votes"]):
        rows = [weighted[source][positions(queries, artist_ids)] for source in SOURCES]
        train_rows = [weighted[source][positions(train, artist_ids)] for source in SOURCES]
        return content_knn_scores(rows, train_rows, targets, k, power, kind)

    default_inputs = [str(path) for _, path in model_inputs(str(results / "models" / "default" / "model.h5"))]
    valid_informed = has_side_information(stack_vectors(default_inputs, parts["valid"]))
    raw_grid = [("raw", k, power, kind) for kind in VOTES for k in ks for power in powers]
    raw_maps = query_map(
        listen,
        artist_ids,
        parts["valid"],
        candidates,
        [(s, whole(with_fallback(content_knn_raw_of(parts["valid"], *s[1:]), valid_informed))) for s in raw_grid],
    )
    # tuned one axis at a time: k, power, votes, (the one space), k, power, k, from the middle k
    raw_axes = (["raw"], ks, powers, list(VOTES))
    raw_best = one_axis_at_a_time(raw_maps, raw_axes, ("raw", ks[len(ks) // 2], powers[0], VOTES[0]), KNN_ORDER)
    assert ("raw", raw["k"], raw["power"], raw["votes"]) == raw_best
    assert raw["settings_scored"] < len(raw_grid)

    cluster_ids, labels, _ = read_clusters(str(results / "clusters" / "clusters.npz"))
    cluster_popularity = cluster_popularity_scores(
        labels[positions(test, cluster_ids)], labels[positions(train, cluster_ids)], vote_rows(targets, votes)
    )
    informed = has_side_information(stack_vectors(default_inputs, test))
    valid_maps = query_map(
        listen,
        artist_ids,
        parts["valid"],
        candidates,
        [(w, whole(with_fallback(with_users(parts["valid"], w), valid_informed))) for w in user_weights],
    )
    reported = json.loads((tmp_path / "metrics.json").read_text())
    tuning = reported["tuning"]["content_knn_user_listening"]
    assert [row["map@10"] for row in tuning["valid_map@10"]] == pytest.approx(
        [valid_maps[w]["map@10"] for w in user_weights]
    )
    assert tuning["weight"] == max(user_weights, key=lambda w: (valid_maps[w]["map@10"], -w))

    # through listeners: the artist's likers add their own rate of listening to what they like
    rates = nl.linked_listening_rates(users, listen, positions(train, artist_ids))

    knn_train = content_vectors([stack_vectors([path], train) for path in files])

    def knn_listeners(queries, k, power, scale):
        # a user neither likely (HEAD_CHANCE) nor linked counts with their chance, the others exactly
        neighbours = nearest_train_artists(content_vectors([stack_vectors([p], queries) for p in files]), knn_train, k)
        shares = nl.neighbour_shares(*neighbours, train.shape[0], k, power)
        chance = (shares @ listen[positions(train, artist_ids)] * scale).toarray()
        links = users[positions(queries, artist_ids)]
        exact = -nl.with_linked_users(nl.miss_log_probability(chance), links, rates)
        weight = np.where((chance >= nl.HEAD_CHANCE) | (links.toarray() > 0), exact, chance)
        return weight @ nl.candidate_listeners(listen, artist_ids, candidates).toarray().T

    grid = [(k, power, scale) for k in ks for power in powers for scale in scales]
    valid_maps = query_map(
        listen,
        artist_ids,
        parts["valid"],
        candidates,
        [(s, whole(with_fallback(knn_listeners(parts["valid"], *s), valid_informed))) for s in grid],
    )
    # Tuned one axis at a time (scale, k, power, k again) from the content kNN's own k and power.
    content = reported["tuning"]["content_knn"]
    best = one_axis_at_a_time(
        valid_maps, (ks, powers, scales), (content["k"], content["power"], scales[0]), (2, 0, 1, 0)
    )
    chosen = reported["tuning"]["content_knn_listeners"]
    assert (chosen["k"], chosen["power"], chosen["scale"]) == best
    assert chosen["settings_scored"] <= 1 + sum(len(axis) - 1 for axis in (scales, ks, powers, ks)) < len(grid)
    # the listener network: a fixed uniform draw of 300 users weighted up, plus the likers' rates
    listener_network = load_model(listener_model, n_users=listen.shape[1])
    chance = sigmoid(scores(listener_network, stack_vectors(default_inputs, test)))
    drawn = np.zeros(listen.shape[1])
    drawn[nl.scored_users(listen.shape[1], 300)] = listen.shape[1] / 300
    linked = users[positions(test, artist_ids)]
    exact = -nl.with_linked_users(nl.miss_log_probability(chance), linked, rates)
    alone = -nl.miss_log_probability(chance)
    weight = alone * drawn + exact - alone
    network_listeners = weight @ nl.candidate_listeners(listen, artist_ids, candidates).toarray().T
    dense = [
        ("network_listeners", with_fallback(network_listeners, informed)),
        (
            "content_knn_listeners",
            with_fallback(knn_listeners(test, chosen["k"], chosen["power"], chosen["scale"]), informed),
        ),
        ("content_knn", with_fallback(content_knn, informed)),
        ("content_knn_raw", with_fallback(content_knn_raw_of(test), informed)),
        ("cluster_popularity", with_fallback(cluster_popularity, informed)),
        (
            "user_listening",
            with_fallback(user_listening_scores(users, listen, artist_ids, test, candidates), informed),
        ),
        ("content_knn_user_listening", with_fallback(with_users(test, tuning["weight"]), informed)),
    ]
    recomputed = query_map(listen, artist_ids, test, candidates, [(method, whole(s)) for method, s in dense])
    for method, maps in recomputed.items():
        assert {k: reported["methods"][method][k] for k in maps} == pytest.approx(maps, rel=1e-9)


def test_scoring_a_few_artists_at_a_time_gives_exactly_the_metrics_and_top_lists_of_scoring_them_all_at_once(
    demo_run, tmp_path, monkeypatch
):
    results = run_folder(demo_run)
    data = demo_run / "results" / "demo" / "data"
    inputs = replace(
        evaluation_inputs(results, users=data / "features_likes.parquet"),
        models={model.name: str(model / "model.h5") for model in (results / "models").iterdir()},
        clusters=str(results / "clusters" / "clusters.npz"),
        features={source: str(data / f"features_{source}.parquet") for source in SOURCES},
    )
    settings = CONFIG["evaluation"] | yaml.safe_load(TEST_CONFIG.read_text())["evaluation"]

    def evaluated(folder: str) -> tuple[dict, pd.DataFrame]:
        outputs = {name: str(tmp_path / folder / name) for name in ("metrics", "table", "recommendations", "record")}
        evaluate_step(inputs, PLAN, 42, settings, outputs, DEMO_KEYS)
        return json.loads(Path(outputs["metrics"]).read_text()), pd.read_csv(outputs["recommendations"])

    whole_metrics, whole_top = evaluated("whole")
    n_candidates = whole_metrics["n_candidates"]
    monkeypatch.setattr(metrics, "SCORE_CHUNK_ELEMENTS", 3 * n_candidates)  # three artists per chunk
    chunked_metrics, chunked_top = evaluated("chunked")
    assert set(whole_metrics["methods"]) == METHODS
    assert chunked_metrics == whole_metrics
    pd.testing.assert_frame_equal(chunked_top, whole_top)


def test_a_user_source_keyed_by_anything_but_user_ids_stops_evaluate_naming_the_config_key(demo_run, tmp_path):
    inputs = evaluation_inputs(
        run_folder(demo_run), users=demo_run / "results" / "demo" / "data" / "features_tags.parquet"
    )
    plan = methods.Plan(
        "demo",
        SOURCES,
        "tags",
        {
            "network_ensemble": 0,
            "network_knn": False,
            "network_embedding_knn": False,
            "ablation": False,
            "cluster_popularity": False,
            "network_listeners": False,
        },
    )
    settings = {"top_k": 20, "bootstrap": 10, "seed": 0, "user_listening_weights": [1.0], "tuning_artists": 40}
    outputs = {name: str(tmp_path / name) for name in ("metrics", "table", "recommendations", "record")}
    with pytest.raises(InputError) as raised:
        evaluate_step(inputs, plan, 42, settings, outputs, DEMO_KEYS)
    assert str(raised.value).startswith("config: datasets.demo.user_source: no key of ")
    assert "; fix: " in str(raised.value) and "\n" not in str(raised.value)
    assert not any(tmp_path.iterdir())


def test_after_a_complete_run_nothing_is_scheduled(demo_run):
    assert planned_jobs(demo_run) == {}


def test_a_missing_result_of_the_main_run_is_rebuilt_by_plain_snakemake(demo_run, tmp_path):
    workdir = tmp_path / "wf"
    shutil.copytree(demo_run, workdir, symlinks=True)
    (run_folder(workdir) / "recommendations" / "test.csv").unlink()
    jobs = planned_jobs(workdir)
    assert jobs.get("evaluate") == 1 and not {"train", "train_listeners", "svd", "tune_knn"} & set(jobs)


def test_changing_one_sources_svd_dim_reruns_that_svd_and_what_depends_on_it(demo_run):
    settings = yaml.safe_load(TEST_CONFIG.read_text())
    settings["datasets"]["demo"]["features"]["tags"]["dim"] = 6
    jobs = planned_jobs(demo_run, "--configfile", extra_config(demo_run, settings))
    # The network, the second ensemble member, the tags-only ablation and the listener
    # network use tags' SVD; the kNN tuning's SVD sizes (dims) are unchanged.
    assert jobs == {
        "svd": 1,
        "train": 3,
        "train_listeners": 1,
        "clusters": 1,
        "evaluate": 1,
        "root_metrics": 1,
        "all": 1,
        "report_explained_variance": 1,
        **MODEL_REPORT,
    }


def test_changing_the_split_seed_reruns_the_split_and_everything_after_it(demo_run):
    settings = yaml.safe_load(TEST_CONFIG.read_text())
    settings["split"] = {"seed": 1}
    jobs = planned_jobs(demo_run, "--configfile", extra_config(demo_run, settings))
    reports = {"report_explained_variance", "report_long_tail", *MODEL_REPORT}
    assert set(jobs) == {
        "split",
        "candidates",
        "svd",
        "targets",
        "train",
        "train_listeners",
        "tune_knn",
        "clusters",
        "evaluate",
        "root_metrics",
        "all",
        *reports,
    }
    assert (demo_run / "results" / "demo" / "split-42" / "metrics.json").is_file(), "seed 42's run stays where it is"


def test_changing_only_a_training_parameter_reruns_the_trainings_and_evaluate(demo_run):
    settings = yaml.safe_load(TEST_CONFIG.read_text())
    settings["model"]["learning_rate"] = 0.002
    jobs = planned_jobs(demo_run, "--configfile", extra_config(demo_run, settings))
    # default, member-1, the three only-{source} models and the listener network
    assert jobs == {"train": 5, "train_listeners": 1, "evaluate": 1, "root_metrics": 1, "all": 1, **MODEL_REPORT}


def test_switching_off_a_method_drops_its_training_and_its_row(demo_run):
    settings = yaml.safe_load(TEST_CONFIG.read_text())
    settings["methods"] = {
        "network_ensemble": 0,
        "network_knn": True,
        "network_embedding_knn": False,
        "ablation": False,
        "cluster_popularity": True,
        "network_listeners": False,
    }
    jobs = planned_jobs(demo_run, "--configfile", extra_config(demo_run, settings))
    assert jobs == {
        "evaluate": 1,
        "root_metrics": 1,
        "all": 1,
        "report_metrics": 1,
        "report_examples": 1,
        "report_run": 1,
    }


def test_snakemake_metrics_json_works_without_cores_from_a_clean_copy(tmp_path):
    workdir = copy_workflow(tmp_path / "clean")
    result = subprocess.run(
        [SNAKEMAKE, "metrics.json", "--configfile", str(TEST_CONFIG)],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=HANG_LIMIT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads((workdir / "metrics.json").read_text())["dataset"] == "demo"


def test_a_custom_dataset_in_the_seeds_schema_runs_end_to_end(demo_run, tmp_path):
    """The user's own CSVs (here: the demo's raw tables copied under data/) named in a config file."""
    workdir = copy_workflow(tmp_path / "custom")
    data = workdir / "data"
    data.mkdir()
    for name in ("users_artists", "artists", "likes", "user_tags"):
        (data / f"{name}.csv").write_bytes((demo_run / "results" / "demo" / "raw" / f"{name}.csv").read_bytes())
    custom = yaml.safe_load(TEST_CONFIG.read_text())
    custom["dataset"] = "custom"
    custom["datasets"] = {
        "custom": {
            "interactions": "data/users_artists.csv",
            "artists": "data/artists.csv",
            "features": {
                "likes": {"path": "data/likes.csv", "key": "user_id", "dim": 8, "weighting": "log"},
                "tags": {"path": "data/user_tags.csv", "key": "tag", "dim": 8, "weighting": "bm25"},
            },
            "user_source": "likes",
            "dims": [8],
        }
    }
    snakemake(workdir, "--configfile", extra_config(workdir, custom))
    metrics = json.loads((workdir / "metrics.json").read_text())
    assert metrics["dataset"] == "custom"
    assert {"user_listening", "content_knn_user_listening", "network_knn_user_listening"} <= set(metrics["methods"])
    svd = run_folder(workdir, "custom") / "svd"
    assert sorted(str(p.relative_to(svd)) for p in svd.glob("*/*.npz")) == ["likes/log-8.npz", "tags/bm25-8.npz"]


def test_every_train_artist_with_enough_listeners_can_be_a_candidate_for_every_method_and_is_served_as_evaluated(
    demo_run, tmp_path
):
    workdir = tmp_path / "all"
    shutil.copytree(demo_run, workdir, symlinks=True)
    settings = yaml.safe_load(TEST_CONFIG.read_text())
    settings["n_candidates"] = "all"
    settings["candidates"] = {"min_listeners": 2}
    settings["softmax"] = {"sampled_above": 100, "negatives": 64, "positives": 8}
    snakemake(workdir, "--configfile", extra_config(workdir, settings))
    results = run_folder(workdir)
    interactions = pd.read_parquet(workdir / "results" / "demo" / "data" / "interactions.parquet")
    listeners_of = interactions.groupby("artist_id").user_id.nunique()
    train = io.read_ids(results / "split" / "train.txt")
    candidates = io.read_ids(results / "candidates.txt")
    assert set(candidates) == set(train[listeners_of.loc[train].to_numpy() >= 2]) and candidates.shape[0] > 100
    metrics = json.loads((workdir / "metrics.json").read_text())
    assert metrics["n_candidates"] == candidates.shape[0] and set(metrics["methods"]) == METHODS
    recommended = pd.read_csv(results / "recommendations" / "test.csv")
    assert recommended.candidate_id.isin(candidates).all() and not recommended.candidate_id.isin(candidates[:100]).all()
    training = (workdir / "logs" / "demo" / "split-42" / "train_default.log").read_text()
    assert f"a sampled softmax over {candidates.shape[0]} candidates: 64 drawn" in training
    # serving is unchanged: the batch job and recommend give the evaluation's top lists of the served method
    served = recommended[recommended.method == io.read_json(results / "run.json")["served_method"]["name"]]
    test = io.read_ids(results / "split" / "test.txt")
    recommend_batch(results, export_batch(results, test, tmp_path / "batch", 10**7, True), tmp_path / "out.csv", k=20)
    batch = pd.read_csv(tmp_path / "out.csv")
    assert (batch.artist_id - 10**7).tolist() == served.artist_id.tolist()
    assert batch.candidate_id.tolist() == served.candidate_id.tolist()
    alone = recommend(results, str(served.artist_id.iloc[0]), k=20)["recommendations"]
    assert [row["artist_id"] for row in alone] == served.candidate_id.iloc[:20].tolist()
