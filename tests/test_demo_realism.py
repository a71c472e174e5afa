"""The demo's tables behave like listening data (Last.fm-2k): checked on the generator's tables, no training.

Each check is on the default config's generator (``datasets.demo.generator``), the data
``make run`` evaluates, and would fail on side information drawn independently of listening,
on a ground truth that covers most candidates, or on genres that listening ignores.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import yaml

from artistrec import demo

from conftest import REPO

CONFIG = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
SPEC = demo.DemoSpec(**CONFIG["datasets"]["demo"]["generator"])
N_CANDIDATES = CONFIG["n_candidates"]


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return demo.generate(SPEC)


def matrix(pairs: pd.DataFrame, column: str) -> sp.csr_matrix:
    """Binary artists x ``column`` keys."""
    keys = pairs[column].to_numpy() if pd.api.types.is_integer_dtype(pairs[column]) else pd.factorize(pairs[column])[0]
    shape = (SPEC.n_artists, int(keys.max()) + 1)
    ones = np.ones(len(pairs), dtype=np.float32)
    binary = sp.csr_matrix((ones, (pairs["artists"].to_numpy(), keys)), shape=shape)
    binary.data[:] = 1.0
    return binary


def listened_pairs(tables: dict[str, pd.DataFrame], table: str) -> pd.DataFrame:
    """The table's distinct (user, artist) pairs, whether the user listens to the artist, and the user's pair count."""
    pairs = tables[table][["user_id", "artists"]].drop_duplicates()
    listen = tables["users_artists"].assign(listens=True)
    pairs = pairs.merge(listen, on=["user_id", "artists"], how="left").fillna({"listens": False})
    return pairs.assign(activity=pairs.groupby("user_id")["artists"].transform("size"))


def split(tables: dict[str, pd.DataFrame]) -> tuple[np.ndarray, np.ndarray, np.ndarray, sp.csr_matrix]:
    """Test artists (every tenth listened artist), train artists, the top train artists as candidates, listening."""
    listen = matrix(tables["users_artists"], "user_id")
    listened = np.flatnonzero(listen.getnnz(axis=1))
    order = np.random.default_rng(0).permutation(listened)
    test, train = np.sort(order[: len(order) // 10]), order[len(order) // 10 :]
    candidates = train[np.argsort(-listen[train].getnnz(axis=1), kind="stable")][:N_CANDIDATES]
    return test, train, candidates, listen


def co_listened(listen: sp.csr_matrix, rows: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """rows x candidates: co-listened by at least one listener, the artist itself excluded (the ground truth)."""
    truth = (listen[rows] @ listen[candidates].T).toarray() > 0
    return truth & (rows[:, None] != candidates[None, :])


@pytest.mark.parametrize("table", ["likes", "user_tags"])
def test_likers_and_taggers_mostly_listen_to_what_they_like_or_tag_the_lightest_most(tables, table):
    pairs = listened_pairs(tables, table)
    light = pairs[pairs["activity"] <= 4]
    chance = len(tables["users_artists"]) / (SPEC.n_users * SPEC.n_artists)
    assert light["listens"].mean() > 0.6 > 50 * chance
    by_activity = pairs.groupby(pd.qcut(pairs["activity"], 4, duplicates="drop"), observed=True)["listens"].mean()
    assert by_activity.is_monotonic_decreasing and by_activity.iloc[0] > 2 * by_activity.iloc[-1]
    # Heavy users like and tag artists they do not listen to: many artists' likers or taggers are not its listeners.
    assert 0.2 < (~pairs.groupby("artists")["listens"].any()).mean() < 0.8


def test_how_much_a_user_likes_or_tags_has_a_long_tail(tables):
    activity = tables["user_tags"].groupby("user_id").size()
    assert activity.quantile(0.99) > 10 * activity.median()


def test_tags_come_mostly_from_the_tagged_artists_genre(tables):
    tags, artists = tables["user_tags"], tables["artists"]
    artist_genre = demo.artist_genres(artists["name"], SPEC.n_genres)[tags["artists"].to_numpy()]
    tag_genre = tags["tag"].str.rsplit("-", n=1).str[0].map({demo.genre_name(g): g for g in range(SPEC.n_genres)})
    assert (tag_genre.to_numpy() == artist_genre).mean() > 1 - SPEC.noise


def test_most_artists_have_a_listener_or_two_and_the_ground_truth_is_sparse(tables):
    test, _, candidates, listen = split(tables)
    listeners = listen.getnnz(axis=1)
    assert np.median(listeners[listeners > 0]) <= 3 and (listeners == 1).sum() > 0.2 * (listeners > 0).sum()
    sizes = co_listened(listen, test, candidates).sum(axis=1)
    assert np.median(sizes[sizes > 0]) < N_CANDIDATES / 10


def test_a_tag_knn_recommends_the_artists_genre_and_popularity_does_not(tables):
    test, train, candidates, listen = split(tables)
    tags = matrix(tables["user_tags"], "tag")
    tags = sp.csr_matrix(sp.diags(1.0 / np.sqrt(np.maximum(tags.multiply(tags).sum(axis=1).A1, 1.0))) @ tags)
    informed = test[tags[test].getnnz(axis=1) > 0]
    similarity = (tags[informed] @ tags[train].T).toarray()
    nearest = np.argsort(-similarity, axis=1)[:, :50]
    votes = np.take_along_axis(similarity, nearest, axis=1)[:, :, None] ** 3
    scores = (votes * co_listened(listen, train, candidates)[nearest]).sum(axis=1)
    genre = demo.artist_genres(tables["artists"]["name"], SPEC.n_genres)
    top = np.argsort(-scores, axis=1, kind="stable")[:, :10]
    assert (genre[candidates][top] == genre[informed][:, None]).mean() > 0.8
    popular = np.broadcast_to(np.arange(10), top.shape)
    assert (genre[candidates][popular] == genre[informed][:, None]).mean() < 0.3
