"""Ranking, ground truth and metrics for cold-start test artists, vectorised.

Ground truth (as in the notebook): every artist co-listened with the test artist by
any of its listeners, itself excluded. MAP@K has exactly ``ml_metrics.apk``
semantics, except that test artists with an empty ground truth are left out (apk
scores them 1.0, which would inflate MAP) and counted separately.

Nothing is dense beyond (test artists x candidates): the ground truth is computed in
chunks of test artists and only looked up at the recommended positions.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from artistrec.matrices import positions
from artistrec.targets import CHUNK_ROWS, co_listen

K_VALUES = (1, 5, 10, 20)


def rank(scores: np.ndarray, top_k: int) -> np.ndarray:
    """Candidate positions of the ``top_k`` highest scores per row, best first.

    Fully sorted (the notebook's unordered ``argpartition`` is the bug this avoids);
    ties go to the more popular candidate (smaller position).
    """
    return np.argsort(-scores, axis=1, kind="stable")[:, :top_k]


def relevance(
    listen: sp.csr_matrix,
    artist_ids: np.ndarray,
    test: np.ndarray,
    candidates: np.ndarray,
    recommended: dict[str, np.ndarray],
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Ground-truth sizes of the test artists and, per method, which recommendations are hits.

    ``recommended[method]`` holds candidate positions (test artists x K). Returns
    ``sizes`` (test artists,) and ``hits[method]`` (test artists x K, bool).
    """
    test_rows = positions(test, artist_ids)
    candidate_rows = positions(candidates, artist_ids)
    all_rows = np.arange(artist_ids.shape[0])
    sizes = np.zeros(test.shape[0], dtype=np.int64)
    hits = {method: np.zeros(top.shape, dtype=bool) for method, top in recommended.items()}
    for start in range(0, test.shape[0], CHUNK_ROWS):
        chunk = slice(start, start + CHUNK_ROWS)
        truth = co_listen(listen, test_rows[chunk], all_rows)
        truth.data[:] = 1.0
        # The artist itself is always co-listened with itself; it is never in its truth.
        own = np.asarray(truth[np.arange(truth.shape[0]), test_rows[chunk]]).ravel()
        sizes[chunk] = np.diff(truth.indptr) - (own > 0)
        for method, top in recommended.items():
            block = top[chunk]
            columns = candidate_rows[block]
            found = np.asarray(truth[np.repeat(np.arange(block.shape[0]), block.shape[1]), columns.ravel()]).ravel()
            is_self = candidates[block].ravel() == np.repeat(test[chunk], block.shape[1])
            hits[method][chunk] = ((found > 0) & ~is_self).reshape(block.shape)
    return sizes, hits


def average_precision(hits: np.ndarray, sizes: np.ndarray, k: int) -> np.ndarray:
    """``ml_metrics.apk`` for each row: hits over the first k, normalised by min(|truth|, k)."""
    top = hits[:, :k].astype(np.float64)
    precision = np.cumsum(top, axis=1) / np.arange(1, top.shape[1] + 1)
    return (precision * top).sum(axis=1) / np.minimum(sizes, k)


def ndcg(hits: np.ndarray, sizes: np.ndarray, k: int) -> np.ndarray:
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = (hits[:, :k] * discounts[: hits[:, :k].shape[1]]).sum(axis=1)
    ideal = np.cumsum(discounts)[np.minimum(sizes, k) - 1]
    return dcg / ideal


def bootstrap_interval(values: np.ndarray, resamples: int, seed: int) -> list[float]:
    """95% percentile bootstrap interval of the mean of ``values``."""
    rng = np.random.default_rng(seed)
    means = np.empty(resamples)
    for start in range(0, resamples, 100):
        block = rng.integers(0, values.shape[0], (min(100, resamples - start), values.shape[0]))
        means[start : start + block.shape[0]] = values[block].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return [float(low), float(high)]


def method_metrics(
    hits: np.ndarray, sizes: np.ndarray, top: np.ndarray, n_candidates: int, resamples: int, seed: int
) -> dict[str, float | list[float]]:
    """Every metric of one method over the test artists with a non-empty ground truth."""
    evaluated = sizes > 0
    hits, sizes, top = hits[evaluated], sizes[evaluated], top[evaluated]
    result: dict[str, float | list[float]] = {}
    for k in K_VALUES:
        result[f"map@{k}"] = float(average_precision(hits, sizes, k).mean())
    result["ndcg@10"] = float(ndcg(hits, sizes, 10).mean())
    result["recall@20"] = float((hits[:, :20].sum(axis=1) / sizes).mean())
    result["coverage@20"] = float(np.unique(top[:, :20]).shape[0] / n_candidates)
    result["map@10_ci95"] = bootstrap_interval(average_precision(hits, sizes, 10), resamples, seed)
    return result


def popularity_scores(n_test: int, n_candidates: int) -> np.ndarray:
    """The popularity baseline: candidates in order, whoever the test artist is."""
    return np.tile(-np.arange(n_candidates, dtype=np.float32), (n_test, 1))


def normalise_rows(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


def content_knn_scores(
    query_blocks: list[np.ndarray],
    train_blocks: list[np.ndarray],
    train_targets: sp.csr_matrix,
    k: int,
) -> np.ndarray:
    """The content kNN baseline.

    Each source's SVD vectors are L2-normalised and concatenated (so every source
    weighs the same), then normalised again: the dot product is the cosine
    similarity. Each query's ``k`` most similar train artists (positive similarity
    only) vote with their target rows, weighted by similarity. A query without side
    information gets all-zero scores, which ``rank`` turns into popularity order.
    """
    queries = normalise_rows(np.hstack([normalise_rows(b) for b in query_blocks]))
    train = normalise_rows(np.hstack([normalise_rows(b) for b in train_blocks]))
    k = min(k, train.shape[0])
    scores = np.zeros((queries.shape[0], train_targets.shape[1]), dtype=np.float32)
    for start in range(0, queries.shape[0], CHUNK_ROWS):
        similarity = queries[start : start + CHUNK_ROWS] @ train.T
        nearest = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
        weights = np.clip(np.take_along_axis(similarity, nearest, axis=1), 0.0, None)
        rows = np.repeat(np.arange(nearest.shape[0]), k)
        votes = sp.csr_matrix((weights.ravel(), (rows, nearest.ravel())), shape=similarity.shape)
        scores[start : start + CHUNK_ROWS] = (votes @ train_targets).toarray()
    return scores
