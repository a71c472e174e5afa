"""The real HetRec 2011 Last.fm-2k copy (never committed: read from LASTFM_2K_DIR)."""

import os
from pathlib import Path

import ml_metrics
import numpy as np
import pytest

from artistrec import io, steps
from artistrec.matrices import listeners
from artistrec.metrics import K_VALUES, average_precision, rank, relevance

from conftest import copy_workflow, run_folder, snakemake

pytestmark = pytest.mark.lastfm


@pytest.fixture(scope="module")
def lastfm_run(lastfm_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The workflow on Last.fm-2k up to the targets (no training)."""
    workdir = copy_workflow(tmp_path_factory.mktemp("lastfm") / "wf")
    os.environ["LASTFM_2K_DIR"] = str(lastfm_dir)
    snakemake(
        workdir, "--config", "dataset=lastfm-2k", "n_candidates=1000", "--", "results/lastfm-2k/split-42/targets.npz"
    )
    return run_folder(workdir, "lastfm-2k")


def test_targets_have_a_row_per_train_artist_and_a_column_per_candidate(lastfm_run: Path):
    targets = io.read_sparse(lastfm_run / "targets.npz")
    train = io.read_ids(lastfm_run / "split" / "train.txt")
    assert targets.shape == (train.shape[0], 1000)
    sums = np.asarray(targets.sum(axis=1)).ravel()
    non_empty = np.diff(targets.indptr) > 0
    assert np.allclose(sums[non_empty], 1.0, atol=1e-5)
    assert non_empty.mean() > 0.9
    # Last.fm-2k has 17,632 listened artists; the seed's 10% are test artists.
    test = io.read_ids(lastfm_run / "split" / "test.txt")
    assert test.shape[0] == round(0.1 * 17632)


def test_map_equals_ml_metrics_apk_on_the_real_split(lastfm_run: Path):
    """Our vectorised MAP@K against the notebook's per-artist pandas scans and ml_metrics.apk."""
    parts = steps.read_split({p: lastfm_run / "split" / f"{p}.txt" for p in ("train", "valid", "test")})
    interactions = io.read_parquet(lastfm_run.parent / "data" / "interactions.parquet")
    candidates = io.read_ids(lastfm_run / "candidates.txt")
    test = parts["test"]
    scores = np.random.default_rng(0).random((test.shape[0], candidates.shape[0])).astype(np.float32)
    top = rank(scores, 20)
    artist_ids = steps.all_artists(parts)
    sizes, hits, _ = relevance(listeners(interactions, artist_ids), artist_ids, test, candidates, {"random": top})
    by_artist = interactions.groupby("artist_id")["user_id"].apply(set)
    by_user = interactions.groupby("user_id")["artist_id"].apply(set)
    expected = {k: [] for k in K_VALUES}
    for artist, recommended in zip(test, candidates[top]):
        truth = set().union(*(by_user[u] for u in by_artist[artist])) - {artist}
        if not truth:
            continue
        for k in K_VALUES:
            expected[k].append(ml_metrics.apk(list(truth), recommended.tolist(), k=k))
    evaluated = sizes > 0
    assert evaluated.sum() == len(expected[1])
    for k in K_VALUES:
        ours = average_precision(hits["random"][evaluated], sizes[evaluated], k)
        assert np.abs(ours - np.asarray(expected[k])).max() < 1e-12
