"""A synthetic dataset in the seed's schema, generated offline from a seed.

This module only generates the tables; the demo dataset (its files, how they are
read) is :mod:`artistrec.datasets.demo`.

Artists belong to latent genres and have power-law popularity. Users prefer a few
genres; their listens mix popularity with genre taste, so co-listening carries genre
structure. Side information carries the same genres with noise and a flatter
popularity, so a model that reads it can beat the popularity baseline:

- likes: user x artist, drawn from the user's genres;
- playlists: playlist x artist, each playlist built around one genre;
- user tags: (user, artist, tag), tags drawn from the artist's genre vocabulary.

Every draw is vectorised; the same generator writes Last.fm-360K-sized data when
the size knobs are turned up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

GENRES = (
    "rock",
    "pop",
    "jazz",
    "metal",
    "folk",
    "techno",
    "hip-hop",
    "blues",
    "classical",
    "punk",
    "soul",
    "reggae",
    "ambient",
    "country",
    "house",
    "indie",
)


@dataclass(frozen=True)
class DemoSpec:
    seed: int = 7
    n_users: int = 2000
    n_artists: int = 3000
    n_genres: int = 12
    listens_per_user: int = 30
    popularity_exponent: float = 1.0
    genres_per_user: int = 2
    taste: float = 0.8
    likes_per_user: int = 10
    n_playlists: int = 600
    playlist_size: int = 15
    tags_per_genre: int = 8
    tag_events: int = 20000
    noise: float = 0.2
    side_info_coverage: float = 0.85


def _pick(rng: np.random.Generator, weights: np.ndarray, groups: np.ndarray, size_per_group: np.ndarray) -> np.ndarray:
    """Draw ``size_per_group[g]`` items from ``weights`` restricted to each group ``g``.

    ``groups`` holds, for each item, its group. Draws are with replacement and done
    by inverse-CDF sampling within each group's block of a group-sorted order.
    """
    order = np.argsort(groups, kind="stable")
    sorted_groups = groups[order]
    sorted_weights = weights[order]
    n_groups = int(size_per_group.shape[0])
    starts = np.searchsorted(sorted_groups, np.arange(n_groups), side="left")
    ends = np.searchsorted(sorted_groups, np.arange(n_groups), side="right")
    cdf = np.cumsum(sorted_weights)
    lower = np.where(starts > 0, cdf[starts - 1], 0.0)
    upper = cdf[ends - 1]
    which = np.repeat(np.arange(n_groups), size_per_group)
    u = lower[which] + rng.random(which.shape[0]) * (upper[which] - lower[which])
    positions = np.searchsorted(cdf, u, side="right")
    positions = np.clip(positions, starts[which], ends[which] - 1)
    return order[positions]


def genre_name(genre: int) -> str:
    """A genre's name: the ``GENRES`` in turn, numbered from the second round on."""
    return f"{GENRES[genre % len(GENRES)]}{'' if genre < len(GENRES) else genre // len(GENRES)}"


def listening(
    rng: np.random.Generator, spec: DemoSpec, genre: np.ndarray, popularity: np.ndarray, user_genres: np.ndarray
) -> pd.DataFrame:
    """Each listen comes from one of the user's genres with probability ``taste``, else from the
    whole catalogue, popularity-weighted either way.
    """
    n_listens = rng.poisson(spec.listens_per_user, spec.n_users) + 1
    listen_user = np.repeat(np.arange(spec.n_users), n_listens)
    in_taste = rng.random(listen_user.shape[0]) < spec.taste
    taste_genre = user_genres[listen_user, rng.integers(0, spec.genres_per_user, listen_user.shape[0])]
    per_genre = np.bincount(taste_genre[in_taste], minlength=spec.n_genres)
    listened = np.empty(listen_user.shape[0], dtype=np.int64)
    taste_rows = np.flatnonzero(in_taste)
    taste_draw = _pick(rng, popularity, genre, per_genre)
    # _pick returns draws grouped by genre; put them back on the listens of that genre.
    listened[taste_rows[np.argsort(taste_genre[in_taste], kind="stable")]] = taste_draw
    free_rows = np.flatnonzero(~in_taste)
    listened[free_rows] = rng.choice(spec.n_artists, free_rows.shape[0], p=popularity / popularity.sum())
    return pd.DataFrame({"user_id": listen_user, "artists": listened}).drop_duplicates()


def genre_draws(
    rng: np.random.Generator, spec: DemoSpec, genre: np.ndarray, side_weight: np.ndarray, genres_of_rows: np.ndarray
) -> np.ndarray:
    """One artist per row: from the row's genre, or anywhere with probability ``noise``."""
    counts = np.bincount(genres_of_rows, minlength=spec.n_genres)
    draws = np.empty(genres_of_rows.shape[0], dtype=np.int64)
    draws[np.argsort(genres_of_rows, kind="stable")] = _pick(rng, side_weight, genre, counts)
    noisy = rng.random(genres_of_rows.shape[0]) < spec.noise
    draws[noisy] = rng.choice(spec.n_artists, int(noisy.sum()), p=side_weight / side_weight.sum())
    return draws


def user_tags(rng: np.random.Generator, spec: DemoSpec, genre: np.ndarray, side_weight: np.ndarray) -> pd.DataFrame:
    """Tag events: a user tags an artist with one of its genre's tags, or of any genre with probability ``noise``."""
    tag_names = np.asarray([f"{genre_name(g)}-{t}" for g in range(spec.n_genres) for t in range(spec.tags_per_genre)])
    tag_user = rng.integers(0, spec.n_users, spec.tag_events)
    tag_artist = rng.choice(spec.n_artists, spec.tag_events, p=side_weight / side_weight.sum())
    on_genre = rng.random(spec.tag_events) >= spec.noise
    tag_genre = np.where(on_genre, genre[tag_artist], rng.integers(0, spec.n_genres, spec.tag_events))
    tag = tag_genre * spec.tags_per_genre + rng.integers(0, spec.tags_per_genre, spec.tag_events)
    return pd.DataFrame({"user_id": tag_user, "artists": tag_artist, "tag": tag_names[tag]}).drop_duplicates()


def generate(spec: DemoSpec) -> dict[str, pd.DataFrame]:
    """The raw tables: ``users_artists``, ``artists``, ``likes``, ``playlists``, ``user_tags``."""
    rng = np.random.default_rng(spec.seed)
    artist_ids = np.arange(spec.n_artists, dtype=np.int64)
    genre = rng.integers(0, spec.n_genres, spec.n_artists)
    popularity = (1.0 + rng.permutation(spec.n_artists)) ** -spec.popularity_exponent
    user_genres = rng.integers(0, spec.n_genres, (spec.n_users, spec.genres_per_user))
    users_artists = listening(rng, spec, genre, popularity, user_genres)
    # Side information is known only for part of the catalogue (cold artists often have none),
    # with a flatter popularity than listening.
    informed = rng.random(spec.n_artists) < spec.side_info_coverage
    side_weight = np.where(informed, np.sqrt(popularity), 0.0)
    like_user = np.repeat(np.arange(spec.n_users), spec.likes_per_user)
    like_genre = user_genres[like_user, rng.integers(0, spec.genres_per_user, like_user.shape[0])]
    likes = pd.DataFrame({"artists": genre_draws(rng, spec, genre, side_weight, like_genre), "user_id": like_user})
    playlist_genre = rng.integers(0, spec.n_genres, spec.n_playlists)
    entry_playlist = np.repeat(np.arange(spec.n_playlists), spec.playlist_size)
    playlist_artists = genre_draws(rng, spec, genre, side_weight, playlist_genre[entry_playlist])
    names = [f"{GENRES[g % len(GENRES)].title()} Artist {i}" for i, g in zip(artist_ids, genre)]
    return {
        "users_artists": users_artists,
        "artists": pd.DataFrame({"artists": artist_ids, "name": names}),
        "likes": likes.drop_duplicates(),
        "playlists": pd.DataFrame({"artists": playlist_artists, "playlist_id": entry_playlist}).drop_duplicates(),
        "user_tags": user_tags(rng, spec, genre, side_weight),
    }
