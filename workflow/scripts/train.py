from artistrec.runner import run


def main() -> None:
    # Imported here so that TensorFlow's start-up lines go to the rule's log.
    from artistrec.train_steps import Training, train_step

    train_step(Training.of_job(snakemake), snakemake.input.targets, snakemake.input.valid_targets)


run(snakemake, main)
