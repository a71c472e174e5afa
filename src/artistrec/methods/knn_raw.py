"""``content_knn_raw``: the content kNN on the weighted side information itself, without the SVD.

Each source's key counts are weighted as its SVD step weighs them (the config's
weighting, statistics fitted on train artists), the rows are compared by cosine
(each source counting alike, as in ``content_vectors``), and the nearest train
artists vote as in the content kNN; k, power and votes are tuned on valid artists
over the content kNN's grid. It answers whether the SVD helps at all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import scipy.sparse as sp

from artistrec import io
from artistrec.features import fit_weighting, source_matrix, weigh
from artistrec.matrices import positions
from artistrec.methods.base import FEATURES, OneRowMethod, Scored
from artistrec.methods.knn import tuned_knn
from artistrec.vectors import sparse_content_vectors

if TYPE_CHECKING:
    from artistrec.methods.context import Context


def weighted_rows(context: Context) -> sp.csr_matrix:
    """Every artist's weighted side information (rows follow ``context.artist_ids``), as unit rows."""
    train_rows = positions(context.parts["train"], context.artist_ids)
    blocks = []
    for source, weighting in context.plan.weightings.items():
        counts = source_matrix(io.read_parquet(context.inputs.features[source]), context.artist_ids).counts
        blocks.append(weigh(counts, weighting, fit_weighting(counts, train_rows)))
    return sparse_content_vectors(blocks)


class ContentKnnRaw(OneRowMethod):
    """The content kNN on the weighted sparse side-information rows (no SVD), tuned on valid artists."""

    name = "content_knn_raw"
    kind = "baseline"
    needs = frozenset({FEATURES})

    def score(self, context: Context) -> Scored:
        rows = weighted_rows(context)
        return tuned_knn(
            context, self.name, {part: rows[positions(ids, context.artist_ids)] for part, ids in context.parts.items()}
        )
