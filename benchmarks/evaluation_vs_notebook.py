"""Evaluation: the notebook's loop against ``artistrec.metrics``, same split, same scores.

The notebook (``get_network_recommendations_and_calculate_metrics``) filters a
pandas DataFrame twice per test artist (its listeners, then their artists) and
calls ``ml_metrics.apk`` per K. It is reimplemented here faithfully, with only
the two fixes that change the numbers: recommendations are fully sorted by score
(the notebook's ``argpartition`` top is unordered) and test artists with an empty
ground truth are left out (``apk`` scores them 1.0), as ``artistrec`` does.

Both sides get the same Last.fm-2k split and candidates (``artistrec.split`` and
``artistrec.candidates`` with the settings of ``config.yaml``) and the same score
matrices over test artists x candidates: the popularity baseline and seeded
random scores. The MAP values must agree to 1e-12; the time is the median of
several runs in one process. Our side is timed from the interactions table:
building the listening matrix, ranking and ``relevance``, then either MAP@K
alone (the notebook's output) or every metric of ``method_metrics`` (nDCG,
recall, coverage and a 1000-resample bootstrap interval too).

    LASTFM_2K_DIR=/path/to/hetrec2011-lastfm-2k python benchmarks/evaluation_vs_notebook.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import ml_metrics
import numpy as np
import pandas as pd
import yaml

from artistrec.candidates import select_candidates
from artistrec.datasets import lastfm_2k
from artistrec.matrices import listeners
from artistrec.methods.popularity import popularity_scores
from artistrec.metrics import K_VALUES, average_precision, method_metrics, rank, relevance
from artistrec.split import split_artists

REPO = Path(__file__).resolve().parents[1]
TOLERANCE = 1e-12
TOP_K = 20


def notebook_map(
    logits: np.ndarray, user_artists_df: pd.DataFrame, test: np.ndarray, artists_idxs_for_rec: np.ndarray
) -> dict[int, float]:
    """The notebook's evaluation loop (columns ``user_id, artists``), MAP@K over test artists with a ground truth."""
    metrics = {k: 0.0 for k in K_VALUES}
    evaluated = 0
    for artist_id, artist_logit in zip(test, logits):
        top = np.argsort(-artist_logit, kind="stable")[:TOP_K]  # fix: fully sorted, not argpartition
        recommend = artists_idxs_for_rec[list(top)]
        users = np.unique(user_artists_df.loc[user_artists_df["artists"] == artist_id, "user_id"].values)
        similar_artists = (
            user_artists_df.loc[user_artists_df["user_id"].isin(users), "artists"].drop_duplicates().values
        )
        similar_artists = similar_artists[similar_artists != artist_id]
        if similar_artists.shape[0] == 0:  # fix: apk would score an empty truth 1.0
            continue
        evaluated += 1
        for key in metrics:
            metrics[key] += ml_metrics.apk(actual=list(similar_artists), predicted=list(recommend[:key]), k=key)
    return {k: total / evaluated for k, total in metrics.items()}


def artistrec_map(
    scores: np.ndarray,
    interactions: pd.DataFrame,
    artist_ids: np.ndarray,
    test: np.ndarray,
    candidates: np.ndarray,
    all_metrics: bool,
) -> dict[int, float]:
    """The same MAP@K the way the workflow's evaluate step computes it.

    ``all_metrics``: compute every metric of ``method_metrics`` (nDCG, recall,
    coverage and a 1000-resample bootstrap interval too), not just MAP@K.
    """
    listen = listeners(interactions, artist_ids)
    top = rank(scores, TOP_K)
    sizes, hits, _ = relevance(listen, artist_ids, test, candidates, {"scores": top})
    if all_metrics:
        metrics = method_metrics(hits["scores"], sizes, top, candidates.shape[0], resamples=1000, seed=0)
        return {k: float(metrics[f"map@{k}"]) for k in K_VALUES}
    evaluated = sizes > 0
    return {k: float(average_precision(hits["scores"][evaluated], sizes[evaluated], k).mean()) for k in K_VALUES}


def timed(function: Callable[[], dict[int, float]], repeats: int) -> tuple[dict[int, float], float]:
    """The result of ``function`` and the median of its wall times over ``repeats`` runs."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return result, statistics.median(times)


def score_matrices(n_test: int, n_candidates: int, seed: int = 0) -> dict[str, np.ndarray]:
    """The popularity baseline's scores and seeded random scores, test artists x candidates (float32, as the network's)."""
    return {
        "popularity": popularity_scores(n_test, n_candidates),
        "random": np.random.default_rng(seed).standard_normal((n_test, n_candidates), dtype=np.float32),
    }


def compare(interactions: pd.DataFrame, settings: dict, repeats: int) -> list[dict]:
    """Split, candidates and score matrices as the workflow makes them; both evaluations on each.

    ``interactions`` is a canonical table (``user_id, artist_id, weight``);
    ``settings`` holds ``test_fraction, valid_fraction, seed, n_candidates``.
    Raises AssertionError if any MAP differs by more than 1e-12.
    """
    split = split_artists(
        interactions["artist_id"].to_numpy(), settings["test_fraction"], settings["valid_fraction"], settings["seed"]
    )
    artist_ids = np.sort(np.concatenate([split.train, split.valid, split.test]))
    candidates = select_candidates(interactions, split.train, settings["n_candidates"])
    user_artists_df = pd.DataFrame(
        {"user_id": interactions["user_id"].to_numpy(), "artists": interactions["artist_id"].to_numpy()}
    ).drop_duplicates()
    rows = []
    for name, scores in score_matrices(split.test.shape[0], candidates.shape[0]).items():
        theirs, their_time = timed(lambda s=scores: notebook_map(s, user_artists_df, split.test, candidates), repeats)
        row = {"scores": name, "test_artists": int(split.test.shape[0]), "map": theirs, "notebook_s": their_time}
        for label, all_metrics in (("map_only", False), ("all_metrics", True)):
            ours, row[f"{label}_s"] = timed(
                lambda s=scores, a=all_metrics: artistrec_map(s, interactions, artist_ids, split.test, candidates, a),
                repeats,
            )
            difference = max(abs(theirs[k] - ours[k]) for k in K_VALUES)
            assert difference <= TOLERANCE, f"{name}: MAP differs by {difference:.3g} (notebook {theirs}, ours {ours})"
            row["difference"] = max(row.get("difference", 0.0), difference)
        rows.append(row)
    return rows


def table(rows: list[dict], repeats: int) -> str:
    lines = [
        "| scores | test artists | MAP@1 | MAP@5 | MAP@10 | MAP@20 | max abs. difference "
        "| notebook loop (s) | artistrec, MAP@K (s) | speed-up | artistrec, all metrics (s) | speed-up |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        maps = " | ".join(f"{row['map'][k]:.4f}" for k in K_VALUES)
        lines.append(
            f"| {row['scores']} | {row['test_artists']} | {maps} | {row['difference']:.1e} | {row['notebook_s']:.2f} "
            f"| {row['map_only_s']:.4f} | {row['notebook_s'] / row['map_only_s']:.0f}x "
            f"| {row['all_metrics_s']:.4f} | {row['notebook_s'] / row['all_metrics_s']:.0f}x |"
        )
    lines.append(f"\nTimes are medians of {repeats} runs in one process.")
    return "\n".join(lines)


def workflow_settings(config_file: Path = REPO / "config.yaml") -> dict:
    config = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    return {**config["split"], "n_candidates": config["n_candidates"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5, help="runs per side; the median time is reported")
    parser.add_argument(
        "--lastfm-dir",
        type=Path,
        default=Path(os.environ.get("LASTFM_2K_DIR", REPO.parent / "shared" / "data" / "hetrec2011-lastfm-2k")),
        help="the HetRec Last.fm-2k folder (default: $LASTFM_2K_DIR)",
    )
    args = parser.parse_args()
    if not (args.lastfm_dir / "user_artists.dat").is_file():
        sys.exit(f"Last.fm-2k not found in {args.lastfm_dir}; set LASTFM_2K_DIR or pass --lastfm-dir")
    interactions, _ = lastfm_2k.listening(args.lastfm_dir)
    print(table(compare(interactions, workflow_settings(), args.repeats), args.repeats))


if __name__ == "__main__":
    main()
