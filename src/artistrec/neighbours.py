"""Nearest train artists by cosine, and how neighbours vote over the candidates (every kNN method's core)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from artistrec.metrics import query_map, rank
from artistrec.vectors import content_vectors, has_side_information

# Elements of one chunk of dense (queries x train artists) similarities: 2**25 float32 are 128 MB.
CHUNK_ELEMENTS = 2**25

Vectors = np.ndarray | sp.csr_matrix

# Similarities equal to this many decimals are ties (the earlier train row first): artists with
# the same side information are then tied whether dense or sparse arithmetic compared them.
SIMILARITY_DECIMALS = 9


def nearest_train_artists(queries: Vectors, train: Vectors, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per query row, the positions of its ``k`` most similar train rows (best first) and their similarities.

    Rows (dense, or both sparse) are compared by dot product (cosine for unit rows);
    ties (to ``SIMILARITY_DECIMALS``) go to the earlier train row. A query without side information gets
    similarity 0 to every neighbour. Similarities are dense only for a chunk of
    queries at a time, sized so that it holds about ``CHUNK_ELEMENTS``.
    """
    k = min(k, train.shape[0])
    nearest = np.zeros((queries.shape[0], k), dtype=np.int64)
    similarity = np.zeros((queries.shape[0], k), dtype=np.float32)
    informed = np.flatnonzero(has_side_information(queries))
    train_t = sp.csc_matrix(train.T) if sp.issparse(train) else np.ascontiguousarray(train.T)
    chunk_rows = max(1, CHUNK_ELEMENTS // max(1, train.shape[0]))
    for start in range(0, informed.shape[0], chunk_rows):
        rows = informed[start : start + chunk_rows]
        block = queries[rows] @ train_t
        if sp.issparse(block):
            block = block.toarray()
        block = np.round(block, SIMILARITY_DECIMALS)
        nearest[rows] = rank(block, k)
        similarity[rows] = np.take_along_axis(block, nearest[rows], axis=1)
    return nearest, similarity


# What a neighbour votes with: its co-listening distribution over the candidates
# (the training target), or its co-listened set (1 for every candidate any of its
# listeners listens to: the ground truth's own definition for a test artist).

# What a neighbour votes with: its co-listening distribution over the candidates
# (the training target), or its co-listened set (1 for every candidate any of its
# listeners listens to: the ground truth's own definition for a test artist).
VOTES = ("distribution", "co_listened")


def vote_rows(train_targets: sp.csr_matrix, votes: str) -> sp.csr_matrix:
    """The rows neighbours vote with: the target distributions, or their supports (binary co-listened sets).

    Voting with sets lets a neighbour with many listeners, whose ground truth
    would be broad, spread more votes; distributions weigh every neighbour alike
    (which wins where: docs/method.md).
    """
    if votes == "distribution":
        return train_targets
    if votes == "co_listened":
        co_listened = sp.csr_matrix(train_targets, copy=True)
        co_listened.data = (co_listened.data > 0).astype(np.float32)
        return co_listened
    raise ValueError(f"unknown votes {votes!r}: one of {', '.join(VOTES)}")


def neighbour_votes(
    nearest: np.ndarray, similarity: np.ndarray, rows: sp.csr_matrix, k: int, power: float
) -> np.ndarray:
    """Scores over the candidates: the first ``k`` neighbours vote with their ``rows`` (see ``vote_rows``),
    weighted by similarity ** power.

    Only positive similarities vote. A power above 1 lets the nearest neighbours
    dominate without a hard cut at a small k.
    """
    k = min(k, nearest.shape[1])
    weights = np.clip(similarity[:, :k], 0.0, None) ** power
    voters = np.repeat(np.arange(nearest.shape[0]), k)
    votes = sp.csr_matrix((weights.ravel(), (voters, nearest[:, :k].ravel())), shape=(nearest.shape[0], rows.shape[0]))
    return np.asarray((votes @ rows).toarray(), dtype=np.float32)


def tune_neighbours(
    listen: sp.csr_matrix,
    artist_ids: np.ndarray,
    queries: np.ndarray,
    candidates: np.ndarray,
    neighbours: tuple[np.ndarray, np.ndarray],
    train_targets: sp.csr_matrix,
    ks: list[int],
    powers: list[float],
    votes: Sequence[str],
) -> dict[tuple[int, float, str], dict[str, float]]:
    """MAP@K on ``queries`` of every (k, power, votes), from their ``nearest_train_artists`` for the largest k."""
    nearest, similarity = neighbours
    method_scores = (
        ((k, power, kind), neighbour_votes(nearest, similarity, vote_rows(train_targets, kind), k, power))
        for kind in votes
        for k in ks
        for power in powers
    )
    return query_map(listen, artist_ids, queries, candidates, method_scores)  # type: ignore[return-value]


def simplest_first(k: int, power: float, votes: str) -> tuple[int, float, int]:
    """Tie-break of neighbour settings with equal MAP@10: the larger key is the smaller k, power, then ``VOTES`` order."""
    return -k, -power, -VOTES.index(votes)


def best_setting(by_setting: dict[tuple[int, float, str], dict[str, float]]) -> tuple[int, float, str]:
    """The (k, power, votes) of ``tune_neighbours`` with the best valid MAP@10; ties to the simplest (``simplest_first``)."""
    return max(by_setting, key=lambda setting: (by_setting[setting]["map@10"], *simplest_first(*setting)))


def content_knn_scores(
    query_blocks: list[np.ndarray],
    train_blocks: list[np.ndarray],
    train_targets: sp.csr_matrix,
    k: int,
    power: float = 1.0,
    votes: str = "distribution",
) -> np.ndarray:
    """The content kNN baseline.

    Queries and train artists are compared by the cosine of their
    ``content_vectors``; each query's ``k`` most similar train artists vote with
    their ``vote_rows``, weighted by similarity ** ``power``. A query without side
    information gets all-zero scores, which ``rank`` turns into popularity order.
    """
    nearest, similarity = nearest_train_artists(content_vectors(query_blocks), content_vectors(train_blocks), k)
    return neighbour_votes(nearest, similarity, vote_rows(train_targets, votes), k, power)
