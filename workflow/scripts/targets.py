from artistrec import steps
from artistrec.runner import run

run(
    snakemake,
    lambda: steps.targets(
        snakemake.input.interactions,
        {part: snakemake.input[part] for part in ("train", "valid", "test")},
        snakemake.input.candidates,
        snakemake.output.train,
        snakemake.output.valid,
    ),
)
