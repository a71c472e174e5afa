"""The softmax network's last layer over many candidates: a sampled softmax per batch (``sampled_head``).

A full softmax scores every candidate for every train artist: at Last.fm-360K's
shape with every train artist a candidate that is minutes per epoch. As in the
YouTube paper, each batch instead scores every row's co-listened candidates (at
most ``positives``, a draw weighted up beyond that) and ``negatives`` candidates
drawn for the batch in proportion to how many train artists co-listen with them
(plus one). The softmax's normaliser is estimated from both: the own candidates
exactly (weighted when drawn), the drawn ones by importance weighting (log-Q
correction), leaving out a row's own candidates among the drawn ones (accidental
hits). With every candidate drawn and every co-listened one scored, a batch's loss
is the full categorical cross-entropy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from artistrec.model import tf
from artistrec.sampled_head import SampledOutputs, Sampling, own_outputs

# A logit that takes no part in the normaliser (finite, so that gradients stay 0, not NaN).
LEFT_OUT = -1e30


def proposal(train_targets: sp.csr_matrix) -> np.ndarray:
    """The chance of drawing each candidate: its co-listening train artists plus one, normalised."""
    counts = np.bincount(train_targets.indices, minlength=train_targets.shape[1]).astype(np.float64) + 1.0
    return counts / counts.sum()


def sampled_candidates(
    targets: sp.csr_matrix, rows: np.ndarray, sampling: Sampling, chance: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, ...]]:
    """The candidates one batch scores and what ``sampled_softmax_loss`` reads besides.

    Own: (rows x positives) co-listened candidates; drawn: ``negatives`` candidates
    from ``chance`` with replacement (every candidate once when there are no more).
    Besides: each own candidate's target value times its weight, the log of its
    weight in the normaliser (``LEFT_OUT`` for pads), each drawn candidate's log
    expected count, which drawn candidates each row co-listens (left out of its
    normaliser), and each row's target mass.
    """
    own, values, weights = own_outputs(targets, rows, sampling.positives, rng)
    n_candidates = targets.shape[1]
    if sampling.negatives >= n_candidates:
        drawn = np.arange(n_candidates, dtype=np.int32)
        log_count = np.zeros(n_candidates, dtype=np.float32)
    else:
        drawn = rng.choice(n_candidates, sampling.negatives, p=chance).astype(np.int32)
        log_count = np.log(sampling.negatives * chance[drawn]).astype(np.float32)
    batch = targets[rows]
    hits = batch[:, drawn].toarray() > 0
    own_log_weight = np.where(weights > 0, np.log(np.maximum(weights, 1e-30)), LEFT_OUT).astype(np.float32)
    mass = np.asarray(batch.sum(axis=1), dtype=np.float32).ravel()
    return own, drawn, (values * weights, own_log_weight, log_count, hits, mass)


def sampled_softmax_loss(hidden, vectors, bias, own, drawn, labels, own_log_weight, log_count, hits, mass):
    """The mean over rows of -sum_c y_c z_c + mass * log Z, with log Z estimated from the own candidates
    (weighted) and the drawn ones (divided by their expected count, a row's own left out).
    """
    own_logits = tf.einsum("bh,bph->bp", hidden, tf.gather(vectors, own)) + tf.gather(bias, own)
    drawn_logits = tf.matmul(hidden, tf.gather(vectors, drawn), transpose_b=True) + tf.gather(bias, drawn)
    drawn_logits = tf.where(hits, LEFT_OUT, drawn_logits - log_count)
    log_z = tf.reduce_logsumexp(tf.concat([own_logits + own_log_weight, drawn_logits], axis=1), axis=1)
    return tf.reduce_mean(-tf.reduce_sum(labels * own_logits, axis=1) + mass * log_z)


@dataclass(frozen=True)
class CandidateDraws:
    """``sampled_head.Draws`` of the softmax network: ``sampled_candidates`` and ``sampled_softmax_loss``."""

    sampling: Sampling
    chance: np.ndarray

    def draw(self, targets: sp.csr_matrix, rows: np.ndarray, rng: np.random.Generator):
        return sampled_candidates(targets, rows, self.sampling, self.chance, rng)

    def loss(self, hidden, vectors, bias, own, drawn, *extras):
        return sampled_softmax_loss(hidden, vectors, bias, own, drawn, *extras)


class SampledSoftmax(SampledOutputs):
    """The candidate head of ``model.train`` trained on ``sampling``'s candidates per batch."""

    def draws(self, train_targets: sp.csr_matrix) -> CandidateDraws:
        return CandidateDraws(self.sampling, proposal(train_targets))
