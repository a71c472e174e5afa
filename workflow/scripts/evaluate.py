from artistrec.runner import run


def main() -> None:
    # Imported here so that TensorFlow's start-up lines go to the rule's log.
    from artistrec.model_steps import evaluate_step
    from artistrec.steps import knn_files_by_dim

    evaluate_step(
        snakemake.wildcards.dataset,
        int(snakemake.wildcards.seed),
        dict(zip(snakemake.params.variants, snakemake.input.models)),
        snakemake.input.knn,
        knn_files_by_dim(list(snakemake.input.knn_svd), list(snakemake.params.dims), snakemake.params.n_sources),
        snakemake.input.clusters or None,
        {part: snakemake.input[part] for part in ("train", "valid", "test")},
        snakemake.input.candidates,
        snakemake.input.interactions,
        snakemake.input.targets,
        snakemake.params.user_source,
        snakemake.input.users or None,
        snakemake.input.listeners or None,
        dict(snakemake.params.settings),
        snakemake.output.metrics,
        snakemake.output.recommendations,
    )


run(snakemake, main)
