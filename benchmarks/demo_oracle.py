"""How much room the demo leaves above its listener methods (docs/results.md, "The demo").

The demo knows every artist's genre (it is in the generated name) and, through the train
artists' listening, each user's genre (the one most of their listens are in) and how much
they listen. The oracle's chance that user ``u`` listens to a new artist of genre ``g`` is
``scale * listens(u) * ([genre(u) == g] + background)``, normalised to sum to ``scale`` over the
users; it goes through the same noisy-OR, with the artist's own likers and taggers, as
``network_listeners`` and ``content_knn_listeners`` (``ListenerScores``). Its scale and
background are tuned on the valid artists as every method's settings are. For a finished
demo run this prints the oracle's test MAP@K beside the run's listener methods and popularity
(from its ``metrics.json``), each as a share of the oracle's MAP@10.

    python benchmarks/demo_oracle.py                       # results/demo/split-42
    python benchmarks/demo_oracle.py results/demo/split-1  # another split seed
"""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from artistrec import io
from artistrec.demo import GENRES, artist_genres
from artistrec.layout import RunFolder
from artistrec.matrices import positions
from artistrec.methods import Plan
from artistrec.methods.context import Context, EvaluationInputs
from artistrec.methods.popularity import with_fallback
from artistrec.metrics import query_map
from artistrec.model import SCORE_BATCH

SCALES = (0.5, 1.0, 2.0, 4.0)
BACKGROUNDS = (0.0, 0.02, 0.05)
SHOWN = ("network_listeners", "content_knn_listeners", "popularity")


class OracleChances:
    """Chances of the queries of one chunk (rows x users), as ``ListenerScores`` asks them."""

    def __init__(self, chances: np.ndarray) -> None:
        self.chances = chances

    def of_users(self, rows: slice, users: np.ndarray) -> np.ndarray:
        return self.chances[rows][:, users]

    def at(self, queries: np.ndarray, users: np.ndarray) -> np.ndarray:
        return self.chances[queries, users]


def run_context(run: Path, metrics: dict[str, Any]) -> Context:
    """The evaluate step's context of a finished run (``metrics``: its ``metrics.json``), in the run layout."""
    folder = RunFolder(str(run))
    record = io.read_json(folder.record)
    plan = Plan.from_params(record["plan"])
    inputs = EvaluationInputs(
        split=folder.split(),
        candidates=folder.candidates,
        interactions=folder.dataset.interactions,
        targets=folder.targets,
        models={name: folder.model(name) for name in record["inputs"]["models"]},
        knn=folder.knn,
        knn_svd={},
        clusters=None,
        users=None if plan.user_source is None else folder.dataset.features(plan.user_source),
        features={},
    )
    # The run's draws: the valid artists its settings were chosen on, the users its listener network scored.
    settings = {"listener_users": record["listener_users"], "tuning_artists": metrics["n_tuning_artists"]}
    return Context(inputs, plan, settings, [])


@dataclass(frozen=True)
class Genres:
    """What the oracle knows: each run artist's genre, each user's genre and their train listens."""

    artists: np.ndarray
    users: np.ndarray
    listens: np.ndarray

    @classmethod
    def of(cls, context: Context, run: Path) -> Genres:
        """Artists' genres from their names; a user's is the genre most of their train listens are in."""
        names = io.read_parquet(RunFolder(str(run)).dataset.artists)
        genre_of = dict(zip(names["artist_id"].to_numpy(), artist_genres(names["name"], len(GENRES))))
        artists = np.array([genre_of[artist] for artist in context.artist_ids])
        train_rows = positions(context.parts["train"], context.artist_ids)
        train = context.listen[train_rows].tocoo()
        counts = np.zeros((len(GENRES), context.listen.shape[1]))
        np.add.at(counts, (artists[train_rows][train.row], train.col), 1.0)
        return cls(artists, counts.argmax(axis=0), counts.sum(axis=0))


def oracle_scores(context: Context, genres: Genres, part: str, setting: tuple[float, float], rows: slice):
    """The oracle's scores of the ``part`` artists ``rows`` over the candidates."""
    scale, background = setting
    query_genre = genres.artists[positions(context.parts[part][rows], context.artist_ids)]
    weight = genres.listens[None, :] * ((genres.users[None, :] == query_genre[:, None]) + background)
    chances = np.clip(scale * weight / weight.sum(axis=1, keepdims=True), 0.0, 0.999).astype(np.float32)
    links = context.listening.links_of(context.parts[part][rows])
    return context.listening.scores(OracleChances(chances), links, chances.shape[0])


def measure(run: Path) -> dict[str, Any]:
    """The oracle's setting (tuned on valid) and test MAP@K, with the run's own rows of ``SHOWN``."""
    metrics = io.read_json(RunFolder(str(run)).metrics)
    context = run_context(run, metrics)
    genres = Genres.of(context, run)
    grid = [(scale, background) for scale in SCALES for background in BACKGROUNDS]
    valid = context.valid_map((s, functools.partial(oracle_scores, context, genres, "valid", s)) for s in grid)
    best = max(grid, key=lambda setting: valid[setting]["map@10"])
    test_scores = functools.partial(oracle_scores, context, genres, "test", best)
    scored = [("oracle", lambda rows: with_fallback(test_scores(rows), context.informed["test"][rows]))]
    test = context.parts["test"]
    oracle = query_map(context.listen, context.artist_ids, test, context.candidates, scored, SCORE_BATCH)["oracle"]
    rows = metrics["methods"]
    return {
        "setting": {"scale": best[0], "background": best[1], "valid_map@10": valid[best]["map@10"]},
        "maps": {"oracle": oracle, **{row: rows[row] for row in SHOWN if row in rows}},
    }


def table(measured: dict[str, Any]) -> str:
    """The oracle's setting, then a row per method: MAP@1/5/10/20 and its share of the oracle's MAP@10."""
    setting = measured["setting"]
    lines = [
        f"oracle: scale {setting['scale']:g}, background {setting['background']:g}"
        f" (valid MAP@10 {setting['valid_map@10']:.4f})",
        "| method | MAP@1 | MAP@5 | MAP@10 | MAP@20 | share of the oracle's MAP@10 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    oracle = measured["maps"]["oracle"]["map@10"]
    for name, values in measured["maps"].items():
        maps = " | ".join(f"{values[f'map@{k}']:.4f}" for k in (1, 5, 10, 20))
        lines.append(f"| {name} | {maps} | {values['map@10'] / oracle:.3f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(measure(Path(sys.argv[1] if len(sys.argv) > 1 else "results/demo/split-42"))))
