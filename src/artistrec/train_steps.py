"""The train and validate steps (they import TensorFlow, so they live apart from ``steps``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from artistrec import io
from artistrec.features import stack_vectors
from artistrec.layout import SPLIT_PARTS, RunFolder
from artistrec.listener_head import SampledListeners
from artistrec.matrices import listeners, positions
from artistrec.methods.popularity import with_fallback
from artistrec.metrics import query_map
from artistrec.model import SCORE_BATCH, TrainSettings, save_model, train
from artistrec.networks import TrainedVariant
from artistrec.sampled_head import SampledOutputs, Sampling
from artistrec.softmax_head import SampledSoftmax
from artistrec.split import all_artists, read_split
from artistrec.steps import history_table
from artistrec.vectors import informed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Training:
    """What every training step reads and writes besides its targets: the SVD files and their
    sources (input order), the split, the model settings, the outputs and the checkpoint folder.
    """

    svd_files: list[str]
    sources: list[str]
    split_files: dict[str, str]
    settings: dict[str, Any]
    model_out: str
    history_out: str
    inputs_out: str
    checkpoint_folder: str
    output_layer: dict[str, Any] | None = None

    @classmethod
    def of_job(cls, job: Any) -> Training:
        """From a training rule's ``snakemake`` object (inputs ``svd`` and the split parts; outputs
        ``model``, ``history``, ``inputs``; params ``sources``, ``settings``, ``checkpoints``, and
        ``output_layer``: the config's ``listeners:`` or ``softmax:`` section).
        """
        return cls(
            svd_files=list(job.input.svd),
            sources=list(job.params.sources),
            split_files={part: job.input[part] for part in SPLIT_PARTS},
            settings=dict(job.params.settings),
            model_out=job.output.model,
            history_out=job.output.history,
            inputs_out=job.output.inputs,
            checkpoint_folder=job.params.checkpoints,
            output_layer=dict(job.params.get("output_layer") or {}) or None,
        )


def train_step(training: Training, targets_file: str, valid_targets_file: str) -> None:
    """Train one model variant on the co-listening targets of the train artists: a full softmax over the
    candidates, or a sampled one over more than ``output_layer``'s ``sampled_above`` (``softmax_head``).
    """
    targets = {"train": io.read_sparse(targets_file), "valid": io.read_sparse(valid_targets_file)}
    fit_and_save(training, targets, "candidates", softmax_layer(training.output_layer, targets["train"].shape[1]))


def softmax_layer(output_layer: dict[str, Any] | None, n_candidates: int) -> SampledSoftmax | None:
    """The sampled softmax over ``n_candidates`` when they are more than ``sampled_above``, else None (full)."""
    if output_layer is None:
        raise ValueError("rule train passes params.output_layer (the config's softmax: section)")
    if n_candidates <= output_layer["sampled_above"]:
        log.info(
            "a full softmax over %d candidates (softmax.sampled_above %d)", n_candidates, output_layer["sampled_above"]
        )
        return None
    sampling = Sampling(negatives=output_layer["negatives"], positives=output_layer["positives"])
    log.info(
        "a sampled softmax over %d candidates: %d drawn and up to %d co-listened scored per artist per batch",
        *(n_candidates, sampling.negatives, sampling.positives),
    )
    return SampledSoftmax(sampling)


def train_listeners_step(training: Training, interactions_file: str) -> None:
    """Train the listener network: the default tower with one sigmoid per user of the listening table,
    learning which users listen to each train artist (early stopping on the valid artists' listeners);
    each batch scores the users ``output_layer`` samples (``listener_head``).
    """
    parts = read_split(training.split_files)
    artist_ids = all_artists(parts)
    listen = listeners(io.read_parquet(interactions_file), artist_ids)
    targets = {part: listen[positions(parts[part], artist_ids)] for part in ("train", "valid")}
    if training.output_layer is None:
        raise ValueError("rule train_listeners passes params.output_layer (the config's listeners: section)")
    sampling = Sampling(**training.output_layer)
    log.info(
        "%d users; %d drawn and up to %d listeners scored per artist per batch",
        listen.shape[1],
        sampling.negatives,
        sampling.positives,
    )
    fit_and_save(training, targets, "listeners", SampledListeners(sampling))


def fit_and_save(
    training: Training, targets: dict[str, sp.csr_matrix], head: str, sampled: SampledOutputs | None = None
) -> None:
    """Train on the train artists' ``targets`` (early stopping on the valid ones'); write model, history
    and ``inputs.json`` (the input sources and their SVD files, in input order).
    """
    parts = read_split(training.split_files)
    model, history = train(
        stack_vectors(training.svd_files, parts["train"]),
        targets["train"],
        stack_vectors(training.svd_files, parts["valid"]),
        targets["valid"],
        TrainSettings(**training.settings),
        Path(training.checkpoint_folder),
        head,
        sampled,
    )
    with io.atomic_path(training.history_out) as tmp:
        history_table(history).to_csv(tmp, index=False)
    run = RunFolder.of_model(training.model_out)
    inputs = [
        {"source": source, "svd": run.relative(path)} for source, path in zip(training.sources, training.svd_files)
    ]
    io.write_json(training.inputs_out, inputs)
    save_model(model, training.model_out)


def validate_step(
    model_file: str,
    history_file: str,
    split_files: dict[str, str],
    candidates_file: str,
    interactions_file: str,
    out: str,
) -> None:
    """MAP@K of one variant on valid artists (popularity for those without side information)."""
    parts = read_split(split_files)
    chosen = io.read_ids(candidates_file)
    valid = parts["valid"]
    variant = TrainedVariant.load(model_file, n_candidates=chosen.shape[0])
    artist_ids = all_artists(parts)
    listen = listeners(io.read_parquet(interactions_file), artist_ids)
    has_side_information = informed(variant.inputs, valid)

    def network(rows: slice) -> np.ndarray:
        return with_fallback(variant.probabilities(valid[rows]), has_side_information[rows])

    result = query_map(listen, artist_ids, valid, chosen, [("network", network)], SCORE_BATCH)
    history = pd.read_csv(history_file)
    best_epoch = (
        int(history.loc[history["val_loss"].idxmin(), "epoch"]) if history["val_loss"].notna().any() else len(history)
    )
    io.write_json(out, {"valid": result["network"], "epochs": int(len(history)), "best_epoch": best_epoch})
    log.info("valid MAP@10 %.4f after %d epochs", result["network"]["map@10"], len(history))
