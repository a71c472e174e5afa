rule tune_knn:
    input:
        unpack(split_inputs),
        svd=knn_svd_inputs,
        candidates=RUN.candidates,
        interactions=DATA.interactions,
        targets=RUN.targets,
    output:
        RUN.knn,
    log:
        "logs/{dataset}/split-{seed}/tune_knn.log",
    benchmark:
        RUN.benchmark("tune_knn")
    conda:
        "../../envs/artistrec.yaml"
    threads: 2
    resources:
        mem_mb=lambda wildcards, input, attempt: max(4000, 40 * input.size_mb) * attempt,
    params:
        dims=lambda wildcards: config["datasets"][wildcards.dataset]["dims"],
        n_sources=lambda wildcards: len(sources(wildcards.dataset)),
        ks=config["evaluation"]["knn_k"],
        powers=config["evaluation"]["knn_power"],
        votes=config["evaluation"]["knn_votes"],
        tuning_artists=config["evaluation"]["tuning_artists"],
    script:
        "../scripts/tune_knn.py"


rule evaluate:
    input:
        unpack(split_inputs),
        models=lambda wildcards: list(evaluated_models(wildcards).values()),
        # read through each model's inputs.json; named so a changed SVD re-runs this
        svd=default_svd_inputs,
        knn=RUN.knn,
        knn_svd=knn_svd_inputs,
        clusters=clusters_input,
        candidates=RUN.candidates,
        interactions=DATA.interactions,
        targets=RUN.targets,
        users=user_source_input,
        features=feature_tables_input,
    output:
        metrics=RUN.metrics,
        table=RUN.metrics_table,
        recommendations=RUN.recommendations,
        record=RUN.record,
    log:
        "logs/{dataset}/split-{seed}/evaluate.log",
    benchmark:
        RUN.benchmark("evaluate")
    conda:
        "../../envs/artistrec.yaml"
    threads: 2
    resources:
        mem_mb=lambda wildcards, input, attempt: max(4000, 40 * input.size_mb) * attempt,
    params:
        variants=lambda wildcards: list(evaluated_models(wildcards)),
        n_sources=lambda wildcards: len(sources(wildcards.dataset)),
        dims=lambda wildcards: config["datasets"][wildcards.dataset]["dims"],
        plan=lambda wildcards: plan(wildcards.dataset).as_params(),
        key_columns=lambda wildcards: datasets.get_dataset(
            wildcards.dataset
        ).key_columns(config),
        settings=settings("evaluation"),
        trained=trained_as_configured,
    script:
        "../scripts/evaluate.py"


rule root_metrics:
    input:
        RunFolder.of(DEFAULT_DATASET, MAIN_SEED).metrics,
    output:
        "metrics.json",
    log:
        "logs/root_metrics.log",
    benchmark:
        DatasetFolder.of(DEFAULT_DATASET).benchmark("root_metrics")
    conda:
        "../../envs/artistrec.yaml"
    script:
        "../scripts/copy_file.py"
