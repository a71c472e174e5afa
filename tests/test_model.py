from dataclasses import asdict

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import yaml

from artistrec import io
from artistrec.errors import InputError
from artistrec.methods.popularity import with_fallback
from artistrec.model import (
    TrainSettings,
    TrainState,
    hidden_representation,
    keep_training,
    load_model,
    report_stop,
    scores,
    train,
)
from artistrec.vectors import normalise_rows, probabilities, sigmoid

from conftest import REPO, killed_after_epochs, run_folder

SETTINGS = TrainSettings(hidden_units=[16], dropout=0.1, learning_rate=0.01, batch_size=16, max_epochs=6, patience=6)


def clustered_case(n_per_cluster: int = 40, seed: int = 0):
    """Four clusters of artists; artists of cluster c co-listen with candidates 2c and 2c+1 (3:1)."""
    centres = np.random.default_rng(0).normal(size=(4, 6)) * 3
    rng = np.random.default_rng(seed)
    cluster = np.repeat(np.arange(4), n_per_cluster)
    inputs = (centres[cluster] + rng.normal(size=(cluster.shape[0], 6))).astype(np.float32)
    targets = np.zeros((cluster.shape[0], 8), dtype=np.float32)
    targets[np.arange(cluster.shape[0]), 2 * cluster] = 0.75
    targets[np.arange(cluster.shape[0]), 2 * cluster + 1] = 0.25
    return inputs, sp.csr_matrix(targets), cluster


def test_the_train_settings_default_to_the_model_section_of_config_yaml():
    assert asdict(TrainSettings()) == yaml.safe_load((REPO / "config.yaml").read_text())["model"]


def test_the_network_learns_a_known_answer(tmp_path):
    inputs, targets, cluster = clustered_case()
    valid_inputs, valid_targets, valid_cluster = clustered_case(10, seed=1)
    settings = TrainSettings(**{**SETTINGS.__dict__, "max_epochs": 40})
    model, history = train(inputs, targets, valid_inputs, valid_targets, settings, tmp_path / "ckpt")
    top = np.argsort(-scores(model, valid_inputs), axis=1)[:, :2]
    assert (top[:, 0] == 2 * valid_cluster).mean() > 0.95
    assert (top[:, 1] == 2 * valid_cluster + 1).mean() > 0.9
    assert history[-1]["loss"] < history[0]["loss"]


def test_the_listeners_head_learns_which_users_listen_to_an_artist_and_is_checked_on_load(tmp_path):
    inputs, _, cluster = clustered_case()
    valid_inputs, _, valid_cluster = clustered_case(10, seed=1)

    def listeners_of(clusters):
        """Users 2c and 2c+1 listen to every artist of cluster c; user 8 to none."""
        listen = np.zeros((clusters.shape[0], 9), dtype=np.float32)
        listen[np.arange(clusters.shape[0]), 2 * clusters] = 1
        listen[np.arange(clusters.shape[0]), 2 * clusters + 1] = 1
        return sp.csr_matrix(listen)

    settings = TrainSettings(**{**SETTINGS.__dict__, "max_epochs": 40})
    model, history = train(
        inputs,
        listeners_of(cluster),
        valid_inputs,
        listeners_of(valid_cluster),
        settings,
        tmp_path / "ckpt",
        "listeners",
    )
    probability = sigmoid(scores(model, valid_inputs))
    listens = listeners_of(valid_cluster).toarray() > 0
    assert (probability[listens] > 0.5).mean() > 0.95 and (probability[~listens] < 0.5).mean() > 0.95
    assert history[-1]["val_loss"] < history[0]["val_loss"]
    model.save(tmp_path / "listeners.h5")
    assert load_model(tmp_path / "listeners.h5", n_users=9).output_shape[-1] == 9
    with pytest.raises(InputError, match=r"output width: the model scores 9 users but the listening table lists 10;"):
        load_model(tmp_path / "listeners.h5", n_users=10)


def test_the_hidden_representation_places_artists_of_a_cluster_together_and_artists_without_side_information_nowhere(
    tmp_path,
):
    inputs, targets, cluster = clustered_case()
    settings = TrainSettings(**{**SETTINGS.__dict__, "max_epochs": 20})
    model, _ = train(inputs, targets, inputs, targets, settings, tmp_path / "ckpt")
    queries = np.vstack([inputs, np.zeros((1, inputs.shape[1]), dtype=np.float32)])
    hidden = hidden_representation(model, queries)
    assert hidden.shape == (queries.shape[0], 16)
    assert not hidden[-1].any()  # no side information: the zero vector, nobody's neighbour
    unit = normalise_rows(hidden[:-1])
    nearest = np.argsort(-(unit @ unit.T), axis=1)[:, 1]  # the nearest other artist
    assert (cluster[nearest] == cluster).mean() > 0.95


def test_a_training_killed_after_an_epoch_resumes_and_ends_with_the_same_model(tmp_path, monkeypatch):
    inputs, targets, _ = clustered_case()
    valid_inputs, valid_targets, _ = clustered_case(10, seed=1)
    uninterrupted, full_history = train(inputs, targets, valid_inputs, valid_targets, SETTINGS, tmp_path / "a")

    with killed_after_epochs(monkeypatch, 2) as saved, pytest.raises(KeyboardInterrupt):
        train(inputs, targets, valid_inputs, valid_targets, SETTINGS, tmp_path / "b")
    resumed, history = train(inputs, targets, valid_inputs, valid_targets, SETTINGS, tmp_path / "b")

    assert saved == [0, 1]
    assert [row["loss"] for row in history] == [row["loss"] for row in full_history]
    for ours, theirs in zip(resumed.get_weights(), uninterrupted.get_weights()):
        assert np.array_equal(ours, theirs)


def test_a_checkpoint_from_other_settings_is_not_resumed(tmp_path):
    inputs, targets, _ = clustered_case()
    valid_inputs, valid_targets, _ = clustered_case(10, seed=1)
    short = TrainSettings(**{**SETTINGS.__dict__, "max_epochs": 2})
    train(inputs, targets, valid_inputs, valid_targets, short, tmp_path)
    _, history = train(inputs, targets, valid_inputs, valid_targets, SETTINGS, tmp_path)
    assert history[0]["epoch"] == 1 and len(history) == SETTINGS.max_epochs


@pytest.mark.parametrize(
    ("last_epoch", "best_epoch", "more"),
    [(8, 3, True), (9, 3, True), (19, 3, False), (19, 15, True), (29, 23, False), (29, 24, True), (39, 39, False)],
    ids=[
        "a hump before min_epochs",
        "epoch 10 of a hump",
        "patience spent at min_epochs",
        "still falling at min_epochs",
        "patience spent",
        "within patience",
        "max_epochs",
    ],
)
def test_early_stopping_waits_for_min_epochs_then_patience_decides(last_epoch, best_epoch, more):
    """Epochs count from 0 (``last_epoch`` 9 is the tenth): the listener network's valid loss can rise for a few
    epochs early on and fall again, and patience alone stopped it inside that hump."""
    settings = TrainSettings(**{**SETTINGS.__dict__, "max_epochs": 40, "min_epochs": 20, "patience": 6})
    state = TrainState(fingerprint="f", epoch=last_epoch, best_epoch=best_epoch, best_val_loss=0.5)
    assert keep_training(state, settings) is more


@pytest.mark.parametrize(
    ("last_epoch", "best_epoch", "warned"),
    [(5, 5, True), (5, 3, True), (5, 2, False), (3, 3, False)],
    ids=["cap, still falling", "cap, best within patience", "cap, patience spent", "stopped early"],
)
def test_training_stopped_by_max_epochs_while_improving_warns(caplog, last_epoch, best_epoch, warned):
    """Early stopping should decide: a cap that cuts training while the valid loss falls is a warning with its fix."""
    settings = TrainSettings(**{**SETTINGS.__dict__, "max_epochs": 6, "patience": 3})
    state = TrainState(fingerprint="f", epoch=last_epoch, best_epoch=best_epoch, best_val_loss=0.5)
    report_stop(state, settings, "val_loss")
    warnings = [record.getMessage() for record in caplog.records if record.levelname == "WARNING"]
    assert warnings == (
        [
            "training reached model.max_epochs (6) while the val_loss still fell "
            f"(best epoch {best_epoch + 1}); raise model.max_epochs for a better network"
        ]
        if warned
        else []
    )


def test_model_h5_round_trips_and_reproduces_the_scores_in_the_recommendations(demo_run):
    """The network's scores are its log-softmax; artists without side information get popularity order."""
    results = run_folder(demo_run)
    candidates = io.read_ids(results / "candidates.txt")
    model = load_model(results / "models" / "default" / "model.h5", n_candidates=candidates.shape[0])
    from artistrec.features import stack_vectors

    test = io.read_ids(results / "split" / "test.txt")
    svd = [
        str(results / "svd" / s / f"{w}-8.npz") for s, w in (("likes", "log"), ("playlists", "log"), ("tags", "tfidf"))
    ]
    inputs = stack_vectors(svd, test)
    got = with_fallback(np.log(probabilities(scores(model, inputs)) + 1e-12), inputs.any(axis=1))
    table = pd.read_csv(results / "recommendations" / "test.csv")
    network = table[table.method == "network"]
    rows = np.searchsorted(test, network.artist_id.to_numpy())
    columns = np.searchsorted(np.sort(candidates), network.candidate_id.to_numpy())
    columns = np.argsort(candidates)[columns]
    assert (~inputs.any(axis=1)).any() and inputs.any(axis=1).any()
    assert np.allclose(got[rows, columns], network.score.to_numpy(), rtol=1e-5, atol=1e-5)
