"""What the records cost a finished run: checking inputs and recording outputs in every job, and ``verify``.

Every job logs one line, ``records: N inputs checked, M outputs recorded in S s``; this
sums those lines over the run's logs and sets them against the jobs' own time
(Snakemake's benchmark files), then times ``artistrec verify`` on the run folder.

    .venv/bin/python benchmarks/record_checks.py path/to/workdir --dataset lastfm-2k --seed 42
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pandas as pd

RECORDS_LINE = re.compile(r"records: (\d+) inputs checked, (\d+) outputs recorded in ([0-9.]+) s")


def job_costs(workdir: Path, dataset: str) -> pd.DataFrame:
    """One row per job log of ``dataset``: its inputs, outputs and seconds spent on records."""
    rows = []
    for log in sorted((workdir / "logs" / dataset).rglob("*.log")):
        for match in RECORDS_LINE.finditer(log.read_text(encoding="utf-8", errors="replace")):
            inputs, outputs, seconds = match.groups()
            rows.append(
                {
                    "job": str(log.relative_to(workdir)),
                    "inputs": int(inputs),
                    "outputs": int(outputs),
                    "s": float(seconds),
                }
            )
    return pd.DataFrame(rows, columns=["job", "inputs", "outputs", "s"])


def job_seconds(workdir: Path, dataset: str) -> float:
    """The wall seconds of every job of ``dataset`` (Snakemake's benchmark files)."""
    files = sorted((workdir / "results" / dataset).rglob("benchmarks/*.tsv"))
    return float(sum(pd.read_csv(path, sep="\t")["s"].sum() for path in files))


def measure(workdir: Path, dataset: str, seed: int) -> dict[str, float]:
    from artistrec.layout import RunFolder
    from artistrec.verify import verify_run

    costs = job_costs(workdir, dataset)
    verified = verify_run(workdir / RunFolder.of(dataset, seed).folder)
    return {
        "jobs": len(costs),
        "records_s": float(costs["s"].sum()),
        "jobs_s": job_seconds(workdir, dataset),
        "slowest_job_records_s": float(costs["s"].max()) if len(costs) else 0.0,
        "verify_s": verified.seconds,
        "verify_artifacts": verified.checked,
        "verify_problems": len(verified.findings),
    }


def table(row: dict[str, float]) -> str:
    share = row["records_s"] / row["jobs_s"] if row["jobs_s"] else float("nan")
    return "\n".join(
        [
            "| jobs | records in jobs (s) | jobs (s) | share | slowest job's records (s) | verify (s) | artifacts verified |",
            "|---:|---:|---:|---:|---:|---:|---:|",
            f"| {row['jobs']} | {row['records_s']:.2f} | {row['jobs_s']:.0f} | {share:.2%} | "
            f"{row['slowest_job_records_s']:.2f} | {row['verify_s']:.2f} | {row['verify_artifacts']} |",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir", type=Path, help="the working directory of a finished run")
    parser.add_argument("--dataset", default="demo")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    print(table(measure(args.workdir, args.dataset, args.seed)))


if __name__ == "__main__":
    main()
