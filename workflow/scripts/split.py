from artistrec import steps
from artistrec.runner import run

run(
    snakemake,
    lambda: steps.split(
        snakemake.input[0],
        snakemake.params.test_fraction,
        snakemake.params.valid_fraction,
        snakemake.params.seed,
        dict(snakemake.output.items()),
    ),
)
