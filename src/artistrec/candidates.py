"""The candidate set: the only artists the network can recommend."""

from __future__ import annotations

import numpy as np
import pandas as pd

from artistrec import io
from artistrec.errors import InputError


def by_popularity(interactions: pd.DataFrame, artist_ids: np.ndarray | None = None) -> pd.Series:
    """Distinct listeners per artist, most listened first, ties to the smaller id.

    ``artist_ids``: rank only these (an artist nobody listens to counts 0); default:
    every listened artist.
    """
    counts = interactions.groupby("artist_id")["user_id"].nunique()
    if artist_ids is not None:
        counts = counts.reindex(artist_ids, fill_value=0)
    order = np.lexsort((counts.index.to_numpy(), -counts.to_numpy()))
    return counts.iloc[order]


ALL = "all"  # ``n_candidates: all``: every train artist with enough listeners


def select_candidates(
    interactions: pd.DataFrame, train: np.ndarray, n_candidates: int | str, min_listeners: int = 1
) -> np.ndarray:
    """The ``n_candidates`` train artists with most distinct listeners (``ALL``: every one), each
    with at least ``min_listeners`` of them.

    Most popular first, ties broken by the smaller id. This order is the column order
    of the targets and of the model's output.
    """
    popular = by_popularity(interactions, train)
    eligible = popular.index.to_numpy()[popular.to_numpy() >= min_listeners]
    if eligible.shape[0] == 0:
        raise InputError(
            "config",
            "candidates.min_listeners",
            f"is {min_listeners} but no train artist has that many distinct listeners",
            f"set it to at most {int(popular.max()) if popular.shape[0] else 1}",
        )
    if n_candidates == ALL:
        return eligible
    if int(n_candidates) > eligible.shape[0]:
        enough = f" with at least {min_listeners} listeners" if min_listeners > 1 else ""
        raise InputError(
            "config",
            "n_candidates",
            f"is {n_candidates} but there are only {eligible.shape[0]} train artists{enough}",
            f"set n_candidates to at most {eligible.shape[0]}, or to {ALL}",
        )
    return eligible[: int(n_candidates)]


def read_candidates(path: str, train: np.ndarray) -> np.ndarray:
    """The run's candidates (``candidates.txt``), each a distinct train artist as the candidates step wrote them."""
    chosen = io.read_ids(path)
    if np.unique(chosen).shape[0] < chosen.shape[0] or not np.isin(chosen, train).all():
        raise InputError(
            path,
            "artist ids",
            "are not distinct train artists of the run's split",
            "delete it and run snakemake again, which chooses the candidates anew",
        )
    return chosen
