"""The cluster baseline: the candidates most co-listened with the train artists of the artist's KMeans cluster."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from artistrec.clusters import NO_CLUSTER, read_clusters
from artistrec.matrices import positions
from artistrec.methods.base import CLUSTERS, OneRowMethod, Scored

if TYPE_CHECKING:
    from artistrec.methods.context import Context


def cluster_popularity_scores(
    query_labels: np.ndarray, train_labels: np.ndarray, vote_rows: sp.csr_matrix
) -> np.ndarray:
    """The cluster baseline: the candidates most co-listened with the train artists of the query's cluster.

    A query without a cluster, or whose cluster has no train artists, gets an
    all-zero row, which ``rank`` turns into popularity order.
    """
    n_clusters = max(int(train_labels.max(initial=NO_CLUSTER)), int(query_labels.max(initial=NO_CLUSTER))) + 1
    return cluster_votes(train_labels, vote_rows, n_clusters)[query_labels]


def cluster_votes(train_labels: np.ndarray, vote_rows: sp.csr_matrix, n_clusters: int) -> np.ndarray:
    """Per cluster (``n_clusters`` rows, then an all-zero row that label -1 indexes): the sum of its train
    artists' ``vote_rows`` (their co-listening distributions or co-listened sets; one indicator-matrix product).
    """
    members = np.flatnonzero(train_labels != NO_CLUSTER)
    membership = sp.csr_matrix(
        (np.ones(members.shape[0], dtype=np.float32), (train_labels[members], members)),
        shape=(n_clusters, train_labels.shape[0]),
    )
    per_cluster = np.zeros((n_clusters + 1, vote_rows.shape[1]), dtype=np.float32)
    per_cluster[:n_clusters] = (membership @ vote_rows).toarray()
    return per_cluster


class ClusterPopularity(OneRowMethod):
    """Each cluster's train artists vote like the tuned content kNN's neighbours (distributions or sets)."""

    name = "cluster_popularity"
    kind = "baseline"
    needs = frozenset({CLUSTERS})

    def score(self, context: Context) -> Scored:
        assert context.inputs.clusters is not None  # the rules give the clusters when this method is on
        cluster_ids, labels, clusters = read_clusters(context.inputs.clusters)
        of_part = {part: labels[positions(ids, cluster_ids)] for part, ids in context.parts.items()}
        per_cluster = cluster_votes(of_part["train"], context.vote_rows(context.knn["votes"]), clusters.k)
        tuning = {"k": clusters.k, "silhouettes": {str(k): v for k, v in clusters.silhouettes.items()}}
        return Scored(lambda part, rows: per_cluster[of_part[part][rows]], {"clusters": tuning})
