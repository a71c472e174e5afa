"""The network's embedding kNN: a kNN like the content baseline, in the space the trained tower learned.

Neighbours are train artists whose last hidden layer (of every ensemble member)
is close: artists whose side information predicts similar co-listening.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from artistrec.methods.base import OneRowMethod, Plan, Scored
from artistrec.methods.knn import tuned_knn
from artistrec.methods.network import averaged_networks

if TYPE_CHECKING:
    from artistrec.methods.context import Context


class NetworkEmbeddingKnn(OneRowMethod):
    """Neighbours in the towers' last hidden layer vote like the content kNN's; (k, power, votes) tuned on valid."""

    name = "network_embedding_knn"
    kind = "network"

    def models(self, plan: Plan) -> list[str]:
        return averaged_networks(plan)

    def score(self, context: Context) -> Scored:
        from artistrec.networks import embeddings

        networks = [context.network(name) for name in context.members]
        return tuned_knn(context, self.name, {part: embeddings(networks, ids) for part, ids in context.parts.items()})
