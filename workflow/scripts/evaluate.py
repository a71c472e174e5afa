from artistrec.runner import run


def main() -> None:
    # Imported here so that TensorFlow's start-up lines go to the rule's log.
    from artistrec.model_steps import evaluate_step

    evaluate_step(
        snakemake.wildcards.dataset,
        snakemake.input.model,
        list(snakemake.input.svd),
        {part: snakemake.input[part] for part in ("train", "valid", "test")},
        snakemake.input.candidates,
        snakemake.input.interactions,
        snakemake.input.targets,
        dict(snakemake.params.settings),
        snakemake.output.metrics,
        snakemake.output.recommendations,
    )


run(snakemake, main)
