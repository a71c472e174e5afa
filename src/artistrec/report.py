"""The Snakemake report's items: HTML tables and SVG figures built from a run's artifacts.

One function per report rule (``*_step``), called by the thin scripts under
``workflow/scripts``; the table builders below them are plain functions of data.
The HTML pages are self-contained (inline style, no external resources), because
the report embeds them as data URIs.
"""

from __future__ import annotations

import html
import importlib.metadata
import logging
import platform
from typing import Any

import numpy as np
import pandas as pd
import yaml

from artistrec import io, plots
from artistrec.candidates import by_popularity
from artistrec.compare import INTERVAL_KEY, METRIC_LABELS
from artistrec.matrices import listeners, positions, unique_ids
from artistrec.targets import co_listen

log = logging.getLogger(__name__)

# The packages whose versions decide the results, in the order the report lists them.
MAIN_PACKAGES = (
    "artistrec",
    "snakemake",
    "tensorflow",
    "keras",
    "numpy",
    "scipy",
    "scikit-learn",
    "pandas",
    "pyarrow",
    "h5py",
    "matplotlib",
)
STYLE = """
body { font-family: sans-serif; font-size: 14px; margin: 1em; }
table { border-collapse: collapse; margin-bottom: 1.5em; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
td.best { font-weight: bold; }
tr.hit td:nth-child(2), tr.hit td:nth-child(3) { background: #e3f4e3; }
pre { background: #f6f6f6; padding: 0.8em; }
"""


def html_page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n"
        f"<body>\n<h2>{html.escape(title)}</h2>\n{body}\n</body>\n</html>\n"
    )


def html_table(
    frame: pd.DataFrame, cell_classes: pd.DataFrame | None = None, row_classes: list[str] | None = None
) -> str:
    """An HTML table of ``frame`` (values escaped); optional CSS classes per cell and per row."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for i, values in enumerate(frame.itertuples(index=False)):
        cells = []
        for j, value in enumerate(values):
            css = "" if cell_classes is None else cell_classes.iat[i, j]
            opening = f'<td class="{css}">' if css else "<td>"
            cells.append(f"{opening}{html.escape(str(value))}</td>")
        css = f' class="{row_classes[i]}"' if row_classes and row_classes[i] else ""
        rows.append(f"<tr{css}>{''.join(cells)}</tr>")
    return f"<table>\n<tr>{head}</tr>\n" + "\n".join(rows) + "\n</table>"


# --- metrics ---------------------------------------------------------------------


def metrics_table(metrics: dict[str, Any]) -> pd.DataFrame:
    """Methods x metrics (floats), plus the MAP@10 95% bootstrap interval as text; a metric that
    metrics.json lacks (a run made before it was measured) has no column."""
    measured = {k: label for k, label in METRIC_LABELS.items() if all(k in v for v in metrics["methods"].values())}
    rows = []
    for method, values in metrics["methods"].items():
        row = {"method": method, **{label: values[key] for key, label in measured.items()}}
        low, high = values[INTERVAL_KEY]
        row["MAP@10 95% interval"] = f"[{low:.4f}, {high:.4f}]"
        rows.append(row)
    return pd.DataFrame(rows)


def metrics_html(metrics: dict[str, Any]) -> str:
    """The metrics table with each metric's best method in bold."""
    table = metrics_table(metrics)
    numbers = [label for label in METRIC_LABELS.values() if label in table.columns]
    classes = pd.DataFrame("", index=table.index, columns=table.columns)
    classes[numbers] = "number"
    for column in numbers:
        classes.loc[table[column] == table[column].max(), column] = "number best"
    shown = table.copy()
    shown[numbers] = shown[numbers].map(lambda v: f"{v:.4f}")
    counts = (
        f"<p>{metrics['n_test_artists']} test artists, of which "
        f"{metrics['n_test_artists_without_features']} have no side information and "
        f"{metrics['n_test_artists_without_ground_truth']} no ground truth (left out of every metric); "
        f"{metrics.get('n_candidates', '?')} candidates; settings tuned on "
        f"{metrics.get('n_tuning_artists', 'all the')} valid artists.</p>"
    )
    return html_page(f"Metrics: {metrics['dataset']}", counts + html_table(shown, classes))


def metrics_step(metrics_file: str, table_out: str, figure_out: str) -> None:
    metrics = io.read_json(metrics_file)
    io.write_text(table_out, metrics_html(metrics))
    plots.save_svg(plots.map_at_k_figure(metrics["methods"]), figure_out)
    log.info("metrics table and MAP@K plot of %d methods", len(metrics["methods"]))


# --- examples --------------------------------------------------------------------


def example_artists(interactions: pd.DataFrame, test: np.ndarray, n_examples: int) -> np.ndarray:
    """The ``n_examples`` test artists with most distinct listeners: the names a reader knows."""
    return by_popularity(interactions, test).index.to_numpy()[:n_examples]


def examples_table(
    recommended: np.ndarray, shared: pd.Series, names: pd.Series, top: int, method: str
) -> tuple[pd.DataFrame, list[str]]:
    """``method``'s top recommendations beside the most co-listened artists, for one test artist.

    ``recommended``: candidate ids, best first; ``shared``: shared listeners per
    co-listened artist id (the ground truth). Returns the table and a row class
    marking the rows whose recommendation is a hit.
    """
    truth = shared.sort_values(ascending=False, kind="stable").head(top)
    recommended = recommended[:top]
    n_rows = max(recommended.shape[0], truth.shape[0])

    def column(ids: np.ndarray) -> list[str]:
        return [f"{names.get(i, str(i))}" for i in ids] + [""] * (n_rows - ids.shape[0])

    def counts(values: np.ndarray) -> list[str]:
        return [str(int(v)) for v in values] + [""] * (n_rows - values.shape[0])

    rec_shared = shared.reindex(recommended, fill_value=0).to_numpy()
    table = pd.DataFrame(
        zip(
            range(1, n_rows + 1),
            column(recommended),
            counts(rec_shared),
            column(truth.index.to_numpy()),
            counts(truth.to_numpy()),
        ),
        columns=[
            "rank",
            f"recommended by {method}",
            "shared listeners",
            "most co-listened artists",
            "shared listeners",
        ],
    )
    return table, ["hit" if i < rec_shared.shape[0] and rec_shared[i] > 0 else "" for i in range(n_rows)]


def examples_step(
    record_file: str,
    recommendations_file: str,
    interactions_file: str,
    artists_file: str,
    test_file: str,
    n_examples: int,
    top: int,
    out: str,
) -> None:
    """Side by side, for the best-known test artists: what the run's served method (``run.json``,
    the method ``artistrec recommend`` asks by default) recommends and who is co-listened.
    """
    interactions = io.read_parquet(interactions_file)
    artist_ids = unique_ids(interactions["artist_id"].to_numpy())
    names = io.read_parquet(artists_file).set_index("artist_id")["name"]
    chosen = example_artists(interactions, io.read_ids(test_file), n_examples)
    listen = listeners(interactions, artist_ids)
    shared = co_listen(listen, positions(chosen, artist_ids), np.arange(artist_ids.shape[0])).tocoo()
    recommendations = pd.read_csv(recommendations_file)
    method = io.read_json(record_file)["served_method"]["name"]
    shown = recommendations.loc[recommendations["method"] == method].sort_values(["artist_id", "rank"])
    sections = []
    for row, artist in enumerate(chosen):
        mine = (shared.row == row) & (artist_ids[shared.col] != artist)
        co_listened = pd.Series(shared.data[mine], index=artist_ids[shared.col[mine]])
        table, row_classes = examples_table(
            shown.loc[shown["artist_id"] == artist, "candidate_id"].to_numpy(), co_listened, names, top, method
        )
        n_listeners = int(listen[positions(np.array([artist]), artist_ids)[0]].nnz)
        sections.append(
            f"<h3>{html.escape(str(names.get(artist, artist)))} (artist {artist}, {n_listeners} listeners, "
            f"{co_listened.shape[0]} co-listened artists)</h3>\n"
            f"{html_table(table, row_classes=row_classes)}"
        )
    io.write_text(out, html_page("Recommended beside co-listened artists", "\n".join(sections)))
    log.info("examples for %d test artists, recommended by %s", len(chosen), method)


# --- features and training --------------------------------------------------------


def explained_variance_step(svd_files: list[str], sources: list[str], out: str) -> None:
    ratios = {source: io.read_npz(path)["explained_variance_ratio"] for source, path in zip(sources, svd_files)}
    plots.save_svg(plots.explained_variance_figure(ratios), out)
    log.info("explained variance of %s", ", ".join(f"{s} {r.sum():.3f}" for s, r in ratios.items()))


def long_tail_step(interactions_file: str, candidates_file: str, out: str) -> None:
    counts = by_popularity(io.read_parquet(interactions_file))
    ids, sorted_counts = counts.index.to_numpy(), counts.to_numpy()
    is_candidate = np.isin(ids, io.read_ids(candidates_file))
    plots.save_svg(plots.long_tail_figure(sorted_counts, is_candidate), out)
    log.info("long tail of %d artists, %d candidates", ids.shape[0], int(is_candidate.sum()))


def loss_step(history_file: str, out: str) -> None:
    history = pd.read_csv(history_file)
    plots.save_svg(plots.loss_figure(history), out)
    log.info("loss of %d epochs", len(history))


# --- configuration and versions ----------------------------------------------------


def package_versions(packages: tuple[str, ...] = MAIN_PACKAGES) -> pd.DataFrame:
    """Python's and each package's installed version ("not installed" where absent)."""
    rows = [("python", platform.python_version())]
    for name in packages:
        try:
            rows.append((name, importlib.metadata.version(name)))
        except importlib.metadata.PackageNotFoundError:
            rows.append((name, "not installed"))
    return pd.DataFrame(rows, columns=["package", "version"])


def run_html(config: dict[str, Any], versions: pd.DataFrame) -> str:
    body = (
        "<h3>Package versions (of the environment that built this table)</h3>\n"
        f"{html_table(versions)}\n"
        "<h3>Configuration (after every --configfile and --config)</h3>\n"
        f"<pre>{html.escape(yaml.safe_dump(config, sort_keys=False))}</pre>"
    )
    return html_page("Configuration and versions", body)


def run_step(config: dict[str, Any], out: str) -> None:
    versions = package_versions()
    io.write_text(out, run_html(config, versions))
    log.info("config and the versions of %d packages", len(versions))
