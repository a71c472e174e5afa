"""A last layer trained on sampled outputs per batch, for any number of outputs, with a lazy optimizer.

With one logit per output (a user of the listener network, a candidate of the
softmax network), a full epoch costs train artists x outputs x hidden units, and
Adam updates every output's vector after every batch (a dense step over hidden
units x outputs). At Last.fm-360K's size neither fits in minutes. Here each batch
scores only some outputs: each row's own (its listeners, its co-listened
candidates; a draw weighted up beyond a cap) and some drawn for the whole batch.
A ``Draws`` says which and what the loss is (``listener_head``, ``softmax_head``);
only the scored outputs' vectors and biases are updated, by Adam restricted to
those rows ("lazy" Adam: an output's moments move only when it is scored).

The saved model is the same plain Keras stack, so serving scores every output as before.
"""

from __future__ import annotations

import logging
import math
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import scipy.sparse as sp

from artistrec.model import TrainSettings, epoch_order, keras, reseed_dropout, tf
from artistrec.runner import DETAIL

log = logging.getLogger(__name__)

# Adam's constants (Keras's defaults) for the outputs' vectors and biases.
BETA_1, BETA_2, EPSILON = 0.9, 0.999, 1e-7

# The seed stream of the valid loss's drawn outputs (the train batches use [seed, epoch, batch]).
VALID_STREAM = 2**31


@dataclass(frozen=True)
class Sampling:
    """Outputs scored per batch: up to ``positives`` of each row's own and ``negatives`` drawn ones."""

    negatives: int
    positives: int


def own_outputs(
    targets: sp.csr_matrix, rows: np.ndarray, positives: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each row's nonzero columns, (rows x ``positives``) ids with their target values and their weights
    (0 pads): a row with more keeps a uniform draw of ``positives``, each weighing (its count / ``positives``).
    """
    batch = targets[rows]
    own = np.zeros((rows.shape[0], positives), dtype=np.int32)
    values = np.zeros(own.shape, dtype=np.float32)
    weights = np.zeros(own.shape, dtype=np.float32)
    for row, (start, count) in enumerate(zip(batch.indptr[:-1], np.diff(batch.indptr))):
        kept = min(count, positives)
        chosen = start + (rng.choice(count, kept, replace=False) if count > kept else np.arange(count))
        own[row, :kept], values[row, :kept] = batch.indices[chosen], batch.data[chosen]
        weights[row, :kept] = count / kept if kept else 0.0
    return own, values, weights


class Draws(Protocol):
    """What one batch scores and how it is scored."""

    def draw(
        self, targets: sp.csr_matrix, rows: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, ...]]:
        """(rows x some) ids of each row's own outputs, the ids drawn for the batch, and what the loss reads besides."""
        ...

    def loss(self, hidden, vectors, bias, own, drawn, *extras):
        """The batch's loss from the hidden layer and the scored outputs' ``vectors`` and ``bias`` (``own`` and
        ``drawn`` index them).
        """
        ...


class LazyAdam:
    """Adam over the rows of an outputs x width matrix (and a bias per output) that a step touches; the other
    rows and their moments stay as they are. Its moments are ``slots`` for the checkpoint. It trains
    the outputs' rows whatever ``model.optimizer`` trains the tower with, at its learning rate.
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
    """A model's sampled epochs: the tower by the model's optimizer, its last layer (one vector and bias per
    output, held apart in training and written back after each epoch) by ``LazyAdam``, on ``draws``.
    """

    def __init__(
        self,
        model: keras.Model,
        draws: Draws,
        data: dict[str, tuple[np.ndarray, sp.csr_matrix]],
        settings: TrainSettings,
        slots: dict[str, np.ndarray] | None,
    ) -> None:
        self.model, self.draws, self.data, self.settings = model, draws, data, settings
        self.body = keras.Model(model.inputs, model.layers[-2].output)
        outputs = model.layers[-1]
        outputs.trainable = False  # trained by LazyAdam, not by the model's optimizer
        self.outputs = LazyAdam(np.asarray(outputs.kernel).T, np.asarray(outputs.bias), settings.learning_rate, slots)
        model.optimizer.build(model.trainable_variables)
        self.train_step = tf.function(self._train_step, reduce_retracing=True)
        self.valid_step = tf.function(self._valid_step, reduce_retracing=True)

    def _train_step(self, inputs, own, drawn, *extras):
        scored = tf.concat([tf.reshape(own, [-1]), drawn], axis=0)
        touched, position = tf.unique(scored)
        vectors, bias = (tf.gather(param, touched) for param in self.outputs.params)
        own_rows = tf.reshape(position[: tf.size(own)], tf.shape(own))
        with tf.GradientTape() as tape:
            tape.watch([vectors, bias])
            hidden = self.body(inputs, training=True)
            loss = self.draws.loss(hidden, vectors, bias, own_rows, position[tf.size(own) :], *extras)
        tower = self.model.trainable_variables
        gradients = tape.gradient(loss, [*tower, vectors, bias])
        self.model.optimizer.apply(gradients[:-2], tower)
        self.outputs.apply(touched, gradients[-2:], self.model.optimizer.iterations)
        return loss

    def _valid_step(self, inputs, own, drawn, *extras):
        hidden = self.body(inputs, training=False)
        return self.draws.loss(hidden, *self.outputs.params, own, drawn, *extras)

    def mean_loss(self, step, part: str, order: np.ndarray, stream: list[int]) -> float:
        """``step``'s loss averaged over the rows ``order`` of ``part``, in batches whose outputs are drawn
        from ``stream`` + batch.
        """
        inputs, targets = self.data[part]
        batch_size, total, last_line = self.settings.batch_size, 0.0, time.perf_counter()
        n_batches = math.ceil(order.shape[0] / batch_size)
        for index in range(n_batches):
            rows = order[index * batch_size : (index + 1) * batch_size]
            own, drawn, extras = self.draws.draw(targets, rows, np.random.default_rng([*stream, index]))
            total += float(step(inputs[rows], own, drawn, *extras)) * rows.shape[0]
            if time.perf_counter() - last_line >= 30.0:
                last_line = time.perf_counter()
                log.log(DETAIL, "%s batch %d/%d", part, index + 1, n_batches)
        return total / max(1, order.shape[0])

    def __call__(self, epoch: int) -> dict[str, float]:
        """One epoch in ``epoch_order``, then the last layer written back into the model; the valid loss
        draws the same outputs every epoch, so epochs compare.
        """
        started, seed = time.perf_counter(), self.settings.seed
        reseed_dropout(self.model, seed, epoch)
        order = epoch_order(self.data["train"][0].shape[0], seed, epoch)
        loss = self.mean_loss(self.train_step, "train", order, [seed, epoch])
        vectors, bias = self.outputs.params
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
        return self.outputs.slots()


@dataclass(frozen=True)
class SampledOutputs(ABC):
    """A head of ``model.train`` trained on ``sampling``'s outputs per batch; ``draws`` says which."""

    sampling: Sampling

    @abstractmethod
    def draws(self, train_targets: sp.csr_matrix) -> Draws:
        """What each batch scores, given the train artists' targets."""

    def epochs(
        self,
        model: keras.Model,
        train: tuple[np.ndarray, sp.csr_matrix],
        valid: tuple[np.ndarray, sp.csr_matrix],
        settings: TrainSettings,
        slots: dict[str, np.ndarray] | None,
    ) -> SampledTraining:
        return SampledTraining(model, self.draws(train[1]), {"train": train, "valid": valid}, settings, slots)
