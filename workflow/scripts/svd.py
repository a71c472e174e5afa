from artistrec import steps
from artistrec.runner import run

run(
    snakemake,
    lambda: steps.svd(
        snakemake.input.features,
        {part: snakemake.input[part] for part in ("train", "valid", "test")},
        snakemake.wildcards.dataset,
        snakemake.wildcards.source,
        snakemake.params.dim,
        snakemake.params.weighting,
        snakemake.params.seed,
        snakemake.output[0],
    ),
)
