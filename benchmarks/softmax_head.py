"""The softmax network over many candidates: the full softmax against the sampled one (``softmax_head``).

``speed``: synthetic co-listening of a fraction of Last.fm-360K's shape with every
train artist a candidate (train artists x candidates, about 60 co-listened
candidates per artist from 16 taste groups, 96 input dims as the demo's three
32-dim SVDs); the default network trains ``--epochs`` epochs with a full softmax
(up to ``--full-up-to``) and with the ``softmax:`` draws of ``config.yaml``, and
the table gives the seconds of each epoch. Both run in one process, so their ratio
is what a shared machine's load leaves comparable.

``quality``: a run's own data (its split, candidates, targets and the default
network's SVD files, as ``snakemake`` writes them): the default network trained both ways to the end
(early stopping), with its epochs, seconds per epoch and MAP@10 on valid and test
artists (popularity for those without side information, as in the evaluation).

    .venv/bin/python benchmarks/softmax_head.py speed 0.1 1.0 --full-up-to 0.1
    .venv/bin/python benchmarks/softmax_head.py quality /tmp/lfm_all --dataset lastfm-2k
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from dataclasses import fields
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import yaml

from artistrec import io
from artistrec.features import stack_vectors
from artistrec.layout import RunFolder
from artistrec.matrices import listeners
from artistrec.methods.popularity import with_fallback
from artistrec.metrics import query_map, whole
from artistrec.model import TrainSettings, describe_device, scores, train
from artistrec.sampled_head import Sampling
from artistrec.softmax_head import SampledSoftmax
from artistrec.split import all_artists, read_split
from artistrec.variants import DEFAULT, variant_settings
from artistrec.vectors import has_side_information, probabilities

REPO = Path(__file__).resolve().parents[1]
FULL_TRAIN_ARTISTS = 129_600  # 81% of Last.fm-360K's 160,000 artists (test and valid held out)
FULL_CANDIDATES = 144_000  # every train artist with a listener, as `n_candidates: all`
CO_LISTENED_PER_ARTIST = 60
INPUT_DIMS = 96
GROUPS = 16


def config() -> dict:
    return yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))


def settings(n_epochs: int | None = None) -> TrainSettings:
    model = {f.name: config()["model"][f.name] for f in fields(TrainSettings)}
    return TrainSettings(**(model | ({"max_epochs": n_epochs, "patience": n_epochs} if n_epochs else {})))


def sampled_softmax(draws: dict[str, int] | None = None) -> SampledSoftmax:
    """The ``softmax:`` draws of ``config.yaml``, or ``draws`` where given."""
    layer = config()["softmax"] | (draws or {})
    return SampledSoftmax(Sampling(negatives=layer["negatives"], positives=layer["positives"]))


def synthetic_co_listening(n_artists: int, n_candidates: int, seed: int) -> tuple[np.ndarray, sp.csr_matrix]:
    """Inputs and co-listening distributions: an artist's co-listened candidates come from its taste group
    80% of the time, popular ones (rank ** -1) more often.
    """
    rng = np.random.default_rng(seed)
    group, candidate_group = rng.integers(0, GROUPS, n_artists), rng.integers(0, GROUPS, n_candidates)
    inputs = rng.normal(size=(n_artists, INPUT_DIMS)).astype(np.float32)
    inputs[:, :GROUPS] += 2 * np.eye(GROUPS, dtype=np.float32)[group]
    rows = np.repeat(np.arange(n_artists), rng.poisson(CO_LISTENED_PER_ARTIST, n_artists) + 1)
    popularity = 1.0 / np.arange(1, n_candidates + 1)
    columns = rng.choice(n_candidates, rows.shape[0], p=popularity / popularity.sum())
    in_group = rng.random(rows.shape[0]) < 0.8
    for g in range(GROUPS):
        members = np.flatnonzero(candidate_group == g)
        chosen = in_group & (group[rows] == g)
        columns[chosen] = members[rng.integers(0, members.shape[0], chosen.sum())]
    counts = sp.csr_matrix((np.ones(rows.shape[0], np.float32), (rows, columns)), shape=(n_artists, n_candidates))
    counts.sum_duplicates()
    return inputs, sp.csr_matrix(sp.diags(1.0 / np.asarray(counts.sum(axis=1)).ravel()) @ counts, dtype=np.float32)


def speed(fraction: float, sampled: bool, n_epochs: int) -> dict[str, str]:
    """Seconds per epoch of the default network at ``fraction`` of the shape (valid: a tenth as many artists)."""
    n_artists, n_candidates = round(FULL_TRAIN_ARTISTS * fraction), round(FULL_CANDIDATES * fraction)
    inputs, targets = synthetic_co_listening(n_artists + n_artists // 10, n_candidates, seed=0)
    train_rows, valid_rows = slice(n_artists // 10, None), slice(0, n_artists // 10)
    head = sampled_softmax() if sampled else None
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as checkpoints:
        _, history = train(
            *(inputs[train_rows], targets[train_rows], inputs[valid_rows], targets[valid_rows]),
            *(settings(n_epochs), Path(checkpoints), "candidates", head),
        )
    return {
        "size": f"{fraction:.1%}",
        "train artists x candidates": f"{n_artists:,} x {n_candidates:,}",
        "softmax": f"sampled ({head.sampling.negatives:,} drawn per batch)" if head else "full",
        "seconds per epoch": ", ".join(f"{row['seconds']:.1f}" for row in history),
        "training wall s": f"{time.perf_counter() - started:.1f}",
    }


def network_map(model, svd_files: list[str], run: RunFolder, part: str) -> float:
    """MAP@10 of the network on ``part``'s artists, popularity for those without side information."""
    parts = read_split(run.split())
    artist_ids, queries = all_artists(parts), parts[part]
    interactions = io.read_parquet(run.dataset.interactions)
    inputs = stack_vectors(svd_files, queries)
    network = with_fallback(probabilities(scores(model, inputs)), has_side_information(inputs))
    candidates = io.read_ids(run.candidates)
    result = query_map(
        listeners(interactions, artist_ids), artist_ids, queries, candidates, [("network", whole(network))]
    )
    return result["network"]["map@10"]


def quality(dataset: str, seed: str, sampled: bool, draws: dict[str, int]) -> dict[str, str]:
    """The default network of a run trained with a full or a sampled softmax, and its MAP@10."""
    run = RunFolder.of(dataset, seed)
    parts = read_split(run.split())
    features = variant_settings(config(), dataset, DEFAULT).features
    svd_files = [run.svd(source, layer["weighting"], layer["dim"]) for source, layer in features.items()]
    targets = io.read_sparse(run.targets)
    head = sampled_softmax(draws) if sampled else None
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as checkpoints:
        model, history = train(
            *(stack_vectors(svd_files, parts["train"]), targets),
            *(stack_vectors(svd_files, parts["valid"]), io.read_sparse(run.valid_targets)),
            *(settings(), Path(checkpoints), "candidates", head),
        )
    best = min(history, key=lambda row: row["val_loss"])
    return {
        "candidates": f"{targets.shape[1]:,}",
        "softmax": f"sampled ({head.sampling.negatives:,} drawn per batch)" if head else "full",
        "epochs (best)": f"{len(history)} ({best['epoch']})",
        "median s per epoch": f"{statistics.median(row['seconds'] for row in history):.1f}",
        "training wall s": f"{time.perf_counter() - started:.0f}",
        "valid MAP@10": f"{network_map(model, svd_files, run, 'valid'):.4f}",
        "test MAP@10": f"{network_map(model, svd_files, run, 'test'):.4f}",
    }


def print_table(rows: list[dict[str, str]]) -> None:
    print(f"device: {describe_device(require_gpu=False)}")
    print("| " + " | ".join(rows[0]) + " |\n|" + "---|" * len(rows[0]))
    for row in rows:
        print("| " + " | ".join(row.values()) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    timed = commands.add_parser("speed", help="seconds per epoch on synthetic co-listening")
    timed.add_argument("fractions", nargs="+", type=float, help="sizes as fractions of Last.fm-360K's shape")
    timed.add_argument("--full-up-to", type=float, default=0.1, help="time the full softmax up to this size")
    timed.add_argument("--epochs", type=int, default=2, help="epochs per softmax and size (default 2)")
    scored = commands.add_parser("quality", help="both softmaxes trained on a finished run's data")
    scored.add_argument("workdir", type=Path, help="the workflow folder of the finished run")
    scored.add_argument("--dataset", default="lastfm-2k")
    scored.add_argument("--seed", default="42")
    scored.add_argument("--negatives", type=int, help="candidates drawn per batch (default: config.yaml's)")
    scored.add_argument("--positives", type=int, help="co-listened scored per artist (default: config.yaml's)")
    scored.add_argument("--sampled-only", action="store_true", help="leave out the full softmax")
    args = parser.parse_args()
    if args.command == "speed":
        rows = [
            speed(fraction, sampled, args.epochs)
            for fraction in args.fractions
            for sampled in ((False, True) if fraction <= args.full_up_to else (True,))
        ]
    else:
        os.chdir(args.workdir)
        draws = {key: getattr(args, key) for key in ("negatives", "positives") if getattr(args, key) is not None}
        kinds = (True,) if args.sampled_only else (False, True)
        rows = [quality(args.dataset, args.seed, sampled, draws) for sampled in kinds]
    print_table(rows)


if __name__ == "__main__":
    main()
