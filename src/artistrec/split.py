"""Artist-level split: test artists play the new, unseen artists."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from artistrec import io
from artistrec.errors import InputError
from artistrec.layout import SPLIT_PARTS

FIX = "delete the split folder and run snakemake again, which splits the artists anew"

TUNING_DRAW_SEED = 0  # the draw of valid artists settings are chosen on (``tuning_artists``)


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


def read_split(files: dict[str, str], listened: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The artist ids of each part (train, valid, test) from its ``split/{part}.txt``.

    Each part must be sorted without repeats and the parts disjoint; given the
    ``listened`` artist ids of the interactions table, together they must be exactly those.
    """
    parts = {name: io.read_ids(path) for name, path in files.items()}
    for name, ids in parts.items():
        if np.any(np.diff(ids) <= 0):
            raise InputError(
                files[name], "artist ids", "are not sorted without repeats, as the split step writes them", FIX
            )
    ids = np.concatenate(list(parts.values()))
    if np.unique(ids).shape[0] < ids.shape[0]:
        raise InputError(files[SPLIT_PARTS[0]], "artist ids", "the split's parts share artists", FIX)
    if listened is not None:
        _check_covers(np.sort(ids), np.unique(listened), files)
    return parts


def _check_covers(split_ids: np.ndarray, listened: np.ndarray, files: dict[str, str]) -> None:
    missing = np.setdiff1d(listened, split_ids, assume_unique=True)
    extra = np.setdiff1d(split_ids, listened, assume_unique=True)
    if missing.shape[0] or extra.shape[0]:
        problem = (
            f"leaves out {missing.shape[0]} artists of the interactions table (first: {missing[0]})"
            if missing.shape[0]
            else f"has {extra.shape[0]} artists the interactions table lacks (first: {extra[0]})"
        )
        raise InputError(str(Path(files[SPLIT_PARTS[0]]).parent), "artist ids", f"the split {problem}", FIX)


def all_artists(parts: dict[str, np.ndarray]) -> np.ndarray:
    """Every artist of the split, sorted: the row order of the run's artist matrices."""
    return np.sort(np.concatenate([parts["train"], parts["valid"], parts["test"]]))


def tuning_artists(valid: np.ndarray, count: int) -> np.ndarray:
    """The valid artists a run chooses its settings on: a fixed uniform draw of ``count``, sorted; all when fewer.

    Every tuning (``tune_knn``, each method's, the served method) scores the same draw,
    so a setting's cost stops growing with the catalogue once it has ``count`` valid artists.
    """
    if valid.shape[0] <= count:
        return valid
    drawn = np.random.default_rng(TUNING_DRAW_SEED).choice(valid.shape[0], count, replace=False)
    return valid[np.sort(drawn)]


def tuning_parts(parts: dict[str, np.ndarray], count: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Every artist of the split (the rows of its matrices) and the parts with valid narrowed to
    ``tuning_artists``: what a step that chooses settings reads.
    """
    return all_artists(parts), parts | {"valid": tuning_artists(parts["valid"], count)}
