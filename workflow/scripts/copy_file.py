from pathlib import Path

from artistrec import io
from artistrec.runner import run

run(
    snakemake,
    lambda: io.write_text(snakemake.output[0], Path(snakemake.input[0]).read_text(encoding="utf-8")),
)
