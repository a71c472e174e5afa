from artistrec.runner import run


def main() -> None:
    # Imported here so that TensorFlow's start-up lines go to the rule's log.
    from artistrec.model_steps import train_step

    train_step(
        list(snakemake.input.svd),
        list(snakemake.params.sources),
        {part: snakemake.input[part] for part in ("train", "valid", "test")},
        snakemake.input.targets,
        snakemake.input.valid_targets,
        dict(snakemake.params.settings),
        snakemake.output.model,
        snakemake.output.history,
        snakemake.output.inputs,
        snakemake.params.checkpoints,
    )


run(snakemake, main)
