from artistrec.runner import run


def main() -> None:
    # Imported here so that TensorFlow's start-up lines go to the rule's log.
    from artistrec.evaluate_step import evaluate_step
    from artistrec.methods import Plan
    from artistrec.methods.context import EvaluationInputs
    from artistrec.steps import knn_files_by_dim

    plan = Plan.from_params(snakemake.params.plan)
    inputs = EvaluationInputs(
        split={part: snakemake.input[part] for part in ("train", "valid", "test")},
        candidates=snakemake.input.candidates,
        interactions=snakemake.input.interactions,
        targets=snakemake.input.targets,
        models=dict(zip(snakemake.params.variants, snakemake.input.models)),
        knn=snakemake.input.knn,
        knn_svd=knn_files_by_dim(
            list(snakemake.input.knn_svd), list(snakemake.params.dims), snakemake.params.n_sources
        ),
        clusters=snakemake.input.clusters or None,
        users=snakemake.input.users or None,
        features=dict(zip(plan.sources, snakemake.input.features)),
    )
    evaluate_step(
        inputs,
        plan,
        int(snakemake.wildcards.seed),
        dict(snakemake.params.settings),
        {name: snakemake.output[name] for name in ("metrics", "table", "recommendations", "record")},
        dict(snakemake.params.key_columns),
    )


run(snakemake, main)
