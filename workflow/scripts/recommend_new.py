from artistrec.runner import run


def main() -> None:
    # Imported here so that TensorFlow's start-up lines go to the rule's log.
    from artistrec.batch import recommend_batch
    from artistrec.layout import RunFolder

    recommend_batch(
        RunFolder.of(snakemake.wildcards.dataset, snakemake.wildcards.seed).folder,
        snakemake.params.folder,
        snakemake.output.csv,
        int(snakemake.params.top_k),
    )


run(snakemake, main)
