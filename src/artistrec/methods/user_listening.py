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
from artistrec.methods.base import USERS, OneRowMethod, Plan, Scored
from artistrec.methods.blend import NetworkKnn
from artistrec.targets import drop_self

if TYPE_CHECKING:
    from artistrec.methods.context import Context

log = logging.getLogger(__name__)


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
    per_user = sp.csr_matrix(users[positions(queries, artist_ids)] @ sp.diags(1.0 / np.maximum(activity, 1.0)))
    votes = sp.csr_matrix(per_user @ listen[positions(candidates, artist_ids)].T)
    return drop_self(votes, queries, candidates).toarray().astype(np.float32)


def with_user_listening(scores: np.ndarray, log_users: np.ndarray, weight: float) -> np.ndarray:
    """A blend's log scores with the users' listening as one more expert: ``+ weight * log p_users``, where
    ``log_users`` is the ``log_votes`` of ``user_listening_scores``.

    An artist whose users listen to no candidate gets the same term for every
    candidate: its ranking is the blend's.
    """
    return scores + weight * log_users


class UserListening(OneRowMethod):
    """Candidates by how many of the artist's own users listen to them (each user's vote split over its links)."""

    name = "user_listening"
    kind = "baseline"
    needs = frozenset({USERS})

    def score(self, context: Context) -> Scored:
        users = context.users
        assert users is not None  # enabled only with a user source

        def scores(part: str, rows: slice) -> np.ndarray:
            queries = context.parts[part][rows]
            return user_listening_scores(users, context.listen, context.artist_ids, queries, context.candidates)

        return Scored(scores)


class WithUserListening(OneRowMethod):
    """A blend's log scores plus the users' listening, its weight tuned on valid artists."""

    needs = frozenset({USERS})

    @abstractmethod
    def blend_scores(self, context: Context, part: str, rows: slice) -> np.ndarray:
        """The log scores the users' listening is added to, of the ``part`` artists ``rows``."""

    def score(self, context: Context) -> Scored:
        def scores(part: str, rows: slice, weight: float) -> np.ndarray:
            log_users = context.log_votes("user_listening", part, rows)
            return with_user_listening(self.blend_scores(context, part, rows), log_users, weight)

        weights = context.settings["user_listening_weights"]
        by_weight = context.valid_map((w, functools.partial(scores, "valid", weight=w)) for w in weights)
        weight = max(by_weight, key=lambda w: (by_weight[w]["map@10"], -w))
        tuning: dict[str, Any] = {"weight": weight}
        tuning["valid_map@10"] = [{"weight": w, "map@10": m["map@10"]} for w, m in by_weight.items()]
        log.info("%s: users' listening weight %g (tuned on valid)", self.name, weight)
        return Scored(functools.partial(scores, weight=weight), {self.name: tuning})


class ContentKnnUserListening(WithUserListening):
    """The tuned content kNN's votes (as log probabilities) plus the users' listening."""

    name = "content_knn_user_listening"
    kind = "baseline"

    def blend_scores(self, context: Context, part: str, rows: slice) -> np.ndarray:
        return context.log_votes("content_knn", part, rows)


class NetworkKnnUserListening(WithUserListening):
    """``network_knn`` plus the users' listening."""

    name = "network_knn_user_listening"
    kind = "network"

    def enabled(self, plan: Plan) -> bool:
        return super().enabled(plan) and NetworkKnn().enabled(plan)

    def models(self, plan: Plan) -> list[str]:
        return NetworkKnn().models(plan)

    def blend_scores(self, context: Context, part: str, rows: slice) -> np.ndarray:
        return context.scores("network_knn", part, rows)
