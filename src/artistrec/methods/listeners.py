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
  neighbours each user listens to (``neighbour_shares``), summed as
  ``ListenerScores.neighbour_scores`` does.

Both then add, for the artist's own users (its taggers, likers), what those
users' history says: the share of the train artists they are linked to that they
also listen to.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Hashable, Iterable
from typing import TYPE_CHECKING, Protocol

import numpy as np
import scipy.sparse as sp

from artistrec.matrices import positions
from artistrec.methods.base import Plan, Queries, Scored, Scorer, ServableMethod
from artistrec.neighbours import CHUNK_ELEMENTS, nearest_train_artists
from artistrec.parallel import by_row_blocks
from artistrec.targets import CHUNK_ENTRIES, row_chunks
from artistrec.tuning import coordinate_search

if TYPE_CHECKING:
    from artistrec.methods.context import Context

log = logging.getLogger(__name__)

# Pseudo-count of the activity group's rate in a user's own linked-listening rate:
# a user linked to few train artists gets about their group's rate.
RATE_PRIOR_WEIGHT = 5.0

# In ``ListenerScores.neighbour_scores`` a user whose chance p is below this counts with p, the first
# term of -log(1 - p) = p + p**2/2 + ...: at most about HEAD_CHANCE / 2 of their weight is left out.
HEAD_CHANCE = 0.05

# ``ListenerScores.co_listen`` (train artists x candidates, float32) is kept whole up to this size; beyond
# it (many candidates) ``neighbour_scores`` sums every user's chance user by user, chunk by chunk.
CO_LISTEN_BYTES = 2**30

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


def neighbour_shares(nearest: np.ndarray, similarity: np.ndarray, n_train: int, k: int, power: float) -> sp.csr_matrix:
    """Queries x train artists: the similarity ** power weights of each query's ``k`` nearest, summing to 1.

    ``nearest``/``similarity`` come from ``neighbours.nearest_train_artists``. A query
    without a positively similar neighbour has an empty row.
    """
    k = min(k, nearest.shape[1])
    weights = np.clip(similarity[:, :k], 0.0, None) ** power
    totals = weights.sum(axis=1, keepdims=True)
    weights = np.divide(weights, totals, out=np.zeros_like(weights), where=totals > 0)
    voters = np.repeat(np.arange(nearest.shape[0]), k)
    return sp.csr_matrix((weights.ravel(), (voters, nearest[:, :k].ravel())), shape=(nearest.shape[0], n_train))


# Seed of the draw of the users the listener network scores (``scored_users``): every step draws the same.
USER_DRAW_SEED = 0


def scored_users(n_users: int, count: int | None) -> np.ndarray:
    """Positions of the users the listener network scores for every query: all, or a uniform draw of ``count``."""
    if count is None or count >= n_users:
        return np.arange(n_users)
    return np.sort(np.random.default_rng(USER_DRAW_SEED).choice(n_users, count, replace=False))


class ListenerProbabilities(Protocol):
    """A listener network's chances that users listen to queries (user positions in the listening table)."""

    def of_users(self, rows: slice, users: np.ndarray) -> np.ndarray:
        """The chances of the queries ``rows`` (a slice) for ``users``: rows x users."""
        ...

    def at(self, queries: np.ndarray, users: np.ndarray) -> np.ndarray:
        """The chance of each (query, user) pair."""
        ...


class ListenerScores:
    """Candidates scored through listener probabilities (``co_listened_scores``), with each query's
    linked users (its taggers, likers) given their linked-listening rates when there is a user source.

    A network's chances are asked for a uniform draw of ``users_scored`` users
    (``scored_users``; all users when there are fewer), weighted up by the draw's
    share, and for each query's linked users (``linked_scores``): the cost of a
    query does not grow with the users. The chances are dense for a chunk
    of queries at a time (about ``chunk_elements`` of them). The neighbours' chances
    go through ``neighbour_scores`` over every user.
    """

    def __init__(
        self,
        listen: sp.csr_matrix,
        artist_ids: np.ndarray,
        candidates: np.ndarray,
        train_ids: np.ndarray,
        users: sp.csr_matrix | None,
        users_scored: int | None = None,
        chunk_elements: int = CHUNK_ELEMENTS,
    ) -> None:
        self.artist_ids, self.users = artist_ids, users
        train_rows = positions(train_ids, artist_ids)
        self.candidate_listen = candidate_listeners(listen, artist_ids, candidates)
        self.train_listen = sp.csr_matrix(listen[train_rows], dtype=np.float32)
        self.rates = None if users is None else linked_listening_rates(users, listen, train_rows)
        self.scored_users = scored_users(listen.shape[1], users_scored)
        self.draw_weight = listen.shape[1] / max(1, self.scored_users.shape[0])
        self.scored_listen = sp.csr_matrix(sp.csc_matrix(self.candidate_listen)[:, self.scored_users])
        self.chunk_rows = max(1, chunk_elements // max(1, self.scored_users.shape[0]))

    def scores(self, probabilities: ListenerProbabilities, links: sp.csr_matrix | None, n_queries: int) -> np.ndarray:
        """Scores of ``n_queries`` queries given a network's ``probabilities`` and their ``links`` (linked
        users; None: no user source)."""
        scores = np.empty((n_queries, self.candidate_listen.shape[0]), dtype=np.float32)
        for start in range(0, n_queries, self.chunk_rows):
            rows = slice(start, min(start + self.chunk_rows, n_queries))
            drawn = miss_log_probability(probabilities.of_users(rows, self.scored_users)) * self.draw_weight
            scores[rows] = co_listened_scores(drawn, self.scored_listen)
            if links is not None and self.rates is not None:
                scores[rows] += self.linked_scores(probabilities, sp.csr_matrix(links[rows]), start)
        return scores

    def linked_scores(self, probabilities: ListenerProbabilities, links: sp.csr_matrix, first: int) -> np.ndarray:
        """What the linked users of the queries ``first``, ``first + 1``, ... add, drawn or not: their
        ``-log P(miss)`` with their rates (``with_linked_users``) less without them.

        The draw's weighted sum estimates every user's ``-log(1 - p)`` without bias,
        so the scores estimate the noisy-OR with the rates, and a linked user only
        ever raises the candidates they listen to.
        """
        linked = sp.coo_matrix(links)
        chance = sp.csr_matrix(
            (probabilities.at(linked.row + first, linked.col), (linked.row, linked.col)), shape=links.shape
        )
        log_miss = miss_log_probability(chance)
        return co_listened_scores(with_linked_users(log_miss, links, self.rates) - log_miss, self.candidate_listen)

    @functools.cached_property
    def co_listen(self) -> np.ndarray:
        """Train artists x candidates: how many users listen to both (dense: asked only when it fits
        ``CO_LISTEN_BYTES``).
        """
        return np.asarray((self.train_listen @ self.candidate_listen.T).toarray(), dtype=np.float32)

    @property
    def co_listen_fits(self) -> bool:
        return self.train_listen.shape[0] * self.candidate_listen.shape[0] * 4 <= CO_LISTEN_BYTES

    def neighbour_scores(self, shares: sp.csr_matrix, scale: float, links: sp.csr_matrix | None) -> np.ndarray:
        """Scores of queries whose users' chances are ``scale * shares @ train listening``.

        Every user counts (nothing is drawn), but a user whose chance p is below ``HEAD_CHANCE``
        and who is not linked to the query counts with p instead of ``-log(1 - p)``.
        Then the sum over those users is linear in the shares and goes through
        ``co_listen`` when it fits; the others (every user, when it does not) are summed
        user by user, in chunks of queries of bounded size.
        """
        whole = self.co_listen_fits
        scores = (
            np.asarray(shares @ self.co_listen, dtype=np.float32) * scale
            if whole
            else np.zeros((shares.shape[0], self.candidate_listen.shape[0]), dtype=np.float32)
        )
        reach = shares @ np.diff(self.train_listen.indptr).astype(np.float64)
        for chunk in row_chunks(reach, CHUNK_ENTRIES):
            chance = sp.csr_matrix(shares[chunk] @ self.train_listen * scale, dtype=np.float32)
            chunk_links = None if links is None else links[chunk]
            weight = self.head_excess(chance, chunk_links) + (0 if whole else chance)
            scores[chunk] += co_listened_scores(-weight, self.candidate_listen)
        return scores

    def head_excess(self, chance: sp.csr_matrix, links: sp.csr_matrix | None) -> sp.csr_matrix:
        """What ``neighbour_scores`` adds to each user's chance p: ``-log(1 - p) - p`` where p is at least
        ``HEAD_CHANCE``, and for the users linked to the query what ``with_linked_users`` gives beyond that."""
        counted = np.where(
            chance.data >= HEAD_CHANCE, -np.log1p(-np.clip(chance.data, 0.0, MAX_PROBABILITY)), chance.data
        )
        excess = sp.csr_matrix((counted - chance.data, chance.indices, chance.indptr), shape=chance.shape, copy=True)
        excess.eliminate_zeros()  # in place: hence the copy, which leaves ``chance`` whole
        if links is None or self.rates is None or links.nnz == 0:
            return excess
        linked = sp.coo_matrix(links)
        p = np.asarray(chance[linked.row, linked.col], dtype=np.float32).ravel()
        at_links = sp.csr_matrix((p, (linked.row, linked.col)), shape=chance.shape)
        exact = with_linked_users(miss_log_probability(at_links), links, self.rates)  # log P(miss), linked users
        counted = np.where(p >= HEAD_CHANCE, -np.log1p(-np.clip(p, 0.0, MAX_PROBABILITY)), p)
        return sp.csr_matrix(excess - exact - sp.csr_matrix((counted, (linked.row, linked.col)), shape=chance.shape))

    @functools.cached_property
    def user_activity(self) -> np.ndarray:
        """Per user of the user source: how many of the run's artists it is linked to (tags, likes)."""
        assert self.users is not None
        return np.asarray(self.users.sum(axis=0)).ravel()

    def links_of(self, artist_ids: np.ndarray) -> sp.csr_matrix | None:
        """The linked users of the run's ``artist_ids`` (None without a user source)."""
        return None if self.users is None else sp.csr_matrix(self.users[positions(artist_ids, self.artist_ids)])


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

    def block_scores(block: slice) -> np.ndarray:
        missed = candidate_listen @ log_miss[block].T
        return -np.asarray(missed.toarray() if sp.issparse(missed) else missed, dtype=np.float32).T

    return by_row_blocks(block_scores, log_miss.shape[0])


def co_listened_chance(scores: np.ndarray, top: np.ndarray) -> np.ndarray:
    """``co_listened_scores`` at the positions ``top`` of each row as ``1 - P(no likely listener listens)``: the
    chance that the candidate is co-listened."""
    return -np.expm1(-np.take_along_axis(scores, top, axis=1).astype(np.float64))


class NetworkListeners(ServableMethod):
    """The listener network predicts who will listen; candidates by the noisy-OR of those listeners."""

    name = "network_listeners"
    kind = "network"

    def models(self, plan: Plan) -> list[str]:
        return ["listeners"]

    def serve(self, scorer: Scorer, queries: Queries) -> np.ndarray:
        chances = scorer.network("listeners").listener_chances(queries.inputs)
        return scorer.listening.scores(chances, queries.links, queries.size)

    @staticmethod
    def chance(scores: np.ndarray, top: np.ndarray) -> np.ndarray:
        return co_listened_chance(scores, top)


# content_knn_listeners tunes its scale, then k, then power, then k again (``coordinate_search``),
# from the content kNN's own k and power: each setting is a noisy-OR over every user.
LISTENER_AXES_ORDER = (2, 0, 1, 0)


class ContentKnnListeners(ServableMethod):
    """The content neighbours' listeners as the likely listeners (k, power and scale tuned on valid, one at a time).

    Servable: a new artist's content vectors find its neighbours among the train artists, as a test artist's do.
    """

    name = "content_knn_listeners"
    kind = "baseline"

    def enabled(self, plan: Plan) -> bool:
        return NetworkListeners().enabled(plan)  # its baseline: on with it

    def score(self, context: Context) -> Scored:
        listened, settings = context.listening, context.settings
        n_train = context.parts["train"].shape[0]
        neighbours = nearest_train_artists(
            context.content("valid"), context.train_vectors("content"), max(settings["knn_k"])
        )

        def scored(setting: tuple[int, float, float], rows: slice) -> np.ndarray:
            k, power, scale = setting
            shares = neighbour_shares(*(found[rows] for found in neighbours), n_train, k, power)
            return listened.neighbour_scores(shares, scale, context.queries("valid", rows).links)

        def valid_maps(grid: Iterable[tuple[int, float, float]]) -> dict[Hashable, dict[str, float]]:
            return context.valid_map((setting, functools.partial(scored, setting)) for setting in grid)

        axes = (settings["knn_k"], settings["knn_power"], settings["listener_scales"])
        start = (context.knn["k"], context.knn["power"], settings["listener_scales"][0])
        (k, power, scale), by_setting = coordinate_search(axes, start, LISTENER_AXES_ORDER, valid_maps)
        tuning = {"k": k, "power": power, "scale": scale, "valid_map@10": by_setting[(k, power, scale)]["map@10"]}
        tuning["settings_scored"] = len(by_setting)
        log.info("content_knn_listeners: %d neighbours, similarity ** %g, scale %g (tuned on valid)", k, power, scale)
        return self.served(context, {self.name: tuning}, by_setting[(k, power, scale)])

    def serve(self, scorer: Scorer, queries: Queries) -> np.ndarray:
        tuned = scorer.tuned(self.name)
        k, power, scale = int(tuned["k"]), float(tuned["power"]), float(tuned["scale"])
        nearest, similarity = nearest_train_artists(queries.content, scorer.train_vectors("content"), k)
        shares = neighbour_shares(nearest, similarity, scorer.listening.train_listen.shape[0], k, power)
        return scorer.listening.neighbour_scores(shares, scale, queries.links)

    @staticmethod
    def chance(scores: np.ndarray, top: np.ndarray) -> np.ndarray:
        return co_listened_chance(scores, top)
