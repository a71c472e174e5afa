"""Sparse matrices built from canonical tables, indexed by position in a given id order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

# Integer ids spanning at most this many times their count are looked up in a table
# (one pass over the ids) instead of by binary search (~log2(count) random reads each).
DENSE_SPAN = 8


def _dense_span(ids: np.ndarray, count: int) -> tuple[int, int] | None:
    """``(smallest id, span)`` where ``ids`` are integers dense enough for a lookup table, else None."""
    if ids.shape[0] == 0 or not np.issubdtype(ids.dtype, np.integer):
        return None
    low, high = int(ids.min()), int(ids.max())
    span = high - low + 1
    return (low, span) if span <= DENSE_SPAN * max(count, 1) + 1024 else None


def positions(ids: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Position of each of ``ids`` in ``order`` (which must be sorted and unique), or -1 where absent."""
    if order.shape[0] == 0:
        return np.full(ids.shape[0], -1, dtype=np.int64)
    dense = _dense_span(order, order.shape[0]) if np.issubdtype(ids.dtype, np.integer) else None
    if dense is None:
        where = np.clip(np.searchsorted(order, ids), 0, order.shape[0] - 1)
        return np.where(order[where] == ids, where, -1)
    low, span = dense
    table = np.full(span, -1, dtype=np.int64)
    table[order - low] = np.arange(order.shape[0])
    offset = ids - low
    inside = (offset >= 0) & (offset < span)
    return np.where(inside, table[np.where(inside, offset, 0)], -1)


def unique_ids(ids: np.ndarray) -> np.ndarray:
    """The sorted distinct values of ``ids`` (``np.unique``, in one pass where the ids are dense integers)."""
    dense = _dense_span(ids, ids.shape[0])
    if dense is None:
        return np.unique(ids)
    low, span = dense
    present = np.zeros(span, dtype=bool)
    present[ids - low] = True
    return (np.flatnonzero(present) + low).astype(ids.dtype)


def _binary(rows: np.ndarray, columns: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    """A 0/1 CSR matrix with a 1 at every (row, column) pair where both are found (not -1)."""
    keep = (rows >= 0) & (columns >= 0)
    matrix = sp.csr_matrix((np.ones(int(keep.sum()), dtype=np.float32), (rows[keep], columns[keep])), shape=shape)
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix


def listeners(interactions: pd.DataFrame, artist_ids: np.ndarray) -> sp.csr_matrix:
    """Binary artists x users matrix; row i is ``artist_ids[i]`` (sorted ids required).

    Listening weights (play counts) are ignored: the target and the ground truth
    count distinct listeners, as in the notebook.
    """
    user_ids = interactions["user_id"].to_numpy()
    users = unique_ids(user_ids)
    rows = positions(interactions["artist_id"].to_numpy(), artist_ids)
    return _binary(rows, positions(user_ids, users), (artist_ids.shape[0], users.shape[0]))


def source_users(features: pd.DataFrame, interactions: pd.DataFrame, artist_ids: np.ndarray) -> sp.csr_matrix:
    """Binary artists x users matrix of a side-information source keyed by user id (taggers, likers).

    Its columns are those of ``listeners`` (the users of ``interactions``); a key
    that is no listening user (or no integer) is dropped, whatever the weight.
    """
    users = unique_ids(interactions["user_id"].to_numpy())
    keys = pd.to_numeric(features["key"], errors="coerce").to_numpy(dtype=np.float64)
    numeric = np.isfinite(keys) & (keys == np.round(keys))
    columns = np.full(keys.shape[0], -1, dtype=np.int64)
    columns[numeric] = positions(keys[numeric].astype(users.dtype), users)
    rows = positions(features["artist_id"].to_numpy(), artist_ids)
    return _binary(rows, columns, (artist_ids.shape[0], users.shape[0]))
