"""What the evaluate step builds once and every method reads: the split, the candidates, the
listening, the trained networks, the tuned content kNN's space, the users, and the other methods' scores.

Everything is loaded or computed on first use, so a method that is off costs nothing.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from artistrec import io
from artistrec.candidates import read_candidates
from artistrec.errors import InputError
from artistrec.features import stack_vectors
from artistrec.matrices import listeners, source_users
from artistrec.methods.base import Method, Plan, Queries, Scored
from artistrec.methods.listeners import ListenerScores
from artistrec.methods.popularity import with_fallback
from artistrec.metrics import query_map
from artistrec.neighbours import nearest_train_artists, neighbour_votes, vote_rows
from artistrec.split import read_split, tuning_parts
from artistrec.variants import input_files
from artistrec.vectors import content_vectors, informed

if TYPE_CHECKING:
    from artistrec.networks import TrainedVariant

log = logging.getLogger(__name__)

PARTS = ("valid", "test")  # the artists every method scores


@dataclass(frozen=True)
class EvaluationInputs:
    """The files of one run that the evaluate step reads.

    ``models`` maps model variant names (``default``, ``member-{i}``, ``only-{source}``,
    ``listeners``) to their ``model.h5``; ``knn_svd`` maps each SVD size to the
    sources' SVD files; ``clusters`` and ``users`` (the user source's feature
    table) are None and ``features`` (each source's feature table) is empty when
    no method needs them.
    """

    split: dict[str, str]
    candidates: str
    interactions: str
    targets: str
    models: dict[str, str]
    knn: str
    knn_svd: dict[int, list[str]]
    clusters: str | None
    users: str | None
    features: dict[str, str]


class Context:
    """The shared state of one evaluation; ``result(row)`` gives any enabled method's scores, computed once."""

    def __init__(self, inputs: EvaluationInputs, plan: Plan, settings: dict[str, Any], methods: list[Method]) -> None:
        self.inputs, self.plan, self.settings = inputs, plan, settings
        self.interactions = io.read_parquet(inputs.interactions)
        split = read_split(inputs.split, self.interactions["artist_id"].to_numpy())
        self.artist_ids, self.parts = tuning_parts(split, settings["tuning_artists"])  # valid: what methods tune on
        self.candidates = read_candidates(inputs.candidates, self.parts["train"])
        self.listen = listeners(self.interactions, self.artist_ids)
        self.targets = io.read_sparse(inputs.targets)
        self.knn: dict[str, Any] = io.read_json(inputs.knn)["chosen"]
        self.tuning: dict[str, Any] = {"content_knn": self.knn}  # tuned by rule tune_knn, then by each method
        self._owner = {row: method for method in methods for row in method.rows(plan)}
        self._scored: dict[str, dict[str, Scored]] = {}
        self._memo: dict[tuple[str, ...], Any] = {}

    def once(self, key: tuple[str, ...], compute: Callable[[], Any]) -> Any:
        """``compute()``'s value, computed the first time ``key`` is asked and kept for the evaluation."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def has(self, row: str) -> bool:
        """Whether ``row`` is a row of an enabled method."""
        return row in self._owner

    @property
    def n_candidates(self) -> int:
        return int(self.candidates.shape[0])

    def result(self, row: str) -> Scored:
        """The raw scores of a row of an enabled method, scored on first use (its tuning recorded then)."""
        method = self._owner[row]
        if method.name not in self._scored:
            self._scored[method.name] = method.score_rows(self)
            for scored in self._scored[method.name].values():
                self.tuning.update(scored.tuning)
        return self._scored[method.name][row]

    # --- side information and the popularity fallback -------------------------------

    @functools.cached_property
    def svd_files(self) -> list[str]:
        """The default network's SVD files, in input order: what "has side information" means."""
        return input_files(self.inputs.models["default"])

    @functools.cached_property
    def informed(self) -> dict[str, np.ndarray]:
        return {part: informed(self.svd_files, self.parts[part]) for part in PARTS}

    def valid_map(self, scores_by_setting: Iterable[tuple[Hashable, np.ndarray]]) -> dict[Hashable, dict[str, float]]:
        """MAP@K on the valid artists of each setting's scores, artists without side information by popularity as on test."""
        fallen_back = ((key, with_fallback(scores, self.informed["valid"])) for key, scores in scores_by_setting)
        return query_map(self.listen, self.artist_ids, self.parts["valid"], self.candidates, fallen_back)

    def queries(self, part: str) -> Queries:
        """The ``part`` artists as servable methods score them: their network inputs and linked users."""
        ids = self.parts[part]
        return self.once(
            ("queries", part), lambda: Queries(stack_vectors(self.svd_files, ids), self.listening.links_of(ids))
        )

    # --- trained networks ------------------------------------------------------------

    def network(self, name: str) -> TrainedVariant:
        """A trained variant (or ``listeners``, the listener network), loaded once with its width checked."""
        from artistrec.networks import TrainedVariant

        path = self.inputs.models[name]
        return self.once(
            ("network", name),
            lambda: TrainedVariant.load_named(name, path, self.n_candidates, int(self.listen.shape[1])),
        )

    def probabilities(self, name: str, part: str) -> np.ndarray:
        """A softmax network's probabilities over the candidates for the ``part`` artists (computed once)."""
        return self.once(("probabilities", name, part), lambda: self.network(name).probabilities(self.parts[part]))

    @property
    def members(self) -> list[str]:
        """The ensemble's networks (``default`` alone when the ensemble is off)."""
        models = self.inputs.models
        return sorted(name for name in models if name == "default" or name.startswith("member-")) or ["default"]

    def ensemble(self, part: str) -> np.ndarray:
        """The mean probabilities of the ensemble members (the default network's when there are none), computed once."""
        return self.once(
            ("ensemble", part), lambda: np.mean([self.probabilities(name, part) for name in self.members], axis=0)
        )

    # --- the tuned content kNN's space ---------------------------------------------------

    @functools.cached_property
    def knn_train(self) -> np.ndarray:
        return self.knn_vectors(self.parts["train"])

    def knn_vectors(self, artist_ids: np.ndarray) -> np.ndarray:
        """``content_vectors`` of ``artist_ids`` in the tuned content kNN's SVD size."""
        return content_vectors([stack_vectors([path], artist_ids) for path in self.inputs.knn_svd[self.knn["dim"]]])

    def content_neighbours(self, part: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest train artists of the ``part`` artists in the tuned content kNN's space."""
        return nearest_train_artists(self.knn_vectors(self.parts[part]), self.knn_train, k)

    def vote_rows(self) -> sp.csr_matrix:
        """The rows neighbours vote with, as the tuned content kNN chose (distributions or sets)."""
        return vote_rows(self.targets, self.knn["votes"])

    def content_votes(self, part: str) -> np.ndarray:
        """The tuned content kNN's votes for the ``part`` artists (computed once)."""
        k, power = self.knn["k"], self.knn["power"]
        return self.once(
            ("content_votes", part),
            lambda: neighbour_votes(*self.content_neighbours(part, k), self.vote_rows(), k, power),
        )

    # --- the users of the user source, and the candidates scored through listeners -------------

    @functools.cached_property
    def listening(self) -> ListenerScores:
        """The candidates' listeners and the linked users' listening rates (built once)."""
        return ListenerScores(
            self.listen,
            self.artist_ids,
            self.candidates,
            self.parts["train"],
            self.users,
            self.settings["listener_users"],
        )

    @functools.cached_property
    def users(self) -> sp.csr_matrix | None:
        """Artists x users of the user source (its taggers, likers); None without one."""
        if self.inputs.users is None:
            return None
        users = source_users(io.read_parquet(self.inputs.users), self.interactions, self.artist_ids)
        if users.nnz == 0:
            raise InputError(
                "config",
                f"datasets.{self.plan.dataset}.user_source",
                f"no key of {self.inputs.users} is a user_id of the listening table",
                "name a source keyed by user id, or null",
            )
        return users
