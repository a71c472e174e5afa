"""Co-listening: the training targets and the evaluation ground truth.

Both come from sparse products of the binary artists x users matrix, computed in
chunks of rows so that no dense artists x artists matrix is ever built. A chunk
is sized by an upper bound of the non-zeros it will hold, not by a row count:
at Last.fm-360K size a popular artist is co-listened with most of the catalogue,
while most artists share listeners with a few hundred others.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp

from artistrec.matrices import positions

# Non-zeros one chunk of a co-listening product may hold: 2**25 entries are about
# 270 MB of CSR (float32 value, int32 column), a few times that while scipy builds it.
CHUNK_ENTRIES = 2**25


def row_chunks(costs: np.ndarray, budget: int) -> list[slice]:
    """Consecutive slices of rows whose summed ``costs`` stay near ``budget``.

    A chunk holds at most ``budget`` plus the cost of its first row; a row that
    alone exceeds the budget gets a chunk of its own.
    """
    total = np.cumsum(costs, dtype=np.float64)
    if total.shape[0] == 0:
        return []
    ends = np.searchsorted(total, np.arange(budget, total[-1] + budget, budget), side="right")
    ends = np.unique(np.concatenate([ends[(ends > 0) & (ends < total.shape[0])], [total.shape[0]]]))
    starts = np.concatenate([[0], ends[:-1]])
    return [slice(int(start), int(end)) for start, end in zip(starts, ends)]


def co_listen_chunks(
    listen: sp.csr_matrix, rows: np.ndarray, columns: np.ndarray, budget: int = CHUNK_ENTRIES
) -> Iterator[tuple[slice, sp.csr_matrix]]:
    """Yield ``(chunk, block)``: ``block[i, j]`` users who listen to both ``rows[chunk][i]`` and ``columns[j]``.

    ``rows`` and ``columns`` are row positions in ``listen`` (artists x users).
    Each block holds about ``budget`` non-zeros at most, bounded before it is
    computed: a row has at most as many non-zeros as its listeners have listens
    among ``columns``, and at most ``len(columns)``.
    """
    right = sp.csr_matrix(listen[columns].T)
    left = sp.csr_matrix(listen[rows])
    per_user = np.diff(right.indptr).astype(np.float64)
    bound = np.minimum(left @ per_user, columns.shape[0])
    for chunk in row_chunks(bound, budget):
        yield chunk, sp.csr_matrix(left[chunk] @ right)


def co_listen(listen: sp.csr_matrix, rows: np.ndarray, columns: np.ndarray) -> sp.csr_matrix:
    """Number of users who listen to both artist ``rows[i]`` and artist ``columns[j]``.

    ``rows`` and ``columns`` are row positions in ``listen`` (artists x users).
    """
    blocks = [block for _, block in co_listen_chunks(listen, rows, columns)]
    return stack(blocks, columns.shape[0])


def stack(blocks: list[sp.csr_matrix], n_columns: int) -> sp.csr_matrix:
    if not blocks:
        return sp.csr_matrix((0, n_columns), dtype=np.float32)
    return sp.csr_matrix(sp.vstack(blocks, format="csr"))


def drop_self(matrix: sp.csr_matrix, row_ids: np.ndarray, column_ids: np.ndarray) -> sp.csr_matrix:
    """Remove entries where the row artist is the column artist: an artist is never its own target."""
    entry_rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    keep = row_ids[entry_rows] != column_ids[matrix.indices]
    indptr = np.concatenate([[0], np.cumsum(np.bincount(entry_rows[keep], minlength=matrix.shape[0]))])
    result = sp.csr_matrix((matrix.data[keep], matrix.indices[keep], indptr), shape=matrix.shape)
    result.sort_indices()
    return result


def l1_normalise(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """Scale every non-empty row to sum to 1; empty rows stay empty."""
    sums = np.asarray(matrix.sum(axis=1)).ravel()
    scale = np.divide(1.0, sums, out=np.zeros_like(sums, dtype=np.float64), where=sums > 0)
    return sp.csr_matrix(sp.diags(scale) @ matrix, dtype=np.float32)


def build_targets(
    listen: sp.csr_matrix, artist_ids: np.ndarray, train: np.ndarray, candidates: np.ndarray
) -> sp.csr_matrix:
    """Row i: the co-listening distribution of train artist ``train[i]`` over the candidates."""
    chunks = co_listen_chunks(listen, positions(train, artist_ids), positions(candidates, artist_ids))
    blocks = [l1_normalise(drop_self(counts, train[chunk], candidates)) for chunk, counts in chunks]
    return stack(blocks, candidates.shape[0])
