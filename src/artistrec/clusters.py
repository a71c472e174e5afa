"""KMeans clusters of the artists' side information (the cluster baseline's groups).

The clusters are fitted on the train artists' ``content_vectors`` (unit rows, so
Euclidean KMeans groups them by cosine) with mini-batch KMeans; the number of
clusters is the tried k with the best cosine silhouette. Artists without side
information (zero rows) belong to no cluster: label -1.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from artistrec import io
from artistrec.errors import InputError
from artistrec.vectors import has_side_information, normalise_rows

NO_CLUSTER = -1
BATCH_SIZE = 1024  # rows per mini-batch step (scikit-learn's default)
N_INIT = 3  # k-means++ starts per k; the one of least inertia on the init sample is kept


@dataclass(frozen=True)
class Clusters:
    k: int
    centroids: np.ndarray  # k x d, float32, unit rows
    silhouettes: dict[int, float]  # tried k -> cosine silhouette score


def fit_clusters(vectors: np.ndarray, ks: list[int], seed: int, sample_size: int = 5000) -> Clusters:
    """Mini-batch KMeans for each k in ``ks`` on the non-zero rows; keep the k of best silhouette (ties: smaller k).

    Mini-batch KMeans (``MiniBatchKMeans``: ``BATCH_SIZE`` rows a step, the best of
    ``N_INIT`` k-means++ starts) costs a fraction of full KMeans, and the cluster
    baseline's MAP@10 stays within noise of it (docs/performance.md, "Clusters"). The
    rows are fitted as float64: scikit-learn's k-means++ computes float32
    distances in slow upcast chunks. A k needs at least k + 1 rows for a
    silhouette, so larger ones are skipped. The silhouette is computed on a
    sample of at most ``sample_size`` rows, since it is quadratic in their number.
    The same ``seed`` gives the same clusters.
    """
    from sklearn.cluster import MiniBatchKMeans  # imported here: most steps never need scikit-learn, slow to import
    from sklearn.metrics import silhouette_score

    informed = vectors[has_side_information(vectors)].astype(np.float64)
    n = informed.shape[0]
    tried = sorted(k for k in set(ks) if 2 <= k < n)
    if not tried:
        raise InputError(
            "config",
            "clusters.k",
            f"no k in {sorted(ks)} is at least 2 and below the {n} train artists with side information",
            f"choose values of clusters.k from 2 to {n - 1}" if n > 2 else "give more artists side information",
        )
    silhouettes: dict[int, float] = {}
    centroids: dict[int, np.ndarray] = {}
    for k in tried:
        kmeans = MiniBatchKMeans(n_clusters=k, batch_size=BATCH_SIZE, n_init=N_INIT, random_state=seed).fit(informed)
        silhouettes[k] = float(
            silhouette_score(
                informed, kmeans.labels_, metric="cosine", sample_size=min(sample_size, n), random_state=seed
            )
        )
        centroids[k] = normalise_rows(kmeans.cluster_centers_).astype(np.float32)
    best = max(tried, key=lambda k: (silhouettes[k], -k))
    return Clusters(k=best, centroids=centroids[best], silhouettes=silhouettes)


def assign(vectors: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Each row's cluster: the centroid of highest cosine; -1 for a zero row."""
    labels = np.argmax(vectors @ centroids.T, axis=1).astype(np.int64)
    labels[~has_side_information(vectors)] = NO_CLUSTER
    return labels


def save_clusters(path: str | os.PathLike[str], artist_ids: np.ndarray, labels: np.ndarray, clusters: Clusters) -> None:
    tried = sorted(clusters.silhouettes)
    io.write_npz(
        path,
        artist_ids=artist_ids,
        labels=labels,
        centroids=clusters.centroids,
        k=np.asarray(clusters.k, dtype=np.int64),
        tried_ks=np.asarray(tried, dtype=np.int64),
        silhouettes=np.asarray([clusters.silhouettes[k] for k in tried], dtype=np.float64),
    )


def read_clusters(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray, Clusters]:
    """``(artist_ids, labels, clusters)`` as ``save_clusters`` wrote them."""
    data = io.read_npz(path)
    silhouettes = {int(k): float(s) for k, s in zip(data["tried_ks"], data["silhouettes"], strict=True)}
    clusters = Clusters(k=int(data["k"]), centroids=data["centroids"], silhouettes=silhouettes)
    return data["artist_ids"], data["labels"], clusters
