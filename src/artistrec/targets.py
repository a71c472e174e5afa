"""Co-listening: the training targets and the evaluation ground truth.

Both come from sparse products of the binary artists x users matrix, computed in
chunks of rows so that no dense artists x artists matrix is ever built.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from artistrec.matrices import positions

CHUNK_ROWS = 4096


def co_listen(listen: sp.csr_matrix, rows: np.ndarray, columns: np.ndarray) -> sp.csr_matrix:
    """Number of users who listen to both artist ``rows[i]`` and artist ``columns[j]``.

    ``rows`` and ``columns`` are row positions in ``listen`` (artists x users).
    """
    right = sp.csr_matrix(listen[columns].T)
    blocks = [
        sp.csr_matrix(listen[rows[start : start + CHUNK_ROWS]] @ right)
        for start in range(0, rows.shape[0], CHUNK_ROWS)
    ]
    if not blocks:
        return sp.csr_matrix((0, columns.shape[0]), dtype=np.float32)
    return sp.csr_matrix(sp.vstack(blocks, format="csr"))


def drop_self(matrix: sp.csr_matrix, row_ids: np.ndarray, column_ids: np.ndarray) -> sp.csr_matrix:
    """Remove entries where the row artist is the column artist: an artist is never its own target."""
    coo = matrix.tocoo()
    keep = row_ids[coo.row] != column_ids[coo.col]
    result = sp.csr_matrix((coo.data[keep], (coo.row[keep], coo.col[keep])), shape=matrix.shape)
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
    counts = co_listen(listen, positions(train, artist_ids), positions(candidates, artist_ids))
    return l1_normalise(drop_self(counts, train, candidates))


def ground_truth(listen: sp.csr_matrix, artist_ids: np.ndarray, queries: np.ndarray) -> sp.csr_matrix:
    """Row i: every artist co-listened with ``queries[i]`` by any of its listeners, itself excluded.

    Columns follow ``artist_ids``; entries are 1.
    """
    all_rows = np.arange(artist_ids.shape[0])
    truth = drop_self(co_listen(listen, positions(queries, artist_ids), all_rows), queries, artist_ids)
    truth.data[:] = 1.0
    return truth
