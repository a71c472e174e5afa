"""One function per workflow step: paths and parameters in, artifacts out.

The Snakemake scripts under ``workflow/scripts`` only unpack the ``snakemake``
object and call these, so every step can also be run and tested without Snakemake.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from artistrec import demo, io, methods
from artistrec.candidates import read_candidates, select_candidates
from artistrec.clusters import assign, fit_clusters, save_clusters
from artistrec.datasets import demo as demo_dataset
from artistrec.datasets import get_dataset
from artistrec.errors import InputError
from artistrec.features import fit_svd, save_svd, source_matrix, stack_vectors
from artistrec.ingest import names_for, restrict_to_listened
from artistrec.matrices import listeners, positions
from artistrec.metrics import HEAD_CANDIDATES
from artistrec.neighbours import nearest_train_artists, tune_neighbours, vote_rows
from artistrec.split import all_artists, read_split, split_artists, tuning_parts
from artistrec.summary import aggregate, comparisons, markdown_table, sweep_plot, sweep_table
from artistrec.targets import build_targets
from artistrec.vectors import content_vectors, has_side_information

log = logging.getLogger(__name__)


def write_demo(folder: str, generator: dict[str, Any]) -> None:
    tables = demo.generate(demo.DemoSpec(**generator))
    demo_dataset.write_raw(tables, Path(folder))
    for name, table in tables.items():
        log.info("demo %s: %d rows", name, len(table))


def ingest_listening(dataset: str, raw: dict[str, Any], interactions_out: str, artists_out: str) -> None:
    """Write the canonical interactions and artists tables of one dataset.

    ``raw`` says where the raw tables are: the dataset's ``RawFiles.tables``
    (see :mod:`artistrec.datasets`).
    """
    interactions, artists = get_dataset(dataset).read_listening(raw)
    log.info(
        "interactions: %d listening pairs, %d users, %d artists",
        len(interactions),
        interactions["user_id"].nunique(),
        interactions["artist_id"].nunique(),
    )
    io.write_parquet(artists_out, names_for(interactions["artist_id"].to_numpy(), artists))
    io.write_parquet(interactions_out, interactions)


def ingest_feature(dataset: str, raw: dict[str, Any], source: str, interactions_file: str, out: str) -> None:
    """Write one canonical feature table, restricted to artists somebody listens to.

    ``raw`` is the dataset's ``RawFiles.tables``, as for :func:`ingest_listening`.
    """
    table = get_dataset(dataset).read_feature(raw, source)
    table = restrict_to_listened(table, io.read_parquet(interactions_file), source)
    if table.empty:
        raise InputError(
            source, "artist_id", "no artist of this source appears in the listening table", "check its artist ids"
        )
    log.info(
        "%s: %d rows, %d artists, %d keys", source, len(table), table["artist_id"].nunique(), table["key"].nunique()
    )
    io.write_parquet(out, table)


def split(interactions_file: str, test_fraction: float, valid_fraction: float, seed: int, out: dict[str, str]) -> None:
    interactions = io.read_parquet(interactions_file)
    parts = split_artists(interactions["artist_id"].to_numpy(), test_fraction, valid_fraction, seed)
    for name in ("train", "valid", "test"):
        ids = getattr(parts, name)
        if ids.shape[0] == 0:
            raise InputError(
                "config", f"split.{name}", f"leaves no {name} artists", "use more artists or other split fractions"
            )
        io.write_ids(out[name], ids)
        log.info("%s: %d artists", name, ids.shape[0])


def candidates(interactions_file: str, train_file: str, n_candidates: int | str, min_listeners: int, out: str) -> None:
    chosen = select_candidates(io.read_parquet(interactions_file), io.read_ids(train_file), n_candidates, min_listeners)
    io.write_ids(out, chosen)
    log.info("candidates: the %d most-listened train artists", chosen.shape[0])


def svd(
    features_file: str,
    split_files: dict[str, str],
    dataset: str,
    source: str,
    dim: int,
    weighting: str,
    seed: int,
    out: str,
) -> None:
    parts = read_split(split_files)
    matrix = source_matrix(io.read_parquet(features_file), all_artists(parts))
    fitted = fit_svd(matrix, parts["train"], dim, weighting, seed, source, dataset)
    without = int((~has_side_information(fitted.vectors)).sum())
    log.info(
        "%s: %d of %d artists have no side information (zero vectors)", source, without, matrix.artist_ids.shape[0]
    )
    save_svd(out, fitted, weighting)


def targets(
    interactions_file: str, split_files: dict[str, str], candidates_file: str, out: str, valid_out: str
) -> None:
    interactions = io.read_parquet(interactions_file)
    parts = read_split(split_files, interactions["artist_id"].to_numpy())
    artist_ids = all_artists(parts)
    listen = listeners(interactions, artist_ids)
    chosen = read_candidates(candidates_file, parts["train"])
    for name, path in (("train", out), ("valid", valid_out)):
        matrix = build_targets(listen, artist_ids, parts[name], chosen)
        empty = int((np.diff(matrix.indptr) == 0).sum())
        log.info("%s targets: %d x %d, %d non-zeros, %d empty rows", name, *matrix.shape, matrix.nnz, empty)
        io.write_sparse(path, matrix)


def history_table(history: list[dict[str, float]]) -> pd.DataFrame:
    return pd.DataFrame(history, columns=["epoch", "loss", "val_loss", "seconds"])


def knn_files_by_dim(files: list[str], dims: list[int], n_sources: int) -> dict[int, list[str]]:
    """Regroup a flat dims-major list of SVD files (as the rules pass them) by dim."""
    return {dim: files[i * n_sources : (i + 1) * n_sources] for i, dim in enumerate(dims)}


def tune_knn(
    knn_svd_files: dict[int, list[str]],
    split_files: dict[str, str],
    candidates_file: str,
    interactions_file: str,
    targets_file: str,
    ks: list[int],
    powers: list[float],
    votes: list[str],
    tuning_count: int,
    out: str,
) -> None:
    """Choose the content kNN's SVD size, neighbour count, similarity power and votes by MAP@10 on valid artists
    (``tuning_artists`` of them: ``tuning_count``).

    One axis at a time (``tune_neighbours``); ties go to the smaller size and to the
    k, power and votes listed first in the config. Artists without side information get popularity order whatever the
    setting, so they shift every setting alike. The neighbours are searched once
    per size, for the largest k.
    """
    artist_ids, parts = tuning_parts(read_split(split_files), tuning_count)
    chosen = io.read_ids(candidates_file)
    targets = io.read_sparse(targets_file)
    listen = listeners(io.read_parquet(interactions_file), artist_ids)

    def neighbours(dim: Hashable) -> tuple[np.ndarray, np.ndarray]:
        files = knn_svd_files[dim]  # type: ignore[index]
        return nearest_train_artists(
            content_vectors([stack_vectors([path], parts["valid"]) for path in files]),
            content_vectors([stack_vectors([path], parts["train"]) for path in files]),
            max(ks),
        )

    grid = (ks, powers, votes)
    best, by_setting = tune_neighbours(
        listen,
        artist_ids,
        parts["valid"],
        chosen,
        neighbours,
        sorted(knn_svd_files),
        functools.partial(vote_rows, targets),
        grid,
    )
    table = [
        {"dim": dim, "k": int(k), "power": float(power), "votes": kind, **result}
        for (dim, k, power, kind), result in by_setting.items()
    ]
    for (dim, k, power, kind), result in by_setting.items():
        log.info("content_knn dim %d k %d power %g votes %s: valid MAP@10 %.4f", dim, k, power, kind, result["map@10"])
    keys = ("dim", "k", "power", "votes")
    chosen = dict(zip(keys, best)) | {"valid_map@10": by_setting[best]["map@10"]}
    io.write_json(out, {"chosen": chosen, "tuning_artists": int(parts["valid"].shape[0]), "valid": table})
    log.info("chosen: dim %d, k %d, power %g, votes %s (%d settings scored)", *best, len(table))


def clusters(
    svd_files: list[str], split_files: dict[str, str], ks: list[int], seed: int, out: str, summary_out: str
) -> None:
    """KMeans on train artists' content vectors, k chosen by silhouette; every artist gets a label."""
    parts = read_split(split_files)
    artist_ids = all_artists(parts)
    vectors = content_vectors([stack_vectors([path], artist_ids) for path in svd_files])
    train_vectors = vectors[positions(parts["train"], artist_ids)]
    fitted = fit_clusters(train_vectors, ks, seed)
    labels = assign(vectors, fitted.centroids)
    save_clusters(out, artist_ids, labels, fitted)
    sizes = np.bincount(labels[labels >= 0], minlength=fitted.k)
    io.write_json(
        summary_out,
        {"k": fitted.k, "silhouettes": {str(k): v for k, v in fitted.silhouettes.items()}, "sizes": sizes.tolist()},
    )
    log.info("k=%d by silhouette (%s)", fitted.k, ", ".join(f"{k}: {v:.3f}" for k, v in fitted.silhouettes.items()))


SUBSET_TITLES = {
    "all": "All test artists",
    "with_side_information": "Test artists with side information",
    "without_side_information": "Test artists without side information (every method falls back to popularity)",
    "long_tail": f"Test artists co-listened mostly with candidates beyond the {HEAD_CANDIDATES:,} most popular",
}


def seeds_summary(metrics_files: list[str], out: str, table_out: str) -> None:
    """Mean and std over split seeds of every method's metrics, and each network method against the best baseline."""
    summary = aggregate([io.read_json(path) for path in metrics_files])
    rows = summary["subsets"]["all"]
    compared = [row for row in rows if methods.kind_of(row) == "network" and methods.method_of(row).compared]
    summary["comparisons"] = {row: comparisons(summary, row, methods.baselines(list(rows))) for row in compared}
    lines = [f"# {summary['dataset']}: mean ± std over split seeds {', '.join(map(str, summary['split_seeds']))}", ""]
    for subset, title in SUBSET_TITLES.items():
        if not summary["subsets"][subset]:
            continue  # no test artist of this kind on any seed
        lines += [f"## {title}", "", markdown_table(summary, subset), ""]
        if subset == "without_side_information":
            continue
        for model, by_subset in summary["comparisons"].items():
            verdicts = by_subset[subset]
            cells = [
                f"{metric.upper()} {v['relative_gain']:+.1%} over {v['baseline']} ({v['verdict']})"
                for metric, v in verdicts.items()
            ]
            lines.append(f"- {model}: " + "; ".join(cells))
        lines.append("")
    lines.append("A difference smaller than two standard errors of the per-seed paired differences is a tie.")
    io.write_json(out, summary)
    io.write_text(table_out, "\n".join(lines) + "\n")
    for model, by_subset in summary["comparisons"].items():
        v = by_subset["all"]["map@10"]
        log.info("%s MAP@10 %+.1f%% over %s (%s)", model, 100 * v["relative_gain"], v["baseline"], v["verdict"])


def sweep_summary(
    valid_files: dict[str, str], grid: dict[str, list[str]], defaults: dict[str, str], table_out: str, plot_out: str
) -> None:
    """Validation MAP@K of every sweep point as a table (TSV) and a plot.

    ``valid_files`` maps variant names (``default`` and ``{axis}-{value}``) to their
    ``valid.json``. Each axis lists all its values in grid order, its config value
    included (measured by the ``default`` variant, also when the grid lacks it).
    """
    points = {"default": {"axis": "default", "value": "", "file": valid_files["default"]}}
    for axis, values in grid.items():
        for value in [*values, *([defaults[axis]] if defaults[axis] not in values else [])]:
            file = valid_files["default" if value == defaults[axis] else f"{axis}-{value}"]
            points[f"{axis}-{value}"] = {"axis": axis, "value": value, "file": file}
    table = sweep_table(
        {
            name: {
                "axis": p["axis"],
                "value": p["value"],
                **{key: io.read_json(p["file"])[key] for key in ("valid", "epochs")},
            }
            for name, p in points.items()
        },
        defaults,
    )
    with io.atomic_path(table_out) as tmp:
        table.to_csv(tmp, sep="\t", index=False)
    sweep_plot(table, plot_out)
    best = table.sort_values("map@10", ascending=False).iloc[0]
    log.info("best valid MAP@10 %.4f: %s", best["map@10"], best["point"])
