"""Artist vectors: which artists have side information, unit rows, and turning network outputs into probabilities."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.special import logsumexp

from artistrec.features import stack_vectors


def has_side_information(vectors: np.ndarray | sp.csr_matrix) -> np.ndarray:
    """Which rows are not all zero: an artist without side information has zero vectors (dense or sparse)."""
    if sp.issparse(vectors):
        return np.asarray(abs(vectors).sum(axis=1)).ravel() > 0
    return np.abs(vectors).any(axis=1)


def normalise_rows(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


def content_vectors(blocks: list[np.ndarray]) -> np.ndarray:
    """Concatenate per-source SVD vectors, each L2-normalised so that every source weighs
    the same, and normalise again: dot products of the rows are cosine similarities.
    An artist without side information stays the zero vector.
    """
    return normalise_rows(np.hstack([normalise_rows(b) for b in blocks]))


def sparse_content_vectors(blocks: list[sp.csr_matrix]) -> sp.csr_matrix:
    """``content_vectors`` of sparse per-source rows (the weighted side information itself), kept sparse."""
    from sklearn.preprocessing import normalize  # imported here: most steps never need scikit-learn, slow to import

    return sp.csr_matrix(normalize(sp.hstack([normalize(block) for block in blocks], format="csr")))


def probabilities(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax."""
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def sigmoid(logits: np.ndarray) -> np.ndarray:
    """Element-wise logistic function, without overflow for large negative logits."""
    return (0.5 * (1.0 + np.tanh(0.5 * logits))).astype(np.float32)


def log_probability(probability: np.ndarray) -> np.ndarray:
    """Scores from probabilities (same ranking), finite where a probability underflows to 0."""
    return np.log(probability + 1e-12)


def distribution(scores: np.ndarray) -> np.ndarray:
    """Non-negative scores scaled to sum to 1 per row; an all-zero row stays zero."""
    totals = scores.sum(axis=1, keepdims=True)
    return np.divide(scores, totals, out=np.zeros_like(scores), where=totals > 0)


def shares_at(scores: np.ndarray, top: np.ndarray) -> np.ndarray:
    """Non-negative scores (votes) at the positions ``top`` of each row, as shares of the row's total."""
    return np.take_along_axis(distribution(scores.astype(np.float64)), top, axis=1)


def softmax_at(log_scores: np.ndarray, top: np.ndarray) -> np.ndarray:
    """The softmax over each row of ``log_scores`` (a product of experts' log scores) at the positions ``top``."""
    rows = log_scores.astype(np.float64)
    return np.exp(np.take_along_axis(rows, top, axis=1) - logsumexp(rows, axis=1, keepdims=True))


def informed(svd_files: list[str], artist_ids: np.ndarray) -> np.ndarray:
    """Which artists have side information in any of the sources of ``svd_files``."""
    return has_side_information(stack_vectors(svd_files, artist_ids))
