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


def test_neighbour_shares_are_the_similarity_weighted_votes_of_the_nearest_train_artists():
    nearest = np.array([[0, 1, 2], [2, 1, 0]])
    similarity = np.array([[0.9, 0.3, -0.5], [0.0, 0.0, 0.0]], dtype=np.float32)
    shares = nl.neighbour_shares(nearest, similarity, 3, k=3, power=1.0).toarray()
    # the negative neighbour does not vote; a query without a similar neighbour has nobody
    assert shares == pytest.approx(np.array([[0.9 / 1.2, 0.3 / 1.2, 0.0], [0.0, 0.0, 0.0]]))
    sharper = nl.neighbour_shares(nearest, similarity, 3, k=3, power=3.0).toarray()
    assert sharper[0, 1] == pytest.approx(0.3**3 / (0.9**3 + 0.3**3))


def neighbour_case(seed: int = 0):
    rng = np.random.default_rng(seed)
    artist_ids = np.arange(40)
    listen = sp.csr_matrix((rng.random((40, 30)) < 0.3).astype(np.float32))
    users = sp.csr_matrix((rng.random((40, 30)) < 0.1).astype(np.float32))
    train, queries, candidates = artist_ids[:30], artist_ids[30:], artist_ids[:12]
    nearest = np.argsort(-rng.random((10, 30)), axis=1)
    similarity = np.sort(rng.random((10, 30)).astype(np.float32), axis=1)[:, ::-1]
    shares = nl.neighbour_shares(nearest, similarity, 30, k=8, power=2.0)
    scorer = nl.ListenerScores(listen, artist_ids, candidates, train, users)
    return scorer, shares, scorer.links_of(queries), listen, artist_ids, candidates, train


@pytest.mark.parametrize("scale", [0.1, 1.0])
def test_neighbour_scores_count_unlikely_unlinked_listeners_by_their_chance_and_the_others_exactly(scale):
    scorer, shares, links, listen, artist_ids, candidates, train = neighbour_case()
    chance = (shares @ listen[train] * scale).toarray()
    rates = nl.linked_listening_rates(scorer.users, listen, train)
    exact = -nl.with_linked_users(nl.miss_log_probability(chance), links, rates)
    head = (chance >= nl.HEAD_CHANCE) | (links.toarray() > 0)
    weight = np.where(head, exact, chance)
    expected = weight @ nl.candidate_listeners(listen, artist_ids, candidates).toarray().T
    assert scorer.neighbour_scores(shares, scale, links) == pytest.approx(expected, rel=1e-5, abs=1e-6)
    # never above the whole noisy-OR, and within HEAD_CHANCE / 2 of it
    noisy_or = nl.co_listened_scores(-exact, nl.candidate_listeners(listen, artist_ids, candidates))
    assert (expected <= noisy_or + 1e-6).all()
    assert expected == pytest.approx(noisy_or, rel=nl.HEAD_CHANCE / 2)


def test_neighbour_scores_do_not_depend_on_the_chunk_size(monkeypatch):
    scorer, shares, links, *_ = neighbour_case(1)
    whole = scorer.neighbour_scores(shares, 0.3, links)
    monkeypatch.setattr(nl, "CHUNK_ENTRIES", 20)
    assert np.array_equal(scorer.neighbour_scores(shares, 0.3, links), whole)


def test_queries_without_linked_users_score_as_without_a_user_source():
    """A new artist given by its tags alone has an empty row of linked users."""
    scorer, shares, links, *_ = neighbour_case(2)
    unlinked = sp.csr_matrix(links.shape, dtype=np.float32)
    assert np.array_equal(scorer.neighbour_scores(shares, 0.3, unlinked), scorer.neighbour_scores(shares, 0.3, None))


def test_neighbour_scores_without_the_whole_co_listening_matrix_are_the_same(monkeypatch):
    scorer, shares, links, *_ = neighbour_case(1)
    whole = scorer.neighbour_scores(shares, 0.3, links)
    monkeypatch.setattr(nl, "CO_LISTEN_BYTES", 0)  # as with many candidates
    scorer = neighbour_case(1)[0]
    assert not scorer.co_listen_fits
    assert scorer.neighbour_scores(shares, 0.3, links) == pytest.approx(whole, rel=1e-5, abs=1e-6)
    assert "co_listen" not in vars(scorer)  # never built


class DenseChances:
    """``ListenerProbabilities`` of a dense queries x users matrix."""

    def __init__(self, matrix):
        self.matrix = matrix

    def of_users(self, rows, users):
        return self.matrix[rows][:, users]

    def at(self, queries, users):
        return self.matrix[queries, users]


def listener_case():
    rng = np.random.default_rng(0)
    artist_ids = np.arange(30)
    listen = sp.csr_matrix((rng.random((30, 40)) < 0.3).astype(np.float32))
    users = sp.csr_matrix((rng.random((30, 40)) < 0.1).astype(np.float32))
    train, queries, candidates = artist_ids[:20], artist_ids[20:], artist_ids[:8]
    probability = rng.random((10, 40)).astype(np.float32) * 0.3
    return listen, users, artist_ids, train, queries, candidates, probability


def test_with_every_user_scored_the_scores_are_the_noisy_or_with_the_linked_users_rates_whatever_the_chunk():
    listen, users, artist_ids, train, queries, candidates, probability = listener_case()
    scorer = nl.ListenerScores(listen, artist_ids, candidates, train, users)
    links = scorer.links_of(queries)
    whole = scorer.scores(DenseChances(probability), links, queries.shape[0])
    rates = nl.linked_listening_rates(users, listen, train)
    linked = nl.with_linked_users(nl.miss_log_probability(probability), links, rates)
    candidate_listen = nl.candidate_listeners(listen, artist_ids, candidates)
    assert whole == pytest.approx(nl.co_listened_scores(linked, candidate_listen), rel=1e-5)
    chunked = nl.ListenerScores(listen, artist_ids, candidates, train, users, chunk_elements=40 * 3)
    assert np.array_equal(chunked.scores(DenseChances(probability), links, queries.shape[0]), whole)
    without_users = nl.ListenerScores(listen, artist_ids, candidates, train, None)
    assert without_users.scores(DenseChances(probability), None, queries.shape[0]) == pytest.approx(
        nl.co_listened_scores(nl.miss_log_probability(probability), candidate_listen), rel=1e-5
    )


def test_a_draw_of_users_weighted_up_adds_the_linked_users_rates_and_is_unbiased(monkeypatch):
    listen, users, artist_ids, train, queries, candidates, probability = listener_case()
    scorer = nl.ListenerScores(listen, artist_ids, candidates, train, users, users_scored=10)
    assert scorer.scored_users.shape == (10,) and np.array_equal(scorer.scored_users, nl.scored_users(40, 10))
    links = scorer.links_of(queries)
    rates = nl.linked_listening_rates(users, listen, train)
    exact = -nl.with_linked_users(nl.miss_log_probability(probability), links, rates)
    drawn = np.zeros(40)
    drawn[scorer.scored_users] = 40 / 10
    alone = -nl.miss_log_probability(probability)
    weight = alone * drawn + exact - alone  # the rates only where a user is linked
    candidate_listen = nl.candidate_listeners(listen, artist_ids, candidates).toarray()
    got = scorer.scores(DenseChances(probability), links, queries.shape[0])
    assert got == pytest.approx(weight @ candidate_listen.T, rel=1e-5, abs=1e-6)
    # over many draws, the mean is the noisy-OR over every user
    draws = []
    for seed in range(2000):
        monkeypatch.setattr(nl, "USER_DRAW_SEED", seed)
        drawing = nl.ListenerScores(listen, artist_ids, candidates, train, users, users_scored=10)
        draws.append(drawing.scores(DenseChances(probability), links, queries.shape[0]))
    assert np.mean(draws, axis=0) == pytest.approx(exact @ candidate_listen.T, rel=0.05)
