"""The listener network's last layer at any number of users: sampled users per batch (``sampled_head``).

Each batch scores every row's listeners (at most ``positives``, a draw weighted up
beyond that) and ``negatives`` users drawn uniformly, which keeps the loss an
unbiased estimate of the full binary cross-entropy (``sampled_loss``), so the
chances stay calibrated for the noisy-OR. With every user drawn (fewer users than
``negatives``) and every listener scored, a batch is the full layer's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from artistrec.model import tf
from artistrec.sampled_head import SampledOutputs, Sampling, own_outputs


def sampled_users(
    targets: sp.csr_matrix, rows: np.ndarray, sampling: Sampling, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The users one batch scores: (rows x positives) listener ids with their weights (0 pads), and the drawn users.

    A row with more listeners than ``positives`` keeps a uniform draw of them, each
    weighing (its listeners / positives); ``negatives`` users are drawn with
    replacement from all users (all of them, in order, when there are no more).
    """
    listeners, _, weights = own_outputs(targets, rows, sampling.positives, rng)
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


@dataclass(frozen=True)
class UserDraws:
    """``sampled_head.Draws`` of the listener network: ``sampled_users`` and ``sampled_loss``."""

    sampling: Sampling
    n_users: int

    def draw(self, targets: sp.csr_matrix, rows: np.ndarray, rng: np.random.Generator):
        listeners, weights, drawn = sampled_users(targets, rows, self.sampling, rng)
        return listeners, drawn, (weights,)

    def loss(self, hidden, vectors, bias, listeners, drawn, weights):
        return sampled_loss(hidden, vectors, bias, listeners, weights, drawn, self.n_users)


class SampledListeners(SampledOutputs):
    """The listener head of ``model.train`` trained on ``sampling``'s users per batch."""

    def draws(self, train_targets: sp.csr_matrix) -> UserDraws:
        return UserDraws(self.sampling, train_targets.shape[1])
