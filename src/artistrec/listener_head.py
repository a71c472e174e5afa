"""The listener network's last layer at any number of users: sampled users and a lazy optimizer.

With one logit per user, a full epoch costs train artists x users x hidden units,
and Adam updates every user's vector after every batch (a dense step over hidden
units x users). At Last.fm-360K's 360,000 users neither fits in minutes. Here each
batch scores only some users: every row's listeners (at most ``positives``, a draw
weighted up beyond that) and ``negatives`` users drawn uniformly, which keeps the
loss an unbiased estimate of the full binary cross-entropy (``sampled_loss``), so
the chances stay calibrated for the noisy-OR. Only the scored users' vectors and
biases are updated, by Adam restricted to those rows ("lazy" Adam: a user's moments
move only when the user is scored). With every user drawn (fewer users than
``negatives``) and every listener scored, a batch is the full layer's.

The saved model is the same plain Keras stack, so serving scores every user as before.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from artistrec.model import TrainSettings, epoch_order, keras, reseed_dropout, tf
from artistrec.runner import DETAIL

log = logging.getLogger(__name__)

# Adam's constants (Keras's defaults) for the users' vectors and biases.
BETA_1, BETA_2, EPSILON = 0.9, 0.999, 1e-7

# The seed stream of the valid loss's drawn users (the train batches use [seed, epoch, batch]).
VALID_STREAM = 2**31


@dataclass(frozen=True)
class Sampling:
    """Users scored per batch: up to ``positives`` listeners of each row and ``negatives`` drawn users."""

    negatives: int
    positives: int


def sampled_users(
    targets: sp.csr_matrix, rows: np.ndarray, sampling: Sampling, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The users one batch scores: (rows x positives) listener ids with their weights (0 pads), and the drawn users.

    A row with more listeners than ``positives`` keeps a uniform draw of them, each
    weighing (its listeners / positives); ``negatives`` users are drawn with
    replacement from all users (all of them, in order, when there are no more).
    """
    batch = targets[rows]
    counts = np.diff(batch.indptr)
    listeners = np.zeros((rows.shape[0], sampling.positives), dtype=np.int32)
    weights = np.zeros(listeners.shape, dtype=np.float32)
    for row, (start, count) in enumerate(zip(batch.indptr[:-1], counts)):
        kept = min(count, sampling.positives)
        chosen = rng.choice(count, kept, replace=False) if count > kept else np.arange(count)
        listeners[row, :kept] = batch.indices[start + chosen]
        weights[row, :kept] = count / kept if kept else 0.0
    n_users = targets.shape[1]
    if sampling.negatives >= n_users:
        drawn = np.arange(n_users, dtype=np.int32)
    else:
        drawn = rng.integers(0, n_users, sampling.negatives).astype(np.int32)
    return listeners, weights, drawn


def sampled_loss(hidden, vectors, bias, listeners, weights, drawn, n_users: int):
    """An unbiased estimate of the mean binary cross-entropy over all ``n_users`` users of each row, averaged
    over rows: with logits ``z = hidden . vectors[u] + bias[u]``, the mean over users of softplus(z) - y z,
    the listeners' sum from ``listeners`` (rows of ``vectors``, weighted) and the softplus sum from ``drawn``.
    """
    listener_logits = tf.einsum("bh,bph->bp", hidden, tf.gather(vectors, listeners)) + tf.gather(bias, listeners)
    drawn_logits = tf.matmul(hidden, tf.gather(vectors, drawn), transpose_b=True) + tf.gather(bias, drawn)
    per_row = -tf.reduce_sum(weights * listener_logits, axis=1) / n_users
    per_row += tf.reduce_mean(tf.nn.softplus(drawn_logits), axis=1)
    return tf.reduce_mean(per_row)


class LazyAdam:
    """Adam over the rows of a users x width matrix (and a bias per user) that a step touches; the other
    rows and their moments stay as they are. Its moments are ``slots`` for the checkpoint. It trains
    the users' rows whatever ``model.optimizer`` trains the tower with, at its learning rate.
    """

    def __init__(self, vectors: np.ndarray, bias: np.ndarray, learning_rate: float, slots: dict | None) -> None:
        self.learning_rate = learning_rate
        self.params = [tf.Variable(vectors), tf.Variable(bias)]
        zeros = {"m_vectors": np.zeros_like(vectors), "v_vectors": np.zeros_like(vectors)}
        zeros |= {"m_bias": np.zeros_like(bias), "v_bias": np.zeros_like(bias)}
        saved = slots or zeros
        self.moments = [
            (tf.Variable(saved[f"m_{name}"]), tf.Variable(saved[f"v_{name}"])) for name in ("vectors", "bias")
        ]

    def apply(self, touched, gradients, step) -> None:
        """One Adam step (number ``step``, from 1) on the ``touched`` rows, given their ``gradients``."""
        step = tf.cast(step, tf.float32)
        alpha = self.learning_rate * tf.sqrt(1.0 - BETA_2**step) / (1.0 - BETA_1**step)
        for param, (m, v), gradient in zip(self.params, self.moments, gradients):
            gradient = tf.convert_to_tensor(gradient)
            m_rows = BETA_1 * tf.gather(m, touched) + (1.0 - BETA_1) * gradient
            v_rows = BETA_2 * tf.gather(v, touched) + (1.0 - BETA_2) * tf.square(gradient)
            m.scatter_update(tf.IndexedSlices(m_rows, touched))
            v.scatter_update(tf.IndexedSlices(v_rows, touched))
            param.scatter_sub(tf.IndexedSlices(alpha * m_rows / (tf.sqrt(v_rows) + EPSILON), touched))

    def slots(self) -> dict[str, np.ndarray]:
        return {
            f"{moment}_{name}": np.asarray(variable)
            for name, pair in zip(("vectors", "bias"), self.moments)
            for moment, variable in zip("mv", pair)
        }


class SampledTraining:
    """A listener model's sampled epochs: the tower by the model's optimizer, its last layer (one vector and
    bias per user, held apart in training and written back after each epoch) by ``LazyAdam``.
    """

    def __init__(
        self,
        model: keras.Model,
        sampling: Sampling,
        data: dict[str, tuple[np.ndarray, sp.csr_matrix]],
        settings: TrainSettings,
        slots: dict[str, np.ndarray] | None,
    ) -> None:
        self.model, self.sampling, self.data, self.settings = model, sampling, data, settings
        self.body = keras.Model(model.inputs, model.layers[-2].output)
        users = model.layers[-1]
        users.trainable = False  # trained by LazyAdam, not by the model's optimizer
        self.users = LazyAdam(np.asarray(users.kernel).T, np.asarray(users.bias), settings.learning_rate, slots)
        self.n_users = int(users.bias.shape[0])
        model.optimizer.build(model.trainable_variables)
        self.train_step = tf.function(self._train_step, reduce_retracing=True)
        self.valid_step = tf.function(self._valid_step, reduce_retracing=True)

    def _train_step(self, inputs, listeners, weights, drawn):
        scored = tf.concat([tf.reshape(listeners, [-1]), drawn], axis=0)
        touched, position = tf.unique(scored)
        vectors, bias = (tf.gather(param, touched) for param in self.users.params)
        listener_rows = tf.reshape(position[: tf.size(listeners)], tf.shape(listeners))
        with tf.GradientTape() as tape:
            tape.watch([vectors, bias])
            hidden = self.body(inputs, training=True)
            loss = sampled_loss(
                hidden, vectors, bias, listener_rows, weights, position[tf.size(listeners) :], self.n_users
            )
        tower = self.model.trainable_variables
        gradients = tape.gradient(loss, [*tower, vectors, bias])
        self.model.optimizer.apply(gradients[:-2], tower)
        self.users.apply(touched, gradients[-2:], self.model.optimizer.iterations)
        return loss

    def _valid_step(self, inputs, listeners, weights, drawn):
        hidden = self.body(inputs, training=False)
        return sampled_loss(hidden, *self.users.params, listeners, weights, drawn, self.n_users)

    def mean_loss(self, step, part: str, order: np.ndarray, stream: list[int]) -> float:
        """``step``'s loss averaged over the rows ``order`` of ``part``, in batches whose users are drawn
        from ``stream`` + batch.
        """
        inputs, targets = self.data[part]
        batch_size, total, last_line = self.settings.batch_size, 0.0, time.perf_counter()
        n_batches = math.ceil(order.shape[0] / batch_size)
        for index in range(n_batches):
            rows = order[index * batch_size : (index + 1) * batch_size]
            users = sampled_users(targets, rows, self.sampling, np.random.default_rng([*stream, index]))
            total += float(step(inputs[rows], *users)) * rows.shape[0]
            if time.perf_counter() - last_line >= 30.0:
                last_line = time.perf_counter()
                log.log(DETAIL, "%s batch %d/%d", part, index + 1, n_batches)
        return total / max(1, order.shape[0])

    def __call__(self, epoch: int) -> dict[str, float]:
        """One epoch in ``epoch_order``, then the last layer written back into the model; the valid loss
        draws the same users every epoch, so epochs compare.
        """
        started, seed = time.perf_counter(), self.settings.seed
        reseed_dropout(self.model, seed, epoch)
        order = epoch_order(self.data["train"][0].shape[0], seed, epoch)
        loss = self.mean_loss(self.train_step, "train", order, [seed, epoch])
        vectors, bias = self.users.params
        self.model.layers[-1].kernel.assign(tf.transpose(vectors))
        self.model.layers[-1].bias.assign(bias)
        n_valid = self.data["valid"][0].shape[0]
        valid_order = np.arange(n_valid)
        valid_loss = (
            self.mean_loss(self.valid_step, "valid", valid_order, [seed, VALID_STREAM]) if n_valid else math.nan
        )
        seconds = round(time.perf_counter() - started, 3)
        return {"epoch": epoch + 1, "loss": loss, "val_loss": valid_loss, "seconds": seconds}

    def slots(self) -> dict[str, np.ndarray]:
        return self.users.slots()


@dataclass(frozen=True)
class SampledListeners:
    """The listener head of ``model.train`` trained on ``sampling``'s users per batch."""

    sampling: Sampling

    def epochs(
        self,
        model: keras.Model,
        train: tuple[np.ndarray, sp.csr_matrix],
        valid: tuple[np.ndarray, sp.csr_matrix],
        settings: TrainSettings,
        slots: dict[str, np.ndarray] | None,
    ) -> SampledTraining:
        return SampledTraining(model, self.sampling, {"train": train, "valid": valid}, settings, slots)
