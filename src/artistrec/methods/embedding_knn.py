"""The network's embedding kNN: a kNN like the content baseline, in the space the trained tower learned.

Neighbours are train artists whose last hidden layer (of every ensemble member)
is close: artists whose side information predicts similar co-listening.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from artistrec.methods.base import Plan, Queries, Scored, Scorer, ServableMethod
from artistrec.methods.knn import knn_tuning, knn_votes
from artistrec.methods.network import averaged_networks
from artistrec.vectors import shares_at

if TYPE_CHECKING:
    from artistrec.methods.context import Context


class NetworkEmbeddingKnn(ServableMethod):
    """Neighbours in the towers' last hidden layer vote like the content kNN's; (k, power, votes) tuned on valid."""

    name = "network_embedding_knn"
    kind = "network"

    def models(self, plan: Plan) -> list[str]:
        return averaged_networks(plan)

    def score(self, context: Context) -> Scored:
        valid = context.space_vectors("embedding", context.parts["valid"])
        tuning, _ = knn_tuning(context, self.name, context.train_vectors("embedding"), valid)
        return self.served(context, {self.name: tuning})

    def serve(self, scorer: Scorer, queries: Queries) -> np.ndarray:
        return knn_votes(scorer, queries, "embedding", self.name)

    @staticmethod
    def chance(scores: np.ndarray, top: np.ndarray) -> np.ndarray:
        """The candidate's share of the neighbours' votes."""
        return shares_at(scores, top)
