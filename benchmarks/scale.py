"""The workflow on Last.fm-360K-shaped synthetic data at several sizes: time and memory per step.

Each size runs the whole workflow (dataset ``demo``, the generator's size knobs
turned up) in its own fresh copy of the workflow, one job at a time (the resource
``one_job``) with the threads its rule declares, so each step's wall time is its
own and their sum is the run's. Wall time and ``max_rss`` come from Snakemake's
benchmark files. ``max_rss`` is sampled (every 0.5 s for 15 s, then every 30 s)
and can miss a long step's peak, so every job also reports the kernel's exact
peak (``benchmarks/peak_memory/sitecustomize.py``). What a size measured is kept
in ``benchmarks/results/scale/<size>/summary.json`` (``<size>-candidates-<n>`` with
another ``--candidates`` than the config's); the tables are printed from those
files, one set per candidate count.

    python benchmarks/scale.py run 0.1            # one size (a fraction of Last.fm-360K)
    python benchmarks/scale.py run 0.1 0.3 1.0    # several, one after the other
    python benchmarks/scale.py run 0.1 --candidates all   # every train artist a candidate
    python benchmarks/scale.py table              # the tables from every measured size
    python benchmarks/scale.py table --write docs/performance.md   # ... and into the docs

Training is capped at ``--max-epochs`` (2 by default): the scale runs measure the
cost of an epoch, not a trained model.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq
import yaml

from artistrec import parallel
from artistrec.io import read_ids

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
from conftest import SNAKEMAKE, copy_workflow  # noqa: E402  (the tests' workflow copy)

RESULTS = REPO / "benchmarks" / "results" / "scale"
PEAK_MEMORY_HOOK = REPO / "benchmarks" / "peak_memory"

# Last.fm-360K (Celma 2010): about 360k users, 160k artists, 17.5M user-artist pairs.
FULL_USERS = 360_000
FULL_ARTISTS = 160_000
# Mean draws per user before duplicates are merged: 86 gives about 17.5M pairs at full size with
# today's generator (61 gave 13.2M once its listening became genre- and popularity-driven).
LISTENS_PER_USER = 86
# Side information: the demo's likes per user (config.yaml), 10 tag events per user,
# one 15-artist playlist per 5 artists.
TAG_EVENTS_PER_USER = 10
ARTISTS_PER_PLAYLIST = 5

MAIN_SEED = 42  # split.seed of config.yaml: the run whose steps are measured


# The networks whose epochs are reported: the softmax tower and the listener network.
NETWORKS = ("default", "listeners")


def is_training(step: str) -> bool:
    """A training step: ``train_{variant}`` (the network, ensemble members, ablations)."""
    return step.startswith("train_")


def generator_settings(fraction: float) -> dict[str, int]:
    """The demo generator's size knobs for ``fraction`` of Last.fm-360K's shape."""
    n_users = max(1, round(FULL_USERS * fraction))
    n_artists = max(2, round(FULL_ARTISTS * fraction))
    return {
        "n_users": n_users,
        "n_artists": n_artists,
        "listens_per_user": LISTENS_PER_USER,
        "n_playlists": max(1, n_artists // ARTISTS_PER_PLAYLIST),
        "tag_events": TAG_EVENTS_PER_USER * n_users,
    }


# The config's n_candidates: what a summary without ``candidates`` was measured with.
DEFAULT_CANDIDATES = str(yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))["n_candidates"])


def scale_config(fraction: float, max_epochs: int, candidates: str) -> dict:
    """The configfile of one size, merged by Snakemake over the workflow's config.yaml."""
    return {
        "dataset": "demo",
        "datasets": {"demo": {"generator": generator_settings(fraction)}},
        "model": {"max_epochs": max_epochs, "patience": max_epochs},
        "n_candidates": candidates if candidates == "all" else int(candidates),
    }


def candidate_count(value: str) -> str:
    """``--candidates``: ``all`` or a positive number (argparse reports anything else in one line)."""
    if value != "all" and not (value.isdigit() and int(value) > 0):
        raise argparse.ArgumentTypeError(f"{value!r} is neither all nor a positive number of candidates")
    return value


def results_folder(fraction: float, candidates: str) -> Path:
    """Where one size's summary and benchmark files are kept."""
    return RESULTS / (f"{fraction:g}" if candidates == DEFAULT_CANDIDATES else f"{fraction:g}-candidates-{candidates}")


def read_benchmarks(folder: Path, peaks: Path | None = None) -> dict[str, dict[str, float]]:
    """Wall seconds and memory (MB) of every step.

    ``s`` and ``max_rss_mb`` come from Snakemake's benchmark files in ``folder``;
    ``peak_rss_mb``, where ``peaks`` holds it, is the kernel's peak written by
    ``benchmarks/peak_memory/sitecustomize.py`` (Snakemake's sampling can miss it).
    """
    steps = {}
    for path in sorted(folder.glob("*.tsv")):
        with path.open(newline="") as handle:
            row = next(csv.DictReader(handle, delimiter="\t"))
        steps[path.stem] = {"s": float(row["s"]), "max_rss_mb": float(row["max_rss"])}
        peak = peaks / f"{path.stem}.json" if peaks else None
        if peak and peak.is_file():
            steps[path.stem]["peak_rss_mb"] = json.loads(peak.read_text(encoding="utf-8"))["peak_rss_mb"]
    return steps


def collect(workdir: Path, fraction: float, wall_s: float, code: str, candidates: str, dataset: str = "demo") -> dict:
    """What one finished run measured: data size, candidates, per-step cost, per-epoch training time;
    ``code`` is the ``commit()`` the run's copy of the workflow was made from."""
    data = workdir / "results" / dataset
    run = data / f"split-{MAIN_SEED}"
    interactions = pq.read_table(data / "data" / "interactions.parquet", columns=["user_id", "artist_id"])
    epochs = {}
    for network in NETWORKS:
        history = run / "models" / network / "history.csv"
        if history.is_file():
            with history.open(newline="") as handle:
                epochs[network] = [float(row["seconds"]) for row in csv.DictReader(handle)]
    return {
        "fraction": fraction,
        "measured": time.strftime("%Y-%m-%d"),
        "commit": code,
        "listens": interactions.num_rows,
        "users": len(interactions.column("user_id").unique()),
        "artists": len(interactions.column("artist_id").unique()),
        "candidates": candidates,
        "n_candidates": int(read_ids(run / "candidates.txt").shape[0]),
        "wall_s": round(wall_s, 1),
        "epoch_seconds": epochs,
        "steps": {
            **read_benchmarks(data / "benchmarks", workdir / "peak_memory"),
            **read_benchmarks(run / "benchmarks", workdir / "peak_memory"),
        },
    }


def commit() -> str:
    """The repository's commit, with ``+changes`` when the working tree differs from it."""
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO, capture_output=True, text=True
    )
    return head.stdout.strip() + ("+changes" if dirty.stdout.strip() else "") if head.returncode == 0 else "unknown"


def run_size(fraction: float, max_epochs: int, candidates: str, scratch: Path, keep: bool) -> dict:
    """Run the workflow at one size in a fresh copy under ``scratch``; keep its summary and benchmark files."""
    code = commit()  # what the copy is made of, whatever the tree holds when the run ends
    workdir = copy_workflow(Path(tempfile.mkdtemp(prefix=f"scale-{fraction:g}-", dir=scratch)) / "wf")
    configfile = workdir / "scale.yaml"
    configfile.write_text(
        yaml.safe_dump(scale_config(fraction, max_epochs, candidates), sort_keys=False), encoding="utf-8"
    )
    command = [SNAKEMAKE, "--cores", str(parallel.threads()), "--resources", "gpu=1", "one_job=1"]
    command += ["--default-resources", "one_job=1", "--configfile", str(configfile)]
    print(f"size {fraction:g}: {' '.join(command[1:])} in {workdir}", flush=True)
    (workdir / "peak_memory").mkdir()
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(PEAK_MEMORY_HOOK), os.environ.get("PYTHONPATH")])),
        "ARTISTREC_PEAK_MEMORY_DIR": str(workdir / "peak_memory"),
    }
    started = time.perf_counter()
    finished = subprocess.run(command, cwd=workdir, env=environment, capture_output=True, text=True)
    wall_s = time.perf_counter() - started
    out = results_folder(fraction, candidates)
    out.mkdir(parents=True, exist_ok=True)
    (out / "snakemake.log").write_text(finished.stdout + finished.stderr, encoding="utf-8")
    if finished.returncode != 0:
        sys.exit(f"size {fraction:g} failed after {wall_s:.0f} s; see {out / 'snakemake.log'} and {workdir}")
    summary = collect(workdir, fraction, wall_s, code, candidates)
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    for folder in (workdir / "results" / "demo", workdir / "results" / "demo" / f"split-{MAIN_SEED}"):
        shutil.copytree(folder / "benchmarks", out / "benchmarks", dirs_exist_ok=True)
    if not keep:
        shutil.rmtree(workdir.parent)
    return summary


def exponent(small: float, large: float, small_listens: int, large_listens: int) -> float:
    """The growth exponent b of cost ~ listens**b between two sizes."""
    if small <= 0 or large <= 0:
        return math.nan
    return math.log(large / small) / math.log(large_listens / small_listens)


# Steps in workflow order (a benchmark file is named after its rule, plus the source).
WORKFLOW_ORDER = (
    "demo_data",
    "ingest",
    "ingest_features",
    "split",
    "candidates",
    "svd",
    "clusters",
    "targets",
    "tune_knn",
    "evaluate",
)


def step_order(summaries: list[dict]) -> list[str]:
    """Every measured step in workflow order, steps of other rules after them, training last."""
    steps = {step for summary in summaries for step in summary["steps"]}

    def position(step: str) -> tuple[int, str]:
        if is_training(step):
            return (len(WORKFLOW_ORDER) + 1, step)
        rules = [r for r in WORKFLOW_ORDER if step == r or step.startswith(f"{r}_")]
        return (WORKFLOW_ORDER.index(max(rules, key=len)) if rules else len(WORKFLOW_ORDER), step)

    return sorted(steps, key=position)


def metric_table(summaries: list[dict], key: str, title: str, scale: float, digits: int) -> list[str]:
    """One Markdown table: a column per size, then the exponent between consecutive sizes."""
    sizes = [f"{s['fraction']:.0%} ({s['listens'] / 1e6:.2f}M)" for s in summaries]
    pairs = list(zip(summaries, summaries[1:]))
    header = [title, *sizes, *(f"exp. {a['fraction']:.0%}→{b['fraction']:.0%}" for a, b in pairs)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]

    def row(name: str, values: list[float]) -> str:
        cells = [f"{v * scale:.{digits}f}" for v in values]
        cells += [
            f"{exponent(x, y, a['listens'], b['listens']):.2f}"
            for (x, y), (a, b) in zip(zip(values, values[1:]), pairs)
        ]
        return "| " + " | ".join([name, *cells]) + " |"

    for step in step_order(summaries):
        lines.append(row(step, [s["steps"].get(step, {}).get(key, math.nan) for s in summaries]))
    if key == "s":
        lines.append(
            row(
                "**all but train**",
                [sum(v[key] for k, v in s["steps"].items() if not is_training(k)) for s in summaries],
            )
        )
    else:
        lines.append(
            row("**largest step**", [max(v.get(key, math.nan) for v in s["steps"].values()) for s in summaries])
        )
    return lines


def tables(summaries: list[dict]) -> str:
    """The scale tables (Markdown): data sizes, wall time and peak memory per step, training epochs."""
    summaries = sorted(summaries, key=lambda s: s["listens"])
    lines = ["| size | users | artists | listens | candidates | workflow wall time (s) | measured | commit |"]
    lines.append("|---|---|---|---|---|---|---|---|")
    lines += [
        f"| {s['fraction']:.0%} | {s['users']:,} | {s['artists']:,} | {s['listens']:,} "
        f"| {s.get('n_candidates', int(DEFAULT_CANDIDATES)):,} | {s['wall_s']:.0f} "
        f"| {s.get('measured', '-')} | {s.get('commit', '-')} |"
        for s in summaries
    ]
    lines += ["", *metric_table(summaries, "s", "wall time (s)", 1.0, 1)]
    lines += ["", *metric_table(summaries, "peak_rss_mb", "peak memory (GB)", 1e-3, 2)]
    lines += ["", *metric_table(summaries, "max_rss_mb", "Snakemake's sampled max_rss (GB)", 1e-3, 2)]
    lines += ["", *epoch_table(summaries)]
    return "\n".join(lines)


def epoch_table(summaries: list[dict]) -> list[str]:
    """Seconds of each training epoch per network and size (older summaries list the default tower's only)."""
    lines = ["| size | " + " | ".join(f"{network}: seconds per epoch" for network in NETWORKS) + " |"]
    lines.append("|---|" + "---|" * len(NETWORKS))
    for summary in summaries:
        epochs = summary["epoch_seconds"]
        epochs = epochs if isinstance(epochs, dict) else {"default": epochs}
        cells = [", ".join(f"{e:.1f}" for e in epochs.get(network, [])) or "-" for network in NETWORKS]
        lines.append(f"| {summary['fraction']:.0%} | " + " | ".join(cells) + " |")
    return lines


def markers(candidates: str) -> tuple[str, str]:
    """The lines between which ``scale.py table --write`` puts the tables of one candidate count."""
    name = "scale.py table" if candidates == DEFAULT_CANDIDATES else f"scale.py table, candidates {candidates}"
    return f"<!-- {name}: begin -->", f"<!-- {name}: end -->"


def write_tables(page: Path, text: str, candidates: str) -> None:
    """Replace what lies between the page's ``markers(candidates)`` lines with ``text``."""
    begin, end = markers(candidates)
    content = page.read_text(encoding="utf-8")
    if begin not in content or end not in content:
        sys.exit(f"error: {page}: no lines {begin} and {end} to put the tables between; fix: add them")
    head, rest = content.split(begin, 1)
    tail = rest.split(end, 1)[1]
    page.write_text(f"{head}{begin}\n{text}\n{end}{tail}", encoding="utf-8")


def by_candidates(summaries: list[dict]) -> dict[str, list[dict]]:
    """The summaries per ``--candidates`` they were measured with, the config's first."""
    groups: dict[str, list[dict]] = {}
    for summary in summaries:
        groups.setdefault(str(summary.get("candidates", DEFAULT_CANDIDATES)), []).append(summary)
    return dict(sorted(groups.items(), key=lambda item: item[0] != DEFAULT_CANDIDATES))


def load_summaries(root: Path = RESULTS) -> list[dict]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(root.glob("*/summary.json"))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the workflow at the given sizes")
    run.add_argument("fractions", nargs="+", type=float, help="sizes as fractions of Last.fm-360K, e.g. 0.1 0.3 1.0")
    run.add_argument("--max-epochs", type=int, default=2, help="training epochs per size (default 2)")
    run.add_argument(
        "--candidates",
        type=candidate_count,
        default=DEFAULT_CANDIDATES,
        help="n_candidates: a number or all (default: config.yaml's)",
    )
    run.add_argument("--scratch", type=Path, default=Path(tempfile.gettempdir()), help="where the workflow copies go")
    run.add_argument("--keep", action="store_true", help="keep each workflow copy after its run")
    table = commands.add_parser("table", help="print the tables of every measured size")
    table.add_argument("--write", type=Path, help="also put them into this page (docs/performance.md)")
    args = parser.parse_args()
    if args.command == "run":
        for fraction in args.fractions:
            run_size(fraction, args.max_epochs, args.candidates, args.scratch, args.keep)
    summaries = load_summaries()
    if not summaries:
        sys.exit(f"no measured size in {RESULTS}; run: python benchmarks/scale.py run 0.1")
    for candidates, group in by_candidates(summaries).items():
        text = tables(group)
        print(f"candidates: {candidates}\n\n{text}\n")
        if getattr(args, "write", None):
            write_tables(args.write, text, candidates)


if __name__ == "__main__":
    main()
