"""What every method is: a name, a kind, what it needs, a config switch, and one call that scores.

A method family tunes on the valid artists and then scores any chunk of the valid or
the test artists over the candidates (dense scores of every artist over a whole
catalogue would not fit); the evaluate step applies the popularity fallback,
measures and writes. Scores are raw (before the fallback), so that one method can
build on another's (a blend on the content kNN's votes).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol

import numpy as np
import scipy.sparse as sp

from artistrec.vectors import has_side_information

if TYPE_CHECKING:
    from artistrec.methods.context import Context
    from artistrec.methods.listeners import ListenerScores
    from artistrec.networks import TrainedVariant

Kind = Literal["baseline", "network"]

# What a method may need beyond the split, candidates, listening and targets.
USERS = "users"  # the dataset's user source (a source keyed by user id)
CLUSTERS = "clusters"  # the KMeans clusters of rule clusters
FEATURES = "features"  # every source's ingested feature table (the raw side information)


@dataclass(frozen=True)
class Plan:
    """What a run's config says about its methods: the dataset, the weighting of each feature source
    (in input order), the user source and the ``methods`` switches. The registry reads it to decide what runs.
    """

    dataset: str
    weightings: Mapping[str, str]
    user_source: str | None
    switches: Mapping[str, Any]

    @property
    def sources(self) -> tuple[str, ...]:
        """The feature sources, in input order."""
        return tuple(self.weightings)

    @classmethod
    def from_config(cls, config: Mapping[str, Any], dataset: str) -> Plan:
        data = config["datasets"][dataset]
        weightings = {source: settings["weighting"] for source, settings in data["features"].items()}
        return cls(dataset, weightings, data["user_source"], dict(config["methods"]))

    def as_params(self) -> dict[str, Any]:
        """A plain dict (a Snakemake ``params`` value) that ``from_params`` reads back; sources keep their order."""
        return {
            "dataset": self.dataset,
            "sources": [[source, weighting] for source, weighting in self.weightings.items()],
            "switches": dict(sorted(self.switches.items())),
            "user_source": self.user_source,
        }

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> Plan:
        weightings = {source: weighting for source, weighting in params["sources"]}
        return cls(params["dataset"], weightings, params["user_source"], dict(params["switches"]))


@dataclass(frozen=True)
class Scored:
    """One method, tuned: ``of(part, rows)`` gives its raw scores (rows x candidates) of the ``part``
    (``valid`` or ``test``) artists ``rows`` (a slice), ``tuning`` what it tuned and ``valid_map`` the
    valid artists' metrics of the chosen setting where tuning measured them (``Context.valid_map``: the
    choice of the served method reads them rather than scoring the valid artists again)."""

    of: Callable[[str, slice], np.ndarray]
    tuning: dict[str, Any] = field(default_factory=dict)
    valid_map: dict[str, float] | None = None


class Method(ABC):
    """One method family: the rows of ``metrics.json`` it gives and how it scores them.

    Most families give one row named ``name`` (``OneRowMethod``); one with several
    (one per feature source, say) names them in ``rows`` and scores them in ``score_rows``.
    """

    name: ClassVar[str]
    kind: ClassVar[Kind]
    needs: ClassVar[frozenset[str]] = frozenset()
    # Compared with the best baseline in the multi-seed summary (ablations are not).
    compared: ClassVar[bool] = True
    # ``artistrec recommend`` can score a new artist with it.
    servable: ClassVar[bool] = False

    def enabled(self, plan: Plan) -> bool:
        """On unless the config switches it off (``methods.{name}: false``); needs are met."""
        return bool(plan.switches.get(self.name, True)) and (USERS not in self.needs or plan.user_source is not None)

    def models(self, plan: Plan) -> list[str]:
        """The trained networks it reads (model variant names, ``listeners`` for the listener network)."""
        return []

    @abstractmethod
    def rows(self, plan: Plan) -> list[str]:
        """The rows of ``metrics.json`` it gives under ``plan``."""

    @abstractmethod
    def owns(self, row: str) -> bool:
        """Whether a row of ``metrics.json`` (of any run) is this family's."""

    @abstractmethod
    def score_rows(self, context: Context) -> dict[str, Scored]:
        """Each row, tuned on the valid artists: its scores of any chunk of artists and its tuning record."""


class OneRowMethod(Method):
    """A method with one row, named as the method."""

    def rows(self, plan: Plan) -> list[str]:
        return [self.name]

    def owns(self, row: str) -> bool:
        return row == self.name

    def score_rows(self, context: Context) -> dict[str, Scored]:
        return {self.name: self.score(context)}

    @abstractmethod
    def score(self, context: Context) -> Scored:
        """The method tuned on the valid artists: its scores of any chunk of artists and its tuning record."""


@dataclass(frozen=True)
class Queries:
    """Artists to score, as a servable method sees them: the network inputs (SVD vectors of every
    source, in input order), their vectors in the tuned content kNN's space (``content_vectors`` of
    its SVD size) and, with a user source, each artist's own users (its taggers, likers) as rows over
    the listening table's users.

    The evaluate step builds them for the valid and test artists from the run's SVD files;
    ``artistrec recommend`` and the batch job from new artists' side information.
    """

    inputs: np.ndarray
    content: np.ndarray
    links: sp.csr_matrix | None
    held: dict[Hashable, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def size(self) -> int:
        return int(self.inputs.shape[0])

    @property
    def informed(self) -> np.ndarray:
        """Which queries have side information (the others are ranked by popularity)."""
        return has_side_information(self.inputs)

    def once(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """``compute()``'s value for these queries, computed the first time ``key`` is asked and let go with
        them: what several methods read of the same queries (a blend's experts) is computed once."""
        if key not in self.held:
            self.held[key] = compute()
        return self.held[key]


# The spaces a servable kNN finds train artists in (``Scorer.train_vectors``).
Space = Literal["content", "embedding"]


class Scorer(Protocol):
    """What serving needs from a run: its plan, trained networks, the candidates' listeners, the train
    artists in a kNN's space, what their neighbours vote with and what each method tuned on valid artists.

    The evaluate step's context is one; a finished run folder (``artistrec.recommend``) is another.
    """

    @property
    def plan(self) -> Plan: ...

    def network(self, name: str) -> TrainedVariant: ...

    @property
    def listening(self) -> ListenerScores: ...

    def train_vectors(self, space: Space) -> np.ndarray:
        """The train artists, in the order of the listening's train rows, in ``space``: ``content`` (the tuned
        content kNN's, ``content_vectors``) or ``embedding`` (the averaged networks' last hidden layers,
        ``embeddings``), float32 (``nearest_train_artists`` compares them in float64 a block at a time)."""
        ...

    def vote_rows(self, votes: str) -> sp.csr_matrix:
        """What train artists vote with as neighbours (``neighbours.vote_rows`` of the train targets)."""
        ...

    def tuned(self, row: str) -> dict[str, Any]:
        """What the method of ``row`` tuned on the valid artists (``tuning`` in ``metrics.json`` and
        ``run.json``; ``content_knn``: the content kNN that rule ``tune_knn`` chose)."""
        ...


class ServableMethod(OneRowMethod):
    """A method that scores any artist from its ``Queries`` (network inputs, content vectors, linked users), a new
    one included.

    The evaluation scores the valid and test artists through ``serve`` too, so a new
    artist described by the same side information as a test artist gets the same scores.
    """

    servable = True

    @abstractmethod
    def serve(self, scorer: Scorer, queries: Queries) -> np.ndarray:
        """Raw scores (queries x candidates) before the popularity fallback."""

    @staticmethod
    @abstractmethod
    def chance(scores: np.ndarray, top: np.ndarray) -> np.ndarray:
        """What ``artistrec recommend`` shows for the candidates ``top`` (positions per row) of raw ``scores``
        (queries x candidates): a probability."""

    def score(self, context: Context) -> Scored:
        return self.served(context)

    def served(
        self, context: Context, tuning: dict[str, Any] | None = None, valid_map: dict[str, float] | None = None
    ) -> Scored:
        """``serve`` of the evaluation's chunks of artists, with what tuning chose and measured."""
        return Scored(lambda part, rows: self.serve(context, context.queries(part, rows)), tuning or {}, valid_map)
