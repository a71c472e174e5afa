"""Scores of many queries computed in blocks of rows on several threads.

scipy's sparse products release the GIL but each runs on one core; the kNN votes and the
listeners' noisy-OR are such products, one output row per query, each row computed on its own.
Splitting the queries into blocks on threads gives every row exactly as one product would.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

# Blocks per thread: smaller blocks hold less of a product's sparse intermediate at once.
BLOCKS_PER_THREAD = 4
# Fewer rows than this per block are not worth a thread.
MIN_BLOCK_ROWS = 16

_threads: int | None = None


def use_threads(count: int | None) -> None:
    """How many threads ``by_row_blocks`` uses: a Snakemake job's ``threads``; None: every CPU this process may use."""
    global _threads
    _threads = None if count is None else max(1, int(count))


def threads() -> int:
    """The threads ``by_row_blocks`` uses now (see ``use_threads``)."""
    if _threads is not None:
        return _threads
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def by_row_blocks(rows_of: Callable[[slice], np.ndarray], n_rows: int) -> np.ndarray:
    """``rows_of(slice(0, n_rows))``, an array with one row per query, computed in blocks of rows on ``threads()``
    threads. ``rows_of`` must compute each row from that row's inputs alone (as a sparse product does)."""
    n_blocks = min(threads() * BLOCKS_PER_THREAD, n_rows // MIN_BLOCK_ROWS)
    if threads() == 1 or n_blocks <= 1:
        return rows_of(slice(0, n_rows))
    bounds = np.linspace(0, n_rows, n_blocks + 1).astype(np.int64)
    blocks = [slice(int(start), int(stop)) for start, stop in zip(bounds[:-1], bounds[1:])]
    with ThreadPoolExecutor(threads()) as pool:
        parts = pool.map(rows_of, blocks)
        first = next(parts)
        out = np.empty((n_rows, *first.shape[1:]), dtype=first.dtype)
        out[blocks[0]] = first
        for block, part in zip(blocks[1:], parts):
            out[block] = part
    return out
