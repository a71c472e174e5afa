from artistrec import steps
from artistrec.runner import run

run(
    snakemake,
    lambda: steps.clusters(
        list(snakemake.input.svd),
        {part: snakemake.input[part] for part in ("train", "valid", "test")},
        list(snakemake.params.settings["k"]),
        snakemake.params.settings["seed"],
        snakemake.output.clusters,
        snakemake.output.summary,
    ),
)
