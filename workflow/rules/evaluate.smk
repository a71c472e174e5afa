rule tune_knn:
    input:
        unpack(split_inputs),
        svd=knn_svd_inputs,
        candidates=run("{dataset}", "{seed}", "candidates.txt"),
        interactions=results("{dataset}", "data", "interactions.parquet"),
        targets=run("{dataset}", "{seed}", "targets.npz"),
    output:
        run("{dataset}", "{seed}", "knn.json"),
    log:
        "logs/{dataset}/split-{seed}/tune_knn.log",
    benchmark:
        run("{dataset}", "{seed}", "benchmarks", "tune_knn.tsv")
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
    script:
        "../scripts/tune_knn.py"


rule evaluate:
    input:
        unpack(split_inputs),
        models=lambda wildcards: list(evaluated_models(wildcards).values()),
        # read through each model's inputs.json; named so a changed SVD re-runs this
        svd=default_svd_inputs,
        knn=run("{dataset}", "{seed}", "knn.json"),
        knn_svd=knn_svd_inputs,
        clusters=clusters_input,
        candidates=run("{dataset}", "{seed}", "candidates.txt"),
        interactions=results("{dataset}", "data", "interactions.parquet"),
        targets=run("{dataset}", "{seed}", "targets.npz"),
        users=user_source_input,
        listeners=listeners_input,
    output:
        metrics=run("{dataset}", "{seed}", "metrics.json"),
        recommendations=run("{dataset}", "{seed}", "recommendations", "test.csv"),
    log:
        "logs/{dataset}/split-{seed}/evaluate.log",
    benchmark:
        run("{dataset}", "{seed}", "benchmarks", "evaluate.tsv")
    conda:
        "../../envs/artistrec.yaml"
    threads: 2
    resources:
        mem_mb=lambda wildcards, input, attempt: max(4000, 40 * input.size_mb) * attempt,
    params:
        variants=lambda wildcards: list(evaluated_models(wildcards)),
        n_sources=lambda wildcards: len(sources(wildcards.dataset)),
        dims=lambda wildcards: config["datasets"][wildcards.dataset]["dims"],
        user_source=lambda wildcards: config["datasets"][wildcards.dataset][
            "user_source"
        ],
        settings={
            **settings("evaluation"),
            "network_knn": config["methods"]["network_knn"],
            "network_embedding_knn": config["methods"]["network_embedding_knn"],
        },
    script:
        "../scripts/evaluate.py"


rule root_metrics:
    input:
        run(DEFAULT_DATASET, MAIN_SEED, "metrics.json"),
    output:
        "metrics.json",
    log:
        "logs/root_metrics.log",
    benchmark:
        f"results/{DEFAULT_DATASET}/benchmarks/root_metrics.tsv"
    conda:
        "../../envs/artistrec.yaml"
    script:
        "../scripts/copy_file.py"
