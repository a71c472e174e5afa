from artistrec import steps
from artistrec.runner import run

run(
    snakemake,
    lambda: steps.tune_knn(
        steps.knn_files_by_dim(list(snakemake.input.svd), list(snakemake.params.dims), snakemake.params.n_sources),
        {part: snakemake.input[part] for part in ("train", "valid", "test")},
        snakemake.input.candidates,
        snakemake.input.interactions,
        snakemake.input.targets,
        list(snakemake.params.ks),
        list(snakemake.params.powers),
        list(snakemake.params.votes),
        snakemake.params.tuning_artists,
        snakemake.output[0],
    ),
)
