from artistrec import steps
from artistrec.runner import run

run(
    snakemake,
    lambda: steps.candidates(
        snakemake.input.interactions,
        snakemake.input.train,
        snakemake.params.n_candidates,
        snakemake.params.min_listeners,
        snakemake.output[0],
    ),
)
