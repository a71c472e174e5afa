rule split:
    input:
        results("{dataset}", "data", "interactions.parquet"),
    output:
        **split_files("{dataset}", "{seed}"),
    log:
        "logs/{dataset}/split-{seed}/split.log",
    benchmark:
        run("{dataset}", "{seed}", "benchmarks", "split.tsv")
    conda:
        "../../envs/artistrec.yaml"
    params:
        test_fraction=config["split"]["test_fraction"],
        valid_fraction=config["split"]["valid_fraction"],
        seed=lambda wildcards: int(wildcards.seed),
    script:
        "../scripts/split.py"


rule candidates:
    input:
        interactions=results("{dataset}", "data", "interactions.parquet"),
        train=run("{dataset}", "{seed}", "split", "train.txt"),
    output:
        run("{dataset}", "{seed}", "candidates.txt"),
    log:
        "logs/{dataset}/split-{seed}/candidates.log",
    benchmark:
        run("{dataset}", "{seed}", "benchmarks", "candidates.tsv")
    conda:
        "../../envs/artistrec.yaml"
    params:
        n_candidates=config["n_candidates"],
    script:
        "../scripts/candidates.py"
