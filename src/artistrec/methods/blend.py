"""``network_knn``: a product of experts of the network (ensemble) and the kNNs, weights tuned on valid artists."""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from artistrec.methods.base import Plan, Queries, Scored, Scorer, ServableMethod, Space
from artistrec.methods.knn import knn_votes
from artistrec.methods.network import averaged_networks, log_ensemble
from artistrec.metrics import Combination, Combined, Shortlist
from artistrec.vectors import distribution, softmax_at

if TYPE_CHECKING:
    from artistrec.methods.context import Context

log = logging.getLogger(__name__)

# Floor of a kNN probability in the blend: a candidate no neighbour voted for is
# not impossible, only much less likely than those with votes.
BLEND_FLOOR = 1e-6


def log_votes(votes: np.ndarray) -> np.ndarray:
    """An expert's log probabilities in a blend: its non-negative votes as a distribution, floored."""
    return np.log(distribution(votes) + BLEND_FLOOR)


def blend(log_network: np.ndarray, weight: float, log_experts: Sequence[tuple[np.ndarray, float]]) -> np.ndarray:
    """Geometric blend ``weight * log p_network + (1 - weight) * sum_i share_i * log p_i``.

    ``log_network`` is the network's ``log_probability``; ``log_experts`` pairs each
    kNN's ``log_votes`` with its share (the shares sum to 1). A product of experts
    rewards candidates every method likes, which on valid artists beats the
    arithmetic mean of the distributions.
    """
    scores = weight * log_network
    for expert, share in log_experts:
        if share:
            scores += (1.0 - weight) * share * expert
    return scores


def knn_experts(content: np.ndarray, embedding: np.ndarray | None, share: float) -> list[tuple[np.ndarray, float]]:
    """The kNN experts of the blend: the content kNN and, with ``share``, the embedding kNN."""
    return [(content, 1.0 - share)] + ([(embedding, share)] if embedding is not None else [])


def log_votes_of(scorer: Scorer, queries: Queries, space: Space, row: str) -> np.ndarray:
    """``row``'s kNN votes (``knn_votes``) as a blend's log probabilities, once per ``queries``."""
    return queries.once(("log_votes", row), lambda: log_votes(knn_votes(scorer, queries, space, row)))


def shortlisted(queries: Queries, row: str, experts: Sequence[np.ndarray], combine: Combination) -> Combined:
    """A tuning setting of ``row`` as a ``combine`` of its ``experts`` on their ``Shortlist``, built once per ``queries``."""
    return Combined(queries.once(("shortlist", row), lambda: Shortlist.of(experts)), combine)


def network_knn_experts(scorer: Scorer, queries: Queries, embedding: bool) -> tuple[np.ndarray, ...]:
    """``network_knn``'s experts, log probabilities: the network (ensemble), the content kNN and, with ``embedding``,
    the embedding kNN."""
    experts = [log_ensemble(scorer, queries), log_votes_of(scorer, queries, "content", "content_knn")]
    if embedding:
        experts.append(log_votes_of(scorer, queries, "embedding", "network_embedding_knn"))
    return tuple(experts)


def network_knn_blend(experts: Sequence[np.ndarray], weight: float, share: float) -> np.ndarray:
    """``network_knn``'s blend of its experts (``network_knn_experts``): nondecreasing in each (a ``Combination``)."""
    by_embedding = experts[2] if share else None
    return blend(experts[0], weight, knn_experts(experts[1], by_embedding, share))


def network_knn_scores(scorer: Scorer, queries: Queries, weight: float, share: float) -> np.ndarray:
    """The network (ensemble) blended with the content kNN and, with ``share``, the embedding kNN."""
    return network_knn_blend(network_knn_experts(scorer, queries, bool(share)), weight, share)


class NetworkKnn(ServableMethod):
    """The network (ensemble) blended with the tuned content kNN and, when it is on, the embedding kNN."""

    name = "network_knn"
    kind = "network"

    def models(self, plan: Plan) -> list[str]:
        return averaged_networks(plan)

    def score(self, context: Context) -> Scored:
        shares = context.settings["blend_embedding_shares"] if context.has("network_embedding_knn") else [0.0]

        def blended(rows: slice, weight: float, share: float) -> Combined:
            queries = context.queries("valid", rows)
            experts = network_knn_experts(context, queries, embedding=any(shares))
            return shortlisted(
                queries, self.name, experts, functools.partial(network_knn_blend, weight=weight, share=share)
            )

        grid = [(weight, share) for weight in context.settings["blend_weights"] for share in shares]
        by_setting = context.valid_map(
            ((weight, share), functools.partial(blended, weight=weight, share=share)) for weight, share in grid
        )
        weight, share = max(by_setting, key=lambda ws: (by_setting[ws]["map@10"], -ws[0], -ws[1]))
        tuning = {
            "weight": weight,
            "embedding_share": share,
            "valid_map@10": [
                {"weight": w, "embedding_share": s, "map@10": m["map@10"]} for (w, s), m in by_setting.items()
            ],
        }
        log.info("network_knn: network weight %.2f, embedding kNN share %.2f (tuned on valid)", weight, share)
        return self.served(context, {self.name: tuning}, by_setting[(weight, share)])

    def serve(self, scorer: Scorer, queries: Queries) -> np.ndarray:
        tuned = scorer.tuned(self.name)
        weight, share = float(tuned["weight"]), float(tuned["embedding_share"])
        return queries.once(("scores", self.name), lambda: network_knn_scores(scorer, queries, weight, share))

    @staticmethod
    def chance(scores: np.ndarray, top: np.ndarray) -> np.ndarray:
        """The product of experts' probability (normalised over the candidates)."""
        return softmax_at(scores, top)
