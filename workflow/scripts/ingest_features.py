from artistrec import steps
from artistrec.runner import run

run(
    snakemake,
    lambda: steps.ingest_feature(
        snakemake.wildcards.dataset,
        snakemake.params.raw,
        snakemake.wildcards.source,
        snakemake.input.interactions,
        snakemake.output[0],
    ),
)
