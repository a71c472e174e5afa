"""Side information: one weighted artist x key matrix per source, compressed by TruncatedSVD.

The SVD (and any weighting statistic such as IDF) is fitted on train artists only
and then applied to valid and test artists, so nothing about held-out artists leaks
into the features.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from artistrec import io
from artistrec.errors import InputError
from artistrec.matrices import positions

log = logging.getLogger(__name__)

WEIGHTINGS = ("raw", "log", "tfidf", "bm25")


@dataclass(frozen=True)
class SourceMatrix:
    """Artist x key counts; rows follow ``artist_ids`` (sorted), columns ``keys``."""

    artist_ids: np.ndarray
    keys: np.ndarray
    counts: sp.csr_matrix


def source_matrix(features: pd.DataFrame, artist_ids: np.ndarray, keys: np.ndarray | None = None) -> SourceMatrix:
    """Pivot a canonical feature table onto the given sorted artist ids.

    Artists without a row get an empty row; feature rows of other artists are dropped.
    ``keys`` (sorted strings, a run's SVD keys): the columns, rows with other keys
    dropped; None: the table's own keys.
    """
    rows = positions(features["artist_id"].to_numpy(), artist_ids)
    keep = rows >= 0
    given = features["key"].to_numpy()[keep].astype(str)
    if keys is None:
        keys, columns = np.unique(given, return_inverse=True)
    else:
        columns = positions(given, keys)
        keep[keep] = columns >= 0
        columns = columns[columns >= 0]
    counts = sp.csr_matrix(
        (features["weight"].to_numpy()[keep].astype(np.float64), (rows[keep], columns)),
        shape=(artist_ids.shape[0], keys.shape[0]),
    )
    counts.sum_duplicates()
    return SourceMatrix(artist_ids=artist_ids, keys=keys, counts=counts)


@dataclass(frozen=True)
class WeightingStats:
    """Corpus statistics of a weighting, fitted on train artists only.

    ``idf``: smoothed inverse document frequency of each key; ``mean_length``: the
    mean raw row sum (BM25's average document length).
    """

    idf: np.ndarray
    mean_length: float


def fit_weighting(counts: sp.csr_matrix, fit_rows: np.ndarray) -> WeightingStats:
    fitted = counts[fit_rows]
    document_frequency = np.bincount(fitted.indices, minlength=counts.shape[1])
    idf = np.log((1.0 + fitted.shape[0]) / (1.0 + document_frequency)) + 1.0
    mean_length = float(fitted.sum(axis=1).mean()) if fitted.shape[0] else 1.0
    return WeightingStats(idf=idf, mean_length=max(mean_length, 1e-12))


def weigh(counts: sp.csr_matrix, weighting: str, stats: WeightingStats) -> sp.csr_matrix:
    """Apply a weighting to raw counts, with statistics fitted on train artists.

    - ``raw``: counts as they are;
    - ``log``: log(1 + count), damping heavy users and tags;
    - ``tfidf``: log(1 + count) times IDF;
    - ``bm25``: Okapi BM25 term weights (k1=1.2, b=0.75) times IDF.
    """
    if weighting not in WEIGHTINGS:
        raise ValueError(f"unknown weighting {weighting!r}")
    weighted = sp.csr_matrix(counts, dtype=np.float64, copy=True)
    if weighting == "raw":
        return weighted
    if weighting in ("log", "tfidf"):
        weighted.data = np.log1p(weighted.data)
    if weighting == "bm25":
        k1, b = 1.2, 0.75
        lengths = np.asarray(weighted.sum(axis=1)).ravel()
        row_of_entry = np.repeat(np.arange(weighted.shape[0]), np.diff(weighted.indptr))
        norm = k1 * (1.0 - b + b * lengths[row_of_entry] / stats.mean_length)
        weighted.data = weighted.data * (k1 + 1.0) / (weighted.data + norm)
    if weighting in ("tfidf", "bm25"):
        weighted = sp.csr_matrix(weighted @ sp.diags(stats.idf))
    return weighted


@dataclass(frozen=True)
class SvdFeatures:
    artist_ids: np.ndarray
    vectors: np.ndarray
    explained_variance_ratio: np.ndarray
    components: np.ndarray
    keys: np.ndarray
    stats: WeightingStats


def fit_svd(
    matrix: SourceMatrix, train: np.ndarray, dim: int, weighting: str, seed: int, source: str, dataset: str
) -> SvdFeatures:
    """Fit TruncatedSVD on the weighted rows of train artists and project every artist.

    A row with no side information projects to the zero vector.
    """
    n_keys = matrix.keys.shape[0]
    if dim >= n_keys:
        # The dim comes from the source's own setting or from the dataset's dims (sweep, kNN tuning).
        raise InputError(
            "config",
            f"datasets.{dataset}.features.{source}.dim or datasets.{dataset}.dims",
            f"asks for {dim} SVD dims but source '{source}' has only {n_keys} columns",
            f"keep both below {n_keys}",
        )
    fit_rows = positions(train, matrix.artist_ids)
    if (fit_rows < 0).any():
        raise ValueError("every train artist must have a row in the source matrix")
    stats = fit_weighting(matrix.counts, fit_rows)
    weighted = weigh(matrix.counts, weighting, stats)
    fitted = weighted[fit_rows]
    if fitted.nnz == 0:
        raise InputError(
            source,
            "artist_id",
            "no train artist has side information in this source (all its artists are held out)",
            "drop this source from the config or provide data for more artists",
        )
    from sklearn.decomposition import TruncatedSVD  # imported here: most steps never need scikit-learn, slow to import

    svd = TruncatedSVD(n_components=dim, algorithm="randomized", n_iter=7, random_state=seed)
    svd.fit(fitted)
    vectors = np.asarray(weighted @ svd.components_.T, dtype=np.float32)
    log.info(
        "%s: SVD %d -> %d dims on %d train artists, explained variance %.3f",
        source,
        n_keys,
        dim,
        fit_rows.shape[0],
        float(svd.explained_variance_ratio_.sum()),
    )
    return SvdFeatures(
        artist_ids=matrix.artist_ids,
        vectors=vectors,
        explained_variance_ratio=svd.explained_variance_ratio_.astype(np.float64),
        components=svd.components_.astype(np.float64),  # float64 as fitted: a new artist projects exactly
        keys=matrix.keys,
        stats=stats,
    )


def save_svd(path: str, features: SvdFeatures, weighting: str) -> None:
    """Write ``svd/{source}.npz``: what downstream rules need, plus what projects a new artist."""
    io.write_npz(
        path,
        artist_ids=features.artist_ids,
        vectors=features.vectors,
        explained_variance_ratio=features.explained_variance_ratio,
        components=features.components,
        keys=features.keys.astype(str),
        idf=features.stats.idf,
        mean_length=np.asarray(features.stats.mean_length),
        weighting=np.asarray(weighting),
    )


def stack_vectors(svd_files: list[str], artist_ids: np.ndarray) -> np.ndarray:
    """Concatenate the SVD vectors of several sources (in the given order) for ``artist_ids``."""
    blocks = []
    for path in svd_files:
        data = io.read_npz(path, keys=("artist_ids", "vectors"))  # not the components: large and unused here
        rows = positions(artist_ids, data["artist_ids"])
        if (rows < 0).any():
            missing = artist_ids[rows < 0][:3]
            raise InputError(
                path,
                "artist_ids",
                f"has no row for artists {missing.tolist()} of the run's split",
                "delete it and run snakemake again, which rebuilds it from the run's split",
            )
        blocks.append(data["vectors"][rows])
    return np.hstack(blocks).astype(np.float32)
