rule split:
    input:
        DATA.interactions,
    output:
        **RUN.split(),
    log:
        "logs/{dataset}/split-{seed}/split.log",
    benchmark:
        RUN.benchmark("split")
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
        interactions=DATA.interactions,
        train=RUN.split()["train"],
    output:
        RUN.candidates,
    log:
        "logs/{dataset}/split-{seed}/candidates.log",
    benchmark:
        RUN.benchmark("candidates")
    conda:
        "../../envs/artistrec.yaml"
    params:
        n_candidates=config["n_candidates"],
        min_listeners=config["candidates"]["min_listeners"],
    script:
        "../scripts/candidates.py"
