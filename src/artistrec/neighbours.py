"""Nearest train artists by cosine, and how neighbours vote over the candidates (every kNN method's core)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Iterable, Sequence

import numpy as np
import scipy.sparse as sp

from artistrec.metrics import query_map, rank
from artistrec.parallel import by_row_blocks
from artistrec.tuning import coordinate_search
from artistrec.vectors import content_vectors, has_side_information

# Elements of one chunk of dense (queries x train artists) similarities: 2**25 float32 are 128 MB.
CHUNK_ELEMENTS = 2**25

# Train vectors cast to float64 at a time by ``dense_similarities``: 2**22 are 32 MB.
TRAIN_BLOCK_ELEMENTS = 2**22

Vectors = np.ndarray | sp.csr_matrix

# Similarities equal to this many decimals are ties (the earlier train row first): artists with
# the same side information are then tied whether dense or sparse arithmetic compared them.
SIMILARITY_DECIMALS = 9


def nearest_train_artists(queries: Vectors, train: Vectors, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per query row, the positions of its ``k`` most similar train rows (best first) and their similarities.

    Rows (dense, or both sparse) are compared by dot product (cosine for unit rows);
    ties (to ``SIMILARITY_DECIMALS``) go to the earlier train row. A query without side information gets
    similarity 0 to every neighbour. Similarities are dense only for a chunk of
    queries at a time, sized so that it holds about ``CHUNK_ELEMENTS`` float32 of memory.

    Dense rows are compared in float64: a float32 product's last bits depend on the
    query's place in the chunk (BLAS), and rounded to ``SIMILARITY_DECIMALS`` a
    float64 one does not, so a query gets the same neighbours alone, in any chunk and
    in the evaluation.
    """
    k = min(k, train.shape[0])
    nearest = np.zeros((queries.shape[0], k), dtype=np.int64)
    similarity = np.zeros((queries.shape[0], k), dtype=np.float32)
    informed = np.flatnonzero(has_side_information(queries))
    dense = not sp.issparse(train)
    train_t = None if dense else sp.csc_matrix(train.T)
    chunk_rows = max(1, CHUNK_ELEMENTS // ((2 if dense else 1) * max(1, train.shape[0])))
    for start in range(0, informed.shape[0], chunk_rows):
        rows = informed[start : start + chunk_rows]
        block = dense_similarities(queries[rows], train) if dense else (queries[rows] @ train_t).toarray()
        block = np.round(block, SIMILARITY_DECIMALS)
        nearest[rows] = rank(block, k)
        similarity[rows] = np.take_along_axis(block, nearest[rows], axis=1)
    return nearest, similarity


def dense_similarities(queries: np.ndarray, train: np.ndarray) -> np.ndarray:
    """``queries @ train.T`` in float64; a float32 ``train`` is cast a block of about ``TRAIN_BLOCK_ELEMENTS``
    at a time, never whole (a held float32 train costs half a float64 one)."""
    queries = np.asarray(queries, dtype=np.float64)
    step = max(1, TRAIN_BLOCK_ELEMENTS // max(1, train.shape[1]))
    if step >= train.shape[0]:  # one block: no buffer besides the product
        return queries @ np.asarray(train, dtype=np.float64).T
    similarity = np.empty((queries.shape[0], train.shape[0]))
    for start in range(0, train.shape[0], step):
        block = train[start : start + step]
        similarity[:, start : start + block.shape[0]] = queries @ block.astype(np.float64).T
    return similarity


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

    def block_votes(block: slice) -> np.ndarray:
        n_voting = block.stop - block.start
        voters = np.repeat(np.arange(n_voting), k)
        votes = sp.csr_matrix(
            (weights[block].ravel(), (voters, nearest[block, :k].ravel())), shape=(n_voting, rows.shape[0])
        )
        return np.asarray((votes @ rows).toarray(), dtype=np.float32)

    return by_row_blocks(block_votes, nearest.shape[0])


# A kNN's settings: (space, k, power, votes), where a space is one set of vectors (the content kNN's:
# an SVD size). Tuned one axis at a time (``coordinate_search``) in this order: k, power and votes in
# the last space, then the space, then k, power and k again; about 23 settings where the content
# kNN's full grid has 160 (docs/performance.md).
KNN_AXES_ORDER = (1, 2, 3, 0, 1, 2, 1)
KnnSetting = tuple[Hashable, int, float, str]


def tune_neighbours(
    listen: sp.csr_matrix,
    artist_ids: np.ndarray,
    queries: np.ndarray,
    candidates: np.ndarray,
    search: Callable[[Hashable], tuple[np.ndarray, np.ndarray]],
    spaces: Sequence[Hashable],
    voting: Callable[[str], sp.csr_matrix],
    grid: tuple[Sequence[int], Sequence[float], Sequence[str]],
) -> tuple[KnnSetting, dict[KnnSetting, dict[str, float]]]:
    """The (space, k, power, votes) with the best MAP@10 on ``queries`` that ``KNN_AXES_ORDER`` finds, and
    every setting it scored.

    ``search(space)`` gives the queries' ``nearest_train_artists`` in a space for the
    largest k; it runs once per space. ``voting(votes)`` gives the rows neighbours vote
    with (``vote_rows`` of the train targets); it runs once per kind. ``grid`` is the (ks, powers, votes) tried. The
    search starts from the last space, the middle k and the first power and votes; an
    axis's ties go to its earlier value.
    """
    searched, voted = functools.cache(search), functools.cache(voting)
    ks, powers, votes = grid

    def scores(setting: KnnSetting, rows: slice) -> np.ndarray:
        space, k, power, kind = setting
        return neighbour_votes(*(found[rows] for found in searched(space)), voted(kind), k, power)

    def valid_maps(settings: Iterable[KnnSetting]) -> dict[Hashable, dict[str, float]]:
        by_setting = ((setting, functools.partial(scores, setting)) for setting in settings)
        return query_map(listen, artist_ids, queries, candidates, by_setting)

    start = (spaces[-1], ks[len(ks) // 2], powers[0], votes[0])
    return coordinate_search((spaces, ks, powers, votes), start, KNN_AXES_ORDER, valid_maps)  # type: ignore[return-value]


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
