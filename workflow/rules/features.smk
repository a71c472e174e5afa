rule svd:
    input:
        unpack(split_inputs),
        features=results("{dataset}", "data", "features_{source}.parquet"),
    output:
        results("{dataset}", "svd", "{source}.npz"),
    log:
        "logs/{dataset}/svd_{source}.log",
    benchmark:
        "results/{dataset}/benchmarks/svd_{source}.tsv"
    conda:
        "../../envs/artistrec.yaml"
    threads: 2
    resources:
        mem_mb=lambda wildcards, input, attempt: max(2000, 40 * input.size_mb) * attempt,
    params:
        dim=lambda wildcards: source_setting(wildcards, "dim"),
        weighting=lambda wildcards: source_setting(wildcards, "weighting"),
        seed=config["split"]["seed"],
    script:
        "../scripts/svd.py"
