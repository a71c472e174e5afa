"""Similar artists through predicted listeners: who will listen to a new artist, then what they listen to.

The ground truth of an artist is the union of its listeners' listening over the
candidates. So if ``pi[u]`` is the probability that user ``u`` listens to a new
artist, and users listen independently, a candidate is co-listened with it with
probability ``1 - prod_u (1 - pi[u] * listens[u, candidate])`` (a noisy-OR over
the users). The methods differ only in where ``pi`` comes from:

- ``network_listeners``: a tower trained to predict each train artist's listeners
  from its side information (a sigmoid per user, ``model.train`` with
  ``head="listeners"``);
- ``content_knn_listeners`` (a baseline): the share of the artist's content
  neighbours each user listens to.

Both then add, for the artist's own users (its taggers, likers), what those
users' history says: the share of the train artists they are linked to that they
also listen to.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from artistrec.matrices import positions
from artistrec.methods.base import OneRowMethod, Plan, Queries, Scored, Scorer, ServableMethod
from artistrec.neighbours import CHUNK_ELEMENTS
from artistrec.tuning import coordinate_search

if TYPE_CHECKING:
    from artistrec.methods.context import Context

log = logging.getLogger(__name__)

# Pseudo-count of the activity group's rate in a user's own linked-listening rate:
# a user linked to few train artists gets about their group's rate.
RATE_PRIOR_WEIGHT = 5.0

# A probability of exactly 1 would make log(1 - pi) infinite.
MAX_PROBABILITY = 0.999
LOG_MISS_FLOOR = float(np.log1p(-MAX_PROBABILITY))

Probabilities = np.ndarray | sp.csr_matrix


def activity_groups(activity: np.ndarray) -> np.ndarray:
    """A user's group by the number of artists they are linked to: 0 for 0-1, then one group per doubling."""
    return np.floor(np.log2(np.maximum(activity, 1.0))).astype(np.int64)


def linked_listening_rates(users: sp.csr_matrix, listen: sp.csr_matrix, train_rows: np.ndarray) -> np.ndarray:
    """Per user: how often they listen to a train artist they are linked to (tagged, liked), smoothed.

    ``users`` and ``listen`` are binary artists x users (``source_users``,
    ``listeners``); ``train_rows`` are the train artists' rows. The rate is pulled
    towards the rate of users with as many links (``activity_groups``) with weight
    ``RATE_PRIOR_WEIGHT``: how often a user listens to what they tag falls with how
    much they tag (docs/method.md).
    """
    linked = sp.csr_matrix(users[train_rows])
    listened = linked.multiply(listen[train_rows])
    links = np.asarray(linked.sum(axis=0)).ravel()
    hits = np.asarray(listened.sum(axis=0)).ravel()
    groups = activity_groups(np.asarray(users.sum(axis=0)).ravel())
    group_links = np.bincount(groups, weights=links)
    group_rate = np.divide(
        np.bincount(groups, weights=hits), group_links, out=np.zeros_like(group_links), where=group_links > 0
    )
    return (hits + RATE_PRIOR_WEIGHT * group_rate[groups]) / (links + RATE_PRIOR_WEIGHT)


def miss_log_probability(listener_probability: Probabilities) -> Probabilities:
    """``log(1 - pi)`` per query and user, dense or sparse as ``pi`` is (a user with ``pi = 0`` stays 0)."""
    if sp.issparse(listener_probability):
        log_miss = sp.csr_matrix(listener_probability, dtype=np.float32, copy=True)
        log_miss.data = np.log1p(-np.clip(log_miss.data, 0.0, MAX_PROBABILITY))
        return log_miss
    return np.log1p(-np.clip(listener_probability, 0.0, MAX_PROBABILITY)).astype(np.float32)


def with_linked_users(log_miss: Probabilities, links: sp.csr_matrix, rates: np.ndarray) -> Probabilities:
    """``miss_log_probability`` with each query's linked users (rows of ``links``) given two independent
    reasons to listen, ``1 - (1 - pi) * (1 - rate)``: their ``log(1 - rate)`` is added.

    Measured against the larger of the two and the rate alone in docs/method.md.
    """
    linked = sp.csr_matrix(sp.csr_matrix(links, dtype=np.float32) @ sp.diags(np.log1p(-rates).astype(np.float32)))
    if sp.issparse(log_miss):
        total = sp.csr_matrix(log_miss + linked)
        total.data = np.maximum(total.data, LOG_MISS_FLOOR)
        return total
    return np.maximum(np.asarray(log_miss + linked), LOG_MISS_FLOOR).astype(np.float32)


def neighbour_listeners(
    nearest: np.ndarray, similarity: np.ndarray, train_listen: sp.csr_matrix, k: int, power: float, scale: float
) -> sp.csr_matrix:
    """``scale`` times the similarity ** power weighted share of the ``k`` nearest train artists each user listens to.

    ``nearest``/``similarity`` come from ``evaluate.nearest_train_artists``;
    ``train_listen`` is the train artists x users listening. Sparse: only the
    neighbours' listeners have a chance; a query without a positively similar
    neighbour has none.
    """
    k = min(k, nearest.shape[1])
    weights = np.clip(similarity[:, :k], 0.0, None) ** power
    totals = weights.sum(axis=1, keepdims=True)
    weights = np.divide(weights, totals, out=np.zeros_like(weights), where=totals > 0)
    voters = np.repeat(np.arange(nearest.shape[0]), k)
    shares = sp.csr_matrix(
        (weights.ravel(), (voters, nearest[:, :k].ravel())), shape=(nearest.shape[0], train_listen.shape[0])
    )
    return sp.csr_matrix(shares @ train_listen * scale, dtype=np.float32)


class ListenerScores:
    """Candidates scored through listener probabilities (``co_listened_scores``), with each query's
    linked users (its taggers, likers) given their linked-listening rates when there is a user source.

    Dense probabilities (the network's) are made for a chunk of queries at a
    time (about ``chunk_elements`` of them), so memory does not grow with
    queries x users; sparse ones (the neighbours') stay sparse throughout.
    """

    def __init__(
        self,
        listen: sp.csr_matrix,
        artist_ids: np.ndarray,
        candidates: np.ndarray,
        train_ids: np.ndarray,
        users: sp.csr_matrix | None,
        chunk_elements: int = CHUNK_ELEMENTS,
    ) -> None:
        self.artist_ids, self.users = artist_ids, users
        self.candidate_listen = candidate_listeners(listen, artist_ids, candidates)
        self.rates = None if users is None else linked_listening_rates(users, listen, positions(train_ids, artist_ids))
        self.chunk_rows = max(1, chunk_elements // max(1, listen.shape[1]))

    def scores(
        self, probability_of: Callable[[slice], Probabilities], links: sp.csr_matrix | None, n_queries: int
    ) -> np.ndarray:
        """Scores of ``n_queries`` queries; ``probability_of(rows)`` gives the listener probabilities of
        the queries ``rows``, ``links`` their linked users (None: no user source).
        """
        scores = np.empty((n_queries, self.candidate_listen.shape[0]), dtype=np.float32)
        for start in range(0, n_queries, self.chunk_rows):
            rows = slice(start, start + self.chunk_rows)
            scores[rows] = self.scores_with_links(probability_of(rows), None if links is None else links[rows])
        return scores

    def links_of(self, artist_ids: np.ndarray) -> sp.csr_matrix | None:
        """The linked users of the run's ``artist_ids`` (None without a user source)."""
        return None if self.users is None else sp.csr_matrix(self.users[positions(artist_ids, self.artist_ids)])

    def scores_with_links(self, listener_probability: Probabilities, links: sp.csr_matrix | None) -> np.ndarray:
        """Scores of queries given their listener probabilities and their linked users (rows over the
        listening table's users; None: no linked users), such as a new artist's given taggers.
        """
        log_miss = miss_log_probability(listener_probability)
        if links is not None and self.rates is not None:
            log_miss = with_linked_users(log_miss, links, self.rates)
        return co_listened_scores(log_miss, self.candidate_listen)


def candidate_listeners(listen: sp.csr_matrix, artist_ids: np.ndarray, candidates: np.ndarray) -> sp.csr_matrix:
    """The candidates x users listening, from ``listeners``' artists x users over ``artist_ids``."""
    return sp.csr_matrix(listen[positions(candidates, artist_ids)], dtype=np.float32)


def co_listened_scores(log_miss: Probabilities, candidate_listen: sp.csr_matrix) -> np.ndarray:
    """Per query and candidate: ``-log P(no likely listener of the query listens to the candidate)``.

    ``log_miss`` is ``miss_log_probability`` (with ``with_linked_users``). This
    ranks candidates by the noisy-OR probability of being co-listened,
    ``1 - prod_u (1 - pi[u])`` over the users who listen to the candidate
    (``candidate_listeners``), and stays finite and ordered where that probability
    rounds to 1. Queries are held-out artists, never candidates, so no artist
    scores itself.
    """
    missed = candidate_listen @ log_miss.T
    return -np.asarray(missed.toarray() if sp.issparse(missed) else missed, dtype=np.float32).T


class NetworkListeners(ServableMethod):
    """The listener network predicts who will listen; candidates by the noisy-OR of those listeners."""

    name = "network_listeners"
    kind = "network"

    def models(self, plan: Plan) -> list[str]:
        return ["listeners"]

    def serve(self, scorer: Scorer, queries: Queries) -> np.ndarray:
        network = scorer.network("listeners")
        return scorer.listening.scores(
            lambda rows: network.listener_probabilities_of(queries.inputs[rows]), queries.links, queries.size
        )

    @staticmethod
    def chance(scores: np.ndarray) -> np.ndarray:
        """``1 - P(no likely listener listens)``: the chance that the candidate is co-listened."""
        return -np.expm1(-scores.astype(np.float64))


# content_knn_listeners tunes its scale, then k, then power, then k again (``coordinate_search``),
# from the content kNN's own k and power: each setting is a noisy-OR over every user.
LISTENER_AXES_ORDER = (2, 0, 1, 0)


class ContentKnnListeners(OneRowMethod):
    """The content neighbours' listeners as the likely listeners (k, power and scale tuned on valid, one at a time)."""

    name = "content_knn_listeners"
    kind = "baseline"

    def enabled(self, plan: Plan) -> bool:
        return NetworkListeners().enabled(plan)  # its baseline: on with it

    def score(self, context: Context) -> Scored:
        listened, settings = context.listening, context.settings
        train_listen = context.listen[positions(context.parts["train"], context.artist_ids)]

        def scored(
            part: str, k: int, power: float, scale: float, neighbours: tuple[np.ndarray, np.ndarray]
        ) -> np.ndarray:
            nearest, similarity = neighbours
            queries = context.queries(part)
            return listened.scores(
                lambda rows: neighbour_listeners(nearest[rows], similarity[rows], train_listen, k, power, scale),
                queries.links,
                queries.size,
            )

        valid_neighbours = context.content_neighbours("valid", max(settings["knn_k"]))
        axes = (settings["knn_k"], settings["knn_power"], settings["listener_scales"])
        start = (context.knn["k"], context.knn["power"], settings["listener_scales"][0])
        (k, power, scale), by_setting = coordinate_search(
            axes,
            start,
            LISTENER_AXES_ORDER,
            lambda grid: context.valid_map((setting, scored("valid", *setting, valid_neighbours)) for setting in grid),
        )
        tuning = {"k": k, "power": power, "scale": scale, "valid_map@10": by_setting[(k, power, scale)]["map@10"]}
        tuning["settings_scored"] = len(by_setting)
        log.info("content_knn_listeners: %d neighbours, similarity ** %g, scale %g (tuned on valid)", k, power, scale)
        valid = scored("valid", k, power, scale, valid_neighbours)
        return Scored(
            valid, scored("test", k, power, scale, context.content_neighbours("test", k)), {self.name: tuning}
        )
