"""How the demo's listening compares with Last.fm-2k's (docs/results.md, "The demo").

For Last.fm-2k (its listening and its taggers, read from ``$LASTFM_2K_DIR``) and for the demo
generator (its listening and its likers) at the config's sizes and at other artist counts,
this prints the shape of the listening that decides whether who listens matters: artists per
user, the share of artists with one listener, the median ground truth over the 1,000
most-listened artists, how often a liker's or tagger's pair is listened to, and how alike
users are (mean Jaccard to their 10 nearest users).

    python benchmarks/demo_realism.py                      # the demo as configured
    LASTFM_2K_DIR=... python benchmarks/demo_realism.py 6000 18000 30000
"""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
import yaml

from artistrec.datasets import lastfm_2k as lastfm_2k_dataset
from artistrec.demo import DemoSpec, generate

REPO = Path(__file__).resolve().parents[1]
TOP_CANDIDATES = 1000
NEAREST_USERS = 10


def artists_by_users(pairs: pd.DataFrame, shape: tuple[int, int]) -> sp.csr_matrix:
    """Binary artists x users of distinct ``(user, artist)`` pairs."""
    pairs = pairs.drop_duplicates()
    ones = np.ones(len(pairs), dtype=np.float32)
    return sp.csr_matrix((ones, (pairs["artist"].to_numpy(), pairs["user"].to_numpy())), shape=shape)


def nearest_user_jaccard(listen: sp.csr_matrix) -> float:
    """Mean over users of their mean Jaccard similarity (of listened artists) to their nearest users."""
    by_user = sp.csr_matrix(listen.T)
    by_user = by_user[by_user.getnnz(axis=1) > 0]  # user ids with gaps (Last.fm-2k) are not users
    shared = (by_user @ by_user.T).toarray()
    np.fill_diagonal(shared, 0)
    sizes = np.asarray(by_user.sum(axis=1)).ravel()
    jaccard = shared / np.maximum(sizes[:, None] + sizes[None, :] - shared, 1)
    return float(np.sort(jaccard, axis=1)[:, -NEAREST_USERS:].mean())


def listening_shape(listening: pd.DataFrame, side: pd.DataFrame) -> dict[str, str]:
    """The shape of ``listening`` and of ``side`` (``user``, ``artist`` pairs of likes or tags)."""
    both = pd.concat([listening[["user", "artist"]], side[["user", "artist"]]])
    shape = (int(both["artist"].max()) + 1, int(both["user"].max()) + 1)
    listen = artists_by_users(listening[["user", "artist"]], shape)
    listeners = np.asarray(listen.sum(axis=1)).ravel()
    listened = listeners > 0
    candidates = np.argsort(-listeners, kind="stable")[: min(TOP_CANDIDATES, int(listened.sum()))]
    rows = np.flatnonzero(listened)
    truth = (listen[rows] @ listen[candidates].T).getnnz(axis=1) - np.isin(rows, candidates)  # not itself
    pairs = side[["user", "artist"]].drop_duplicates()
    listened_pairs = np.asarray(listen[pairs["artist"].to_numpy(), pairs["user"].to_numpy()]).ravel()
    return {
        "listened artists per user (artists / users)": f"{listened.sum() / listening['user'].nunique():.1f}",
        "artists with one listener": f"{(listeners[listened] == 1).mean():.0%}",
        "median ground truth (co-listened candidates)": f"{np.median(truth):.0f}",
        "a liker's or tagger's pair is listened to": f"{listened_pairs.mean():.0%}",
        f"users' mean Jaccard to their {NEAREST_USERS} nearest users": f"{nearest_user_jaccard(listen):.3f}",
    }


def renamed(table: pd.DataFrame, user: str, artist: str) -> pd.DataFrame:
    return table.rename(columns={user: "user", artist: "artist"})


def lastfm_2k(folder: Path) -> dict[str, str]:
    """Last.fm-2k's listening and taggers as its dataset reads them (user ids are below 2,100, so they
    index a matrix as they are)."""
    listening, _ = lastfm_2k_dataset.listening(folder)
    taggers = lastfm_2k_dataset.feature(folder, "taggers").astype({"key": np.int64})
    return listening_shape(renamed(listening, "user_id", "artist_id"), renamed(taggers, "key", "artist_id"))


def demo(spec: DemoSpec) -> dict[str, str]:
    tables = generate(spec)
    return listening_shape(
        renamed(tables["users_artists"], "user_id", "artists"), renamed(tables["likes"], "user_id", "artists")
    )


def main(artist_counts: list[int]) -> None:
    config = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    spec = DemoSpec(**config["datasets"]["demo"]["generator"])
    columns: dict[str, dict[str, str]] = {}
    folder = os.environ.get("LASTFM_2K_DIR")
    if folder:
        columns["Last.fm-2k"] = lastfm_2k(Path(folder))
    for count in artist_counts or [spec.n_artists]:
        columns[f"demo, {count:,} artists"] = demo(replace(spec, n_artists=count))
    rows = next(iter(columns.values()))
    print("| | " + " | ".join(columns) + " |")
    print("|---|" + "---:|" * len(columns))
    for row in rows:
        print(f"| {row} | " + " | ".join(column[row] for column in columns.values()) + " |")


if __name__ == "__main__":
    main([int(count) for count in sys.argv[1:]])
