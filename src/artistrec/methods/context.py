"""What the evaluate step builds once and every method reads: the split, the candidates, the
listening, the trained networks, the kNNs' spaces, the users, and each method tuned.

Everything is loaded or computed on first use, so a method that is off costs nothing. Scores
are computed for a chunk of artists at a time (``chunks``); the chunk's ``Queries`` are kept
until the next chunk of the same part is asked, and with them what several methods read of
the chunk (a blend's experts, ``Queries.once``).
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
from artistrec.methods.base import Method, Plan, Queries, Scored, Space
from artistrec.methods.listeners import ListenerScores
from artistrec.methods.network import averaged_networks
from artistrec.methods.popularity import with_fallback
from artistrec.metrics import RowScores, query_map, score_chunks
from artistrec.model import SCORE_BATCH
from artistrec.neighbours import vote_rows
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
        self._chunk: dict[str, tuple[tuple[int, int], Queries]] = {}

    def once(self, key: tuple[str, ...], compute: Callable[[], Any]) -> Any:
        """``compute()``'s value, computed the first time ``key`` is asked and kept for the evaluation."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def let_go(self, part: str) -> None:
        """Let go of the last chunk of ``part``'s queries (and what methods computed of them)."""
        self._chunk.pop(part, None)

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

    def scores(self, row: str, part: str, rows: slice) -> np.ndarray:
        """A row's raw scores of the ``part`` artists ``rows``."""
        return self.result(row).of(part, rows)

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
        and linked users; kept until another chunk of ``part`` is asked."""
        if part not in self._chunk or self._chunk[part][0] != (rows.start, rows.stop):
            ids = self.parts[part][rows]
            queries = Queries(
                stack_vectors(self.svd_files, ids), self.content(part)[rows], self.listening.links_of(ids)
            )
            self._chunk[part] = ((rows.start, rows.stop), queries)
        return self._chunk[part][1]

    def tuned(self, row: str) -> dict[str, Any]:
        """What ``row``'s method tuned on the valid artists (tuned on first use; ``content_knn``: rule tune_knn's)."""
        if row not in self.tuning:
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

    # --- the kNNs' spaces ---------------------------------------------------------------

    def train_vectors(self, space: Space) -> np.ndarray:
        """The train artists in ``space`` (``Scorer``), built once."""
        return self.once(("train_vectors", space), lambda: self.space_vectors(space, self.parts["train"]))

    def space_vectors(self, space: Space, artist_ids: np.ndarray) -> np.ndarray:
        """``artist_ids`` in a kNN's space: ``content_vectors`` of the tuned content kNN's SVD size, or the averaged
        networks' ``embeddings``."""
        if space == "content":
            return content_vectors([stack_vectors([path], artist_ids) for path in self.inputs.knn_svd[self.knn["dim"]]])
        from artistrec.networks import embeddings

        return embeddings([self.network(name) for name in averaged_networks(self.plan)], artist_ids)

    def content(self, part: str) -> np.ndarray:
        """The ``part`` artists' vectors in the tuned content kNN's space, built once."""
        return self.once(("content", part), lambda: self.space_vectors("content", self.parts[part]))

    def vote_rows(self, votes: str) -> sp.csr_matrix:
        """The rows neighbours vote with (``vote_rows``: distributions or sets), built once per kind: each kNN
        reads the kind it tuned, the content kNN's votes and the clusters the kind ``knn.json`` chose."""
        return self.once(("vote_rows", votes), lambda: vote_rows(self.targets, votes))

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
