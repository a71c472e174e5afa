"""The listener network's epoch at Last.fm-360K's shape: every user in every batch against sampled users.

Synthetic listening of a fraction of Last.fm-360K's shape (train artists x users,
about 110 listeners per artist from 16 taste groups, 96 input dims as the demo's three
32-dim SVDs): the listener network trains ``--epochs`` epochs with the default
``model:`` settings of ``config.yaml``, once scoring every user in every batch
(Keras's fit over the full layer, as before issue 19) and once with the
``listeners:`` draws (``listener_head``), and the table gives the seconds of each
epoch. The full layer is timed only up to ``--full-up-to`` (its epoch grows with
artists x users). ``training wall s`` adds the set-up and the per-epoch
checkpoints (the model, and the sampled head's optimizer moments) to the epochs.
Both run in one process, so their ratio is what a shared machine's load leaves
comparable.

    .venv/bin/python benchmarks/listener_head.py 0.1 0.3 1.0 --full-up-to 0.1
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import fields
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import yaml

from artistrec.listener_head import SampledListeners
from artistrec.model import TrainSettings, describe_device, train
from artistrec.sampled_head import Sampling

REPO = Path(__file__).resolve().parents[1]
FULL_TRAIN_ARTISTS = 129_600  # 81% of Last.fm-360K's 160,000 artists (test and valid held out)
FULL_USERS = 360_000
LISTENERS_PER_ARTIST = 110  # 17.5M listens over 160,000 artists
INPUT_DIMS = 96
GROUPS = 16


def synthetic_listening(n_artists: int, n_users: int, seed: int) -> tuple[np.ndarray, sp.csr_matrix]:
    """Inputs and binary listening: an artist's listeners come from its taste group 80% of the time."""
    rng = np.random.default_rng(seed)
    group, user_group = rng.integers(0, GROUPS, n_artists), rng.integers(0, GROUPS, n_users)
    inputs = rng.normal(size=(n_artists, INPUT_DIMS)).astype(np.float32)
    inputs[:, :GROUPS] += 2 * np.eye(GROUPS, dtype=np.float32)[group]
    rows = np.repeat(np.arange(n_artists), rng.poisson(LISTENERS_PER_ARTIST, n_artists) + 1)
    users = rng.integers(0, n_users, rows.shape[0])
    in_group = rng.random(rows.shape[0]) < 0.8
    for g, members in enumerate(np.flatnonzero(user_group == g) for g in range(GROUPS)):
        chosen = in_group & (group[rows] == g)
        users[chosen] = members[rng.integers(0, members.shape[0], chosen.sum())]
    listening = sp.csr_matrix((np.ones(rows.shape[0], dtype=np.float32), (rows, users)), shape=(n_artists, n_users))
    listening.data[:] = 1.0
    return inputs, listening


def epochs(fraction: float, sampled: bool, n_epochs: int, draws: dict[str, int] | None = None) -> dict[str, str]:
    """Seconds per epoch of the listener network at ``fraction`` of the shape (valid: a tenth as many artists),
    scoring every user or sampled users (``draws`` overrides the ``listeners:`` settings of ``config.yaml``).
    """
    config = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    model = {f.name: config["model"][f.name] for f in fields(TrainSettings)}
    settings = TrainSettings(**{**model, "max_epochs": n_epochs, "patience": n_epochs})
    n_artists, n_users = round(FULL_TRAIN_ARTISTS * fraction), round(FULL_USERS * fraction)
    inputs, listening = synthetic_listening(n_artists + n_artists // 10, n_users, seed=0)
    train_rows, valid_rows = slice(n_artists // 10, None), slice(0, n_artists // 10)
    layer = config["listeners"] | (draws or {})
    head = SampledListeners(Sampling(**layer)) if sampled else None
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as checkpoints:
        _, history = train(
            *(inputs[train_rows], listening[train_rows], inputs[valid_rows], listening[valid_rows]),
            *(settings, Path(checkpoints), "listeners", head),
        )
    return {
        "size": f"{fraction:.0%}",
        "train artists x users": f"{n_artists:,} x {n_users:,}",
        "users scored per batch": (
            f"{layer['negatives']:,} drawn + up to {layer['positives']} listeners per artist"
            if sampled
            else "every user"
        ),
        "seconds per epoch": ", ".join(f"{row['seconds']:.1f}" for row in history),
        "training wall s": f"{time.perf_counter() - started:.1f}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("fractions", nargs="+", type=float, help="sizes as fractions of Last.fm-360K's shape")
    parser.add_argument("--full-up-to", type=float, default=0.1, help="time the full layer up to this size")
    parser.add_argument("--epochs", type=int, default=2, help="epochs per layer and size (default 2)")
    parser.add_argument(
        "--user-factors", type=int, default=128, help="user factors of the factored layer (default 128)"
    )
    parser.add_argument("--negatives", type=int, help="users drawn per batch (default: config.yaml's)")
    parser.add_argument("--positives", type=int, help="listeners scored per artist at most (default: config.yaml's)")
    args = parser.parse_args()
    draws = {key: getattr(args, key) for key in ("negatives", "positives") if getattr(args, key) is not None}
    rows = [
        epochs(fraction, sampled, args.epochs, draws)
        for fraction in args.fractions
        for sampled in ((False, True) if fraction <= args.full_up_to else (True,))
    ]
    print(f"device: {describe_device(require_gpu=False)}")
    print("| " + " | ".join(rows[0]) + " |\n|" + "---|" * len(rows[0]))
    for row in rows:
        print("| " + " | ".join(str(value) for value in row.values()) + " |")


if __name__ == "__main__":
    main()
