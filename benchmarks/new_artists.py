"""Throughput of the batch job: new artists scored per second once the run's networks are loaded.

For each finished run folder given, the test artists' side information is written
out as new artists, copied as often as it takes to reach each batch size. Each
(run, size) is measured in a fresh process: the run is opened and its networks
loaded (timed apart, and warmed on a few artists), then the batch is read and
checked, then scored and written. Peak memory is the process's high-water mark
(``ru_maxrss``): with the same chunk size it should hardly grow with the batch.

    .venv/bin/python benchmarks/new_artists.py results/lastfm-2k/split-42 --sizes 10000 40000
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def make_batch(run: Path, size: int, folder: Path) -> Path:
    """``size`` new artists: copies of the run's test artists under fresh ids."""
    from artistrec import io
    from artistrec.batch import export_batch

    test = io.read_ids(run / "split" / "test.txt")
    copies = -(-size // test.shape[0])
    offset = 10 ** (len(str(int(test.max()))) + 1)
    ids = np.concatenate([test + copy * offset for copy in range(copies)])[:size]
    return export_batch(run, ids, folder, offset)


def measure(run: Path, batch: Path, k: int, method: str | None) -> dict[str, float]:
    """Seconds to load the run, to read and check one batch, and to read, score and write it (in this process)."""
    from artistrec.batch import chunk_rows, read_new_artists, score_batch
    from artistrec.recommend import ResultsFolder

    start = time.perf_counter()
    results = ResultsFolder(run, method)
    for name in results.served.models(results.plan):
        results.network(name)
    loaded = time.perf_counter()
    new = read_new_artists(batch, results)
    read = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        score_batch(results, batch, Path(out) / "recommendations.csv", k)  # reads the batch again: counted
    scored = time.perf_counter()
    return {
        "method": results.method,
        "artists": int(new.artist_ids.shape[0]),
        "chunk": chunk_rows(results),
        "load_s": loaded - start,
        "read_s": read - loaded,
        "batch_s": scored - read,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def one(run: Path, size: int, k: int, method: str | None = None) -> dict[str, float]:
    """Measure one (run, size) in a child process, so that its peak memory is its own."""
    with tempfile.TemporaryDirectory() as scratch:
        batch = make_batch(run, size, Path(scratch) / "batch")
        child = subprocess.run(
            [sys.executable, __file__, "--child", str(run), str(batch), "-k", str(k)]
            + ([] if method is None else ["--method", method]),
            capture_output=True,
            text=True,
            check=True,
        )
    return json.loads(child.stdout.strip().splitlines()[-1])


def table(rows: list[dict]) -> str:
    """Markdown: per run and size, the times, and new artists per second once the run is loaded (read, check,
    score, write).
    """
    lines = [
        "| run | method | new artists | chunk | load s | read s | read + score + write s | artists/s | peak MB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        rate = row["artists"] / row["batch_s"]
        lines.append(
            f"| {row['run']} | {row['method']} | {row['artists']:,} | {row['chunk']:,} | {row['load_s']:.1f} | "
            f"{row['read_s']:.1f} | {row['batch_s']:.1f} | {rate:,.0f} | {row['peak_mb']:,.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="*", type=Path, help="finished run folders, e.g. results/lastfm-2k/split-42")
    parser.add_argument("--sizes", nargs="+", type=int, default=[10_000, 40_000], help="new artists per batch")
    parser.add_argument("-k", type=int, default=20, help="recommendations per new artist (default 20)")
    parser.add_argument("--method", help="a servable method (default: each run's served method)")
    parser.add_argument("--child", nargs=2, type=Path, metavar=("RUN", "BATCH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(*args.child, args.k, args.method)))
        return
    rows = [{"run": str(run), **one(run, size, args.k, args.method)} for run in args.runs for size in args.sizes]
    print(table(rows))


if __name__ == "__main__":
    main()
