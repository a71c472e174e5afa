import collections
import functools
from types import SimpleNamespace

import ml_metrics
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from artistrec.matrices import listeners, source_users
from artistrec.methods.base import Plan, Queries
from artistrec.methods.blend import blend, log_votes, network_knn_blend
from artistrec.methods.network import Network, NetworkEnsemble
from artistrec.methods.popularity import with_fallback
from artistrec.methods.user_listening import user_listening_scores, with_user_listening
from artistrec.metrics import (
    Shortlist,
    average_precision,
    bootstrap_interval,
    method_metrics,
    ndcg,
    query_map,
    rank,
    relevance,
    whole,
)
from artistrec.neighbours import (
    VOTES,
    content_knn_scores,
    nearest_train_artists,
    neighbour_votes,
    tune_neighbours,
    vote_rows,
)
from artistrec.targets import build_targets
from artistrec.variants import ensemble_members
from artistrec.vectors import distribution, log_probability, normalise_rows, probabilities, shares_at, softmax_at


def test_rank_is_fully_sorted_and_ties_go_to_the_more_popular_candidate():
    scores = np.array([[0.1, 0.9, 0.5, 0.9, 0.0, 0.7]])
    assert rank(scores, 4).tolist() == [[1, 3, 5, 2]]
    assert rank(np.zeros((1, 5)), 3).tolist() == [[0, 1, 2]]


def test_average_precision_has_ml_metrics_apk_semantics():
    rng = np.random.default_rng(0)
    for _ in range(200):
        truth = set(rng.choice(50, rng.integers(1, 30), replace=False).tolist())
        predicted = rng.choice(50, 20, replace=False).tolist()
        hits = np.array([[p in truth for p in predicted]])
        for k in (1, 5, 10, 20):
            expected = ml_metrics.apk(list(truth), predicted, k=k)
            got = average_precision(hits, np.array([len(truth)]), k)[0]
            assert got == pytest.approx(expected, abs=1e-12)


def test_ndcg_of_a_perfect_and_an_empty_list():
    sizes = np.array([3, 3])
    hits = np.array([[True, True, True, False], [False, False, False, False]])
    assert ndcg(hits, sizes, 4).tolist() == pytest.approx([1.0, 0.0])


def test_relevance_excludes_the_artist_itself_and_counts_artists_without_truth():
    interactions = pd.DataFrame({"user_id": [1, 1, 2, 3], "artist_id": [10, 20, 20, 30], "weight": 1.0})
    artist_ids = np.array([10, 20, 30])
    listen = listeners(interactions, artist_ids)
    candidates = np.array([20, 10, 30])
    recommended = {"m": np.array([[0, 1, 2], [0, 1, 2], [2, 0, 1]])}
    sizes, hits, _ = relevance(listen, artist_ids, np.array([10, 20, 30]), candidates, recommended)
    assert sizes.tolist() == [1, 1, 0]  # 30's only listener listens to nothing else
    assert hits["m"].tolist() == [[True, False, False], [False, True, False], [False, False, False]]
    metrics = method_metrics(hits["m"], sizes, recommended["m"], 3, resamples=50, seed=0)
    assert metrics["map@1"] == pytest.approx(0.5)  # the artist without truth is left out, not scored 1.0


def test_the_long_tail_is_what_lies_beyond_the_most_popular_candidates():
    # user 1 listens to 10, 40, 50 and 60; user 2 to 20 and 40; candidates in popularity order
    interactions = pd.DataFrame({"user_id": [1, 1, 1, 1, 2, 2], "artist_id": [10, 40, 50, 60, 20, 40], "weight": 1.0})
    artist_ids = np.array([10, 20, 40, 50, 60])
    listen = listeners(interactions, artist_ids)
    candidates = np.array([40, 50, 60])
    top = np.array([[0, 1, 2], [2, 1, 0]])
    # 10's candidates co-listened: 40, 50, 60 (two of three beyond the head of 1); 20's: 40 only
    sizes, hits, long_tail = relevance(listen, artist_ids, np.array([10, 20]), candidates, {"m": top}, head=1)
    assert long_tail.tolist() == [True, False]
    assert not relevance(listen, artist_ids, np.array([10, 20]), candidates, {"m": top}, head=3).mostly_long_tail.any()
    metrics = method_metrics(hits["m"], sizes, top, 3, resamples=10, seed=0, head=1)
    assert metrics["long_tail@20"] == pytest.approx(4 / 6)


def test_content_knn_votes_with_the_targets_of_similar_train_artists():
    train_vectors = [np.array([[1.0, 0.0], [0.0, 1.0], [0.9, 0.1]])]
    train_targets = sp.csr_matrix(np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]))
    queries = [np.array([[1.0, 0.05], [0.0, 0.0]])]
    scores = content_knn_scores(queries, train_vectors, train_targets, k=2)
    assert rank(scores, 3)[0].tolist() == [0, 2, 1]
    assert not scores[1].any()  # no side information: all zero, ranked in popularity order


def test_a_similarity_power_above_one_lets_the_nearest_neighbour_outvote_several_farther_ones():
    train = [np.array([[0.9, np.sqrt(1 - 0.81), 0.0], [0.6, 0.0, 0.8], [0.6, 0.0, -0.8]])]
    targets = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]))
    query = [np.array([[1.0, 0.0, 0.0]])]  # cosine 0.9 to the first, 0.6 to the others
    assert content_knn_scores(query, train, targets, k=3, power=1)[0].tolist() == pytest.approx([0.9, 1.2])
    assert content_knn_scores(query, train, targets, k=3, power=3)[0].tolist() == pytest.approx([0.729, 0.432])


def test_voting_with_co_listened_sets_lets_a_neighbour_with_a_broad_truth_spread_more_votes():
    # two equally similar neighbours: one co-listened with candidate 0 only, the
    # other (many listeners) with candidates 1 and 2, a third of the time with 0
    targets = sp.csr_matrix(np.array([[1.0, 0.0, 0.0], [0.2, 0.4, 0.4]], dtype=np.float32))
    train, query = [np.array([[1.0, 0.0], [1.0, 0.0]])], [np.array([[1.0, 0.0]])]
    by_distribution = content_knn_scores(query, train, targets, k=2, votes="distribution")
    by_set = content_knn_scores(query, train, targets, k=2, votes="co_listened")
    assert by_distribution[0].tolist() == pytest.approx([1.2, 0.4, 0.4])
    assert by_set[0].tolist() == pytest.approx([2.0, 1.0, 1.0])


def test_the_co_listened_vote_rows_are_the_supports_of_the_targets_and_leave_them_untouched():
    targets = sp.csr_matrix(np.array([[0.25, 0.0, 0.75], [0.0, 0.0, 0.0]], dtype=np.float32))
    assert vote_rows(targets, "distribution") is targets
    assert vote_rows(targets, "co_listened").toarray().tolist() == [[1.0, 0.0, 1.0], [0.0, 0.0, 0.0]]
    assert targets.toarray().tolist() == [[0.25, 0.0, 0.75], [0.0, 0.0, 0.0]]


def test_knn_tuning_searches_each_space_once_and_scores_a_fraction_of_the_grid():
    rng = np.random.default_rng(0)
    artist_ids, users = np.arange(70), 50
    listen = sp.csr_matrix((rng.random((70, users)) < 0.2).astype(np.float32))
    train, valid, candidates = artist_ids[:50], artist_ids[50:], artist_ids[:12]
    targets = build_targets(listen, artist_ids, train, candidates)
    spaces = {3: normalise_rows(rng.normal(size=(70, 3))), 6: normalise_rows(rng.normal(size=(70, 6)))}
    searched = []

    def search(space):
        searched.append(space)
        return nearest_train_artists(spaces[space][50:], spaces[space][:50], 40)

    grid = ([5, 10, 20, 40], [1.0, 3.0], list(VOTES))
    best, scored = tune_neighbours(
        listen, artist_ids, valid, candidates, search, [3, 6], functools.partial(vote_rows, targets), grid
    )
    assert sorted(searched) == [3, 6]
    assert scored[best]["map@10"] == max(result["map@10"] for result in scored.values())
    assert len(scored) < len(spaces) * len(grid[0]) * len(grid[1]) * len(grid[2])
    # each scored setting's MAP is that setting's own
    space, k, power, votes = best
    votes_of_best = neighbour_votes(*search(space), vote_rows(targets, votes), k, power)
    assert scored[best] == query_map(listen, artist_ids, valid, candidates, [(best, whole(votes_of_best))])[best]


def test_neighbours_searched_once_for_the_largest_k_vote_like_a_search_for_each_k():
    rng = np.random.default_rng(0)
    queries, train = normalise_rows(rng.normal(size=(20, 5))), normalise_rows(rng.normal(size=(50, 5)))
    targets = sp.csr_matrix(rng.random((50, 7)) * (rng.random((50, 7)) < 0.3))
    nearest, similarity = nearest_train_artists(queries, train, 10)
    for k in (1, 4, 10):
        direct = content_knn_scores([queries], [train], targets, k, power=2)
        assert np.allclose(neighbour_votes(nearest, similarity, targets, k, 2), direct, atol=1e-6)


def test_a_query_gets_the_same_neighbours_and_similarities_alone_as_in_any_chunk():
    rng = np.random.default_rng(0)
    queries = normalise_rows(rng.normal(size=(300, 96))).astype(np.float32)
    train = normalise_rows(rng.normal(size=(7000, 96))).astype(np.float32)
    together = nearest_train_artists(queries, train, 10)
    for row in range(0, 300, 7):
        alone = nearest_train_artists(queries[row : row + 1], train, 10)
        assert np.array_equal(alone[0][0], together[0][row]) and np.array_equal(alone[1][0], together[1][row])


def test_bootstrap_interval_brackets_the_mean():
    values = np.random.default_rng(0).random(500)
    low, high = bootstrap_interval(values, 300, seed=0)
    assert low < values.mean() < high


def test_rank_is_a_stable_sort_of_each_row_cut_at_k():
    rng = np.random.default_rng(0)
    for n_columns in (5, 64, 200, 1000):
        scores = np.round(rng.standard_normal((30, n_columns)), 1).astype(np.float32)  # many ties
        scores[:5] = 0.0  # a whole row tied
        scores[5:10] = np.where(rng.random((5, n_columns)) < 0.05, 1.0, 0.0)  # votes: a few, the rest tied at 0
        for k in (1, 7, 20):
            expected = np.argsort(-scores, axis=1, kind="stable")[:, :k]
            assert rank(scores, k).tolist() == expected.tolist()


def test_a_shortlist_ranks_any_product_of_experts_exactly_as_on_every_candidate():
    rng = np.random.default_rng(0)
    network = log_probability(rng.dirichlet(np.full(4000, 0.05), 60))
    content = log_votes(np.where(rng.random((60, 4000)) < 0.02, rng.integers(1, 4, (60, 4000)), 0).astype(np.float32))
    embedding = log_votes(np.where(rng.random((60, 4000)) < 0.3, rng.random((60, 4000)), 0.0))
    content[:3] = log_votes(np.zeros((3, 4000)))  # no neighbour voted: every candidate tied
    shortlist = Shortlist.of((network, content, embedding), depth=50)
    assert shortlist.columns is not None
    popular = np.arange(60) % 7 == 0
    for weight, share in ((0.0, 0.0), (0.3, 0.5), (0.9, 1.0), (1.0, 0.25)):
        combine = functools.partial(network_knn_blend, weight=weight, share=share)
        whole = rank(with_fallback(combine((network, content, embedding)), ~popular), 20)
        assert shortlist.top(combine, 20, popular).tolist() == whole.tolist()


def test_a_candidate_below_every_experts_shortlist_can_still_lead_their_product_and_is_found():
    # Each expert's five best are the other's worst; candidate 10 is sixth for both and best for their sum.
    first, second = np.zeros((1, 1000)), np.zeros((1, 1000))
    first[0, :5], second[0, 5:10] = 100.0, 100.0
    first[0, 10] = second[0, 10] = 99.0
    shortlist = Shortlist.of((first, second), depth=5)
    assert 10 not in shortlist.columns
    assert shortlist.top(lambda experts: experts[0] + experts[1], 3).tolist() == [[10, 0, 1]]


def test_content_knn_gives_a_query_without_side_information_zero_scores_without_searching():
    train = [np.eye(3)]
    targets = sp.csr_matrix(np.eye(3, dtype=np.float32))
    scores = content_knn_scores([np.array([[0.0, 0.0, 0.0], [0.0, 2.0, 0.0]])], train, targets, k=1)
    assert scores.tolist() == [[0.0, 0.0, 0.0], [0.0, 1.0, 0.0]]


def test_queries_without_side_information_fall_back_to_popularity_order():
    scores = np.array([[0.1, 0.9, 0.5], [0.3, 0.2, 0.8]], dtype=np.float32)
    fallback = with_fallback(scores, informed=np.array([True, False]))
    assert np.array_equal(fallback[0], scores[0])
    assert rank(fallback, 3)[1].tolist() == [0, 1, 2]


def test_the_blend_ranks_like_each_expert_at_the_ends_and_rewards_agreement_between():
    network = log_probability(np.array([[0.5, 0.3, 0.2]]))
    knn = log_votes(np.array([[0.0, 1.0, 3.0]]))  # votes, as a distribution
    assert rank(blend(network, 1.0, [(knn, 1.0)]), 3).tolist() == [[0, 1, 2]]
    assert rank(blend(network, 0.0, [(knn, 1.0)]), 3).tolist() == [[2, 1, 0]]
    # Halfway, the candidate nobody voted for drops below both that the kNN likes.
    assert rank(blend(network, 0.5, [(knn, 1.0)]), 3).tolist() == [[2, 1, 0]]


def test_the_blend_splits_the_knn_part_between_two_knns_by_their_shares():
    network = log_probability(np.array([[1 / 3, 1 / 3, 1 / 3]]))  # no opinion
    content, embedding = log_votes(np.array([[3.0, 1.0, 0.0]])), log_votes(np.array([[0.0, 1.0, 3.0]]))
    assert rank(blend(network, 0.5, [(content, 1.0), (embedding, 0.0)]), 3).tolist() == [[0, 1, 2]]
    assert rank(blend(network, 0.5, [(content, 0.0), (embedding, 1.0)]), 3).tolist() == [[2, 1, 0]]
    # Each half-sure: the candidate both voted for wins.
    assert rank(blend(network, 0.5, [(content, 0.5), (embedding, 0.5)]), 1).tolist() == [[1]]


def test_user_listening_splits_each_users_vote_over_their_artists_and_never_counts_the_artist_itself():
    # users 1 and 2 tagged artist 50 (held out), user 2 also artist 60; user 3 tagged candidate 20
    interactions = pd.DataFrame({"user_id": [1, 1, 2, 2, 3, 3], "artist_id": [20, 30, 20, 50, 20, 40]})
    taggers = pd.DataFrame({"artist_id": [50, 50, 60, 20], "key": ["1", "2", "2", "3"], "weight": 1.0})
    artist_ids, candidates = np.array([20, 30, 40, 50, 60]), np.array([20, 30, 40])
    users = source_users(taggers, interactions, artist_ids)
    listen = listeners(interactions, artist_ids)
    scores = user_listening_scores(users, listen, artist_ids, np.array([50, 20]), candidates)
    # user 1 votes 1, user 2 (two artists tagged) 1/2; 50's own listener (user 2) adds no vote
    # for 50 itself: only the candidates' listening is read
    assert scores.tolist() == [[1.5, 1, 0], [0, 0, 1]]  # 20 does not count itself


def test_users_listening_in_a_blend_reorders_only_artists_whose_users_listen_to_candidates():
    blend = np.log(np.array([[0.5, 0.3, 0.2], [0.5, 0.3, 0.2]]))
    users = np.array([[0.0, 1.0, 4.0], [0.0, 0.0, 0.0]])
    assert rank(with_user_listening(blend, log_votes(users), 0.0), 3).tolist() == [[0, 1, 2], [0, 1, 2]]
    assert rank(with_user_listening(blend, log_votes(users), 1.0), 3).tolist() == [[2, 1, 0], [0, 1, 2]]


def test_votes_become_a_distribution_and_logits_probabilities():
    network = np.array([[0.5, 0.3, 0.2]])
    knn = np.array([[0.0, 1.0, 3.0]])
    assert np.allclose(distribution(knn), [[0.0, 0.25, 0.75]])
    assert np.allclose(probabilities(np.log(network)), network)


def test_recommend_shows_votes_as_shares_and_a_blends_log_scores_as_its_normalised_probability():
    votes = np.array([[0.0, 1.0, 3.0], [2.0, 2.0, 0.0]])
    every = np.array([[2, 1, 0], [0, 1, 2]])
    assert shares_at(votes, every).tolist() == [[0.75, 0.25, 0.0], [0.5, 0.5, 0.0]]
    product = np.log(np.array([[0.2, 0.6, 0.2]])) - 7.0  # a product of experts, not normalised
    assert softmax_at(product, np.array([[1, 0]]))[0] == pytest.approx([0.6, 0.2])
    assert softmax_at(product, np.array([[0, 1, 2]])).sum() == pytest.approx(1.0)


def test_query_map_is_the_map_of_method_metrics():
    interactions = pd.DataFrame({"user_id": [1, 1, 1, 2, 2, 3, 3], "artist_id": [10, 20, 30, 20, 40, 30, 40]})
    artist_ids = np.array([10, 20, 30, 40])
    candidates, queries = np.array([20, 30, 40]), np.array([10, 40])
    scores = np.array([[0.9, 0.1, 0.5], [0.2, 0.8, 0.4]], dtype=np.float32)
    listen = listeners(interactions, artist_ids)
    result = query_map(listen, artist_ids, queries, candidates, [("m", whole(scores))])["m"]
    top = rank(scores, 20)
    sizes, hits, _ = relevance(listen, artist_ids, queries, candidates, {"m": top})
    expected = method_metrics(hits["m"], sizes, top, 3, resamples=10, seed=0)
    assert result == {k: expected[k] for k in ("map@1", "map@5", "map@10", "map@20")}


class CountedTower:
    """A stand-in softmax network that counts its forward passes."""

    def __init__(self, scale: float, passes: collections.Counter, name: str) -> None:
        self.scale, self.passes, self.name = scale, passes, name

    def probabilities_of(self, inputs: np.ndarray) -> np.ndarray:
        self.passes[self.name] += 1
        return probabilities(self.scale * inputs)


def test_the_tower_and_the_ensemble_read_one_forward_pass_of_the_default_network_per_chunk():
    passes: collections.Counter = collections.Counter()
    towers = {name: CountedTower(scale, passes, name) for name, scale in zip(ensemble_members(3), (1.0, 2.0, 3.0))}
    scorer = SimpleNamespace(plan=Plan("demo", {"likes": "log"}, None, {"network_ensemble": 3}), network=towers.get)
    inputs = np.random.default_rng(9).normal(size=(5, 7)).astype(np.float32)
    queries = Queries(inputs, inputs, None)
    tower, ensemble = Network().serve(scorer, queries), NetworkEnsemble().serve(scorer, queries)
    assert passes == {"default": 1, "member-1": 1, "member-2": 1}
    np.testing.assert_array_equal(tower, log_probability(probabilities(inputs)))
    mean = (probabilities(inputs) + probabilities(2.0 * inputs) + probabilities(3.0 * inputs)) / 3
    np.testing.assert_allclose(ensemble, log_probability(mean), rtol=1e-6)
