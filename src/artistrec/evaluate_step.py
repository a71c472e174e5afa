"""The evaluate step: every enabled method on the same valid and test artists, measured the same way.

Build the shared context once; ask each enabled method (in the registry's order) for
its scores; rank artists without side information by popularity; measure; write
``metrics.json`` and the top lists.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

import numpy as np
import pandas as pd

from artistrec import io, methods
from artistrec.finish import degenerate_warnings, metrics_markdown
from artistrec.layout import RunFolder
from artistrec.methods.context import Context, EvaluationInputs
from artistrec.methods.popularity import with_fallback
from artistrec.metrics import Relevance, method_metrics, rank, relevance, subset_metrics
from artistrec.runner import DETAIL

log = logging.getLogger(__name__)


def test_top(context: Context, rows: list[str], k: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each row's top ``k`` candidates (positions) per test artist and their scores, popularity order for
    test artists without side information. Chunk by chunk of test artists, every row in turn: what
    rows share of a chunk is computed once, and no row's scores of every test artist exist at once.
    """
    n_test, k = context.parts["test"].shape[0], min(k, context.n_candidates)
    top = {row: (np.empty((n_test, k), dtype=np.int64), np.empty((n_test, k), dtype=np.float32)) for row in rows}
    for chunk in context.chunks("test"):
        for row in rows:
            scores = with_fallback(context.scores(row, "test", chunk), context.informed["test"][chunk])
            best = rank(scores, k)
            top[row][0][chunk], top[row][1][chunk] = best, np.take_along_axis(scores, best, axis=1)
        log.log(DETAIL, "test artists scored by every method: %d of %d", chunk.stop, n_test)
    return top


def servable_rows(context: Context) -> list[str]:
    """The rows ``artistrec recommend`` can serve, in registry order."""
    return [row for method in methods.servable(context.plan) for row in method.rows(context.plan)]


def served_method(context: Context, metrics: dict[str, Any]) -> dict[str, Any]:
    """Of the methods ``artistrec recommend`` can serve, the one with the best valid MAP@10 (ties: registry order);
    a tuned method's valid metrics are those its tuning measured of the chosen setting (``Scored.valid_map``)."""
    rows = servable_rows(context)
    valid = {row: context.result(row).valid_map for row in rows if context.result(row).valid_map is not None}
    unmeasured = [row for row in rows if row not in valid]
    valid |= context.valid_map((row, functools.partial(context.scores, row, "valid")) for row in unmeasured)
    best = max(rows, key=lambda row: (valid[row]["map@10"], -rows.index(row)))
    return {
        "name": best,
        "valid_map@10": valid[best]["map@10"],
        "test_map@10": metrics["methods"][best]["map@10"],
        "valid_map@10_of": {row: valid[row]["map@10"] for row in rows},
    }


def run_record(context: Context, metrics: dict[str, Any], split_seed: int, keys: dict[str, str]) -> dict[str, Any]:
    """``run.json``: what the run is, for ``artistrec recommend``, the batch job and the report (paths relative
    to the run folder). ``keys``: each source's key column in new artists' CSV files.
    """
    inputs = context.inputs
    relative = RunFolder.of_model(inputs.models["default"]).relative
    return {
        "dataset": context.plan.dataset,
        "split_seed": split_seed,
        "user_source": context.plan.user_source,
        "keys": keys,
        "plan": context.plan.as_params(),
        "methods": list(metrics["methods"]),
        "served_method": served_method(context, metrics),
        "tuning": context.tuning,
        "listener_users": context.settings["listener_users"],
        "inputs": {
            "interactions": relative(inputs.interactions),
            "candidates": relative(inputs.candidates),
            "split": {part: relative(path) for part, path in inputs.split.items()},
            "models": {name: relative(path) for name, path in inputs.models.items()},
            "users": None if inputs.users is None else relative(inputs.users),
        },
    }


def evaluate_step(
    inputs: EvaluationInputs,
    plan: methods.Plan,
    split_seed: int,
    settings: dict[str, Any],
    outputs: dict[str, str],
    keys: dict[str, str],
) -> None:
    """Score, measure and write every method the config turns on (``plan``), with ``settings`` (``evaluation:``).

    ``keys`` (each source's key column in new artists' CSVs) goes to ``run.json``. ``outputs``
    names the files: ``metrics`` (``metrics.json``), ``table`` (``metrics.md``), ``recommendations``
    (every method's top lists) and ``record`` (``run.json``).
    """
    enabled = methods.enabled(plan)
    context = Context(inputs, plan, settings, enabled)
    test = context.parts["test"]
    log.info(
        "scoring %d test artists over %d candidates with %d methods", test.shape[0], context.n_candidates, len(enabled)
    )
    top = test_top(context, methods.rows(plan), settings["top_k"])
    recommended = {row: best for row, (best, _) in top.items()}
    truth = relevance(context.listen, context.artist_ids, test, context.candidates, recommended)
    metrics = metrics_document(context, split_seed, truth, recommended)
    for row, values in metrics["methods"].items():
        log.log(
            DETAIL,
            "%-26s MAP@1 %.4f  MAP@5 %.4f  MAP@10 %.4f  MAP@20 %.4f",
            row,
            *(values[f"map@{k}"] for k in (1, 5, 10, 20)),
        )
    record = run_record(context, metrics, split_seed, keys)
    metrics["served_method"] = record["served_method"]
    log.info(
        "served method: %(name)s (valid MAP@10 %(valid_map@10).4f, test %(test_map@10).4f)", record["served_method"]
    )
    metrics["warnings"] = degenerate_warnings(
        metrics, float(np.median(truth.sizes[truth.sizes > 0])) if (truth.sizes > 0).any() else 0
    )
    for warning in metrics["warnings"]:
        log.warning(warning)
    with io.atomic_path(outputs["recommendations"]) as tmp:
        recommendations_table(test, context.candidates, top).to_csv(tmp, index=False)
    io.write_json(outputs["metrics"], metrics)
    io.write_text(outputs["table"], metrics_markdown(metrics))
    io.write_json(outputs["record"], record)


def metrics_document(
    context: Context,
    split_seed: int,
    truth: Relevance,
    recommended: dict[str, np.ndarray],
) -> dict[str, Any]:
    """``metrics.json``: the run's counts, every method's metrics (all test artists, by side information and
    on the long tail), the tuning."""
    test, informed, settings = context.parts["test"], context.informed["test"], context.settings
    sizes, hits = truth.sizes, truth.hits
    log.info(
        "%d test artists: %d without side information, %d without ground truth (left out of the metrics)",
        test.shape[0],
        int((~informed).sum()),
        int((sizes == 0).sum()),
    )
    return {
        "dataset": context.plan.dataset,
        "split_seed": split_seed,
        "n_test_artists": int(test.shape[0]),
        "n_test_artists_without_features": int((~informed).sum()),
        "n_test_artists_without_ground_truth": int((sizes == 0).sum()),
        "n_candidates": context.n_candidates,
        "n_tuning_artists": int(context.parts["valid"].shape[0]),
        "user_source": context.plan.user_source,
        "methods": {
            row: method_metrics(hits[row], sizes, top, context.n_candidates, settings["bootstrap"], settings["seed"])
            for row, top in recommended.items()
        },
        "subsets": {
            name: subset_metrics(hits, sizes, mask)
            for name, mask in (
                ("with_side_information", informed),
                ("without_side_information", ~informed),
                ("long_tail", truth.mostly_long_tail),
            )
        },
        "tuning": context.tuning,
    }


def recommendations_table(
    test: np.ndarray, candidates: np.ndarray, top: dict[str, tuple[np.ndarray, np.ndarray]]
) -> pd.DataFrame:
    """The top lists of every method (``test_top``): ``method, artist_id, rank, candidate_id, score``."""
    frames = []
    for method, (best, scores) in top.items():
        frames.append(
            pd.DataFrame(
                {
                    "method": method,
                    "artist_id": np.repeat(test, best.shape[1]),
                    "rank": np.tile(np.arange(1, best.shape[1] + 1), test.shape[0]),
                    "candidate_id": candidates[best].ravel(),
                    "score": scores.ravel(),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
