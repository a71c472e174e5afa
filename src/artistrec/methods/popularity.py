"""The popularity baseline, and the popularity fallback every method applies to artists without side information."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

import numpy as np

from artistrec.methods.base import OneRowMethod, Scored
from artistrec.metrics import Combined

if TYPE_CHECKING:
    from artistrec.methods.context import Context

ScoresT = TypeVar("ScoresT", np.ndarray, Combined)


def popularity_scores(n_queries: int, n_candidates: int) -> np.ndarray:
    """The candidates in order (most listened first), whoever the query artist is."""
    return np.tile(-np.arange(n_candidates, dtype=np.float32), (n_queries, 1))


def with_fallback(scores: ScoresT, informed: np.ndarray) -> ScoresT:
    """Scores with popularity order in the rows of queries without side information (of a ``Combined``:
    those rows ranked in popularity order).

    Popularity is the best ranking known for them (docs/method.md): a network fed a
    zero vector, or the mean co-listening of train artists without side
    information, both score lower.
    """
    if isinstance(scores, Combined):
        return scores._replace(popular=~informed)
    fallback = scores.copy()
    fallback[~informed] = popularity_scores(int((~informed).sum()), scores.shape[1])
    return fallback


class Popularity(OneRowMethod):
    """The most-listened candidates for every artist: the floor any method must beat."""

    name = "popularity"
    kind = "baseline"

    def score(self, context: Context) -> Scored:
        return Scored(lambda part, rows: popularity_scores(rows.stop - rows.start, context.n_candidates))
