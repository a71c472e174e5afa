"""KMeans clusters of the content vectors and the cluster popularity baseline."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from artistrec.clusters import BATCH_SIZE, Clusters, assign, fit_clusters, read_clusters, save_clusters
from artistrec.errors import InputError
from artistrec.methods.cluster_popularity import cluster_popularity_scores
from artistrec.vectors import content_vectors

BLOBS = 3
PER_BLOB = 20
ZERO_ROWS = [5, 30, 61]


def blob_vectors(seed: int = 0, blobs: int = BLOBS, per_blob: int = PER_BLOB) -> tuple[np.ndarray, np.ndarray]:
    """Content vectors of well-separated blobs in 8 dims with a few zero rows, and each row's blob (-1: zero row)."""
    rng = np.random.default_rng(seed)
    centres = np.eye(8)[:blobs] * 5.0
    blob = np.repeat(np.arange(blobs), per_blob)
    vectors = centres[blob] + rng.normal(scale=0.3, size=(blob.shape[0], 8))
    for row in ZERO_ROWS:
        vectors = np.insert(vectors, row, 0.0, axis=0)
        blob = np.insert(blob, row, -1)
    return content_vectors([vectors]), blob


def recovers(blob: np.ndarray, labels: np.ndarray) -> bool:
    """Every blob is one cluster and different blobs are different clusters; zero rows are in none."""
    informed = blob >= 0
    pairs = set(zip(blob[informed].tolist(), labels[informed].tolist(), strict=True))
    n_blobs = len(set(blob[informed].tolist()))
    return len(pairs) == n_blobs == len({label for _, label in pairs}) and bool((labels[~informed] == -1).all())


def test_the_chosen_k_is_the_number_of_blobs_and_every_tried_k_has_a_silhouette():
    vectors, _ = blob_vectors()
    clusters = fit_clusters(vectors, ks=[2, 3, 5], seed=0)
    assert clusters.k == BLOBS
    assert sorted(clusters.silhouettes) == [2, 3, 5]
    assert clusters.silhouettes[3] == max(clusters.silhouettes.values())
    assert clusters.centroids.shape == (BLOBS, 8)
    assert clusters.centroids.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(clusters.centroids, axis=1), 1.0, rtol=1e-6)


def test_assign_recovers_the_blobs_of_the_training_rows_and_labels_zero_rows_minus_one():
    vectors, blob = blob_vectors()
    labels = assign(vectors, fit_clusters(vectors, ks=[2, 3, 5], seed=0).centroids)
    assert labels.dtype == np.int64
    assert labels[ZERO_ROWS].tolist() == [-1, -1, -1]
    assert recovers(blob, labels)
    assert set(labels[blob >= 0].tolist()) == set(range(BLOBS))


def test_blobs_spanning_several_mini_batches_are_recovered_with_the_best_silhouette():
    vectors, blob = blob_vectors(blobs=6, per_blob=BATCH_SIZE // 2)  # 3 mini-batches of rows
    clusters = fit_clusters(vectors, ks=[2, 4, 6, 9], seed=0)
    assert clusters.k == 6
    assert clusters.silhouettes[6] == max(clusters.silhouettes.values())
    assert recovers(blob, assign(vectors, clusters.centroids))


def test_the_chosen_k_is_the_best_silhouette_among_the_tried_ks():
    # Overlapping blobs: no k is obviously right, the silhouette decides.
    rng = np.random.default_rng(3)
    vectors = content_vectors([rng.normal(size=(400, 5)) + np.repeat(np.eye(5)[:4], 100, axis=0)])
    clusters = fit_clusters(vectors, ks=[2, 3, 4, 6, 8], seed=1, sample_size=300)
    best = max(clusters.silhouettes.values())
    assert clusters.k == min(k for k, silhouette in clusters.silhouettes.items() if silhouette == best)
    assert clusters.centroids.shape == (clusters.k, 5)


def test_the_same_seed_gives_the_same_clusters():
    vectors, _ = blob_vectors()
    first = fit_clusters(vectors, ks=[2, 3, 5], seed=7, sample_size=30)
    second = fit_clusters(vectors, ks=[2, 3, 5], seed=7, sample_size=30)
    assert first.k == second.k
    assert first.silhouettes == second.silhouettes
    np.testing.assert_array_equal(first.centroids, second.centroids)


def test_the_same_input_and_seed_write_byte_identical_clusters_files(tmp_path):
    vectors, _ = blob_vectors(blobs=4, per_blob=BATCH_SIZE // 2)
    artist_ids = np.arange(vectors.shape[0]) * 10
    for name in ("first.npz", "second.npz"):
        clusters = fit_clusters(vectors, ks=[3, 4, 6], seed=5)
        save_clusters(tmp_path / name, artist_ids, assign(vectors, clusters.centroids), clusters)
    assert (tmp_path / "first.npz").read_bytes() == (tmp_path / "second.npz").read_bytes()


def test_no_possible_k_is_a_config_error_naming_clusters_k():
    vectors, _ = blob_vectors()  # 60 rows with side information
    with pytest.raises(InputError) as error:
        fit_clusters(vectors, ks=[60, 100], seed=0)
    assert error.value.source == "config"
    assert error.value.field == "clusters.k"


def test_ks_too_large_for_the_data_are_skipped():
    vectors, _ = blob_vectors()
    assert sorted(fit_clusters(vectors, ks=[3, 60], seed=0).silhouettes) == [3]


def test_cluster_popularity_sums_the_targets_of_the_train_artists_in_the_query_cluster():
    train_labels = np.array([0, 1, 0, -1, 1])
    train_targets = sp.csr_matrix(
        np.array(
            [
                [0.5, 0.5, 0.0],
                [0.0, 1.0, 0.0],
                [0.0, 0.2, 0.8],
                [1.0, 0.0, 0.0],  # no cluster: counts for none
                [0.0, 0.4, 0.6],
            ]
        )
    )
    query_labels = np.array([1, 0, -1, 2])  # cluster 2 has no train artists
    scores = cluster_popularity_scores(query_labels, train_labels, train_targets)
    assert scores.dtype == np.float32
    np.testing.assert_allclose(
        scores,
        [[0.0, 1.4, 0.6], [0.5, 0.7, 0.8], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]],
        rtol=1e-6,
    )


def test_saved_clusters_read_back_the_same(tmp_path):
    clusters = Clusters(k=2, centroids=np.eye(2, 4, dtype=np.float32), silhouettes={2: 0.5, 4: 0.25})
    artist_ids = np.array([10, 20, 30])
    labels = np.array([1, -1, 0])
    save_clusters(tmp_path / "clusters.npz", artist_ids, labels, clusters)
    read_ids, read_labels, read = read_clusters(tmp_path / "clusters.npz")
    assert read_ids.tolist() == [10, 20, 30]
    assert read_labels.tolist() == [1, -1, 0]
    assert read.k == 2
    assert read.silhouettes == {2: 0.5, 4: 0.25}
    np.testing.assert_array_equal(read.centroids, clusters.centroids)
