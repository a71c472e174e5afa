from artistrec.runner import run


def main() -> None:
    # Imported here so that TensorFlow's start-up lines go to the rule's log.
    from artistrec.train_steps import validate_step

    validate_step(
        snakemake.input.model,
        snakemake.input.history,
        {part: snakemake.input[part] for part in ("train", "valid", "test")},
        snakemake.input.candidates,
        snakemake.input.interactions,
        snakemake.output[0],
    )


run(snakemake, main)
