"""The content kNN baseline: the nearest train artists by side information vote with their co-listening.

Its SVD size, neighbour count, similarity power and votes are tuned on valid
artists by rule ``tune_knn`` (``knn.json``); the context holds that choice, which
the kNN-based methods share.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np

from artistrec.methods.base import OneRowMethod, Scored
from artistrec.neighbours import Vectors, nearest_train_artists, neighbour_votes, tune_neighbours

if TYPE_CHECKING:
    from artistrec.methods.context import Context

log = logging.getLogger(__name__)


class ContentKnn(OneRowMethod):
    """The tuned content kNN: each artist's k nearest train artists (cosine of the SVD vectors) vote."""

    name = "content_knn"
    kind = "baseline"

    def score(self, context: Context) -> Scored:
        return Scored(context.content_votes)


def tuned_knn(context: Context, name: str, vectors: dict[str, Vectors]) -> Scored:
    """A kNN over other vectors (``train``, ``valid``, ``test``: dense or sparse rows, compared by dot product):
    its (k, power, votes) tuned on valid artists as the content kNN's (``tune_neighbours``), and its votes.
    """
    settings = context.settings
    neighbours = nearest_train_artists(vectors["valid"], vectors["train"], max(settings["knn_k"]))
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
    voting = context.vote_rows(votes)
    nearest = {"valid": neighbours, "test": nearest_train_artists(vectors["test"], vectors["train"], k)}

    def scores(part: str, rows: slice) -> np.ndarray:
        return neighbour_votes(*(found[rows] for found in nearest[part]), voting, k, power)

    return Scored(scores, {name: tuning})
