rule split:
    input:
        results("{dataset}", "data", "interactions.parquet"),
    output:
        **split_files("{dataset}"),
    log:
        "logs/{dataset}/split.log",
    benchmark:
        "results/{dataset}/benchmarks/split.tsv"
    conda:
        "../../envs/artistrec.yaml"
    params:
        test_fraction=config["split"]["test_fraction"],
        valid_fraction=config["split"]["valid_fraction"],
        seed=config["split"]["seed"],
    script:
        "../scripts/split.py"


rule candidates:
    input:
        interactions=results("{dataset}", "data", "interactions.parquet"),
        train=results("{dataset}", "split", "train.txt"),
    output:
        results("{dataset}", "candidates.txt"),
    log:
        "logs/{dataset}/candidates.log",
    benchmark:
        "results/{dataset}/benchmarks/candidates.tsv"
    conda:
        "../../envs/artistrec.yaml"
    params:
        n_candidates=config["n_candidates"],
    script:
        "../scripts/candidates.py"
