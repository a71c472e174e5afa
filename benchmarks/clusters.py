"""Clusters: full KMeans (the fit before issue 19) against ``fit_clusters``' mini-batch KMeans.

On Last.fm-2k, for each split seed, the clusters step's input is built in-process
as the workflow builds it: the split, the candidates and co-listening targets, one
SVD per source with the lastfm-2k settings of ``config.yaml`` (fitted on the train
artists, seeded with the split seed as rule ``svd`` does) and the content vectors.
Each fit is timed on the train artists' vectors with ``clusters.k`` and
``clusters.seed``, every artist is assigned to its nearest centroid, and the
``cluster_popularity`` baseline is scored on the test artists (MAP@10, with
co-listened votes: what the tuned content kNN votes with on every seed). Then each
fit is timed once on a synthetic 144,000 x 96 float32 matrix, the shape of
Last.fm-360K's train artists: 64 overlapping Gaussian blobs, unit rows.

The fits, in the order they run on each input:

- ``full KMeans`` (before): ``KMeans(n_init=4)`` on the float32 rows, as ``fit_clusters`` was;
- ``full KMeans, float64 rows``: the same on float64 rows (what the cast alone saves);
- ``mini-batch KMeans``: ``fit_clusters`` itself;
- ``mini-batch KMeans, largest k only``: ``fit_clusters`` with only the largest k (fewer k).

Times are ratios to the full KMeans fit measured in the same run (one process, so
a shared machine's load shifts all of them). A fit keeps the baseline's quality
when its MAP@10 differs from the full fit's by less than two standard errors of
the per-seed paired differences (``artistrec.summary.paired_comparison``).

    LASTFM_2K_DIR=/path/to/hetrec2011-lastfm-2k .venv/bin/python benchmarks/clusters.py [--seeds 42 1 2 3 4]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
import yaml
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score

from artistrec.candidates import select_candidates
from artistrec.clusters import Clusters, assign, fit_clusters
from artistrec.datasets import lastfm_2k
from artistrec.features import fit_svd, source_matrix
from artistrec.ingest import restrict_to_listened
from artistrec.matrices import listeners, positions
from artistrec.methods.cluster_popularity import cluster_popularity_scores
from artistrec.metrics import query_map, whole
from artistrec.neighbours import vote_rows
from artistrec.split import all_artists, split_artists
from artistrec.summary import paired_comparison, statistics
from artistrec.targets import build_targets
from artistrec.vectors import content_vectors, has_side_information, normalise_rows

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "clusters.md"
DATASET = "lastfm-2k"
SYNTHETIC_SHAPE = (144_000, 96)
SYNTHETIC_BLOBS = 64

Fit = Callable[[np.ndarray, list[int], int], Clusters]


def full_kmeans(dtype: type[np.floating]) -> Fit:
    """``fit_clusters`` before issue 19 (full KMeans, 4 k-means++ starts), on rows of ``dtype``."""

    def fit(vectors: np.ndarray, ks: list[int], seed: int, sample_size: int = 5000) -> Clusters:
        informed = vectors[has_side_information(vectors)].astype(dtype)
        n = informed.shape[0]
        tried = sorted(k for k in set(ks) if 2 <= k < n)
        silhouettes: dict[int, float] = {}
        centroids: dict[int, np.ndarray] = {}
        for k in tried:
            kmeans = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(informed)
            silhouettes[k] = float(
                silhouette_score(
                    informed, kmeans.labels_, metric="cosine", sample_size=min(sample_size, n), random_state=seed
                )
            )
            centroids[k] = normalise_rows(kmeans.cluster_centers_).astype(np.float32)
        best = max(tried, key=lambda k: (silhouettes[k], -k))
        return Clusters(k=best, centroids=centroids[best], silhouettes=silhouettes)

    return fit


BEFORE = "full KMeans (before)"
FITS: dict[str, Fit] = {
    BEFORE: full_kmeans(np.float32),
    "full KMeans, float64 rows": full_kmeans(np.float64),
    "mini-batch KMeans (fit_clusters)": fit_clusters,
    "mini-batch KMeans, largest k only": lambda vectors, ks, seed: fit_clusters(vectors, [max(ks)], seed),
}


@dataclass(frozen=True)
class Split:
    """One split seed's clusters input and what scores the cluster baseline on it."""

    artist_ids: np.ndarray
    train: np.ndarray
    test: np.ndarray
    candidates: np.ndarray
    vectors: np.ndarray  # content vectors of every artist, in artist_ids order
    listen: sp.csr_matrix  # artists x users
    votes: sp.csr_matrix  # train artists x candidates: co-listened sets


def build_split(interactions: pd.DataFrame, features: dict[str, pd.DataFrame], config: dict, seed: int) -> Split:
    """What the workflow's split, candidates, targets and svd rules make for split seed ``seed``."""
    parts = split_artists(
        interactions["artist_id"].to_numpy(), config["split"]["test_fraction"], config["split"]["valid_fraction"], seed
    )
    artist_ids = all_artists({"train": parts.train, "valid": parts.valid, "test": parts.test})
    blocks = [
        fit_svd(
            source_matrix(features[source], artist_ids),
            parts.train,
            settings["dim"],
            settings["weighting"],
            seed,
            source,
            DATASET,
        ).vectors
        for source, settings in config["datasets"][DATASET]["features"].items()
    ]
    candidates = select_candidates(interactions, parts.train, config["n_candidates"])
    listen = listeners(interactions, artist_ids)
    targets = build_targets(listen, artist_ids, parts.train, candidates)
    return Split(
        artist_ids,
        parts.train,
        parts.test,
        candidates,
        content_vectors(blocks),
        listen,
        vote_rows(targets, "co_listened"),
    )


def timed_fit(fit: Fit, vectors: np.ndarray, ks: list[int], seed: int) -> tuple[Clusters, float]:
    started = time.perf_counter()
    clusters = fit(vectors, ks, seed)
    return clusters, time.perf_counter() - started


def baseline_map(split: Split, clusters: Clusters) -> float:
    """MAP@10 of ``cluster_popularity`` on the test artists with these clusters."""
    labels = assign(split.vectors, clusters.centroids)
    scores = cluster_popularity_scores(
        labels[positions(split.test, split.artist_ids)], labels[positions(split.train, split.artist_ids)], split.votes
    )
    maps = query_map(split.listen, split.artist_ids, split.test, split.candidates, [("clusters", whole(scores))])
    return maps["clusters"]["map@10"]


def measure_split(split: Split, ks: list[int], seed: int) -> dict[str, dict]:
    """Each fit's seconds, chosen k and baseline MAP@10 on one split."""
    rows = {}
    train_vectors = split.vectors[positions(split.train, split.artist_ids)]
    for name, fit in FITS.items():
        clusters, seconds = timed_fit(fit, train_vectors, ks, seed)
        rows[name] = {"s": seconds, "k": clusters.k, "map@10": baseline_map(split, clusters)}
        print(f"  {name}: {seconds:.1f} s, k {clusters.k}, MAP@10 {rows[name]['map@10']:.4f}", file=sys.stderr)
    return rows


def synthetic_vectors(shape: tuple[int, int] = SYNTHETIC_SHAPE, blobs: int = SYNTHETIC_BLOBS) -> np.ndarray:
    """Unit float32 rows around ``blobs`` Gaussian centres, as far from each other as the noise is wide."""
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((blobs, shape[1]))
    rows = centres[rng.integers(blobs, size=shape[0])] + rng.standard_normal(shape)
    return normalise_rows(rows.astype(np.float32))


def measure_synthetic(vectors: np.ndarray, ks: list[int], seed: int) -> dict[str, dict]:
    rows = {}
    for name, fit in FITS.items():
        clusters, seconds = timed_fit(fit, vectors, ks, seed)
        rows[name] = {"s": seconds, "k": clusters.k}
        print(f"  synthetic {name}: {seconds:.1f} s, k {clusters.k}", file=sys.stderr)
    return rows


def lastfm_table(by_seed: dict[int, dict[str, dict]]) -> str:
    """Per fit: mean seconds, ratio to the full fit, chosen k and MAP@10 per seed, mean ± SE, paired difference."""
    seeds = list(by_seed)
    header = " | ".join(f"MAP@10 seed {seed}" for seed in seeds)
    lines = [
        f"| fit | s (mean) | × full KMeans | chosen k | {header} | MAP@10 mean ± SE | difference (paired SE) | verdict |",
        "|---|---:|---:|---|" + "---:|" * len(seeds) + "---:|---:|---|",
    ]
    before_s = sum(by_seed[seed][BEFORE]["s"] for seed in seeds)
    before = statistics([by_seed[seed][BEFORE]["map@10"] for seed in seeds])
    for name in FITS:
        seconds = [by_seed[seed][name]["s"] for seed in seeds]
        maps = statistics([by_seed[seed][name]["map@10"] for seed in seeds])
        versus = paired_comparison(maps, before)
        sem = "n/a" if versus["sem"] is None else f"{versus['sem']:.4f}"
        lines.append(
            f"| {name} | {np.mean(seconds):.1f} | {sum(seconds) / before_s:.3f} "
            f"| {', '.join(str(by_seed[seed][name]['k']) for seed in seeds)} "
            f"| {' | '.join(f'{value:.4f}' for value in maps['values'])} "
            f"| {maps['mean']:.4f} ± {maps['sem']:.4f} | {versus['difference']:+.4f} ({sem}) "
            f"| {'—' if name == BEFORE else 'within noise' if versus['verdict'] == 'tie' else versus['verdict']} |"
        )
    return "\n".join(lines)


def synthetic_table(rows: dict[str, dict], shape: tuple[int, int]) -> str:
    lines = [
        f"| fit ({shape[0]:,} x {shape[1]} synthetic) | s | × full KMeans | chosen k |",
        "|---|---:|---:|---:|",
    ]
    for name, row in rows.items():
        lines.append(f"| {name} | {row['s']:.1f} | {row['s'] / rows[BEFORE]['s']:.3f} | {row['k']} |")
    return "\n".join(lines)


def read_features(folder: Path, interactions: pd.DataFrame, sources: list[str]) -> dict[str, pd.DataFrame]:
    """Each source's feature table as rule ingest_features writes it (artists nobody listens to dropped)."""
    return {source: restrict_to_listened(lastfm_2k.feature(folder, source), interactions, source) for source in sources}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 1, 2, 3, 4], help="split seeds")
    parser.add_argument(
        "--synthetic-rows", type=int, default=SYNTHETIC_SHAPE[0], help="rows of the synthetic matrix (0: skip it)"
    )
    parser.add_argument(
        "--lastfm-dir",
        type=Path,
        default=Path(os.environ.get("LASTFM_2K_DIR", REPO.parent / "shared" / "data" / "hetrec2011-lastfm-2k")),
        help="the HetRec Last.fm-2k folder (default: $LASTFM_2K_DIR)",
    )
    args = parser.parse_args()
    if not (args.lastfm_dir / "user_artists.dat").is_file():
        sys.exit(f"Last.fm-2k not found in {args.lastfm_dir}; set LASTFM_2K_DIR or pass --lastfm-dir")
    config = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    ks, cluster_seed = list(config["clusters"]["k"]), int(config["clusters"]["seed"])
    interactions, _ = lastfm_2k.listening(args.lastfm_dir)
    features = read_features(args.lastfm_dir, interactions, list(config["datasets"][DATASET]["features"]))
    by_seed = {}
    for seed in args.seeds:
        print(f"split seed {seed}", file=sys.stderr)
        by_seed[seed] = measure_split(build_split(interactions, features, config, seed), ks, cluster_seed)
    tables = [f"clusters.k {ks}, clusters.seed {cluster_seed}\n", lastfm_table(by_seed)]
    if args.synthetic_rows:
        shape = (args.synthetic_rows, SYNTHETIC_SHAPE[1])
        tables += ["", synthetic_table(measure_synthetic(synthetic_vectors(shape), ks, cluster_seed), shape)]
    text = "\n".join(tables)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
