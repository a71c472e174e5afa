from artistrec import report
from artistrec.runner import run

run(snakemake, lambda: report.loss_step(snakemake.input[0], snakemake.output[0]))
