"""The train and evaluate steps (they import TensorFlow, so they live apart from ``steps``)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from artistrec import evaluate as ev
from artistrec import io
from artistrec.features import stack_vectors
from artistrec.matrices import listeners
from artistrec.model import TrainSettings, load_model, save_model, scores, train
from artistrec.steps import all_artists, history_table, read_split

log = logging.getLogger(__name__)


def train_step(
    svd_files: list[str],
    split_files: dict[str, str],
    targets_file: str,
    valid_targets_file: str,
    settings: dict,
    model_out: str,
    history_out: str,
    checkpoint_folder: str,
) -> None:
    parts = read_split(split_files)
    model, history = train(
        stack_vectors(svd_files, parts["train"]),
        io.read_sparse(targets_file),
        stack_vectors(svd_files, parts["valid"]),
        io.read_sparse(valid_targets_file),
        TrainSettings(**settings),
        Path(checkpoint_folder),
    )
    with io.atomic_path(history_out) as tmp:
        history_table(history).to_csv(tmp, index=False)
    save_model(model, model_out)


def evaluate_step(
    dataset: str,
    model_file: str,
    svd_files: list[str],
    split_files: dict[str, str],
    candidates_file: str,
    interactions_file: str,
    targets_file: str,
    settings: dict,
    metrics_out: str,
    recommendations_out: str,
) -> None:
    """Score every test artist with the network and the baselines; write metrics and top lists."""
    parts = read_split(split_files)
    test, train_ids = parts["test"], parts["train"]
    chosen = io.read_ids(candidates_file)
    model = load_model(model_file, n_candidates=chosen.shape[0])
    test_blocks = [stack_vectors([path], test) for path in svd_files]
    train_blocks = [stack_vectors([path], train_ids) for path in svd_files]
    test_inputs = np.hstack(test_blocks)
    without_features = ~np.abs(test_inputs).any(axis=1)
    log.info("scoring %d test artists over %d candidates: network", test.shape[0], chosen.shape[0])
    method_scores = {"network": scores(model, test_inputs)}
    method_scores["popularity"] = ev.popularity_scores(test.shape[0], chosen.shape[0])
    log.info("content_knn: %d nearest of %d train artists", settings["knn_k"], train_ids.shape[0])
    method_scores["content_knn"] = ev.content_knn_scores(
        test_blocks, train_blocks, io.read_sparse(targets_file), settings["knn_k"]
    )
    recommended = {method: ev.rank(s, settings["top_k"]) for method, s in method_scores.items()}
    artist_ids = all_artists(parts)
    log.info("ground truth: co-listening of %d test artists with %d artists", test.shape[0], artist_ids.shape[0])
    listen = listeners(io.read_parquet(interactions_file), artist_ids)
    sizes, hits = ev.relevance(listen, artist_ids, test, chosen, recommended)
    log.info(
        "%d test artists: %d without side information, %d without ground truth (left out of the metrics)",
        test.shape[0], int(without_features.sum()), int((sizes == 0).sum()),
    )  # fmt: skip
    metrics = {
        "dataset": dataset,
        "n_test_artists": int(test.shape[0]),
        "n_test_artists_without_features": int(without_features.sum()),
        "n_test_artists_without_ground_truth": int((sizes == 0).sum()),
        "n_candidates": int(chosen.shape[0]),
        "methods": {
            method: ev.method_metrics(
                hits[method], sizes, recommended[method], chosen.shape[0], settings["bootstrap"], settings["seed"]
            )
            for method in recommended
        },
    }
    for method, values in metrics["methods"].items():
        log.info(
            "%-12s MAP@1 %.4f  MAP@5 %.4f  MAP@10 %.4f  MAP@20 %.4f",
            method, values["map@1"], values["map@5"], values["map@10"], values["map@20"],
        )  # fmt: skip
    with io.atomic_path(recommendations_out) as tmp:
        recommendations_table(test, chosen, recommended, method_scores).to_csv(tmp, index=False)
    io.write_json(metrics_out, metrics)


def recommendations_table(
    test: np.ndarray, candidates: np.ndarray, recommended: dict[str, np.ndarray], method_scores: dict[str, np.ndarray]
) -> pd.DataFrame:
    frames = []
    for method, top in recommended.items():
        frames.append(
            pd.DataFrame(
                {
                    "method": method,
                    "artist_id": np.repeat(test, top.shape[1]),
                    "rank": np.tile(np.arange(1, top.shape[1] + 1), test.shape[0]),
                    "candidate_id": candidates[top].ravel(),
                    "score": np.take_along_axis(method_scores[method], top, axis=1).ravel(),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
