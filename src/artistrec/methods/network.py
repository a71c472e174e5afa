"""The YouTube-DNN-style softmax network over the candidates: one tower, the ensemble, and one tower per source."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from artistrec.methods.base import Method, Plan, Queries, Scored, Scorer, ServableMethod
from artistrec.variants import DEFAULT, ablation_variants
from artistrec.variants import ensemble_members as members_of
from artistrec.vectors import log_probability

if TYPE_CHECKING:
    from artistrec.methods.context import Context


def ensemble_members(plan: Plan) -> list[str]:
    """The networks ``network_ensemble`` averages (``default`` is member 0); empty when it is off."""
    return members_of(int(plan.switches["network_ensemble"]))


def averaged_networks(plan: Plan) -> list[str]:
    """The networks the kNN-style network methods read: the ensemble's members, else the default network."""
    return ensemble_members(plan) or [DEFAULT]


def default_probabilities(scorer: Scorer, queries: Queries) -> np.ndarray:
    """The default network's probabilities of ``queries``, once per ``queries``: the tower's row and the ensemble's
    mean (``default`` is its first member) read the same forward pass."""
    return queries.once(("probabilities", DEFAULT), lambda: scorer.network(DEFAULT).probabilities_of(queries.inputs))


def log_ensemble(scorer: Scorer, queries: Queries) -> np.ndarray:
    """The log of the averaged networks' mean probabilities (``averaged_networks``), once per ``queries``."""

    def mean() -> np.ndarray:  # summed in place into a copy of the default network's (held for the tower's row)
        names = averaged_networks(scorer.plan)
        total = default_probabilities(scorer, queries).copy()
        for name in names[1:]:
            total += scorer.network(name).probabilities_of(queries.inputs)
        return total / len(names)

    return queries.once(("log_ensemble",), lambda: log_probability(mean()))


def probability_at(scores: np.ndarray, top: np.ndarray) -> np.ndarray:
    """Log probabilities at the positions ``top`` of each row, as probabilities."""
    return np.exp(np.take_along_axis(scores, top, axis=1).astype(np.float64))


def scored_network(context: Context, name: str) -> Scored:
    """One softmax network's log probabilities."""
    return Scored(lambda part, rows: log_probability(context.probabilities(name, part, rows)))


class Network(ServableMethod):
    """The tower trained on the config's sources: softmax over the candidates (log probabilities as scores)."""

    name = "network"
    kind = "network"

    def enabled(self, plan: Plan) -> bool:
        return True  # the default network decides who has side information: always trained

    def models(self, plan: Plan) -> list[str]:
        return [DEFAULT]

    def serve(self, scorer: Scorer, queries: Queries) -> np.ndarray:
        return log_probability(default_probabilities(scorer, queries))

    @staticmethod
    def chance(scores: np.ndarray, top: np.ndarray) -> np.ndarray:
        """The softmax probability."""
        return probability_at(scores, top)


class NetworkEnsemble(ServableMethod):
    """The mean of ``methods.network_ensemble`` towers that differ only in their model seed."""

    name = "network_ensemble"
    kind = "network"

    def enabled(self, plan: Plan) -> bool:
        return len(ensemble_members(plan)) > 1

    def models(self, plan: Plan) -> list[str]:
        return ensemble_members(plan)

    def serve(self, scorer: Scorer, queries: Queries) -> np.ndarray:
        return log_ensemble(scorer, queries)

    @staticmethod
    def chance(scores: np.ndarray, top: np.ndarray) -> np.ndarray:
        """The members' mean softmax probability."""
        return probability_at(scores, top)


class Ablation(Method):
    """The default tower on each feature source alone (``network_only_{source}``), when there are several."""

    name = "ablation"
    kind = "network"
    compared = False

    def enabled(self, plan: Plan) -> bool:
        return bool(plan.switches["ablation"]) and len(ablation_variants(list(plan.sources))) > 0

    def models(self, plan: Plan) -> list[str]:
        return ablation_variants(list(plan.sources))

    def rows(self, plan: Plan) -> list[str]:
        return [self.row(variant) for variant in sorted(self.models(plan))]

    @staticmethod
    def row(variant: str) -> str:
        """``network_only_{source}`` of the variant ``only-{source}``."""
        return f"network_{variant.replace('-', '_')}"

    def owns(self, row: str) -> bool:
        return row.startswith("network_only_")

    def score_rows(self, context: Context) -> dict[str, Scored]:
        return {self.row(variant): scored_network(context, variant) for variant in sorted(self.models(context.plan))}
