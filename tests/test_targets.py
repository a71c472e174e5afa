import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from artistrec.matrices import listeners
from artistrec.targets import build_targets, co_listen, co_listen_chunks, row_chunks

# user -> artists
LISTENS = {1: [1, 2, 3], 2: [1, 2], 3: [2, 4], 4: [5]}
INTERACTIONS = pd.DataFrame(
    [(u, a) for u, artists in LISTENS.items() for a in artists], columns=["user_id", "artist_id"]
).assign(weight=1.0)
ARTISTS = np.array([1, 2, 3, 4, 5])


def targets(train, candidates):
    listen = listeners(INTERACTIONS, ARTISTS)
    return build_targets(listen, ARTISTS, np.array(train), np.array(candidates)).toarray()


def test_target_rows_are_co_listening_distributions_over_candidates():
    # artist 2 shares users 1,2 with artist 1; user 1 with 3; user 3 with 4.
    got = targets(train=[2], candidates=[1, 3, 4])
    assert np.allclose(got, [[2 / 4, 1 / 4, 1 / 4]])


def test_an_artist_is_never_its_own_target():
    got = targets(train=[1, 2], candidates=[2, 1])
    # artist 1 with candidate 1 is itself: only candidate 2 (2 shared users) remains.
    assert np.allclose(got[0], [1.0, 0.0])
    assert np.allclose(got[1], [0.0, 1.0])


def test_rows_follow_the_train_order_and_an_artist_without_co_listening_is_an_empty_row():
    got = targets(train=[3, 5], candidates=[1, 2])
    assert np.allclose(got[0], [0.5, 0.5])
    assert np.allclose(got[1], [0.0, 0.0])


@pytest.mark.parametrize(("costs", "budget"), [([1, 1, 1, 1, 1], 2), ([5, 1, 1, 9, 0, 1], 2), ([0, 0, 0], 1), ([], 3)])
def test_row_chunks_cover_every_row_once_and_stay_within_the_budget_plus_their_first_row(costs, budget):
    chunks = row_chunks(np.array(costs), budget)
    assert [r for chunk in chunks for r in range(chunk.start, chunk.stop)] == list(range(len(costs)))
    assert all(sum(costs[chunk]) <= budget + costs[chunk.start] for chunk in chunks)


def test_co_listening_in_small_chunks_equals_one_product():
    rng = np.random.default_rng(0)
    listen = sp.random(300, 80, density=0.05, format="csr", random_state=1, dtype=np.float32)
    listen.data[:] = 1.0
    rows, columns = rng.permutation(300)[:120], np.arange(300)
    whole = sp.csr_matrix(listen[rows] @ listen.T)
    chunks = list(co_listen_chunks(listen, rows, columns, budget=50))
    assert len(chunks) > 1
    assert (sp.vstack([block for _, block in chunks]) != whole).nnz == 0
    assert (co_listen(listen, rows, columns) != whole).nnz == 0
