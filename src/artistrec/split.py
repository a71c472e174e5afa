"""Artist-level split: test artists play the new, unseen artists."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Split:
    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray


def split_artists(artist_ids: np.ndarray, test_fraction: float, valid_fraction: float, seed: int) -> Split:
    """Split artist ids into disjoint sorted train, valid and test sets.

    Test is ``test_fraction`` of all artists; valid is ``valid_fraction`` of the rest.
    The permutation is drawn from ``seed`` over the sorted unique ids, so the split
    depends only on the set of ids and the seed, never on the input order.
    """
    ids = np.unique(np.asarray(artist_ids, dtype=np.int64))
    order = np.random.default_rng(seed).permutation(ids.shape[0])
    n_test = int(round(test_fraction * ids.shape[0]))
    n_valid = int(round(valid_fraction * (ids.shape[0] - n_test)))
    test = np.sort(ids[order[:n_test]])
    valid = np.sort(ids[order[n_test : n_test + n_valid]])
    train = np.sort(ids[order[n_test + n_valid :]])
    return Split(train=train, valid=valid, test=test)
