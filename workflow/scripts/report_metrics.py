from artistrec import report
from artistrec.runner import run

run(
    snakemake,
    lambda: report.metrics_step(snakemake.input[0], snakemake.output.table, snakemake.output.map_at_k),
)
