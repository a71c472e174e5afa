"""The users' listening: a new artist's own users (its taggers, likers) are known users, and what
they listen to is evidence of what is co-listened with it. As a method of its own and as one more
expert added to the content kNN and to ``network_knn``, with a weight tuned on valid artists.
"""

from __future__ import annotations

import functools
import logging
from abc import abstractmethod
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from artistrec.matrices import positions
from artistrec.methods.base import USERS, Plan, Queries, Scored, Scorer, ServableMethod
from artistrec.methods.blend import NetworkKnn, log_votes, log_votes_of, shortlisted
from artistrec.metrics import Combined
from artistrec.targets import drop_self
from artistrec.vectors import shares_at, softmax_at

if TYPE_CHECKING:
    from artistrec.methods.context import Context

log = logging.getLogger(__name__)


def linked_listening(links: sp.csr_matrix, activity: np.ndarray, candidate_listen: sp.csr_matrix) -> sp.csr_matrix:
    """Per query (its linked users, ``links``) and candidate: the query's users who listen to the candidate,
    each user counting 1 / ``activity`` (the number of artists the user is linked to)."""
    per_user = sp.csr_matrix(links @ sp.diags(1.0 / np.maximum(activity, 1.0)))
    return sp.csr_matrix(per_user @ candidate_listen.T)


def user_listening_scores(
    users: sp.csr_matrix, listen: sp.csr_matrix, artist_ids: np.ndarray, queries: np.ndarray, candidates: np.ndarray
) -> np.ndarray:
    """Per query artist and candidate: the artist's users who listen to the candidate, each
    user counting 1 / (the number of artists the user is linked to).

    ``users`` (``source_users``: an artist's taggers, likers) and ``listen``
    (``listeners``) are artists x users over ``artist_ids``. Only the candidates'
    listening is read and candidates are train artists, so a held-out artist's own
    listeners stay unseen; an artist that is a candidate does not count itself.
    Splitting each user's vote lets a user who tags a few artists (and listens to
    most of them) count more than one who tags hundreds (docs/method.md).
    """
    activity = np.asarray(users.sum(axis=0)).ravel()
    votes = linked_listening(users[positions(queries, artist_ids)], activity, listen[positions(candidates, artist_ids)])
    return drop_self(votes, queries, candidates).toarray().astype(np.float32)


def user_listening_votes(scorer: Scorer, queries: Queries) -> np.ndarray:
    """``user_listening_scores`` of queries given by their linked users (valid, test or new artists: never
    candidates), once per ``queries``."""
    listening = scorer.listening
    assert queries.links is not None  # servable only with a user source

    def votes() -> np.ndarray:
        return linked_listening(queries.links, listening.user_activity, listening.candidate_listen).toarray()

    return queries.once(("votes", "user_listening"), lambda: votes().astype(np.float32))


def with_user_listening(scores: np.ndarray, log_users: np.ndarray, weight: float) -> np.ndarray:
    """A blend's log scores with the users' listening as one more expert: ``+ weight * log p_users``, where
    ``log_users`` is the ``log_votes`` of ``user_listening_scores``.

    An artist whose users listen to no candidate gets the same term for every
    candidate: its ranking is the blend's.
    """
    return scores + weight * log_users


class UserListening(ServableMethod):
    """Candidates by how many of the artist's own users listen to them (each user's vote split over its links)."""

    name = "user_listening"
    kind = "baseline"
    needs = frozenset({USERS})

    def serve(self, scorer: Scorer, queries: Queries) -> np.ndarray:
        return user_listening_votes(scorer, queries)

    @staticmethod
    def chance(scores: np.ndarray, top: np.ndarray) -> np.ndarray:
        """The candidate's share of the users' listening votes."""
        return shares_at(scores, top)


class WithUserListening(ServableMethod):
    """A blend's log scores plus the users' listening, its weight tuned on valid artists."""

    needs = frozenset({USERS})

    @abstractmethod
    def blend_scores(self, scorer: Scorer, queries: Queries) -> np.ndarray:
        """The log scores the users' listening is added to."""

    def experts(self, scorer: Scorer, queries: Queries) -> tuple[np.ndarray, np.ndarray]:
        """The blend's log scores and the users' listening as log probabilities."""
        log_users = queries.once(
            ("log_votes", "user_listening"), lambda: log_votes(user_listening_votes(scorer, queries))
        )
        return self.blend_scores(scorer, queries), log_users

    def score(self, context: Context) -> Scored:
        def valid_scores(rows: slice, weight: float) -> Combined:
            queries = context.queries("valid", rows)
            return shortlisted(
                queries, self.name, self.experts(context, queries), lambda both: with_user_listening(*both, weight)
            )

        weights = context.settings["user_listening_weights"]
        by_weight = context.valid_map((w, functools.partial(valid_scores, weight=w)) for w in weights)
        weight = max(by_weight, key=lambda w: (by_weight[w]["map@10"], -w))
        tuning: dict[str, Any] = {"weight": weight}
        tuning["valid_map@10"] = [{"weight": w, "map@10": m["map@10"]} for w, m in by_weight.items()]
        log.info("%s: users' listening weight %g (tuned on valid)", self.name, weight)
        return self.served(context, {self.name: tuning}, by_weight[weight])

    def serve(self, scorer: Scorer, queries: Queries) -> np.ndarray:
        return with_user_listening(*self.experts(scorer, queries), float(scorer.tuned(self.name)["weight"]))

    @staticmethod
    def chance(scores: np.ndarray, top: np.ndarray) -> np.ndarray:
        """The product of experts' probability (normalised over the candidates)."""
        return softmax_at(scores, top)


class ContentKnnUserListening(WithUserListening):
    """The tuned content kNN's votes (as log probabilities) plus the users' listening."""

    name = "content_knn_user_listening"
    kind = "baseline"

    def blend_scores(self, scorer: Scorer, queries: Queries) -> np.ndarray:
        return log_votes_of(scorer, queries, "content", "content_knn")


class NetworkKnnUserListening(WithUserListening):
    """``network_knn`` plus the users' listening."""

    name = "network_knn_user_listening"
    kind = "network"

    def enabled(self, plan: Plan) -> bool:
        return super().enabled(plan) and NetworkKnn().enabled(plan)

    def models(self, plan: Plan) -> list[str]:
        return NetworkKnn().models(plan)

    def blend_scores(self, scorer: Scorer, queries: Queries) -> np.ndarray:
        return NetworkKnn().serve(scorer, queries)
