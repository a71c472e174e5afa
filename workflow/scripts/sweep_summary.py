from artistrec import steps
from artistrec.runner import run

run(
    snakemake,
    lambda: steps.sweep_summary(
        dict(zip(snakemake.params.points, snakemake.input)),
        dict(snakemake.params.grid),
        dict(snakemake.params.defaults),
        snakemake.output.table,
        snakemake.output.plot,
    ),
)
