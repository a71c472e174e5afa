rule train:
    input:
        unpack(split_inputs),
        svd=variant_svd_inputs,
        targets=RUN.targets,
        valid_targets=RUN.valid_targets,
    output:
        model=RUN.model("{variant}"),
        history=RUN.model("{variant}", "history.csv"),
        inputs=RUN.model("{variant}", "inputs.json"),
    log:
        "logs/{dataset}/split-{seed}/train_{variant}.log",
    benchmark:
        RUN.benchmark("train_{variant}")
    conda:
        "../../envs/artistrec.yaml"
    threads: 2
    resources:
        gpu=1,
        mem_mb=lambda wildcards, input, attempt: max(4000, 20 * input.size_mb) * attempt,
        runtime="2h",
    params:
        settings=lambda wildcards: training_params(
            wildcards.dataset, wildcards.variant
        )["settings"],
        sources=lambda wildcards: training_params(
            wildcards.dataset, wildcards.variant
        )["sources"],
        output_layer=lambda wildcards: training_params(
            wildcards.dataset, wildcards.variant
        )["output_layer"],
        checkpoints=lambda wildcards: RunFolder.of(
            wildcards.dataset, wildcards.seed
        ).checkpoints(wildcards.variant),
    script:
        "../scripts/train.py"


rule train_listeners:
    input:
        unpack(split_inputs),
        svd=default_svd_inputs,
        interactions=DATA.interactions,
    output:
        model=RUN.model("listeners"),
        history=RUN.model("listeners", "history.csv"),
        inputs=RUN.model("listeners", "inputs.json"),
    log:
        "logs/{dataset}/split-{seed}/train_listeners.log",
    benchmark:
        RUN.benchmark("train_listeners")
    conda:
        "../../envs/artistrec.yaml"
    threads: 2
    resources:
        gpu=1,
        mem_mb=lambda wildcards, input, attempt: max(4000, 20 * input.size_mb) * attempt,
        runtime="2h",
    params:
        settings=lambda wildcards: training_params(wildcards.dataset, "listeners")[
            "settings"
        ],
        sources=lambda wildcards: training_params(wildcards.dataset, "listeners")[
            "sources"
        ],
        output_layer=lambda wildcards: training_params(wildcards.dataset, "listeners")[
            "output_layer"
        ],
        checkpoints=lambda wildcards: RunFolder.of(
            wildcards.dataset, wildcards.seed
        ).checkpoints("listeners"),
    script:
        "../scripts/train_listeners.py"


rule validate:
    input:
        unpack(split_inputs),
        model=RUN.model("{variant}"),
        history=RUN.model("{variant}", "history.csv"),
        # read through the model's inputs.json; named so a changed SVD re-runs this
        svd=variant_svd_inputs,
        candidates=RUN.candidates,
        interactions=DATA.interactions,
    output:
        RUN.model("{variant}", "valid.json"),
    log:
        "logs/{dataset}/split-{seed}/validate_{variant}.log",
    benchmark:
        RUN.benchmark("validate_{variant}")
    conda:
        "../../envs/artistrec.yaml"
    threads: 2
    resources:
        mem_mb=lambda wildcards, input, attempt: max(4000, 40 * input.size_mb) * attempt,
    script:
        "../scripts/validate.py"
