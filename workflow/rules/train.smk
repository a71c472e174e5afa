rule train:
    input:
        unpack(split_inputs),
        svd=variant_svd_inputs,
        targets=run("{dataset}", "{seed}", "targets.npz"),
        valid_targets=run("{dataset}", "{seed}", "targets_valid.npz"),
    output:
        model=model_file("{dataset}", "{seed}", "{variant}"),
        history=model_file("{dataset}", "{seed}", "{variant}", "history.csv"),
        inputs=model_file("{dataset}", "{seed}", "{variant}", "inputs.json"),
    log:
        "logs/{dataset}/split-{seed}/train_{variant}.log",
    benchmark:
        run("{dataset}", "{seed}", "benchmarks", "train_{variant}.tsv")
    conda:
        "../../envs/artistrec.yaml"
    threads: 2
    resources:
        gpu=1,
        mem_mb=lambda wildcards, input, attempt: max(4000, 20 * input.size_mb) * attempt,
        runtime="2h",
    params:
        settings=lambda wildcards: dict(sorted(variant(wildcards).model.items())),
        sources=lambda wildcards: list(variant(wildcards).features),
        checkpoints=lambda wildcards: run(
            wildcards.dataset, wildcards.seed, "checkpoints", wildcards.variant
        ),
    script:
        "../scripts/train.py"


rule train_listeners:
    input:
        unpack(split_inputs),
        svd=default_svd_inputs,
        interactions=results("{dataset}", "data", "interactions.parquet"),
    output:
        model=model_file("{dataset}", "{seed}", "listeners"),
        history=model_file("{dataset}", "{seed}", "listeners", "history.csv"),
        inputs=model_file("{dataset}", "{seed}", "listeners", "inputs.json"),
    log:
        "logs/{dataset}/split-{seed}/train_listeners.log",
    benchmark:
        run("{dataset}", "{seed}", "benchmarks", "train_listeners.tsv")
    conda:
        "../../envs/artistrec.yaml"
    threads: 2
    resources:
        gpu=1,
        mem_mb=lambda wildcards, input, attempt: max(4000, 20 * input.size_mb) * attempt,
        runtime="2h",
    params:
        settings=settings("model"),
        sources=lambda wildcards: sources(wildcards.dataset),
        checkpoints=lambda wildcards: run(
            wildcards.dataset, wildcards.seed, "checkpoints", "listeners"
        ),
    script:
        "../scripts/train_listeners.py"


rule validate:
    input:
        unpack(split_inputs),
        model=model_file("{dataset}", "{seed}", "{variant}"),
        history=model_file("{dataset}", "{seed}", "{variant}", "history.csv"),
        # read through the model's inputs.json; named so a changed SVD re-runs this
        svd=variant_svd_inputs,
        candidates=run("{dataset}", "{seed}", "candidates.txt"),
        interactions=results("{dataset}", "data", "interactions.parquet"),
    output:
        model_file("{dataset}", "{seed}", "{variant}", "valid.json"),
    log:
        "logs/{dataset}/split-{seed}/validate_{variant}.log",
    benchmark:
        run("{dataset}", "{seed}", "benchmarks", "validate_{variant}.tsv")
    conda:
        "../../envs/artistrec.yaml"
    threads: 2
    resources:
        mem_mb=lambda wildcards, input, attempt: max(4000, 40 * input.size_mb) * attempt,
    script:
        "../scripts/validate.py"
