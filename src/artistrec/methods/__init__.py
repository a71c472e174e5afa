"""The registry: the only list of methods. The rules (which networks to train), the evaluate step,
``artistrec recommend``, the report, the summaries and the tests all ask it.

Their order is the order of the rows of ``metrics.json``. A new method is one module
with one ``Method`` subclass, one line here, one key under ``methods:`` in
``config.yaml`` and one line in the config schema.
"""

from __future__ import annotations

from artistrec.methods.base import CLUSTERS, FEATURES, USERS, Kind, Method, Plan, Scored
from artistrec.methods.blend import NetworkKnn
from artistrec.methods.cluster_popularity import ClusterPopularity
from artistrec.methods.embedding_knn import NetworkEmbeddingKnn
from artistrec.methods.knn import ContentKnn
from artistrec.methods.knn_raw import ContentKnnRaw
from artistrec.methods.listeners import ContentKnnListeners, NetworkListeners
from artistrec.methods.network import Ablation, Network, NetworkEnsemble
from artistrec.methods.popularity import Popularity
from artistrec.methods.user_listening import ContentKnnUserListening, NetworkKnnUserListening, UserListening

METHODS: tuple[Method, ...] = (
    Network(),
    NetworkEnsemble(),
    NetworkEmbeddingKnn(),
    NetworkKnn(),
    UserListening(),
    ContentKnnUserListening(),
    NetworkKnnUserListening(),
    NetworkListeners(),
    ContentKnnListeners(),
    Ablation(),
    ContentKnn(),
    ContentKnnRaw(),
    ClusterPopularity(),
    Popularity(),
)

__all__ = [
    "CLUSTERS",
    "FEATURES",
    "METHODS",
    "USERS",
    "Kind",
    "Method",
    "Plan",
    "Scored",
    "baselines",
    "enabled",
    "kind_of",
    "method_of",
    "models",
    "needs",
    "rows",
    "servable",
]


def enabled(plan: Plan) -> list[Method]:
    """The methods the config turns on, in row order."""
    return [method for method in METHODS if method.enabled(plan)]


def rows(plan: Plan) -> list[str]:
    """The rows of ``metrics.json`` under ``plan``, in order."""
    return [row for method in enabled(plan) for row in method.rows(plan)]


def models(plan: Plan) -> list[str]:
    """The trained networks the enabled methods read (model variant names and ``listeners``), each once."""
    return list(dict.fromkeys(name for method in enabled(plan) for name in method.models(plan)))


def needs(plan: Plan, what: str) -> bool:
    """Whether an enabled method needs ``what`` (``USERS``, ``CLUSTERS``, ``FEATURES``)."""
    return any(what in method.needs for method in enabled(plan))


def servable(plan: Plan) -> list[Method]:
    """The enabled methods ``artistrec recommend`` can serve."""
    return [method for method in enabled(plan) if method.servable]


def method_of(row: str) -> Method:
    """The family of a row of any run's ``metrics.json``."""
    for method in METHODS:
        if method.owns(row):
            return method
    raise KeyError(f"{row!r} is no method's row: one of {', '.join(m.name for m in METHODS)}")


def kind_of(row: str) -> Kind:
    return method_of(row).kind


def baselines(rows: list[str]) -> list[str]:
    """The rows of baselines among ``rows`` (of a ``metrics.json``), in their order."""
    return [row for row in rows if kind_of(row) == "baseline"]
