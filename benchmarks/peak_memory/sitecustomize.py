"""Peak memory of every Snakemake script job of a scale run, as the kernel counted it.

``benchmarks/scale.py`` puts this folder on ``PYTHONPATH``, so Python imports this
module at the start of every process of the run. When a process that is a
Snakemake script job exits, it writes its peak resident memory (``ru_maxrss``,
itself and its waited-for children) to ``$ARTISTREC_PEAK_MEMORY_DIR/<log name>.json``;
the log name is the benchmark file's name in this workflow. Snakemake's own
benchmark samples memory every 0.5 s for 15 s and then every 30 s, so it can
miss the peak of a long step.
"""

import atexit
import json
import os
import resource
import sys
from pathlib import Path


def _write_peak() -> None:
    job = getattr(sys.modules.get("__main__"), "snakemake", None)
    folder = os.environ.get("ARTISTREC_PEAK_MEMORY_DIR")
    if job is None or not folder or not len(job.log):
        return
    peak_kib = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    target = Path(folder) / f"{Path(str(job.log[0])).stem}.json"
    target.write_text(json.dumps({"peak_rss_mb": peak_kib / 1024}) + "\n", encoding="utf-8")


atexit.register(_write_peak)
