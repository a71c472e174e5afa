"""The candidate set: the only artists the network can recommend."""

from __future__ import annotations

import numpy as np
import pandas as pd

from artistrec.errors import InputError


def listener_counts(interactions: pd.DataFrame) -> pd.Series:
    """Distinct listeners per artist id."""
    return interactions.groupby("artist_id")["user_id"].nunique()


def select_candidates(interactions: pd.DataFrame, train: np.ndarray, n_candidates: int) -> np.ndarray:
    """The ``n_candidates`` train artists with most distinct listeners.

    Most popular first, ties broken by the smaller id. This order is the column order
    of the targets and of the model's output.
    """
    if n_candidates > train.shape[0]:
        raise InputError(
            "config",
            "n_candidates",
            f"is {n_candidates} but there are only {train.shape[0]} train artists",
            f"set n_candidates to at most {train.shape[0]}",
        )
    counts = listener_counts(interactions).reindex(train, fill_value=0)
    order = np.lexsort((train, -counts.to_numpy()))
    return train[order[:n_candidates]]
