import numpy as np
import pytest
import scipy.sparse as sp

from artistrec.model import TrainSettings, keras, load_model, save_model, scores, tf, train
from artistrec.sampled_head import Sampling
from artistrec.softmax_head import SampledSoftmax, proposal, sampled_candidates, sampled_softmax_loss
from artistrec.train_steps import softmax_layer

from conftest import killed_after_epochs

SETTINGS = TrainSettings(hidden_units=[16], dropout=0.1, learning_rate=0.01, batch_size=16, max_epochs=20, patience=20)
N_CANDIDATES, BLOCK = 200, 25


def co_listening_case(n_artists: int, seed: int):
    """Eight clusters of artists; an artist of cluster c co-listens with 2-12 candidates of block c (candidates
    25c..25c+24), favouring the block's first ones: its target row is that distribution.
    """
    centres = np.random.default_rng(0).normal(size=(8, 6)) * 3
    rng = np.random.default_rng(seed)
    cluster = rng.integers(0, 8, n_artists)
    inputs = (centres[cluster] + rng.normal(size=(n_artists, 6))).astype(np.float32)
    rank_weight = 1.0 / np.arange(1, BLOCK + 1)
    targets = np.zeros((n_artists, N_CANDIDATES), dtype=np.float32)
    for row, c in enumerate(cluster):
        chosen = rng.choice(BLOCK, rng.integers(2, 13), replace=False, p=rank_weight / rank_weight.sum())
        targets[row, BLOCK * c + chosen] = rng.random(chosen.shape[0]) + 0.1
    return inputs, sp.csr_matrix(targets / targets.sum(axis=1, keepdims=True)), cluster


def full_loss(hidden: np.ndarray, vectors: np.ndarray, bias: np.ndarray, targets: sp.csr_matrix) -> float:
    """Keras's categorical cross-entropy over every candidate, the loss of the full softmax."""
    logits = hidden @ vectors.T + bias
    return float(keras.losses.CategoricalCrossentropy(from_logits=True)(targets.toarray(), logits))


def loss_case(seed: int):
    rng = np.random.default_rng(seed)
    _, targets, _ = co_listening_case(32, seed=seed)
    params = [rng.normal(size=shape).astype(np.float32) for shape in ((32, 5), (N_CANDIDATES, 5), (N_CANDIDATES,))]
    return rng, targets, params


def test_with_every_candidate_drawn_the_sampled_loss_is_the_full_categorical_cross_entropy():
    rng, targets, params = loss_case(1)
    every = Sampling(negatives=N_CANDIDATES, positives=12)
    batch = sampled_candidates(targets, np.arange(32), every, proposal(targets), rng)
    own, drawn, extras = batch
    loss = sampled_softmax_loss(*map(tf.constant, params), own, drawn, *extras)
    assert float(loss) == pytest.approx(full_loss(*params, targets), rel=1e-5)


def test_with_some_candidates_drawn_the_loss_estimates_the_full_one_and_the_drawn_ones_follow_co_listening():
    rng, targets, params = loss_case(2)
    few, chance = Sampling(negatives=60, positives=4), proposal(targets)
    draws = [sampled_candidates(targets, np.arange(32), few, chance, rng) for _ in range(300)]
    losses = [
        float(sampled_softmax_loss(*map(tf.constant, params), own, drawn, *extras)) for own, drawn, extras in draws
    ]
    assert np.mean(losses) == pytest.approx(full_loss(*params, targets), rel=0.03)
    assert np.std(losses) > 0  # the draws do vary: the agreement is not by construction
    drawn_counts = np.bincount(np.concatenate([drawn for _, drawn, _ in draws]), minlength=N_CANDIDATES)
    never_co_listened = np.diff(targets.tocsc().indptr) == 0
    assert drawn_counts[~never_co_listened].mean() > 2 * drawn_counts[never_co_listened].mean()


def test_a_row_s_own_candidates_among_the_drawn_ones_are_left_out_of_its_normaliser():
    targets = sp.csr_matrix(np.array([[0.5, 0.5, 0, 0], [0, 0, 0, 1.0]], dtype=np.float32))
    own, drawn, (labels, own_log_weight, _, hits, mass) = sampled_candidates(
        targets, np.array([0, 1]), Sampling(negatives=4, positives=3), proposal(targets), np.random.default_rng(0)
    )
    assert drawn.tolist() == [0, 1, 2, 3] and hits.tolist() == [[True, True, False, False], [False, False, False, True]]
    assert own[0, :2].tolist() == [0, 1] and labels[0].tolist() == [0.5, 0.5, 0.0]
    assert own_log_weight[1, 0] == 0.0 and own_log_weight[1, 1] < -1e29  # one candidate, two pads
    assert mass.tolist() == [1.0, 1.0]


def test_the_sampled_softmax_network_ranks_each_cluster_s_candidates_first_and_its_file_loads_safely(tmp_path):
    inputs, targets, _ = co_listening_case(400, seed=4)
    valid_inputs, valid_targets, valid_cluster = co_listening_case(80, seed=5)
    sampled = SampledSoftmax(Sampling(negatives=40, positives=6))
    model, history = train(
        inputs, targets, valid_inputs, valid_targets, SETTINGS, tmp_path / "ckpt", "candidates", sampled
    )
    top = np.argsort(-scores(model, valid_inputs), axis=1)[:, :10]
    assert (top // BLOCK == valid_cluster[:, None]).mean() > 0.9
    assert history[-1]["val_loss"] < history[0]["val_loss"]
    save_model(model, tmp_path / "network.h5")
    loaded = load_model(tmp_path / "network.h5", n_candidates=N_CANDIDATES)
    assert np.array_equal(scores(loaded, valid_inputs), scores(model, valid_inputs))


def test_with_every_candidate_drawn_the_sampled_softmax_trains_as_the_full_one_does(tmp_path):
    """Same data and seed: Keras's fit over every candidate and the sampled head with every candidate drawn and
    every co-listened one scored reach nearly the same valid loss (their optimizers differ in rounding only).
    """
    inputs, targets, _ = co_listening_case(240, seed=7)
    valid_inputs, valid_targets, _ = co_listening_case(60, seed=8)
    settings = TrainSettings(**{**SETTINGS.__dict__, "dropout": 0.0, "max_epochs": 5})
    every = SampledSoftmax(Sampling(negatives=N_CANDIDATES, positives=12))
    _, full = train(inputs, targets, valid_inputs, valid_targets, settings, tmp_path / "full")
    _, sampled = train(
        inputs, targets, valid_inputs, valid_targets, settings, tmp_path / "sampled", "candidates", every
    )
    assert [row["val_loss"] for row in sampled] == pytest.approx([row["val_loss"] for row in full], rel=0.02)


def test_a_sampled_softmax_training_killed_after_an_epoch_resumes_and_ends_with_the_same_model(tmp_path, monkeypatch):
    inputs, targets, _ = co_listening_case(120, seed=6)
    sampled = SampledSoftmax(Sampling(negatives=30, positives=4))
    settings = TrainSettings(**{**SETTINGS.__dict__, "max_epochs": 4})
    data = (inputs, targets, inputs[:20], targets[:20], settings)
    uninterrupted, _ = train(*data, tmp_path / "a", "candidates", sampled)
    with killed_after_epochs(monkeypatch, 2) as saved, pytest.raises(KeyboardInterrupt):
        train(*data, tmp_path / "b", "candidates", sampled)
    resumed, _ = train(*data, tmp_path / "b", "candidates", sampled)
    assert saved == [0, 1]
    for ours, theirs in zip(resumed.get_weights(), uninterrupted.get_weights()):
        assert np.array_equal(ours, theirs)


def test_the_softmax_is_full_up_to_sampled_above_candidates_and_sampled_beyond():
    layer = {"sampled_above": 1000, "negatives": 256, "positives": 16}
    assert softmax_layer(layer, 1000) is None
    assert softmax_layer(layer, 1001) == SampledSoftmax(Sampling(negatives=256, positives=16))
