rule svd:
    input:
        unpack(split_inputs),
        features=DATA.features("{source}"),
    output:
        RUN.svd("{source}", "{weighting}", "{dim}"),
    log:
        "logs/{dataset}/split-{seed}/svd_{source}_{weighting}-{dim}.log",
    benchmark:
        RUN.benchmark("svd_{source}_{weighting}-{dim}")
    conda:
        "../../envs/artistrec.yaml"
    threads: 2
    resources:
        mem_mb=lambda wildcards, input, attempt: max(2000, 40 * input.size_mb) * attempt,
    params:
        # Weighting and size are in the file name: each setting is its own artifact.
        dim=lambda wildcards: int(wildcards.dim),
        weighting=lambda wildcards: wildcards.weighting,
        seed=lambda wildcards: int(wildcards.seed),
    script:
        "../scripts/svd.py"


rule clusters:
    input:
        unpack(split_inputs),
        svd=default_svd_inputs,
    output:
        clusters=RUN.clusters(),
        summary=RUN.clusters("clusters.json"),
    log:
        "logs/{dataset}/split-{seed}/clusters.log",
    benchmark:
        RUN.benchmark("clusters")
    conda:
        "../../envs/artistrec.yaml"
    threads: 2
    params:
        settings=settings("clusters"),
    script:
        "../scripts/clusters.py"
