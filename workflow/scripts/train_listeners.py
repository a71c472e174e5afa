from artistrec.runner import run


def main() -> None:
    # Imported here so that TensorFlow's start-up lines go to the rule's log.
    from artistrec.model_steps import train_listeners_step

    train_listeners_step(
        list(snakemake.input.svd),
        list(snakemake.params.sources),
        {part: snakemake.input[part] for part in ("train", "valid", "test")},
        snakemake.input.interactions,
        dict(snakemake.params.settings),
        snakemake.output.model,
        snakemake.output.history,
        snakemake.output.inputs,
        snakemake.params.checkpoints,
    )


run(snakemake, main)
