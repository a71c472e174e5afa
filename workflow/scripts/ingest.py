from artistrec import steps
from artistrec.runner import run

run(
    snakemake,
    lambda: steps.ingest_listening(
        snakemake.wildcards.dataset,
        snakemake.params.raw,
        snakemake.output.interactions,
        snakemake.output.artists,
    ),
)
