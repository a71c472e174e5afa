rule targets:
    input:
        unpack(split_inputs),
        interactions=DATA.interactions,
        candidates=RUN.candidates,
    output:
        train=RUN.targets,
        valid=RUN.valid_targets,
    log:
        "logs/{dataset}/split-{seed}/targets.log",
    benchmark:
        RUN.benchmark("targets")
    conda:
        "../../envs/artistrec.yaml"
    resources:
        mem_mb=lambda wildcards, input, attempt: max(2000, 40 * input.size_mb) * attempt,
    script:
        "../scripts/targets.py"
