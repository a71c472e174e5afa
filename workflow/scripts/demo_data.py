from pathlib import Path

from artistrec import steps
from artistrec.runner import run

run(
    snakemake,
    lambda: steps.write_demo(str(Path(snakemake.output.users_artists).parent), snakemake.params.generator),
)
