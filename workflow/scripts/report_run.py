from artistrec import report
from artistrec.runner import run

run(snakemake, lambda: report.run_step(dict(snakemake.params.config), snakemake.output[0]))
