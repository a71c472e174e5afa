"""How often a demo run's recommendations share the query artist's genre (docs/results.md, "The demo").

The demo knows every artist's genre (it is in the generated name, "Metal Artist 12").
For the served method of a finished demo run, this prints the share of the top-10
recommendations of each test artist with side information that are of the artist's
own genre, averaged over those artists; and the same for every other method.

    python benchmarks/demo_genres.py                       # results/demo/split-42
    python benchmarks/demo_genres.py results/demo/split-1  # another split seed
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from artistrec.datasets import demo as demo_dataset
from artistrec.demo import GENRES, artist_genres

TOP = 10


def with_side_information(raw: Path) -> np.ndarray:
    """Artists with at least one like, playlist entry or tag in the demo's raw tables."""
    tables = [pd.read_csv(demo_dataset.raw_file(table, raw)) for table, _ in demo_dataset.FEATURES.values()]
    return np.unique(np.concatenate([table["artists"].to_numpy() for table in tables]))


def genre_shares(recommendations: pd.DataFrame, genre: pd.Series, informed: np.ndarray) -> pd.Series:
    """Per method: the mean over informed query artists of the share of their top ``TOP`` of their genre."""
    top = recommendations[(recommendations["rank"] <= TOP) & recommendations["artist_id"].isin(informed)]
    same = genre.reindex(top["candidate_id"]).to_numpy() == genre.reindex(top["artist_id"]).to_numpy()
    per_artist = pd.DataFrame({"method": top["method"], "artist": top["artist_id"], "same": same})
    return per_artist.groupby(["method", "artist"])["same"].mean().groupby("method").mean().sort_values()


def run_genre_shares(run: Path) -> tuple[pd.Series, str]:
    """``genre_shares`` of a finished demo run's test top lists, and the run's served method."""
    raw = run.parent / "raw"
    artists = pd.read_csv(demo_dataset.raw_file(demo_dataset.ARTISTS, raw))
    genre = pd.Series(artist_genres(artists["name"], len(GENRES)), index=artists["artists"])
    shares = genre_shares(pd.read_csv(run / "recommendations" / "test.csv"), genre, with_side_information(raw))
    return shares, json.loads((run / "metrics.json").read_text(encoding="utf-8"))["served_method"]["name"]


def main(run: Path) -> None:
    shares, served = run_genre_shares(run)
    for method, share in shares.items():
        print(f"{method:32s} {share:.3f}{'  (served)' if method == served else ''}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "results/demo/split-42"))
