"""The content kNN baseline: the nearest train artists by side information vote with their co-listening.

Its SVD size, neighbour count, similarity power and votes are tuned on valid
artists by rule ``tune_knn`` (``knn.json``); the context holds that choice, which
the kNN-based methods share.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np

from artistrec.methods.base import Queries, Scored, Scorer, ServableMethod, Space
from artistrec.methods.network import averaged_networks
from artistrec.neighbours import Vectors, nearest_train_artists, neighbour_votes, tune_neighbours
from artistrec.vectors import shares_at

if TYPE_CHECKING:
    from artistrec.methods.context import Context

log = logging.getLogger(__name__)


def query_vectors(scorer: Scorer, queries: Queries, space: Space) -> np.ndarray:
    """The queries in ``space`` (``Scorer.train_vectors``): their content vectors, or their embeddings by the
    averaged networks (computed once per ``queries``)."""
    if space == "content":
        return queries.content
    from artistrec.networks import embeddings_of

    networks = [scorer.network(name) for name in averaged_networks(scorer.plan)]
    return queries.once(("embedding",), lambda: embeddings_of(networks, queries.inputs))


def knn_votes(scorer: Scorer, queries: Queries, space: Space, row: str) -> np.ndarray:
    """The votes of the queries' nearest train artists in ``space``, with the k, power and votes ``row`` tuned
    (computed once per ``queries``)."""

    def votes() -> np.ndarray:
        tuned = scorer.tuned(row)
        k, power = int(tuned["k"]), float(tuned["power"])
        nearest = nearest_train_artists(query_vectors(scorer, queries, space), scorer.train_vectors(space), k)
        return neighbour_votes(*nearest, scorer.vote_rows(tuned["votes"]), k, power)

    return queries.once(("votes", row), votes)


class ContentKnn(ServableMethod):
    """The tuned content kNN: each artist's k nearest train artists (cosine of the SVD vectors) vote."""

    name = "content_knn"
    kind = "baseline"

    def serve(self, scorer: Scorer, queries: Queries) -> np.ndarray:
        return knn_votes(scorer, queries, "content", self.name)

    @staticmethod
    def chance(scores: np.ndarray, top: np.ndarray) -> np.ndarray:
        """The candidate's share of the neighbours' votes."""
        return shares_at(scores, top)


def knn_tuning(
    context: Context, name: str, train: Vectors, valid: Vectors
) -> tuple[dict[str, Any], tuple[np.ndarray, np.ndarray]]:
    """(k, power, votes) of a kNN over other vectors (dense or sparse rows, compared by dot product), tuned on
    the ``valid`` artists as the content kNN's (``tune_neighbours``); with the valid artists' neighbours (the
    most ``knn_k`` asks)."""
    settings = context.settings
    neighbours = nearest_train_artists(valid, train, max(settings["knn_k"]))
    (_, k, power, votes), by_setting = tune_neighbours(
        context.listen,
        context.artist_ids,
        context.parts["valid"],
        context.candidates,
        lambda _: neighbours,
        [name],
        context.vote_rows,
        (settings["knn_k"], settings["knn_power"], settings["knn_votes"]),
    )
    tuning: dict[str, Any] = {"k": int(k), "power": float(power), "votes": votes}
    tuning["valid_map@10"] = by_setting[(name, k, power, votes)]["map@10"]
    tuning["settings_scored"] = len(by_setting)
    log.info("%s: %d neighbours, similarity ** %g, %s votes (tuned on valid)", name, k, power, votes)
    return tuning, neighbours


def tuned_knn(context: Context, name: str, vectors: dict[str, Vectors]) -> Scored:
    """A kNN over other vectors (``train``, ``valid``, ``test``), tuned (``knn_tuning``), and its votes."""
    tuning, neighbours = knn_tuning(context, name, vectors["train"], vectors["valid"])
    k, power, voting = tuning["k"], tuning["power"], context.vote_rows(tuning["votes"])
    nearest = {"valid": neighbours, "test": nearest_train_artists(vectors["test"], vectors["train"], k)}

    def scores(part: str, rows: slice) -> np.ndarray:
        return neighbour_votes(*(found[rows] for found in nearest[part]), voting, k, power)

    return Scored(scores, {name: tuning})
