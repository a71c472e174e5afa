from artistrec.runner import run


def main() -> None:
    # Imported here so that TensorFlow's start-up lines go to the rule's log.
    from artistrec.train_steps import Training, train_listeners_step

    train_listeners_step(Training.of_job(snakemake), snakemake.input.interactions)


run(snakemake, main)
