"""Ranking, ground truth and metrics for cold-start artists, vectorised: they score any method.

Ground truth (as in the notebook): every artist co-listened with the query artist by
any of its listeners, itself excluded, restricted to the candidates. MAP@K has exactly
``ml_metrics.apk`` semantics, except that artists with an empty ground truth are left
out (apk scores them 1.0, which would inflate MAP) and counted separately.

Nothing is dense beyond (queries x candidates): the ground truth is sparse, computed
in chunks of queries, and made dense only over the candidate columns.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp

from artistrec.matrices import positions
from artistrec.parallel import by_row_blocks
from artistrec.targets import co_listen_chunks

K_VALUES = (1, 5, 10, 20)

# The long tail: candidates beyond this many most popular (the notebook's whole shelf).
HEAD_CANDIDATES = 1000

# rank deals each row into this many groups per wanted score.
GROUPS_PER_K = 4

# Scores are dense (queries x candidates) for a chunk of queries at a time, of about this many
# elements (float32: 128 MB): over a large catalogue no method's scores of every query exist at once.
SCORE_CHUNK_ELEMENTS = 2**25

# A shortlist holds each expert's this many best candidates per query (``Shortlist``), and is built only
# where it can hold no more than this share of the candidates.
SHORTLIST_DEPTH = 200
SHORTLIST_MAX_SHARE = 0.25


def score_chunks(n_rows: int, n_candidates: int, align: int = 1) -> list[slice]:
    """Consecutive slices of ``n_rows`` queries, each with about ``SCORE_CHUNK_ELEMENTS`` scores over
    ``n_candidates``; a chunk of at least ``align`` rows holds a multiple of ``align`` (a forward batch).
    With few candidates one chunk holds every query.
    """
    rows = max(1, SCORE_CHUNK_ELEMENTS // max(1, n_candidates))
    if rows >= align:
        rows -= rows % align
    return [slice(start, min(start + rows, n_rows)) for start in range(0, n_rows, rows)]


@dataclass(frozen=True, eq=False)
class Shortlist:
    """Experts' scores of a chunk of queries (each queries x candidates) and, per query, the union of each expert's
    ``depth`` best candidates (``columns``, ascending; a repeat marked in ``repeated``), those candidates' scores
    (``gathered``) and each expert's ``depth``-th best score (``floors``, queries x 1).

    A combination of the experts that is nondecreasing in each of them (a product of experts with non-negative
    weights) scores no candidate outside the union above the combination of the floors, so its top k
    lies in the union wherever its k-th best there is above that bound (``top``). Built once for many
    combinations (a tuning grid's settings), it ranks each on the union instead of on every candidate.
    """

    experts: tuple[np.ndarray, ...]
    columns: np.ndarray | None  # None: too few candidates for a shortlist to pay; combinations are ranked whole
    repeated: np.ndarray
    gathered: tuple[np.ndarray, ...]
    floors: tuple[np.ndarray, ...]

    @classmethod
    def of(cls, experts: Sequence[np.ndarray], depth: int = SHORTLIST_DEPTH) -> Shortlist:
        n_columns = experts[0].shape[1]
        if len(experts) * depth > SHORTLIST_MAX_SHARE * n_columns:
            return cls(tuple(experts), None, np.empty(0, dtype=bool), (), ())
        best = [best_columns(expert, depth) for expert in experts]
        columns = np.sort(np.concatenate(best, axis=1), axis=1)
        repeated = np.zeros(columns.shape, dtype=bool)
        repeated[:, 1:] = columns[:, 1:] == columns[:, :-1]
        gathered = tuple(np.take_along_axis(expert, columns, axis=1) for expert in experts)
        floors = tuple(np.take_along_axis(expert, top[:, :1], axis=1) for expert, top in zip(experts, best))
        return cls(tuple(experts), columns, repeated, gathered, floors)

    def top(self, combine: Combination, k: int, popular: np.ndarray | None = None) -> np.ndarray:
        """``rank(combine(experts), k)``, exactly, ranked on the shortlist where its bound holds and on every
        candidate in the other rows; the rows ``popular`` (a mask) in popularity (candidate) order."""
        if popular is None:
            popular = np.zeros(self.experts[0].shape[0], dtype=bool)
        if self.columns is None:
            top = rank(combine(self.experts), k)
        else:
            scores = np.where(self.repeated, -np.inf, combine(self.gathered))
            at = rank(scores, k)
            top = np.take_along_axis(self.columns, at, axis=1)
            kth = np.take_along_axis(scores, at[:, -1:], axis=1)
            unsure = np.flatnonzero(~(kth > combine(self.floors)).ravel() & ~popular)
            if unsure.shape[0]:
                top[unsure] = rank(combine(tuple(expert[unsure] for expert in self.experts)), k)
        top[popular] = np.arange(top.shape[1])
        return top


def best_columns(scores: np.ndarray, depth: int) -> np.ndarray:
    """Per row, the positions of the ``depth`` highest scores: the ``depth``-th highest first, the others in no order.
    Blocks of rows on threads: ``argpartition``'s positions of every score exist for a block at a time."""
    cut = scores.shape[1] - depth
    return by_row_blocks(lambda block: np.argpartition(scores[block], cut, axis=1)[:, cut:].copy(), scores.shape[0])


# A combination of experts' scores, nondecreasing in each (``Shortlist``): the same elementwise operations on
# whole score matrices, on the shortlisted candidates' scores or on the floors (queries x 1).
Combination = Callable[[Sequence[np.ndarray]], np.ndarray]


class Combined(NamedTuple):
    """A tuning setting's scores of a chunk of queries as a ``Combination`` of a ``Shortlist``'s experts; the
    rows ``popular`` (a mask; None: none) ranked by popularity (the fallback of queries without side information)."""

    shortlist: Shortlist
    combine: Combination
    popular: np.ndarray | None = None

    def top(self, k: int) -> np.ndarray:
        return self.shortlist.top(self.combine, k, self.popular)


# A method's raw scores of a chunk of queries (a slice of their rows): chunk x candidates, or a ``Combined``.
RowScores = Callable[[slice], np.ndarray | Combined]


def top_of(scores: np.ndarray | Combined, k: int) -> np.ndarray:
    """``rank`` of a chunk's scores, dense or ``Combined``."""
    return scores.top(k) if isinstance(scores, Combined) else rank(scores, k)


def whole(scores: np.ndarray) -> RowScores:
    """``RowScores`` of a score matrix already held whole."""
    return lambda rows: scores[rows]


def chunked_top(
    method_scores: Iterable[tuple[Hashable, RowScores]], chunks: list[slice], k: int
) -> dict[Hashable, np.ndarray]:
    """Each method's top ``k`` (``rank``) per query, scored chunk by chunk: every method scores one chunk
    before the next, so what they share for a chunk (``Queries.once``) is computed once.
    """
    methods = list(method_scores)
    top: dict[Hashable, list[np.ndarray]] = {key: [] for key, _ in methods}
    for rows in chunks:
        for key, scores in methods:
            top[key].append(top_of(scores(rows), k))
    return {key: np.concatenate(blocks) if blocks else np.empty((0, k), dtype=np.int64) for key, blocks in top.items()}


def rank(scores: np.ndarray, k: int) -> np.ndarray:
    """Per row, the positions of the ``k`` highest scores, best first; ties go to the smaller position.

    Fully ordered (the notebook's unordered ``argpartition`` is the bug this avoids),
    and exactly a stable descending sort cut at k, without sorting whole rows. The
    columns are dealt into ``g >= k`` groups (column j to group j mod g, so a group
    maximum is an elementwise maximum of contiguous slices). At least k scores reach the k-th highest group
    maximum, so every score of the top k reaches it too; only the scores that
    reach it (about 1-2 k per row unless many are tied) are sorted. Blocks of rows are ranked on threads.
    """
    return by_row_blocks(lambda block: rank_rows(scores[block], k), scores.shape[0])


def rank_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """``rank`` of every row at once."""
    n_rows, n_columns = scores.shape
    k = min(k, n_columns)
    if k == 0 or n_rows == 0:
        return np.empty((n_rows, k), dtype=np.int64)
    groups = min(n_columns, GROUPS_PER_K * k)
    whole = n_columns // groups * groups
    group_max = scores[:, :whole].reshape(n_rows, -1, groups).max(axis=1)
    tail = n_columns - whole
    group_max[:, :tail] = np.maximum(group_max[:, :tail], scores[:, whole:])
    threshold = np.partition(group_max, groups - k, axis=1)[:, groups - k]
    rows, columns = np.divmod(np.flatnonzero(reaching(scores, threshold, k)), n_columns)
    # The scores that reach the threshold, left-aligned per row in ascending column
    # order and padded with +inf: a stable sort of their negatives ranks them.
    counts = np.bincount(rows, minlength=n_rows)
    slot = np.arange(rows.shape[0]) - np.concatenate([[0], np.cumsum(counts)[:-1]])[rows]
    keys = np.full((n_rows, counts.max()), np.inf)
    keys[rows, slot] = -scores[rows, columns]
    candidates = np.zeros(keys.shape, dtype=np.int64)
    candidates[rows, slot] = columns
    best = np.argsort(keys, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(candidates, best, axis=1)


def reaching(scores: np.ndarray, threshold: np.ndarray, k: int) -> np.ndarray:
    """Which scores can be in a row's top ``k``: those above its ``threshold`` and, of those equal to it, the
    first ones in column order (ties go to the smaller position). Sparse scores (votes, most of them 0) tie
    on whole rows; without the cut every tied score would be sorted.
    """
    reach = scores >= threshold[:, None]
    tied = np.flatnonzero(reach.sum(axis=1) > GROUPS_PER_K * k)
    if tied.shape[0]:
        block, at = scores[tied], threshold[tied, None]
        above, equal = block > at, block == at
        wanted = k - above.sum(axis=1, keepdims=True)
        reach[tied] = above | (equal & (np.cumsum(equal, axis=1) <= wanted))
    return reach


class Relevance(NamedTuple):
    """The test artists' ground-truth sizes, per method which recommendations are hits (test artists x K,
    bool), and which test artists are co-listened mostly beyond the ``head`` most popular candidates
    (candidates are in popularity order; none when there are no more than ``head``).
    """

    sizes: np.ndarray
    hits: dict[str, np.ndarray]
    mostly_long_tail: np.ndarray


def relevance(
    listen: sp.csr_matrix,
    artist_ids: np.ndarray,
    test: np.ndarray,
    candidates: np.ndarray,
    recommended: dict[str, np.ndarray],
    head: int = HEAD_CANDIDATES,
) -> Relevance:
    """What the metrics read of the ground truth, in one pass over it; ``recommended[method]`` holds
    candidate positions (test artists x K).

    The ground truth is built for a chunk of test artists at a time and stays sparse:
    only the recommended candidates are looked up in it.
    """
    sizes = np.zeros(test.shape[0], dtype=np.int64)
    hits = {method: np.zeros(top.shape, dtype=bool) for method, top in recommended.items()}
    long_tail = np.zeros(test.shape[0], dtype=bool)
    test_rows, candidate_rows = positions(test, artist_ids), positions(candidates, artist_ids)
    has_listeners = np.diff(listen.indptr)[test_rows] > 0
    for chunk, truth in co_listen_chunks(listen, test_rows, np.arange(artist_ids.shape[0])):
        # An artist with a listener is co-listened with itself; it is never in its truth.
        sizes[chunk] = np.diff(truth.indptr) - has_listeners[chunk]
        in_truth = sp.csr_matrix(truth[:, candidate_rows] > 0)
        for method, top in recommended.items():
            block = top[chunk]
            if block.size == 0:
                continue
            rows = np.repeat(np.arange(block.shape[0]), block.shape[1])
            found = np.asarray(in_truth[rows, block.ravel()]).reshape(block.shape)
            hits[method][chunk] = found & (candidates[block] != test[chunk, None])
        if candidates.shape[0] > head:
            in_tail = np.asarray(in_truth[:, head:].sum(axis=1)).ravel()
            long_tail[chunk] = 2 * in_tail > np.asarray(in_truth.sum(axis=1)).ravel()
    return Relevance(sizes, hits, long_tail)


def average_precision(hits: np.ndarray, sizes: np.ndarray, k: int) -> np.ndarray:
    """``ml_metrics.apk`` for each row: hits over the first k, normalised by min(|truth|, k)."""
    top = hits[:, :k].astype(np.float64)
    precision = np.cumsum(top, axis=1) / np.arange(1, top.shape[1] + 1)
    return (precision * top).sum(axis=1) / np.minimum(sizes, k)


def map_at_k(hits: np.ndarray, sizes: np.ndarray) -> dict[str, float]:
    """MAP@1/5/10/20 over the given rows (each with a non-empty ground truth)."""
    return {f"map@{k}": float(average_precision(hits, sizes, k).mean()) for k in K_VALUES}


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
    hits: np.ndarray,
    sizes: np.ndarray,
    top: np.ndarray,
    n_candidates: int,
    resamples: int,
    seed: int,
    head: int = HEAD_CANDIDATES,
) -> dict[str, float | list[float]]:
    """Every metric of one method over the test artists with a non-empty ground truth; ``long_tail@20``
    is the share of its top 20 beyond the ``head`` most popular candidates."""
    evaluated = sizes > 0
    hits, sizes, top = hits[evaluated], sizes[evaluated], top[evaluated]
    result: dict[str, float | list[float]] = {**map_at_k(hits, sizes)}
    result["ndcg@10"] = float(ndcg(hits, sizes, 10).mean())
    result["recall@20"] = float((hits[:, :20].sum(axis=1) / sizes).mean())
    result["coverage@20"] = float(np.unique(top[:, :20]).shape[0] / n_candidates)
    result["long_tail@20"] = float((top[:, :20] >= head).mean()) if top.size else 0.0
    result["map@10_ci95"] = bootstrap_interval(average_precision(hits, sizes, 10), resamples, seed)
    return result


def query_map(
    listen: sp.csr_matrix,
    artist_ids: np.ndarray,
    queries: np.ndarray,
    candidates: np.ndarray,
    method_scores: Iterable[tuple[Hashable, RowScores]],
    align: int = 1,
) -> dict[Hashable, dict[str, float]]:
    """MAP@1/5/10/20 of each method (any key, say a setting) over the queries with a non-empty ground truth.

    ``method_scores`` pairs each method with its scores of a chunk of the queries
    (``score_chunks``, ``align`` as there); each chunk is cut to its top 20 as it comes,
    so a tuning grid holds dense scores of one chunk and one setting at a time.
    """
    chunks = score_chunks(queries.shape[0], candidates.shape[0], align)
    recommended = chunked_top(method_scores, chunks, max(K_VALUES))
    sizes, hits, _ = relevance(listen, artist_ids, queries, candidates, recommended)
    evaluated = sizes > 0
    return {method: map_at_k(hits[method][evaluated], sizes[evaluated]) for method in recommended}


def subset_metrics(hits: dict[str, np.ndarray], sizes: np.ndarray, mask: np.ndarray) -> dict[str, Any]:
    """MAP@K of every method over the test artists in ``mask`` with a non-empty ground truth.

    An empty subset (say, every test artist has side information) has no methods: no number is made up.
    """
    evaluated = mask & (sizes > 0)
    return {
        "n_test_artists": int(evaluated.sum()),
        "methods": {method: map_at_k(h[evaluated], sizes[evaluated]) for method, h in hits.items() if evaluated.any()},
    }
