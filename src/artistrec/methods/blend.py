"""``network_knn``: a product of experts of the network (ensemble) and the kNNs, weights tuned on valid artists."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from artistrec.methods.base import OneRowMethod, Plan, Scored
from artistrec.methods.network import averaged_networks
from artistrec.vectors import distribution, log_probability

if TYPE_CHECKING:
    from artistrec.methods.context import Context

log = logging.getLogger(__name__)

# Floor of a kNN probability in the blend: a candidate no neighbour voted for is
# not impossible, only much less likely than those with votes.
BLEND_FLOOR = 1e-6


def log_votes(votes: np.ndarray) -> np.ndarray:
    """An expert's log probabilities in a blend: its non-negative votes as a distribution, floored."""
    return np.log(distribution(votes) + BLEND_FLOOR)


def blend(network: np.ndarray, weight: float, votes: Sequence[tuple[np.ndarray, float]]) -> np.ndarray:
    """Geometric blend ``weight * log p_network + (1 - weight) * sum_i share_i * log p_i``.

    ``network`` holds probabilities; ``votes`` pairs each kNN's non-negative votes
    with its share (the shares sum to 1). A product of experts rewards candidates
    every method likes, which on valid artists beats the arithmetic mean of the
    distributions.
    """
    scores = weight * log_probability(network)
    for expert, share in votes:
        if share:
            scores += (1.0 - weight) * share * log_votes(expert)
    return scores


def knn_votes(content: np.ndarray, embedding: np.ndarray | None, share: float) -> list[tuple[np.ndarray, float]]:
    """The kNN experts of the blend: the content kNN and, with ``share``, the embedding kNN."""
    return [(content, 1.0 - share)] + ([(embedding, share)] if embedding is not None else [])


class NetworkKnn(OneRowMethod):
    """The network (ensemble) blended with the tuned content kNN and, when it is on, the embedding kNN."""

    name = "network_knn"
    kind = "network"

    def models(self, plan: Plan) -> list[str]:
        return averaged_networks(plan)

    def score(self, context: Context) -> Scored:
        embedding = context.result("network_embedding_knn") if context.has("network_embedding_knn") else None
        embedding_votes = {part: None if embedding is None else getattr(embedding, part) for part in ("valid", "test")}
        shares = context.settings["blend_embedding_shares"] if embedding is not None else [0.0]

        def blended(part: str, weight: float, share: float) -> np.ndarray:
            experts = knn_votes(context.content_votes(part), embedding_votes[part], share)
            return blend(context.ensemble(part), weight, experts)

        grid = [(weight, share) for weight in context.settings["blend_weights"] for share in shares]
        by_setting = context.valid_map(((weight, share), blended("valid", weight, share)) for weight, share in grid)
        weight, share = max(by_setting, key=lambda ws: (by_setting[ws]["map@10"], -ws[0], -ws[1]))
        tuning = {
            "weight": weight,
            "embedding_share": share,
            "valid_map@10": [
                {"weight": w, "embedding_share": s, "map@10": m["map@10"]} for (w, s), m in by_setting.items()
            ],
        }
        log.info("network_knn: network weight %.2f, embedding kNN share %.2f (tuned on valid)", weight, share)
        return Scored(blended("valid", weight, share), blended("test", weight, share), {self.name: tuning})
