"""``artistrec verify RUN``: every artifact of a run checked against its record, and what is stale.

An artifact is *damaged* when its content is not what its record says its job wrote
(or it has no readable record), and *stale* when an input it was computed from has
changed since (another sha256 now, or gone). The dataset's ingested tables the run
read are checked too, and the split and candidates against their invariants.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from artistrec import records
from artistrec.candidates import read_candidates
from artistrec.errors import InputError
from artistrec.io import read_parquet
from artistrec.layout import RunFolder
from artistrec.split import read_split

UNRECORDED = ("benchmarks", "checkpoints")  # Snakemake's timings and training state: no job output


@dataclass(frozen=True)
class Finding:
    kind: str  # damaged | stale
    message: str


@dataclass(frozen=True)
class Verification:
    checked: int
    findings: list[Finding]
    seconds: float


def run_artifacts(folder: Path) -> list[Path]:
    """The visible files of a run folder that jobs wrote."""
    return sorted(
        path
        for path in folder.rglob("*")
        if path.is_file() and not path.name.startswith(".") and path.relative_to(folder).parts[0] not in UNRECORDED
    )


def stale_inputs(path: Path) -> Iterator[tuple[Path, str | None]]:
    """Each input artifact of ``path``'s record, with a message when it changed since ``path`` was written."""
    record = records.read_record(path)
    locate = records.locator(path, record)
    for name, recorded in record["inputs"].items():
        source = locate(name)
        if source is None:
            continue  # outside the run's tree, which was moved: nothing to compare
        if not source.is_file():
            yield source, f"stale: {path}: its input {name} is gone; fix: run snakemake again"
            continue
        artifact = records.is_artifact(name)
        try:
            current = records.read_record(source)["sha256"] if artifact else records.sha256_of(source)
        except InputError:
            current = recorded  # reported when the input itself is verified
        changed = (
            None
            if current == recorded
            else f"stale: {path}: {name} changed since it was computed; fix: run snakemake again"
        )
        yield (source if artifact else None), changed


def verify_run(folder: str | Path) -> Verification:
    """Check every artifact of the run at ``folder`` and the dataset's ingested tables."""
    start = time.perf_counter()
    run = RunFolder(str(folder))
    tables = sorted(Path(run.dataset.path("data")).glob("*.parquet"))  # names included: recommend reads them
    queue, seen, findings = run_artifacts(Path(folder)) + tables, set(), []
    while queue:
        path = queue.pop(0)
        if path.resolve() in seen:
            continue
        seen.add(path.resolve())
        try:
            records.check(path)
        except InputError as err:
            findings.append(Finding("damaged", f"damaged: {err}"))
            continue
        for source, message in stale_inputs(path):
            if message:
                findings.append(Finding("stale", message))
            if source is not None and source.is_file():
                queue.append(source)
    findings += structural_findings(run)
    return Verification(len(seen), findings, time.perf_counter() - start)


def structural_findings(run: RunFolder) -> list[Finding]:
    """The split (disjoint, sorted, every listened artist) and the candidates (distinct train artists)."""
    try:
        listened = read_parquet(run.dataset.interactions)["artist_id"].to_numpy()
        parts = read_split(run.split(), listened)
        read_candidates(run.candidates, parts["train"])
    except (InputError, FileNotFoundError) as err:
        return [Finding("damaged", f"damaged: {err}")]
    return []
