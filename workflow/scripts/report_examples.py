from artistrec import report
from artistrec.runner import run

run(
    snakemake,
    lambda: report.examples_step(
        snakemake.input.record,
        snakemake.input.recommendations,
        snakemake.input.interactions,
        snakemake.input.artists,
        snakemake.input.test,
        snakemake.params.n_examples,
        snakemake.params.top,
        snakemake.output[0],
    ),
)
