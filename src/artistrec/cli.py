"""The ``artistrec`` console command: ``recommend``, ``compare`` and ``verify``.

Bad input ends with a one-line ``error: ...`` on stderr and exit status 1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from artistrec import io, records
from artistrec.errors import InputError
from artistrec.recommend import SERVABLE

TOP = 10  # recommendations for one artist
BATCH_TOP = 20  # recommendations per new artist in a batch: the evaluation's top_k


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="artistrec", description="Similar artists for cold-start artists.")
    commands = main.add_subparsers(dest="command", required=True)

    recommend = commands.add_parser(
        "recommend",
        help="similar artists from a finished run",
        description="Top-K similar artists of a known artist (id or name), or of a new artist's side information.",
    )
    recommend.add_argument("results", help="run folder of a finished run, e.g. results/lastfm-2k/split-42")
    recommend.add_argument("artist", nargs="?", help="artist id or name (case-insensitive)")
    recommend.add_argument(
        "--tags", nargs="+", metavar="TAG", help="a new artist's tag names (shorthand for --side tags TAG ...)"
    )
    recommend.add_argument(
        "--side",
        nargs="+",
        action="append",
        metavar=("SOURCE", "KEY"),
        help="a new artist's raw keys of one feature source (repeatable), e.g. --side taggers 2 17",
    )
    recommend.add_argument(
        "--batch",
        metavar="FOLDER",
        help="score a folder of new artists (one CSV per feature source) into RUN/new/FOLDER-NAME/recommendations.csv",
    )
    recommend.add_argument("-o", "--output", help="with --batch: write the recommendations here instead")
    recommend.add_argument(
        "-k", "--top", type=int, help=f"how many artists (default {TOP}; with --batch {BATCH_TOP}, as the evaluation)"
    )
    recommend.add_argument(
        "--method",
        choices=list(SERVABLE),
        help="the method that scores (default: the run's served method, the best of these on valid artists)",
    )
    recommend.add_argument("--json", action="store_true", help="print JSON instead of a table")

    compare = commands.add_parser(
        "compare",
        help="metrics of several runs side by side",
        description="A Markdown table of several runs' metrics.json with each run's difference to the baseline: "
        "MAP@10 per method, or every metric with --all.",
    )
    compare.add_argument("runs", nargs="+", metavar="RUN", help="results folder or metrics.json of a run")
    compare.add_argument("--baseline", help="the run to compare against, as given among RUN (default: the first)")
    compare.add_argument("-o", "--output", help="write the table to this file instead of printing it")
    compare.add_argument("--all", action="store_true", help="every metric and run count (default: MAP@10 per method)")
    verify = commands.add_parser(
        "verify",
        help="check every artifact of a run against its record",
        description="Check every artifact of a finished run (and the dataset tables it read) against the record its "
        "job wrote: damaged files, stale ones, a broken split. Exit status 1 when anything is wrong.",
    )
    verify.add_argument("results", help="run folder, e.g. results/demo/split-42")
    return main


def side_information(args: argparse.Namespace) -> dict[str, list[str]]:
    given: dict[str, list[str]] = {}
    for source, *keys in args.side or []:
        given.setdefault(source, []).extend(keys)
    if args.tags:
        given.setdefault("tags", []).extend(args.tags)
    return given


def run_recommend(args: argparse.Namespace) -> None:
    from artistrec.recommend import recommend

    given = side_information(args)
    if [args.artist is not None, bool(given), args.batch is not None].count(True) != 1:
        raise InputError(
            "command line", "artist", "give one of an artist, side information or --batch FOLDER", "see --help"
        )
    if any(len(keys) == 0 for keys in given.values()):
        raise InputError("command line", "--side", "names a source without keys", "give --side SOURCE KEY [KEY ...]")
    if args.top is not None and args.top < 1:
        raise InputError("command line", "--top", f"is {args.top}", "give a positive number")
    if args.batch is not None:
        run_batch(args)
        return
    result = recommend(args.results, args.artist, given or None, args.top or TOP, args.method)
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return
    query = result["query"]
    if "artist_id" in query:
        about = f"{query['name']} (artist {query['artist_id']})"
        if not query["has_side_information"]:
            about += ", which has no side information: ranked by popularity, as the evaluation ranks such artists"
    else:
        about = "; ".join(f"{source}: {', '.join(keys)}" for source, keys in query["side_information"].items())
    print(f"Similar artists to {about}, by {result['method']}")
    print(table_text(result["recommendations"]))


def run_batch(args: argparse.Namespace) -> None:
    """``--batch FOLDER``: every new artist of the folder scored, written as the rule ``recommend_new`` writes."""
    import logging

    from artistrec.batch import recommend_batch
    from artistrec.layout import RunFolder, batch_name

    output = args.output or RunFolder(args.results).new_artists(batch_name(args.batch))
    logging.basicConfig(level=logging.WARNING)
    counts = recommend_batch(
        args.results, args.batch, output, args.top or BATCH_TOP, args.method, progress=sys.stderr.isatty()
    )
    inputs = records.input_checksums([RunFolder(args.results).record, *sorted(Path(args.batch).glob("*.csv"))])
    settings = {"top": args.top or BATCH_TOP, "method": counts["method"]}
    for path in (Path(output), Path(output).with_suffix(".parquet")):
        records.write_record(path, "artistrec recommend --batch", settings, inputs)
    print(
        f"{counts['new_artists']:,} new artists ({counts['with_side_information']:,} with side information, "
        f"the others in popularity order) scored by {counts['method']}: {output}"
    )


def table_text(rows: list[dict]) -> str:
    """A plain aligned table: rank, artist id, name, score."""
    header = ("rank", "artist_id", "name", "score")
    cells = [header] + [
        (str(r["rank"]), str(r["artist_id"]), r["name"], "-" if r["score"] is None else f"{r['score']:.4f}")
        for r in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    aligned = []
    for row in cells:
        parts = [row[0].rjust(widths[0]), row[1].rjust(widths[1]), row[2].ljust(widths[2]), row[3].rjust(widths[3])]
        aligned.append("  ".join(parts).rstrip())
    return "\n".join(aligned)


def run_verify(args: argparse.Namespace) -> int:
    """Print what is damaged or stale in a run, then a summary line; 1 when anything is."""
    from artistrec.verify import verify_run

    if not Path(args.results, "run.json").is_file():
        raise InputError(
            args.results,
            "run.json",
            "is missing: not a finished run",
            "give a run folder such as results/demo/split-42",
        )
    result = verify_run(args.results)
    for finding in result.findings:
        print(finding.message)
    verdict = f"{len(result.findings)} problem(s)" if result.findings else "every artifact matches its record"
    print(f"verified {result.checked} artifacts of {args.results} in {result.seconds:.1f} s: {verdict}")
    return 1 if result.findings else 0


def run_compare(args: argparse.Namespace) -> None:
    from artistrec.compare import compare, run_names

    names = run_names(args.runs)
    baseline = 0
    if args.baseline is not None:
        if args.baseline in args.runs:
            baseline = args.runs.index(args.baseline)
        elif args.baseline in names:
            baseline = names.index(args.baseline)
        else:
            raise InputError(
                "command line", "--baseline", f"{args.baseline!r} is not among the runs", "give one of RUN"
            )
    table = compare(args.runs, names, baseline, every_metric=args.all)
    if args.output:
        io.write_text(args.output, table)
    else:
        print(table, end="")


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command == "recommend":
            run_recommend(args)
        elif args.command == "verify":
            return run_verify(args)
        else:
            run_compare(args)
        sys.stdout.flush()  # a closed pipe shows here, not in Python's flush at exit
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader left early (``artistrec recommend ... --json | head``): not an error. Point
        # stdout at /dev/null so that Python's own flush at exit does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except Exception as err:
        if os.environ.get("ARTISTREC_DEBUG"):
            raise
        print(f"error: {unexpected(err)}", file=sys.stderr)
        return 1
    return 0


def unexpected(err: Exception) -> str:
    """One line for an error that is no input problem (a full disk, a bug)."""
    reason = (str(err).splitlines() or [""])[0][:200]
    where = getattr(err, "filename", None)
    if where:
        return f"{where}: {type(err).__name__}: {reason}; fix: check the file and the free disk space"
    return f"{type(err).__name__}: {reason}; fix: ARTISTREC_DEBUG=1 shows the traceback (please report it)"


if __name__ == "__main__":
    sys.exit(main())
