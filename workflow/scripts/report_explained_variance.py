from artistrec import report
from artistrec.runner import run

run(
    snakemake,
    lambda: report.explained_variance_step(list(snakemake.input), list(snakemake.params.sources), snakemake.output[0]),
)
