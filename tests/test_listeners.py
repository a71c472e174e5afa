"""Similar artists through predicted listeners: rates, neighbours and the noisy-OR over users."""

import numpy as np
import pytest
import scipy.sparse as sp

from artistrec.methods import listeners as nl


def test_a_candidate_is_co_listened_unless_every_likely_listener_misses_it():
    # 3 users; candidate 10 is listened to by users 0 and 1, candidate 11 by user 2 only.
    artist_ids = np.array([10, 11])
    listen = sp.csr_matrix(np.array([[1, 1, 0], [0, 0, 1]], dtype=np.float32))
    pi = np.array([[0.5, 0.5, 0.6]], dtype=np.float32)
    scores = nl.co_listened_scores(
        nl.miss_log_probability(pi), nl.candidate_listeners(listen, artist_ids, np.array([10, 11]))
    )
    co_listened = 1 - np.exp(-scores)
    assert co_listened == pytest.approx(np.array([[1 - 0.5 * 0.5, 0.6]]))
    assert scores[0, 0] > scores[0, 1]  # two even chances beat one better one


def test_a_certain_listener_does_not_make_the_scores_infinite_or_unordered():
    artist_ids = np.array([1, 2])
    listen = sp.csr_matrix(np.array([[1, 1], [1, 0]], dtype=np.float32))
    certain = nl.miss_log_probability(np.array([[1.0, 1.0]], dtype=np.float32))
    scores = nl.co_listened_scores(certain, nl.candidate_listeners(listen, artist_ids, artist_ids))
    assert np.isfinite(scores).all() and scores[0, 0] > scores[0, 1]


def test_linked_listening_rates_count_only_train_artists_and_pull_sparse_users_to_their_group():
    # artists 0-3 are train, 4 is held out; user 0 tagged 0, 1 and 4, listens to 0 and 4; user 1 tagged 2 and 3,
    # listens to both.
    users = sp.csr_matrix(np.array([[1, 0], [1, 0], [0, 1], [0, 1], [1, 0]], dtype=np.float32))
    listen = sp.csr_matrix(np.array([[1, 0], [0, 0], [0, 1], [0, 1], [1, 0]], dtype=np.float32))
    rates = nl.linked_listening_rates(users, listen, np.arange(4))
    prior = nl.RATE_PRIOR_WEIGHT
    # user 0 (3 links: group 1) and user 1 (2 links: group 1) share a group: 3 hits in 4 train links.
    group = 3 / 4
    assert rates == pytest.approx([(1 + prior * group) / (2 + prior), (2 + prior * group) / (2 + prior)])
    # user 0's listening to the held-out artist 4 changes nothing
    listen_more = sp.csr_matrix(np.array([[1, 0], [0, 0], [0, 1], [0, 1], [0, 0]], dtype=np.float32))
    assert nl.linked_listening_rates(users, listen_more, np.arange(4)) == pytest.approx(rates)


def test_users_active_within_a_doubling_share_an_activity_group():
    assert nl.activity_groups(np.array([0, 1, 2, 3, 4, 7, 8, 600])).tolist() == [0, 0, 1, 1, 2, 2, 3, 9]


def test_a_linked_user_listens_for_either_of_two_independent_reasons():
    pi = np.array([[0.2, 0.2], [0.2, 0.2]], dtype=np.float32)
    links = sp.csr_matrix(np.array([[1, 0], [0, 0]], dtype=np.float32))
    log_miss = nl.miss_log_probability(pi)
    raised = nl.with_linked_users(log_miss, links, np.array([0.5, 0.9]))
    assert raised == pytest.approx(np.log1p(-np.array([[1 - 0.8 * 0.5, 0.2], [0.2, 0.2]])))
    assert log_miss == pytest.approx(np.log1p(-pi))  # the input is left as it was
    # sparse chances (the neighbours') give the same, and stay sparse
    sparse = nl.with_linked_users(nl.miss_log_probability(sp.csr_matrix(pi)), links, np.array([0.5, 0.9]))
    assert sp.issparse(sparse) and sparse.toarray() == pytest.approx(raised)


def test_probabilities_are_floored_below_certainty_however_many_reasons_add_up():
    log_miss = nl.miss_log_probability(np.array([[0.9995]], dtype=np.float32))
    raised = nl.with_linked_users(log_miss, sp.csr_matrix(np.array([[1.0]])), np.array([0.9]))
    assert raised == pytest.approx(np.array([[nl.LOG_MISS_FLOOR]]))


def test_neighbour_listeners_are_the_similarity_weighted_share_of_neighbours_each_user_listens_to():
    train_listen = sp.csr_matrix(np.array([[1, 0], [1, 1], [0, 1]], dtype=np.float32))
    nearest = np.array([[0, 1, 2], [2, 1, 0]])
    similarity = np.array([[0.9, 0.3, -0.5], [0.0, 0.0, 0.0]], dtype=np.float32)
    shares = nl.neighbour_listeners(nearest, similarity, train_listen, k=3, power=1.0, scale=0.5).toarray()
    # the negative neighbour does not vote; a query without a similar neighbour gets nobody
    assert shares == pytest.approx(np.array([[0.5 * 1.0, 0.5 * 0.3 / 1.2], [0.0, 0.0]]))
    sharper = nl.neighbour_listeners(nearest, similarity, train_listen, k=3, power=3.0, scale=1.0).toarray()
    assert sharper[0, 1] == pytest.approx(0.3**3 / (0.9**3 + 0.3**3))


def test_listener_scores_add_the_linked_users_rates_and_do_not_depend_on_the_chunk_size():
    rng = np.random.default_rng(0)
    artist_ids = np.arange(30)
    listen = sp.csr_matrix((rng.random((30, 12)) < 0.3).astype(np.float32))
    users = sp.csr_matrix((rng.random((30, 12)) < 0.2).astype(np.float32))
    train, queries, candidates = artist_ids[:20], artist_ids[20:], artist_ids[:8]
    probability = rng.random((10, 12)).astype(np.float32) * 0.3

    def probability_of(rows):
        return probability[rows]

    scorer = nl.ListenerScores(listen, artist_ids, candidates, train, users)
    links = scorer.links_of(queries)
    whole = scorer.scores(probability_of, links, queries.shape[0])
    chunked = nl.ListenerScores(listen, artist_ids, candidates, train, users, chunk_elements=12 * 3).scores(
        probability_of, links, queries.shape[0]
    )
    assert np.array_equal(chunked, whole)  # each query's scores whatever shares its chunk
    sparse = scorer.scores(lambda rows: sp.csr_matrix(probability[rows]), links, queries.shape[0])
    assert sparse == pytest.approx(whole, rel=1e-5)
    rates = nl.linked_listening_rates(users, listen, train)
    candidate_listen = nl.candidate_listeners(listen, artist_ids, candidates)
    linked = nl.with_linked_users(nl.miss_log_probability(probability), users[20:], rates)
    assert whole == pytest.approx(nl.co_listened_scores(linked, candidate_listen), rel=1e-6)
    without_users = nl.ListenerScores(listen, artist_ids, candidates, train, None).scores(
        probability_of, None, queries.shape[0]
    )
    assert without_users == pytest.approx(
        nl.co_listened_scores(nl.miss_log_probability(probability), candidate_listen), rel=1e-6
    )
