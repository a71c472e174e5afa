from artistrec import steps
from artistrec.runner import run

run(
    snakemake,
    lambda: steps.candidates(
        snakemake.input.interactions,
        snakemake.input.train,
        snakemake.params.n_candidates,
        snakemake.output[0],
    ),
)
