rule svd:
    input:
        unpack(split_inputs),
        features=results("{dataset}", "data", "features_{source}.parquet"),
    output:
        run("{dataset}", "{seed}", "svd", "{source}", "{weighting}-{dim}.npz"),
    log:
        "logs/{dataset}/split-{seed}/svd_{source}_{weighting}-{dim}.log",
    benchmark:
        run("{dataset}", "{seed}", "benchmarks", "svd_{source}_{weighting}-{dim}.tsv")
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
        clusters=run("{dataset}", "{seed}", "clusters", "clusters.npz"),
        summary=run("{dataset}", "{seed}", "clusters", "clusters.json"),
    log:
        "logs/{dataset}/split-{seed}/clusters.log",
    benchmark:
        run("{dataset}", "{seed}", "benchmarks", "clusters.tsv")
    conda:
        "../../envs/artistrec.yaml"
    threads: 2
    params:
        settings=settings("clusters"),
    script:
        "../scripts/clusters.py"
