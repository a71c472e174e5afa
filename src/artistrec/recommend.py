"""Ask a finished run for similar artists: of a known artist, or of a new one described by side information.

A known artist is described by its SVD vectors from the run. A new artist
is described by raw keys of one or more feature sources (for Last.fm-2k, tag names):
its key-count row is weighted exactly as the SVD step weighted the train artists
(with the stored IDF and mean row length) and projected with the stored SVD components, both
the network's and the tuned content kNN's; sources it says nothing about get zero vectors, as
for a test artist without that side information.

The run's served method (``run.json``) or the one asked then scores the candidates
through its ``serve``, the call the run's evaluate step made for the test artists: the
listener network (``network_listeners``) through the users it predicts will listen, the
content kNN's listeners (``content_knn_listeners``) through the listening of the artist's
nearest train artists, the softmax networks directly, the kNNs through their neighbours'
votes, the blends through their experts, with the artist's own users of the run's user
source (its taggers) adding their listening where the method reads them. An artist without
side information is ranked by popularity, as the evaluation ranks such artists. The batch
job (:mod:`artistrec.batch`) scores whole folders of new artists the same way.
"""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from artistrec import io, methods, records
from artistrec.errors import InputError
from artistrec.features import WeightingStats, weigh
from artistrec.layout import RunFolder
from artistrec.matrices import listeners, positions, source_users
from artistrec.methods import listeners as nl
from artistrec.methods.base import Queries, Space
from artistrec.methods.network import averaged_networks
from artistrec.methods.popularity import with_fallback
from artistrec.metrics import rank
from artistrec.neighbours import vote_rows
from artistrec.split import all_artists, read_split
from artistrec.variants import DEFAULT, model_inputs
from artistrec.vectors import content_vectors


@dataclass(frozen=True)
class Source:
    """One feature source's SVD file: the vectors of the run's artists and what projects a new one."""

    name: str
    path: Path
    artist_ids: np.ndarray
    vectors: np.ndarray
    keys: np.ndarray
    stats: WeightingStats
    components: np.ndarray
    weighting: str

    @classmethod
    def read(cls, path: Path, name: str) -> Source:
        data = io.read_npz(path)
        return cls(
            name=name,
            path=path,
            artist_ids=data["artist_ids"],
            vectors=data["vectors"],
            keys=data["keys"],
            stats=WeightingStats(idf=data["idf"], mean_length=float(data["mean_length"])),
            components=data["components"],
            weighting=str(data["weighting"]),
        )

    @property
    def dim(self) -> int:
        return int(self.components.shape[0])

    def vectors_of(self, artist_ids: np.ndarray) -> np.ndarray:
        rows = positions(artist_ids, self.artist_ids)
        if (rows < 0).any():
            raise InputError(str(self.path), "artist_ids", "lacks artists of the run's split", "re-run the workflow")
        return self.vectors[rows]


def key_columns(source: Source, keys: list[str]) -> np.ndarray:
    """Column of each given key, matched case-insensitively; an unknown key is a one-line error."""
    folded = np.char.lower(source.keys.astype(str))
    columns, unknown = [], []
    for key in keys:
        found = np.flatnonzero(folded == key.strip().lower())
        columns.extend(found.tolist())
        if found.shape[0] == 0:
            unknown.append(key)
    if unknown:
        close = difflib.get_close_matches(unknown[0].lower(), folded.tolist(), n=3)
        hint = f"close matches: {', '.join(close)}" if close else "use keys that occur in the run's side information"
        raise InputError(str(source.path), f"{source.name} keys", f"unknown {', '.join(map(repr, unknown))}", hint)
    return np.asarray(columns, dtype=np.int64)


def key_row(source: Source, keys: list[str]) -> sp.csr_matrix:
    """The raw key-count row of a new artist: each given key counts once (repeats add up)."""
    columns = key_columns(source, keys)
    row = sp.csr_matrix(
        (np.ones(columns.shape[0]), (np.zeros(columns.shape[0], dtype=np.int64), columns)),
        shape=(1, source.keys.shape[0]),
    )
    row.sum_duplicates()
    return row


def project(source: Source, counts: sp.csr_matrix) -> np.ndarray:
    """SVD vectors of raw key-count rows, weighted as the SVD step weighted the train artists."""
    weighted = weigh(counts, source.weighting, source.stats)
    return np.asarray(weighted @ source.components.T, dtype=np.float32)


def projected(sources: list[Source], counts: dict[str, sp.csr_matrix]) -> np.ndarray:
    """The SVD vectors of ``sources`` (concatenated) of raw key-count rows per source; a source not given: zeros."""
    n_rows = next(iter(counts.values())).shape[0]
    return np.hstack(
        [project(s, counts[s.name]) if s.name in counts else np.zeros((n_rows, s.dim), np.float32) for s in sources]
    )


def find_artist(artists: pd.DataFrame, query: str, where: str = "artists.parquet") -> int:
    """An artist id from an id or a name (case-insensitive); unknown or ambiguous names are errors.

    ``where`` names the artists table in error messages.
    """
    text = query.strip()
    if text.isdigit() and (artists["artist_id"] == int(text)).any():
        return int(text)
    folded = artists["name"].astype(str).str.casefold()
    matches = artists.loc[folded == text.casefold(), "artist_id"].to_numpy()
    if matches.shape[0] == 1:
        return int(matches[0])
    if matches.shape[0] > 1:
        ids = ", ".join(str(i) for i in matches[:5])
        raise InputError(where, "name", f"{query!r} names several artists ({ids})", "give the artist id")
    close = difflib.get_close_matches(text.casefold(), folded.tolist(), n=3)
    hint = f"close matches: {', '.join(close)}" if close else "give an artist id or name of the run's data"
    raise InputError(where, "artist", f"{query!r} is neither an artist id nor a name", hint)


# The methods ``artistrec recommend`` can serve, in registry order.
SERVABLE = {method.name: method for method in methods.METHODS if method.servable}


class ResultsFolder:
    """A finished run folder (``results/{dataset}/split-{seed}``) as a scorer of any artist.

    ``method`` is one of ``SERVABLE``; None: the run's served method, the one with the
    best valid MAP@10 (its ``run.json``). Its networks' ``inputs.json`` name the feature
    sources and SVD files in input order. Networks (and with them TensorFlow) are loaded
    on first use, so a mistyped artist or tag is reported at once. Scores come from the
    method's ``serve``, the same call the evaluate step made for the test artists.
    """

    def __init__(self, folder: str | Path, method: str | None = None) -> None:
        self.folder = Path(folder)
        self.run = RunFolder(str(self.folder))
        self.method = self.record["served_method"]["name"] if method is None else method
        self.served = SERVABLE[self.method]
        for name in self.served.models(self.plan):
            if not Path(self.run.model(name)).is_file():
                fix = f"run with methods.{self.method}: true, or ask --method network"
                raise InputError(str(self.folder), self.run.relative(self.run.model(name)), "is missing", fix)
        self.model_file = Path(self.run.model(DEFAULT))  # always trained: it names the network inputs
        self.candidates = io.read_ids(self.run.candidates)
        self.artists_file = Path(self.run.dataset.artists)
        records.check(self.artists_file)
        self.artists = io.read_parquet(self.artists_file)
        self.names = self.artists.set_index("artist_id")["name"]
        self.sources = [Source.read(path, source) for source, path in model_inputs(self.model_file)]
        self.available = {source.name: source for source in self.sources}
        self._networks: dict[str, Any] = {}
        self._train_vectors: dict[str, np.ndarray] = {}
        self._vote_rows: dict[str, sp.csr_matrix] = {}

    @functools.cached_property
    def content_sources(self) -> list[Source]:
        """Each source's SVD file at the tuned content kNN's size (``knn.json``), in input order; the network's
        own where the sizes agree (read once)."""
        dim = io.read_json(self.run.knn)["chosen"]["dim"]
        paths = [Path(self.run.svd(s.name, s.weighting, dim)) for s in self.sources]
        return [s if s.path == path else Source.read(path, s.name) for s, path in zip(self.sources, paths)]

    @functools.cached_property
    def train_ids(self) -> np.ndarray:
        """The train artists, in the order of the listening's train rows and the targets' rows."""
        return read_split(self.run.split())["train"]

    def train_vectors(self, space: Space) -> np.ndarray:
        """The train artists in a kNN's space (``Scorer``): the tuned content kNN's, or the averaged networks'."""
        if space not in self._train_vectors:
            if space == "content":
                vectors = content_vectors([source.vectors_of(self.train_ids) for source in self.content_sources])
            else:
                from artistrec.networks import embeddings_of

                inputs = np.hstack([source.vectors_of(self.train_ids) for source in self.sources])
                vectors = embeddings_of([self.network(name) for name in averaged_networks(self.plan)], inputs)
            self._train_vectors[space] = vectors
        return self._train_vectors[space]

    def vote_rows(self, votes: str) -> sp.csr_matrix:
        """What train artists vote with as neighbours (``Scorer``), from the run's targets."""
        if votes not in self._vote_rows:
            self._vote_rows[votes] = vote_rows(io.read_sparse(self.run.targets), votes)
        return self._vote_rows[votes]

    def tuned(self, row: str) -> dict[str, Any]:
        """What ``row``'s method tuned on the run's valid artists (``Scorer``; ``run.json``'s ``tuning``)."""
        tuning = self.record.get("tuning", {})
        if row not in tuning:
            raise InputError(
                str(self.run.record), "tuning", f"has no settings of {row}", "delete it and run snakemake again"
            )
        return tuning[row]

    @functools.cached_property
    def record(self) -> dict[str, Any]:
        """The run's ``run.json``, written by its evaluate step."""
        if not Path(self.run.record).is_file():
            raise InputError(
                str(self.folder),
                "run.json",
                "is missing: not a finished run",
                "give a finished run folder such as results/demo/split-42, or finish this run",
            )
        records.check_inputs_of(self.run.record)
        return io.read_json(self.run.record)

    @functools.cached_property
    def plan(self) -> methods.Plan:
        return methods.Plan.from_params(self.record["plan"])

    def network(self, name: str) -> Any:
        """A trained network of the run, loaded once (``Scorer``)."""
        from artistrec.model import quiet_fd2
        from artistrec.networks import TrainedVariant

        if name not in self._networks:
            n_users = int(self.listening.candidate_listen.shape[1])
            with quiet_fd2():
                self._networks[name] = TrainedVariant.load_named(
                    name, self.run.model(name), int(self.candidates.shape[0]), n_users
                )
        return self._networks[name]

    @property
    def user_source(self) -> str | None:
        """The run's source keyed by user id (its taggers, likers), as its evaluate step recorded it."""
        return self.plan.user_source

    @functools.cached_property
    def interactions(self) -> pd.DataFrame:
        return io.read_parquet(self.run.dataset.interactions)

    @functools.cached_property
    def run_artists(self) -> np.ndarray:
        """Every artist of the run's split (sorted)."""
        return all_artists(read_split(self.run.split(), self.interactions["artist_id"].to_numpy()))

    @functools.cached_property
    def listening(self) -> nl.ListenerScores:
        """Candidates scored through listeners exactly as the run's evaluation scored them (``Scorer``)."""
        users = None
        if self.user_source is not None:
            features = io.read_parquet(self.run.dataset.features(self.user_source))
            users = source_users(features, self.interactions, self.run_artists)
        parts = read_split(self.run.split())
        listen = listeners(self.interactions, self.run_artists)
        users_scored = self.record.get("listener_users")  # absent in runs made before users were drawn: all
        return nl.ListenerScores(listen, self.run_artists, self.candidates, parts["train"], users, users_scored)

    def artist_queries(self, artist_id: int) -> Queries:
        """A known artist as the evaluation saw it: its SVD vectors (the network's, the content kNN's) and linked users."""
        ids = np.array([artist_id])
        inputs = np.hstack([s.vectors_of(ids) for s in self.sources])
        content = content_vectors([s.vectors_of(ids) for s in self.content_sources])
        return Queries(inputs, content, self.listening.links_of(ids))

    def new_artist_queries(self, given: dict[str, list[str]]) -> Queries:
        """A new artist described by raw keys per source (its given users of the user source linked)."""
        unknown = sorted(set(given) - set(self.available))
        if unknown:
            raise InputError(
                str(self.model_file.with_name("inputs.json")),
                "source",
                f"{unknown[0]!r} is not a feature source of this run",
                f"use one of {', '.join(self.available)}",
            )
        rows = {name: key_row(self.available[name], keys) for name, keys in given.items()}
        keys = given.get(self.user_source, []) if self.user_source is not None else []
        linked = pd.DataFrame({"artist_id": np.zeros(len(keys), dtype=np.int64), "key": keys})
        queries = self.new_queries(rows, self.linked_users(linked, np.zeros(1, dtype=np.int64)))
        if not queries.inputs.any():
            raise InputError(
                str(self.folder / "svd"),
                "keys",
                "none of the given keys occurs among the train artists",
                "give keys the train artists have",
            )
        return queries

    def new_queries(self, counts: dict[str, sp.csr_matrix], links: sp.csr_matrix | None) -> Queries:
        """New artists from their raw key counts per source (a source not given: zeros) and linked users."""
        inputs = projected(self.sources, counts)
        content = content_vectors([projected([source], counts) for source in self.content_sources])
        return Queries(inputs, content, links)

    def linked_users(self, linked: pd.DataFrame, artist_ids: np.ndarray) -> sp.csr_matrix | None:
        """New artists' own users of the run's user source (``artist_id, key`` rows), over the listening users."""
        if self.user_source is None:
            return None
        return source_users(linked, self.interactions, artist_ids)

    def check_top(self, k: int) -> None:
        """Refuse to recommend more artists than the run has candidates (rather than fewer, silently)."""
        n_candidates = int(self.candidates.shape[0])
        if k > n_candidates:
            raise InputError(
                "command line",
                "--top",
                f"is {k}, more than the run's {n_candidates} candidates",
                f"give at most {n_candidates}",
            )

    def scored(self, queries: Queries) -> np.ndarray:
        """The served method's raw scores (queries x candidates), popularity order for queries without side
        information, as the evaluate step scores."""
        return with_fallback(self.served.serve(self, queries), queries.informed)

    def top(self, queries: Queries, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Per query, the positions among the candidates of its top ``k`` and their raw scores, ranked as the
        evaluate step ranks (ties to the more popular candidate)."""
        scores = self.scored(queries)
        top = rank(scores, k)
        return top, np.take_along_axis(scores, top, axis=1)

    def similar(self, queries: Queries, k: int, exclude: int | None = None) -> pd.DataFrame:
        """Top ``k`` of one artist: ``rank, artist_id, name, score`` (the chance the method gives, ``chance``; none
        for an artist without side information, ranked by popularity).
        """
        scores = self.scored(queries)
        top = rank(scores, k + 1)[0]
        top = top[self.candidates[top] != exclude][:k]
        ids = self.candidates[top]
        shown = self.served.chance(scores, top[None])[0] if queries.informed[0] else np.full(ids.shape[0], np.nan)
        return pd.DataFrame(
            {
                "rank": np.arange(1, ids.shape[0] + 1),
                "artist_id": ids,
                "name": [str(self.names.get(i, i)) for i in ids],
                "score": shown,
            }
        )


def json_rows(table: pd.DataFrame) -> list[dict[str, Any]]:
    """The recommendations as JSON-ready rows (plain ints, strings and floats; no score: null)."""
    return [
        {
            "rank": int(row.rank),
            "artist_id": int(row.artist_id),
            "name": str(row.name),
            "score": float(row.score) if np.isfinite(row.score) else None,
        }
        for row in table.itertuples(index=False)
    ]


def recommend(
    folder: str | Path,
    artist: str | None = None,
    side_information: dict[str, list[str]] | None = None,
    k: int = 10,
    method: str | None = None,
) -> dict[str, Any]:
    """Top-``k`` similar artists to a known artist (id or name) or to a new artist's side information,
    by ``method`` (a key of ``SERVABLE``; None: the run's served method).
    """
    run = ResultsFolder(folder, method)
    run.check_top(k)
    if artist is not None:
        artist_id = find_artist(run.artists, artist, str(run.artists_file))
        queries = run.artist_queries(artist_id)
        query: dict[str, Any] = {
            "artist_id": artist_id,
            "name": str(run.names.get(artist_id, artist_id)),
            "has_side_information": bool(queries.informed[0]),
        }
        table = run.similar(queries, k, exclude=artist_id)
    else:
        query = {"side_information": side_information}
        table = run.similar(run.new_artist_queries(side_information or {}), k)
    return {"results": str(folder), "method": run.method, "query": query, "recommendations": json_rows(table)}
