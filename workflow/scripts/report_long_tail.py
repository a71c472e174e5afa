from artistrec import report
from artistrec.runner import run

run(
    snakemake,
    lambda: report.long_tail_step(snakemake.input.interactions, snakemake.input.candidates, snakemake.output[0]),
)
