from artistrec import steps
from artistrec.runner import run

run(snakemake, lambda: steps.seeds_summary(list(snakemake.input), snakemake.output.summary, snakemake.output.table))
