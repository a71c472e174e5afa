"""Sparse matrices built from canonical tables, indexed by position in a given id order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp


def positions(ids: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Position of each of ``ids`` in ``order`` (which must be sorted), or -1 where absent."""
    if order.shape[0] == 0:
        return np.full(ids.shape[0], -1, dtype=np.int64)
    where = np.clip(np.searchsorted(order, ids), 0, order.shape[0] - 1)
    return np.where(order[where] == ids, where, -1)


def listeners(interactions: pd.DataFrame, artist_ids: np.ndarray) -> sp.csr_matrix:
    """Binary artists x users matrix; row i is ``artist_ids[i]`` (sorted ids required).

    Listening weights (play counts) are ignored: the target and the ground truth
    count distinct listeners, as in the notebook.
    """
    users, user_index = np.unique(interactions["user_id"].to_numpy(), return_inverse=True)
    rows = positions(interactions["artist_id"].to_numpy(), artist_ids)
    keep = rows >= 0
    matrix = sp.csr_matrix(
        (np.ones(int(keep.sum()), dtype=np.float32), (rows[keep], user_index[keep])),
        shape=(artist_ids.shape[0], users.shape[0]),
    )
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix
