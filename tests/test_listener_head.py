import numpy as np
import pytest
import scipy.sparse as sp

from artistrec.listener_head import SampledListeners, sampled_loss, sampled_users
from artistrec.model import TrainSettings, keras, load_model, save_model, scores, tf, train
from artistrec.sampled_head import Sampling
from artistrec.vectors import sigmoid

from conftest import killed_after_epochs

SETTINGS = TrainSettings(hidden_units=[16], dropout=0.1, learning_rate=0.01, batch_size=16, max_epochs=30, patience=30)


def listening_case(n_artists: int, seed: int, n_users: int = 60):
    """Four clusters of artists; users 15c..15c+14 listen to each artist of cluster c with chance 0.6."""
    centres = np.random.default_rng(0).normal(size=(4, 6)) * 3
    rng = np.random.default_rng(seed)
    cluster = rng.integers(0, 4, n_artists)
    inputs = (centres[cluster] + rng.normal(size=(n_artists, 6))).astype(np.float32)
    listens = (np.arange(n_users)[None, :] // (n_users // 4) == cluster[:, None]) & (
        rng.random((n_artists, n_users)) < 0.6
    )
    return inputs, sp.csr_matrix(listens.astype(np.float32)), cluster


def full_loss(hidden: np.ndarray, vectors: np.ndarray, bias: np.ndarray, listens: sp.csr_matrix) -> float:
    """Keras's binary cross-entropy over every user, the loss of the full output layer."""
    logits = hidden @ vectors.T + bias
    return float(keras.losses.BinaryCrossentropy(from_logits=True)(listens.toarray(), logits))


def layer(rng: np.random.Generator, n_users: int = 60, width: int = 5) -> tuple[np.ndarray, np.ndarray]:
    return rng.normal(size=(n_users, width)).astype(np.float32), rng.normal(size=n_users).astype(np.float32)


def test_with_every_user_drawn_the_sampled_loss_is_the_full_binary_cross_entropy():
    rng = np.random.default_rng(1)
    _, listens, _ = listening_case(32, seed=1)
    hidden, (vectors, bias) = rng.normal(size=(32, 5)).astype(np.float32), layer(rng)
    users = sampled_users(listens, np.arange(32), Sampling(negatives=60, positives=60), rng)
    loss = sampled_loss(tf.constant(hidden), tf.constant(vectors), tf.constant(bias), *users, n_users=60)
    assert float(loss) == pytest.approx(full_loss(hidden, vectors, bias, listens), rel=1e-5)


def test_the_sampled_loss_is_an_unbiased_estimate_of_the_full_one_when_few_users_and_listeners_are_scored():
    rng = np.random.default_rng(2)
    _, listens, _ = listening_case(32, seed=2)
    hidden, (vectors, bias) = rng.normal(size=(32, 5)).astype(np.float32), layer(rng)
    few = Sampling(negatives=6, positives=3)
    params = (tf.constant(hidden), tf.constant(vectors), tf.constant(bias))
    draws = [float(sampled_loss(*params, *sampled_users(listens, np.arange(32), few, rng), 60)) for _ in range(3000)]
    assert np.mean(draws) == pytest.approx(full_loss(hidden, vectors, bias, listens), rel=0.02)
    assert np.std(draws) > 0  # the draws do vary: the agreement is not by construction


def test_an_artist_with_more_listeners_than_scored_keeps_a_draw_of_them_weighted_up():
    listens = sp.csr_matrix(np.array([[1, 1, 1, 1, 1, 1, 0, 0], [0, 0, 0, 0, 0, 0, 1, 0]], dtype=np.float32))
    listeners, weights, drawn = sampled_users(listens, np.array([0, 1]), Sampling(4, 3), np.random.default_rng(0))
    assert set(listeners[0]) <= set(range(6)) and len(set(listeners[0])) == 3
    assert weights[0].tolist() == [2.0, 2.0, 2.0]  # 6 listeners, 3 scored
    assert listeners[1, 0] == 6 and weights[1].tolist() == [1.0, 0.0, 0.0]  # one listener, two pads
    assert drawn.shape == (4,) and drawn.max() < 8


def test_the_sampled_listener_network_learns_who_listens_and_its_file_loads_safely(tmp_path):
    inputs, listens, _ = listening_case(240, seed=4)
    valid_inputs, valid_listens, _ = listening_case(60, seed=5)
    sampled = SampledListeners(Sampling(negatives=20, positives=8))
    model, history = train(
        inputs, listens, valid_inputs, valid_listens, SETTINGS, tmp_path / "ckpt", "listeners", sampled
    )
    probability = sigmoid(scores(model, valid_inputs))
    truth = valid_listens.toarray() > 0
    assert probability[truth].mean() > 0.45 and probability[~truth].mean() < 0.1  # listeners' chance is 0.6, others' 0
    assert history[-1]["val_loss"] < history[0]["val_loss"]
    save_model(model, tmp_path / "listeners.h5")
    loaded = load_model(tmp_path / "listeners.h5", n_users=60)
    assert np.array_equal(scores(loaded, valid_inputs), scores(model, valid_inputs))


def test_with_every_user_drawn_the_sampled_head_trains_as_the_full_layer_does(tmp_path):
    """Same data and seed: the full layer (Keras's fit over every user) and the sampled head with every user
    drawn and every listener scored reach nearly the same valid loss (their optimizers differ in rounding only).
    """
    inputs, listens, _ = listening_case(240, seed=7)
    valid_inputs, valid_listens, _ = listening_case(60, seed=8)
    settings = TrainSettings(**{**SETTINGS.__dict__, "dropout": 0.0, "max_epochs": 5})
    every = SampledListeners(Sampling(negatives=60, positives=60))
    _, full = train(inputs, listens, valid_inputs, valid_listens, settings, tmp_path / "full", "listeners")
    _, sampled = train(inputs, listens, valid_inputs, valid_listens, settings, tmp_path / "sampled", "listeners", every)
    assert [row["val_loss"] for row in sampled] == pytest.approx([row["val_loss"] for row in full], rel=0.02)


def test_a_sampled_training_killed_after_an_epoch_resumes_and_ends_with_the_same_model(tmp_path, monkeypatch):
    inputs, listens, _ = listening_case(120, seed=6)
    sampled = SampledListeners(Sampling(negatives=10, positives=4))
    settings = TrainSettings(**{**SETTINGS.__dict__, "max_epochs": 4})
    uninterrupted, _ = train(inputs, listens, inputs[:20], listens[:20], settings, tmp_path / "a", "listeners", sampled)
    with killed_after_epochs(monkeypatch, 2) as saved, pytest.raises(KeyboardInterrupt):
        train(inputs, listens, inputs[:20], listens[:20], settings, tmp_path / "b", "listeners", sampled)
    resumed, _ = train(inputs, listens, inputs[:20], listens[:20], settings, tmp_path / "b", "listeners", sampled)
    assert saved == [0, 1]
    for ours, theirs in zip(resumed.get_weights(), uninterrupted.get_weights()):
        assert np.array_equal(ours, theirs)
