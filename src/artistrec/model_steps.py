"""The train and evaluate steps (they import TensorFlow, so they live apart from ``steps``)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from artistrec import evaluate as ev
from artistrec import io
from artistrec import listeners as nl
from artistrec.features import stack_vectors
from artistrec.clusters import cluster_popularity_scores, read_clusters
from artistrec.errors import InputError
from artistrec.matrices import listeners, positions, source_users
from artistrec.model import TrainSettings, hidden_representation, load_model, save_model, scores, train
from artistrec.split import all_artists, read_split
from artistrec.steps import history_table
from artistrec.variants import model_inputs, run_folder_of

if TYPE_CHECKING:
    import keras

log = logging.getLogger(__name__)


def train_step(
    svd_files: list[str],
    sources: list[str],
    split_files: dict[str, str],
    targets_file: str,
    valid_targets_file: str,
    settings: dict,
    model_out: str,
    history_out: str,
    inputs_out: str,
    checkpoint_folder: str,
) -> None:
    """Train one model variant; ``inputs.json`` names its input sources and SVD files, in input order."""
    parts = read_split(split_files)
    train_targets = {"train": io.read_sparse(targets_file), "valid": io.read_sparse(valid_targets_file)}
    fit_and_save(svd_files, sources, parts, train_targets, "candidates", settings, model_out, history_out, inputs_out, checkpoint_folder)


def train_listeners_step(
    svd_files: list[str],
    sources: list[str],
    split_files: dict[str, str],
    interactions_file: str,
    settings: dict,
    model_out: str,
    history_out: str,
    inputs_out: str,
    checkpoint_folder: str,
) -> None:
    """Train the listener network: the default tower with one sigmoid per user of the listening table,
    learning which users listen to each train artist (early stopping on the valid artists' listeners).
    """
    parts = read_split(split_files)
    artist_ids = all_artists(parts)
    listen = listeners(io.read_parquet(interactions_file), artist_ids)
    listener_rows = {part: listen[positions(parts[part], artist_ids)] for part in ("train", "valid")}
    fit_and_save(svd_files, sources, parts, listener_rows, "listeners", settings, model_out, history_out, inputs_out, checkpoint_folder)


def fit_and_save(
    svd_files: list[str],
    sources: list[str],
    parts: dict[str, np.ndarray],
    targets: dict[str, sp.csr_matrix],
    head: str,
    settings: dict,
    model_out: str,
    history_out: str,
    inputs_out: str,
    checkpoint_folder: str,
) -> None:
    """Train on the train artists' ``targets`` (early stopping on the valid ones'); write model, history and inputs."""
    model, history = train(
        stack_vectors(svd_files, parts["train"]),
        targets["train"],
        stack_vectors(svd_files, parts["valid"]),
        targets["valid"],
        TrainSettings(**settings),
        Path(checkpoint_folder),
        head,
    )
    with io.atomic_path(history_out) as tmp:
        history_table(history).to_csv(tmp, index=False)
    run_folder = run_folder_of(model_out)
    io.write_json(
        inputs_out,
        [{"source": source, "svd": str(Path(path).relative_to(run_folder))} for source, path in zip(sources, svd_files)],
    )
    save_model(model, model_out)


def input_files(model_file: str) -> list[str]:
    return [str(path) for _, path in model_inputs(model_file)]


@dataclass(frozen=True)
class TrainedVariant:
    """A trained network with the SVD files it reads, in input order; loaded once per step."""

    model: keras.Model
    inputs: list[str]

    @classmethod
    def load(cls, model_file: str, n_candidates: int) -> TrainedVariant:
        """Load a variant, refusing one whose output width is not ``n_candidates``."""
        return cls(load_model(model_file, n_candidates=n_candidates), input_files(model_file))

    def probabilities(self, artist_ids: np.ndarray) -> np.ndarray:
        """The softmax over the candidates for ``artist_ids``."""
        return ev.probabilities(scores(self.model, stack_vectors(self.inputs, artist_ids)))

    @classmethod
    def load_listeners(cls, model_file: str, n_users: int) -> TrainedVariant:
        """Load the listener network, refusing one whose output width is not ``n_users``."""
        return cls(load_model(model_file, n_users=n_users), input_files(model_file))

    def listener_probabilities(self, artist_ids: np.ndarray) -> np.ndarray:
        """The listener network's probability that each user listens to each of ``artist_ids``."""
        return ev.sigmoid(scores(self.model, stack_vectors(self.inputs, artist_ids)))

    def embedding(self, artist_ids: np.ndarray) -> np.ndarray:
        """The last hidden layer for ``artist_ids`` (zero without side information)."""
        return hidden_representation(self.model, stack_vectors(self.inputs, artist_ids))


def embeddings(variants: list[TrainedVariant], artist_ids: np.ndarray) -> np.ndarray:
    """The hidden representations of ``artist_ids`` by each variant, each unit length,
    concatenated and normalised: dot products are mean cosines over the variants.
    """
    return ev.content_vectors([variant.embedding(artist_ids) for variant in variants])


def embedding_knn(
    variants: list[TrainedVariant],
    parts: dict[str, np.ndarray],
    targets: sp.csr_matrix,
    listen: sp.csr_matrix,
    artist_ids: np.ndarray,
    candidates: np.ndarray,
    ks: list[int],
    powers: list[float],
    votes: list[str],
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """The network's embedding kNN: valid and test votes, and the (k, power, votes) tuned on valid artists.

    A kNN like the content baseline, but in the space the trained tower learned
    (its last hidden layer) instead of the raw SVD space: neighbours are train
    artists whose side information predicts similar co-listening.
    """
    train = embeddings(variants, parts["train"])
    neighbours = ev.nearest_train_artists(embeddings(variants, parts["valid"]), train, max(ks))
    by_setting = ev.tune_neighbours(listen, artist_ids, parts["valid"], candidates, neighbours, targets, ks, powers, votes)
    k, power, kind = max(by_setting, key=lambda setting: (by_setting[setting]["map@10"], *ev.simplest_first(*setting)))
    rows = ev.vote_rows(targets, kind)
    valid_votes = ev.neighbour_votes(*neighbours, rows, k, power)
    test_votes = ev.neighbour_votes(*ev.nearest_train_artists(embeddings(variants, parts["test"]), train, k), rows, k, power)
    tuning = {"k": int(k), "power": float(power), "votes": kind, "valid_map@10": by_setting[(k, power, kind)]["map@10"]}
    return valid_votes, test_votes, tuning


def knn_votes(content: np.ndarray, embedding: np.ndarray | None, share: float) -> list[tuple[np.ndarray, float]]:
    """The kNN experts of the ``network_knn`` blend: the content kNN and, with ``share``, the embedding kNN."""
    return [(content, 1.0 - share)] + ([(embedding, share)] if embedding is not None else [])


def user_listening_weight(
    valid_scores: np.ndarray,
    valid_users: np.ndarray,
    weights: list[float],
    valid_map: Callable[[Iterable[tuple[Hashable, np.ndarray]]], dict[Hashable, dict[str, float]]],
) -> tuple[float, dict[str, Any]]:
    """The weight of the users' listening in a blend with the best valid MAP@10 (ties: the smaller), and the tuning record."""
    by_weight = valid_map((weight, ev.with_user_listening(valid_scores, valid_users, weight)) for weight in weights)
    weight = max(by_weight, key=lambda w: (by_weight[w]["map@10"], -w))
    return weight, {"weight": weight, "valid_map@10": [{"weight": w, "map@10": m["map@10"]} for w, m in by_weight.items()]}


def informed(svd_files: list[str], artist_ids: np.ndarray) -> np.ndarray:
    """Which artists have side information in any of the sources."""
    return ev.has_side_information(stack_vectors(svd_files, artist_ids))


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
    network = ev.with_fallback(variant.probabilities(valid), informed(variant.inputs, valid))
    result = ev.query_map(listen, artist_ids, valid, chosen, [("network", network)])
    history = pd.read_csv(history_file)
    best_epoch = int(history.loc[history["val_loss"].idxmin(), "epoch"]) if history["val_loss"].notna().any() else len(history)
    io.write_json(out, {"valid": result["network"], "epochs": int(len(history)), "best_epoch": best_epoch})
    log.info("valid MAP@10 %.4f after %d epochs", result["network"]["map@10"], len(history))


def evaluate_step(
    dataset: str,
    split_seed: int,
    models: dict[str, str],
    knn_file: str,
    knn_svd_files: dict[int, list[str]],
    clusters_file: str | None,
    split_files: dict[str, str],
    candidates_file: str,
    interactions_file: str,
    targets_file: str,
    user_source: str | None,
    users_file: str | None,
    listeners_file: str | None,
    settings: dict,
    metrics_out: str,
    recommendations_out: str,
) -> None:
    """Score every test artist with the network, its extensions and the baselines; write metrics and top lists.

    ``models`` maps variant names (``default``, ``member-i``, ``only-{source}``) to
    model files; ``users_file`` is the feature table of ``user_source``, the source
    keyed by user id (None: no user-listening methods), which the metrics record so
    that ``artistrec recommend`` scores through listeners as this step does;
    ``listeners_file`` is the listener network (None: no ``listeners`` methods).
    Every method ranks artists without side information (in any of the default
    model's sources) by popularity.
    """
    parts = read_split(split_files)
    test, valid, train_ids = parts["test"], parts["valid"], parts["train"]
    chosen = io.read_ids(candidates_file)
    n_candidates = chosen.shape[0]
    targets = io.read_sparse(targets_file)
    artist_ids = all_artists(parts)
    interactions = io.read_parquet(interactions_file)
    listen = listeners(interactions, artist_ids)
    variants = {name: TrainedVariant.load(path, n_candidates=n_candidates) for name, path in models.items()}
    svd_files = variants["default"].inputs
    test_informed, valid_informed = informed(svd_files, test), informed(svd_files, valid)

    def valid_map(scores_by_setting: Iterable[tuple[Hashable, np.ndarray]]) -> dict[Hashable, dict[str, float]]:
        """MAP@K on the valid artists of each setting's scores, artists without side information by popularity as on test."""
        with_fallback = ((key, ev.with_fallback(scores, valid_informed)) for key, scores in scores_by_setting)
        return ev.query_map(listen, artist_ids, valid, chosen, with_fallback)

    members = sorted(v for v in models if v == "default" or v.startswith("member-")) or ["default"]
    log.info("scoring %d test artists over %d candidates: network (%d models)", test.shape[0], n_candidates, len(members))
    member_probabilities = {v: variants[v].probabilities(test) for v in members}
    network = np.mean(list(member_probabilities.values()), axis=0)  # the ensemble when there are members
    method_scores = {"network": ev.log_probability(member_probabilities["default"])}
    if len(members) > 1:
        method_scores["network_ensemble"] = ev.log_probability(network)

    knn = io.read_json(knn_file)["chosen"]
    log.info(
        "content_knn: %d nearest train artists on %d-dim SVDs, similarity ** %g, %s votes (tuned on valid)",
        knn["k"], knn["dim"], knn["power"], knn["votes"],
    )  # fmt: skip

    knn_files = knn_svd_files[knn["dim"]]
    knn_train = ev.content_vectors([stack_vectors([path], train_ids) for path in knn_files])

    def content_neighbours(queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest train artists in the tuned content kNN's space (``ev.content_knn_scores``'s search)."""
        return ev.nearest_train_artists(ev.content_vectors([stack_vectors([path], queries) for path in knn_files]), knn_train, k)

    def knn_scores(queries: np.ndarray) -> np.ndarray:
        rows = ev.vote_rows(targets, knn["votes"])
        return ev.neighbour_votes(*content_neighbours(queries, knn["k"]), rows, knn["k"], knn["power"])

    test_knn, valid_knn = knn_scores(test), knn_scores(valid)
    tuning: dict[str, Any] = {"content_knn": knn}
    valid_embedding = test_embedding = None  # the embedding kNN's votes, when it is on
    if settings["network_embedding_knn"]:
        valid_embedding, test_embedding, tuning["network_embedding_knn"] = embedding_knn(
            [variants[v] for v in members], parts, targets, listen, artist_ids, chosen,
            settings["knn_k"], settings["knn_power"], settings["knn_votes"],
        )  # fmt: skip
        method_scores["network_embedding_knn"] = test_embedding
        log.info(
            "network_embedding_knn: %(k)d neighbours, similarity ** %(power)g, %(votes)s votes (tuned on valid)",
            tuning["network_embedding_knn"],
        )
    if settings["network_knn"]:
        valid_network = np.mean([variants[v].probabilities(valid) for v in members], axis=0)
        shares = settings["blend_embedding_shares"] if valid_embedding is not None else [0.0]
        by_setting = valid_map(
            ((weight, share), ev.blend(valid_network, weight, knn_votes(valid_knn, valid_embedding, share)))
            for weight in settings["blend_weights"]
            for share in shares
        )
        weight, share = max(by_setting, key=lambda ws: (by_setting[ws]["map@10"], -ws[0], -ws[1]))
        tuning["network_knn"] = {
            "weight": weight,
            "embedding_share": share,
            "valid_map@10": [{"weight": w, "embedding_share": s, "map@10": m["map@10"]} for (w, s), m in by_setting.items()],
        }
        log.info("network_knn: network weight %.2f, embedding kNN share %.2f (tuned on valid)", weight, share)
        method_scores["network_knn"] = ev.blend(network, weight, knn_votes(test_knn, test_embedding, share))
        valid_network_knn = ev.blend(valid_network, weight, knn_votes(valid_knn, valid_embedding, share))
    users = None if users_file is None else source_users(io.read_parquet(users_file), interactions, artist_ids)
    if users is not None:
        if users.nnz == 0:
            raise InputError(
                "config",
                f"datasets.{dataset}.user_source",
                f"no key of {users_file} is a user_id of the listening table",
                "name a source keyed by user id, or null",
            )
        valid_users, test_users = (ev.user_listening_scores(users, listen, artist_ids, q, chosen) for q in (valid, test))
        method_scores["user_listening"] = test_users
        blends = {"content_knn_user_listening": (ev.log_votes(valid_knn), ev.log_votes(test_knn))}
        if settings["network_knn"]:
            blends["network_knn_user_listening"] = (valid_network_knn, method_scores["network_knn"])
        weights = settings["user_listening_weights"]
        for method, (valid_scores, test_scores) in blends.items():
            weight, tuning[method] = user_listening_weight(valid_scores, valid_users, weights, valid_map)
            log.info("%s: users' listening weight %g (tuned on valid)", method, weight)
            method_scores[method] = ev.with_user_listening(test_scores, test_users, weight)
    if listeners_file is not None:
        listened = nl.ListenerScores(listen, artist_ids, chosen, train_ids, users)
        listener_network = TrainedVariant.load_listeners(listeners_file, n_users=listen.shape[1])
        method_scores["network_listeners"] = listened.scores(lambda rows: listener_network.listener_probabilities(test[rows]), test)
        train_listen = listen[positions(train_ids, artist_ids)]

        def knn_listeners(queries: np.ndarray, k: int, power: float, scale: float, neighbours: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
            nearest, similarity = neighbours
            return listened.scores(lambda rows: nl.neighbour_listeners(nearest[rows], similarity[rows], train_listen, k, power, scale), queries)

        valid_neighbours = content_neighbours(valid, max(settings["knn_k"]))
        grid = [(k, power, scale) for k in settings["knn_k"] for power in settings["knn_power"] for scale in settings["listener_scales"]]
        by_setting = valid_map((setting, knn_listeners(valid, *setting, valid_neighbours)) for setting in grid)
        k, power, scale = max(by_setting, key=lambda kps: (by_setting[kps]["map@10"], -kps[0], -kps[1], -kps[2]))
        tuning["content_knn_listeners"] = {"k": k, "power": power, "scale": scale, "valid_map@10": by_setting[(k, power, scale)]["map@10"]}
        log.info("content_knn_listeners: %d neighbours, similarity ** %g, scale %g (tuned on valid)", k, power, scale)
        method_scores["content_knn_listeners"] = knn_listeners(test, k, power, scale, content_neighbours(test, k))
    for variant in sorted(v for v in models if v.startswith("only-")):
        method_scores[f"network_{variant.replace('-', '_')}"] = ev.log_probability(variants[variant].probabilities(test))
    method_scores["content_knn"] = test_knn
    if clusters_file is not None:
        cluster_ids, labels, clusters = read_clusters(clusters_file)
        train_labels = labels[positions(train_ids, cluster_ids)]
        test_labels = labels[positions(test, cluster_ids)]
        # the cluster's train artists vote like the tuned kNN's neighbours
        rows = ev.vote_rows(targets, knn["votes"])
        method_scores["cluster_popularity"] = cluster_popularity_scores(test_labels, train_labels, rows)
        tuning["clusters"] = {"k": clusters.k, "silhouettes": {str(k): v for k, v in clusters.silhouettes.items()}}
    method_scores["popularity"] = ev.popularity_scores(test.shape[0], n_candidates)
    method_scores = {method: ev.with_fallback(s, test_informed) for method, s in method_scores.items()}

    recommended = {method: ev.rank(s, settings["top_k"]) for method, s in method_scores.items()}
    log.info("ground truth: co-listening of %d test artists with %d artists", test.shape[0], artist_ids.shape[0])
    sizes, hits = ev.relevance(listen, artist_ids, test, chosen, recommended)
    log.info(
        "%d test artists: %d without side information, %d without ground truth (left out of the metrics)",
        test.shape[0], int((~test_informed).sum()), int((sizes == 0).sum()),
    )  # fmt: skip
    metrics = {
        "dataset": dataset,
        "split_seed": split_seed,
        "n_test_artists": int(test.shape[0]),
        "n_test_artists_without_features": int((~test_informed).sum()),
        "n_test_artists_without_ground_truth": int((sizes == 0).sum()),
        "n_candidates": int(n_candidates),
        "user_source": user_source,
        "methods": {
            method: ev.method_metrics(
                hits[method], sizes, recommended[method], n_candidates, settings["bootstrap"], settings["seed"]
            )
            for method in recommended
        },
        "subsets": {
            name: subset_metrics(hits, sizes, mask)
            for name, mask in (("with_side_information", test_informed), ("without_side_information", ~test_informed))
        },
        "tuning": tuning,
    }
    for method, values in metrics["methods"].items():
        log.info(
            "%-22s MAP@1 %.4f  MAP@5 %.4f  MAP@10 %.4f  MAP@20 %.4f",
            method, values["map@1"], values["map@5"], values["map@10"], values["map@20"],
        )  # fmt: skip
    with io.atomic_path(recommendations_out) as tmp:
        recommendations_table(test, chosen, recommended, method_scores).to_csv(tmp, index=False)
    io.write_json(metrics_out, metrics)


def subset_metrics(hits: dict[str, np.ndarray], sizes: np.ndarray, mask: np.ndarray) -> dict[str, Any]:
    """MAP@K of every method over the test artists in ``mask`` with a non-empty ground truth.

    An empty subset (say, every test artist has side information) has no methods: no number is made up.
    """
    evaluated = mask & (sizes > 0)
    return {
        "n_test_artists": int(evaluated.sum()),
        "methods": {
            method: ev.map_at_k(h[evaluated], sizes[evaluated])
            for method, h in hits.items()
            if evaluated.any()
        },
    }


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
