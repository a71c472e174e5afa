"""model.h5 holds no code: it loads in Keras safe mode, and only with the candidates it was trained on."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import h5py
import pytest

from artistrec import io, methods
from artistrec.errors import InputError
from artistrec.evaluate_step import evaluate_step
from artistrec.model import keras, load_model

from conftest import evaluation_inputs, run_folder

BUILT_IN_LAYERS = {"InputLayer", "Normalization", "Dense", "Dropout"}


def layer_classes(model_file: Path) -> set[str]:
    with h5py.File(model_file, "r") as handle:
        config = json.loads(handle.attrs["model_config"])
    return {layer["class_name"] for layer in config["config"]["layers"]}


def test_the_trained_model_is_built_in_layers_only_and_loads_in_safe_mode(demo_run: Path):
    model_file = run_folder(demo_run) / "models" / "default" / "model.h5"
    assert layer_classes(model_file) <= BUILT_IN_LAYERS
    candidates = io.read_ids(run_folder(demo_run) / "candidates.txt")
    model = load_model(model_file, n_candidates=candidates.shape[0])
    assert model.output_shape[-1] == candidates.shape[0]


def test_a_model_file_carrying_python_code_is_refused(tmp_path: Path):
    tampered = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Lambda(lambda x: x * 2), keras.layers.Dense(2)])
    tampered.save(tmp_path / "model.h5")
    with pytest.raises((ValueError, InputError), match="Lambda"):
        load_model(tmp_path / "model.h5")


def test_a_results_folder_whose_candidates_do_not_match_the_model_is_refused(demo_run: Path, tmp_path: Path):
    results = tmp_path / "demo"
    shutil.copytree(demo_run / "results" / "demo", results)
    run = results / "split-42"
    candidates = io.read_ids(run / "candidates.txt")
    io.write_ids(run / "candidates.txt", candidates[:-1])
    model = run / "models" / "default" / "model.h5"
    plan = methods.Plan(
        "demo",
        {"likes": "log", "playlists": "log", "tags": "tfidf"},
        None,
        {
            "network_ensemble": 0,
            "network_knn": True,
            "network_embedding_knn": True,
            "ablation": False,
            "cluster_popularity": False,
            "network_listeners": False,
        },
    )
    settings = {
        "top_k": 20,
        "knn_k": [5],
        "knn_power": [1],
        "knn_votes": ["distribution"],
        "blend_weights": [0.5],
        "blend_embedding_shares": [0.5],
        "bootstrap": 10,
        "seed": 0,
        "listener_users": 1000,
        "tuning_artists": 1000,
    }
    outputs = {name: str(tmp_path / "out" / name) for name in ("metrics", "table", "recommendations", "record")}
    with pytest.raises(InputError) as raised:
        evaluate_step(evaluation_inputs(run), plan, 42, settings, outputs, {})
    message = str(raised.value)
    assert message.startswith(f"{model}: output width: the model scores {candidates.shape[0]} candidates")
    assert f"candidates.txt lists {candidates.shape[0] - 1}" in message and "; fix: " in message
    assert not (tmp_path / "out").exists()
