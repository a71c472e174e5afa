"""Artist-level split: test artists play the new, unseen artists."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from artistrec import io


@dataclass(frozen=True)
class Split:
    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray


def split_sizes(n_artists: int, test_fraction: float, valid_fraction: float) -> tuple[int, int, int]:
    """How many train, valid and test artists a split of ``n_artists`` has."""
    n_test = int(round(test_fraction * n_artists))
    n_valid = int(round(valid_fraction * (n_artists - n_test)))
    return n_artists - n_test - n_valid, n_valid, n_test


def split_artists(artist_ids: np.ndarray, test_fraction: float, valid_fraction: float, seed: int) -> Split:
    """Split artist ids into disjoint sorted train, valid and test sets.

    Test is ``test_fraction`` of all artists; valid is ``valid_fraction`` of the rest.
    The permutation is drawn from ``seed`` over the sorted unique ids, so the split
    depends only on the set of ids and the seed, never on the input order.
    """
    ids = np.unique(np.asarray(artist_ids, dtype=np.int64))
    order = np.random.default_rng(seed).permutation(ids.shape[0])
    _, n_valid, n_test = split_sizes(ids.shape[0], test_fraction, valid_fraction)
    test = np.sort(ids[order[:n_test]])
    valid = np.sort(ids[order[n_test : n_test + n_valid]])
    train = np.sort(ids[order[n_test + n_valid :]])
    return Split(train=train, valid=valid, test=test)


def read_split(files: dict[str, str]) -> dict[str, np.ndarray]:
    """The artist ids of each part (train, valid, test) from its ``split/{part}.txt``."""
    return {name: io.read_ids(path) for name, path in files.items()}


def all_artists(parts: dict[str, np.ndarray]) -> np.ndarray:
    """Every artist of the split, sorted: the row order of the run's artist matrices."""
    return np.sort(np.concatenate([parts["train"], parts["valid"], parts["test"]]))
