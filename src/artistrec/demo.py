"""A synthetic dataset in the seed's schema, generated offline from a seed.

This module only generates the tables; the demo dataset (its files, how they are
read) is :mod:`artistrec.datasets.demo`.

It imitates what makes Last.fm-2k's cold start work (docs/method.md, "The demo"):

- Artists belong to latent genres and have power-law popularity: a few artists are
  everywhere, most have a listener or two (the long tail). Users prefer a few genres
  and draw most listens from them, so an artist's co-listened candidates (the ground
  truth) are its listeners' few genres, not the whole candidate list.
- Side information is given by users who listen. A user's likes and tags go to
  artists they listen to at a rate that falls with how much they like or tag (heavy
  taggers tag far more than they listen to); the rest go to artists of their genres,
  or anywhere with probability ``noise``. How much a user likes or tags is
  heavy-tailed (``activity_sigma``).
- Tags are drawn from the tagged artist's genre vocabulary, or from any genre's with
  probability ``noise``; playlists are built around one genre.
- Side information not drawn from listening knows only ``side_info_coverage`` of the
  catalogue, with a flatter popularity than listening; tail artists nobody likes or
  tags have none (cold artists).

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
    n_artists: int = 18000
    n_genres: int = 12
    listens_per_user: int = 50
    popularity_exponent: float = 1.1
    genres_per_user: int = 1
    main_genre_share: float = 0.75
    taste: float = 0.95
    likes_per_user: int = 20
    n_playlists: int = 1200
    playlist_size: int = 15
    tags_per_genre: int = 8
    tag_events: int = 60000
    noise: float = 0.2
    side_info_coverage: float = 0.6
    activity_sigma: float = 1.5
    listened_share: float = 0.85
    half_share_activity: float = 50.0


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


def artist_genres(names: pd.Series, n_genres: int) -> np.ndarray:
    """Each artist's genre read back from its generated name ("Metal Artist 12"): what tests and
    docs check recommendations against. Names repeat after ``len(GENRES)`` genres, so with more
    genres than that this gives the genre modulo ``len(GENRES)``.
    """
    lookup = {GENRES[g % len(GENRES)].title(): g % len(GENRES) for g in range(n_genres)}
    return names.str.rsplit(" Artist ", n=1).str[0].map(lookup).to_numpy(dtype=np.int64)


def listening(
    rng: np.random.Generator, spec: DemoSpec, genre: np.ndarray, popularity: np.ndarray, user_genres: np.ndarray
) -> pd.DataFrame:
    """Each listen comes from one of the user's genres with probability ``taste``, else from the
    whole catalogue, popularity-weighted either way. Rows are sorted by user (``own_listens`` relies on it).
    """
    n_listens = rng.poisson(spec.listens_per_user, spec.n_users) + 1
    listen_user = np.repeat(np.arange(spec.n_users), n_listens)
    in_taste = rng.random(listen_user.shape[0]) < spec.taste
    taste_genre = user_genres[listen_user, taste_slots(rng, spec, listen_user.shape[0])]
    per_genre = np.bincount(taste_genre[in_taste], minlength=spec.n_genres)
    listened = np.empty(listen_user.shape[0], dtype=np.int64)
    taste_rows = np.flatnonzero(in_taste)
    taste_draw = _pick(rng, popularity, genre, per_genre)
    # _pick returns draws grouped by genre; put them back on the listens of that genre.
    listened[taste_rows[np.argsort(taste_genre[in_taste], kind="stable")]] = taste_draw
    free_rows = np.flatnonzero(~in_taste)
    listened[free_rows] = rng.choice(spec.n_artists, free_rows.shape[0], p=popularity / popularity.sum())
    return pd.DataFrame({"user_id": listen_user, "artists": listened}).drop_duplicates()


def taste_slots(rng: np.random.Generator, spec: DemoSpec, size: int) -> np.ndarray:
    """Which of a user's genres each draw comes from: the first with probability ``main_genre_share``,
    else any other. A main genre keeps an artist's listeners mostly its genre's fans, while their
    other genres make who listens matter, not only to which genre.
    """
    if spec.genres_per_user == 1:
        return np.zeros(size, dtype=np.int64)
    other = rng.integers(1, spec.genres_per_user, size)
    return np.where(rng.random(size) < spec.main_genre_share, 0, other)


def activity(rng: np.random.Generator, n_users: int, total: float, sigma: float) -> np.ndarray:
    """Events per user (likes, tags), about ``total`` in all: Poisson around a log-normal
    propensity, so most users give a few and some give hundreds, as on Last.fm.
    """
    propensity = rng.lognormal(0.0, sigma, n_users)
    return rng.poisson(total * propensity / propensity.sum())


def listened_rate(spec: DemoSpec, events: np.ndarray) -> np.ndarray:
    """Per user, the chance that one of their likes or tags goes to an artist they listen to:
    ``listened_share`` for the lightest users, halved at ``half_share_activity`` events.
    """
    return spec.listened_share * spec.half_share_activity / (spec.half_share_activity + events)


def own_listens(rng: np.random.Generator, users_artists: pd.DataFrame, event_user: np.ndarray) -> np.ndarray:
    """One artist per event, uniform among the artists its user listens to (every user listens to one at least)."""
    user = users_artists["user_id"].to_numpy()
    start = np.searchsorted(user, event_user, side="left")
    count = np.searchsorted(user, event_user, side="right") - start
    return users_artists["artists"].to_numpy()[start + (rng.random(event_user.shape[0]) * count).astype(np.int64)]


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


def users_side_information(
    rng: np.random.Generator, spec: DemoSpec, world: dict[str, np.ndarray], users_artists: pd.DataFrame, total: float
) -> tuple[np.ndarray, np.ndarray]:
    """``(user, artist)`` events of users who like or tag (about ``total``): an event goes to an
    artist its user listens to with the user's ``listened_rate``, else to one of the user's genres.
    """
    events = activity(rng, spec.n_users, total, spec.activity_sigma)
    event_user = np.repeat(np.arange(spec.n_users), events)
    artist = genre_draws(
        rng,
        spec,
        world["genre"],
        world["side_weight"],
        world["user_genres"][event_user, taste_slots(rng, spec, event_user.shape[0])],
    )
    listened = rng.random(event_user.shape[0]) < listened_rate(spec, events)[event_user]
    artist[listened] = own_listens(rng, users_artists, event_user[listened])
    return event_user, artist


def user_tags(
    rng: np.random.Generator, spec: DemoSpec, world: dict[str, np.ndarray], users_artists: pd.DataFrame
) -> pd.DataFrame:
    """Tag events: a user tags an artist with one of its genre's tags, or of any genre with probability ``noise``."""
    tag_names = np.asarray([f"{genre_name(g)}-{t}" for g in range(spec.n_genres) for t in range(spec.tags_per_genre)])
    tag_user, tag_artist = users_side_information(rng, spec, world, users_artists, spec.tag_events)
    on_genre = rng.random(tag_user.shape[0]) >= spec.noise
    tag_genre = np.where(on_genre, world["genre"][tag_artist], rng.integers(0, spec.n_genres, tag_user.shape[0]))
    tag = tag_genre * spec.tags_per_genre + rng.integers(0, spec.tags_per_genre, tag_user.shape[0])
    return pd.DataFrame({"user_id": tag_user, "artists": tag_artist, "tag": tag_names[tag]}).drop_duplicates()


def generate(spec: DemoSpec) -> dict[str, pd.DataFrame]:
    """The raw tables: ``users_artists``, ``artists``, ``likes``, ``playlists``, ``user_tags``."""
    rng = np.random.default_rng(spec.seed)
    artist_ids = np.arange(spec.n_artists, dtype=np.int64)
    genre = rng.integers(0, spec.n_genres, spec.n_artists)
    popularity = (1.0 + rng.permutation(spec.n_artists)) ** -spec.popularity_exponent
    user_genres = rng.integers(0, spec.n_genres, (spec.n_users, spec.genres_per_user))
    users_artists = listening(rng, spec, genre, popularity, user_genres)
    # Side information not drawn from listening knows part of the catalogue, with a flatter popularity.
    informed = rng.random(spec.n_artists) < spec.side_info_coverage
    world = {"genre": genre, "user_genres": user_genres, "side_weight": np.where(informed, np.sqrt(popularity), 0.0)}
    like_user, like_artist = users_side_information(rng, spec, world, users_artists, spec.likes_per_user * spec.n_users)
    playlist_genre = rng.integers(0, spec.n_genres, spec.n_playlists)
    entry_playlist = np.repeat(np.arange(spec.n_playlists), spec.playlist_size)
    playlist_artists = genre_draws(rng, spec, genre, world["side_weight"], playlist_genre[entry_playlist])
    names = [f"{GENRES[g % len(GENRES)].title()} Artist {i}" for i, g in zip(artist_ids, genre)]
    return {
        "users_artists": users_artists,
        "artists": pd.DataFrame({"artists": artist_ids, "name": names}),
        "likes": pd.DataFrame({"artists": like_artist, "user_id": like_user}).drop_duplicates(),
        "playlists": pd.DataFrame({"artists": playlist_artists, "playlist_id": entry_playlist}).drop_duplicates(),
        "user_tags": user_tags(rng, spec, world, users_artists),
    }
