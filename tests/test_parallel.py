"""Queries scored in blocks of rows on several threads get exactly the scores of one product."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from artistrec import parallel
from artistrec.methods.listeners import co_listened_scores
from artistrec.metrics import rank
from artistrec.neighbours import neighbour_votes


@pytest.fixture
def threads():
    """``parallel.use_threads``, back to the default after the test."""
    yield parallel.use_threads
    parallel.use_threads(None)


def on_threads(threads, count: int, score) -> np.ndarray:
    threads(count)
    return score()


def test_neighbour_votes_on_four_threads_are_exactly_those_on_one(threads):
    rng = np.random.default_rng(3)
    rows = sp.random(300, 200, density=0.1, format="csr", dtype=np.float32, random_state=4)
    nearest = np.argsort(rng.random((150, 300)), axis=1)[:, :20]
    similarity = np.sort(rng.random((150, 20)), axis=1)[:, ::-1]
    one, four = (on_threads(threads, n, lambda: neighbour_votes(nearest, similarity, rows, 12, 3.0)) for n in (1, 4))
    assert one.shape == (150, 200) and one.any()
    np.testing.assert_array_equal(one, four)


@pytest.mark.parametrize("sparse", [True, False])
def test_co_listened_scores_on_four_threads_are_exactly_those_on_one(threads, sparse):
    candidate_listen = sp.random(200, 400, density=0.05, format="csr", dtype=np.float32, random_state=5)
    log_miss = sp.random(150, 400, density=0.2, format="csr", dtype=np.float32, random_state=6) * -1.0
    queries = log_miss if sparse else log_miss.toarray()
    one, four = (on_threads(threads, n, lambda: co_listened_scores(queries, candidate_listen)) for n in (1, 4))
    assert one.shape == (150, 200) and one.any()
    np.testing.assert_array_equal(one, four)


def test_a_ranking_on_four_threads_is_exactly_that_on_one_ties_included(threads):
    scores = np.random.default_rng(7).integers(0, 4, (150, 300)).astype(np.float32)  # many ties per row
    one, four = (on_threads(threads, n, lambda: rank(scores, 20)) for n in (1, 4))
    np.testing.assert_array_equal(one, four)
    np.testing.assert_array_equal(one, np.argsort(-scores, axis=1, kind="stable")[:, :20])


def test_rows_come_back_in_order_whatever_the_blocks(threads):
    threads(3)
    rows = parallel.by_row_blocks(lambda block: np.arange(block.start, block.stop)[:, None] * [1, 10], 101)
    np.testing.assert_array_equal(rows, np.arange(101)[:, None] * [1, 10])


def test_few_rows_are_computed_in_one_block(threads):
    threads(8)
    blocks = []
    parallel.by_row_blocks(lambda block: blocks.append(block) or np.zeros((block.stop - block.start, 1)), 20)
    assert blocks == [slice(0, 20)]
