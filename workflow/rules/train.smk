rule train:
    input:
        unpack(split_inputs),
        svd=svd_inputs,
        targets=results("{dataset}", "targets.npz"),
        valid_targets=results("{dataset}", "targets_valid.npz"),
    output:
        model=results("{dataset}", "model.h5"),
        history=results("{dataset}", "history.csv"),
    log:
        "logs/{dataset}/train.log",
    benchmark:
        "results/{dataset}/benchmarks/train.tsv"
    conda:
        "../../envs/artistrec.yaml"
    threads: 2
    resources:
        gpu=1,
        mem_mb=lambda wildcards, input, attempt: max(4000, 20 * input.size_mb) * attempt,
        runtime="2h",
    params:
        settings=settings("model"),
        checkpoints=lambda wildcards: results(wildcards.dataset, "checkpoints", "train"),
    script:
        "../scripts/train.py"
