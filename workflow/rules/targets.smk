rule targets:
    input:
        unpack(split_inputs),
        interactions=results("{dataset}", "data", "interactions.parquet"),
        candidates=run("{dataset}", "{seed}", "candidates.txt"),
    output:
        train=run("{dataset}", "{seed}", "targets.npz"),
        valid=run("{dataset}", "{seed}", "targets_valid.npz"),
    log:
        "logs/{dataset}/split-{seed}/targets.log",
    benchmark:
        run("{dataset}", "{seed}", "benchmarks", "targets.tsv")
    conda:
        "../../envs/artistrec.yaml"
    resources:
        mem_mb=lambda wildcards, input, attempt: max(2000, 40 * input.size_mb) * attempt,
    script:
        "../scripts/targets.py"
