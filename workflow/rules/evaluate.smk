rule evaluate:
    input:
        unpack(split_inputs),
        model=results("{dataset}", "model.h5"),
        svd=svd_inputs,
        candidates=results("{dataset}", "candidates.txt"),
        interactions=results("{dataset}", "data", "interactions.parquet"),
        targets=results("{dataset}", "targets.npz"),
    output:
        metrics=results("{dataset}", "metrics.json"),
        recommendations=results("{dataset}", "recommendations", "test.csv"),
    log:
        "logs/{dataset}/evaluate.log",
    benchmark:
        "results/{dataset}/benchmarks/evaluate.tsv"
    conda:
        "../../envs/artistrec.yaml"
    threads: 2
    resources:
        mem_mb=lambda wildcards, input, attempt: max(4000, 40 * input.size_mb) * attempt,
    params:
        settings=settings("evaluation"),
    script:
        "../scripts/evaluate.py"


rule root_metrics:
    input:
        results(DEFAULT_DATASET, "metrics.json"),
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
