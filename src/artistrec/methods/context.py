"""What the evaluate step builds once and every method reads: the split, the candidates, the
listening, the trained networks, the tuned content kNN's space, the users, and the other methods' scores.

Everything is loaded or computed on first use, so a method that is off costs nothing. Scores
are computed for a chunk of artists at a time (``chunks``); what several methods read of a
chunk (a blend's experts) is kept until the next chunk of the same part is asked.
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
from artistrec.methods.blend import log_votes
from artistrec.methods.listeners import ListenerScores
from artistrec.methods.popularity import with_fallback
from artistrec.metrics import RowScores, query_map, score_chunks
from artistrec.model import SCORE_BATCH
from artistrec.neighbours import nearest_train_artists, neighbour_votes, vote_rows
from artistrec.split import read_split, tuning_parts
from artistrec.variants import input_files
from artistrec.vectors import content_vectors, informed, log_probability

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
        self._chunk: dict[str, tuple[int, int]] = {}
        self._chunk_memo: dict[str, dict[tuple[str, ...], Any]] = {part: {} for part in PARTS}

    def once(self, key: tuple[str, ...], compute: Callable[[], Any]) -> Any:
        """``compute()``'s value, computed the first time ``key`` is asked and kept for the evaluation."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def chunk_once(self, part: str, rows: slice, key: tuple[str, ...], compute: Callable[[], Any]) -> Any:
        """``compute()``'s value for the ``part`` artists ``rows``, kept until another chunk of ``part`` is asked:
        what several methods read of one chunk (a blend's experts) is computed once, and only one chunk's is held.
        """
        memo = self.held(part, rows)
        if key not in memo:
            memo[key] = compute()
        return memo[key]

    def held(self, part: str, rows: slice) -> dict[tuple[str, ...], Any]:
        """What is kept for the ``part`` chunk ``rows``; asking another chunk of ``part`` lets go of the last one's."""
        if self._chunk.get(part) != (rows.start, rows.stop):
            self._chunk[part], self._chunk_memo[part] = (rows.start, rows.stop), {}
        return self._chunk_memo[part]

    def let_go(self, part: str) -> None:
        """Let go of what is kept for the last chunk of ``part``."""
        self._chunk.pop(part, None)
        self._chunk_memo[part] = {}

    def chunks(self, part: str) -> list[slice]:
        """The chunks the ``part`` artists are scored in (``score_chunks``: whole batches of a network's forward pass)."""
        return score_chunks(self.parts[part].shape[0], self.n_candidates, SCORE_BATCH)

    def has(self, row: str) -> bool:
        """Whether ``row`` is a row of an enabled method."""
        return row in self._owner

    @property
    def n_candidates(self) -> int:
        return int(self.candidates.shape[0])

    def result(self, row: str) -> Scored:
        """A row of an enabled method: its scores of any chunk, tuned on first use (its tuning recorded then)."""
        method = self._owner[row]
        if method.name not in self._scored:
            self._scored[method.name] = method.score_rows(self)
            for scored in self._scored[method.name].values():
                self.tuning.update(scored.tuning)
        return self._scored[method.name][row]

    def scores(self, row: str, part: str, rows: slice, keep: bool = True) -> np.ndarray:
        """A row's raw scores of the ``part`` artists ``rows``. ``keep``: held for the chunk, as a method that
        builds on another row (a blend) reads them; else scores already held are reused, and others not held.
        """
        memo, key = self.held(part, rows), ("scores", row)
        if key in memo:
            return memo[key]
        scores = self.result(row).of(part, rows)
        if keep:
            memo[key] = scores
        return scores

    # --- side information and the popularity fallback -------------------------------

    @functools.cached_property
    def svd_files(self) -> list[str]:
        """The default network's SVD files, in input order: what "has side information" means."""
        return input_files(self.inputs.models["default"])

    @functools.cached_property
    def informed(self) -> dict[str, np.ndarray]:
        return {part: informed(self.svd_files, self.parts[part]) for part in PARTS}

    def valid_map(self, scores_by_setting: Iterable[tuple[Hashable, RowScores]]) -> dict[Hashable, dict[str, float]]:
        """MAP@K on the valid artists of each setting's scores (of a chunk of valid rows), artists without side
        information by popularity as on test."""
        informed = self.informed["valid"]

        def fallen_back(scores: RowScores) -> RowScores:
            return lambda rows: with_fallback(scores(rows), informed[rows])

        settings = ((key, fallen_back(scores)) for key, scores in scores_by_setting)
        maps = query_map(self.listen, self.artist_ids, self.parts["valid"], self.candidates, settings, SCORE_BATCH)
        if len(self.chunks("valid")) > 1:  # the next pass starts at the first chunk
            self.let_go("valid")
        return maps

    def queries(self, part: str, rows: slice) -> Queries:
        """The ``part`` artists ``rows`` as servable methods score them: their network inputs, content vectors
        and linked users."""
        ids = self.parts[part][rows]

        def queries() -> Queries:
            return Queries(stack_vectors(self.svd_files, ids), self.content(part)[rows], self.listening.links_of(ids))

        return self.chunk_once(part, rows, ("queries",), queries)

    def tuned(self, row: str) -> dict[str, Any]:
        """What ``row``'s method tuned on the valid artists (tuned on first use)."""
        self.result(row)
        return self.tuning[row]

    # --- trained networks ------------------------------------------------------------

    def network(self, name: str) -> TrainedVariant:
        """A trained variant (or ``listeners``, the listener network), loaded once with its width checked."""
        from artistrec.networks import TrainedVariant

        path = self.inputs.models[name]
        return self.once(
            ("network", name),
            lambda: TrainedVariant.load_named(name, path, self.n_candidates, int(self.listen.shape[1])),
        )

    def probabilities(self, name: str, part: str, rows: slice) -> np.ndarray:
        """A softmax network's probabilities over the candidates for the ``part`` artists ``rows``."""
        return self.network(name).probabilities(self.parts[part][rows])

    @property
    def members(self) -> list[str]:
        """The ensemble's networks (``default`` alone when the ensemble is off)."""
        models = self.inputs.models
        return sorted(name for name in models if name == "default" or name.startswith("member-")) or ["default"]

    def log_ensemble(self, part: str, rows: slice) -> np.ndarray:
        """The log of the ensemble members' mean probabilities (the default network's when there are none) for
        the ``part`` artists ``rows``, kept for the chunk."""

        def mean() -> np.ndarray:  # summed in place: one member's probabilities besides the total at a time
            total = self.probabilities(self.members[0], part, rows)
            for name in self.members[1:]:
                total += self.probabilities(name, part, rows)
            return total / len(self.members)

        return self.chunk_once(part, rows, ("log_ensemble",), lambda: log_probability(mean()))

    # --- the tuned content kNN's space ---------------------------------------------------

    @functools.cached_property
    def knn_train(self) -> np.ndarray:
        """The train artists in the tuned content kNN's space, in float64 as ``nearest_train_artists`` compares."""
        return self.knn_vectors(self.parts["train"]).astype(np.float64)

    def knn_vectors(self, artist_ids: np.ndarray) -> np.ndarray:
        """``content_vectors`` of ``artist_ids`` in the tuned content kNN's SVD size."""
        return content_vectors([stack_vectors([path], artist_ids) for path in self.inputs.knn_svd[self.knn["dim"]]])

    def content(self, part: str) -> np.ndarray:
        """The ``part`` artists' vectors in the tuned content kNN's space, built once."""
        return self.once(("content", part), lambda: self.knn_vectors(self.parts[part]))

    def content_neighbours(self, part: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest train artists of the ``part`` artists in the tuned content kNN's space."""
        return self.content_neighbours_of(self.content(part), k)

    def content_neighbours_of(self, content: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest train artists of queries' vectors in the tuned content kNN's space."""
        return nearest_train_artists(content, self.knn_train, k)

    def vote_rows(self, votes: str) -> sp.csr_matrix:
        """The rows neighbours vote with (``vote_rows``: distributions or sets), built once per kind: each kNN
        reads the kind it tuned, the content kNN's votes and the clusters the kind ``knn.json`` chose."""
        return self.once(("vote_rows", votes), lambda: vote_rows(self.targets, votes))

    def content_votes(self, part: str, rows: slice) -> np.ndarray:
        """The tuned content kNN's votes for the ``part`` artists ``rows``, kept for the chunk."""
        k, power = self.knn["k"], self.knn["power"]
        nearest = self.once(("content_neighbours", part), lambda: self.content_neighbours(part, k))
        return self.chunk_once(
            part,
            rows,
            ("content_votes",),
            lambda: neighbour_votes(*(a[rows] for a in nearest), self.vote_rows(self.knn["votes"]), k, power),
        )

    def log_votes(self, row: str, part: str, rows: slice) -> np.ndarray:
        """A kNN's votes of the ``part`` artists ``rows`` as a blend's log probabilities, kept for the chunk: the
        tuned content kNN's (``content_knn``) or another kNN row's."""

        def votes() -> np.ndarray:
            return self.content_votes(part, rows) if row == "content_knn" else self.scores(row, part, rows)

        return self.chunk_once(part, rows, ("log_votes", row), lambda: log_votes(votes()))

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
