rule targets:
    input:
        unpack(split_inputs),
        interactions=results("{dataset}", "data", "interactions.parquet"),
        candidates=results("{dataset}", "candidates.txt"),
    output:
        train=results("{dataset}", "targets.npz"),
        valid=results("{dataset}", "targets_valid.npz"),
    log:
        "logs/{dataset}/targets.log",
    benchmark:
        "results/{dataset}/benchmarks/targets.tsv"
    conda:
        "../../envs/artistrec.yaml"
    resources:
        mem_mb=lambda wildcards, input, attempt: max(2000, 40 * input.size_mb) * attempt,
    script:
        "../scripts/targets.py"
