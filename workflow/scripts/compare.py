from artistrec import compare
from artistrec.runner import run

run(
    snakemake,
    lambda: compare.compare_step(list(snakemake.input), list(snakemake.params.names), snakemake.output[0]),
)
