# Evidence beyond one run: the sweep on valid artists (main split seed) and the
# whole split-to-metrics chain repeated over `seeds`.


rule sweep_summary:
    input:
        lambda wildcards: [
            RunFolder.of(wildcards.dataset, MAIN_SEED).model(name, "valid.json")
            for name in variants.sweep_points(config, wildcards.dataset)
        ],
    output:
        table=DATA.sweep("sweep_summary.tsv"),
        plot=report(
            DATA.sweep("sweep.png"),
            caption="../report/sweep.rst",
            category="Evidence",
            subcategory="Sweep",
            labels={"dataset": "{dataset}", "item": "validation MAP@10 by setting"},
        ),
    log:
        "logs/{dataset}/sweep_summary.log",
    benchmark:
        DATA.benchmark("sweep_summary")
    conda:
        "../../envs/artistrec.yaml"
    params:
        points=lambda wildcards: list(variants.sweep_points(config, wildcards.dataset)),
        grid=lambda wildcards: variants.sweep_grid(config, wildcards.dataset),
        defaults=lambda wildcards: {
            axis: variants.default_value(config, wildcards.dataset, axis)
            for axis in variants.SWEEP_AXES
        },
    script:
        "../scripts/sweep_summary.py"


rule seeds_summary:
    input:
        lambda wildcards: [
            RunFolder.of(wildcards.dataset, seed).metrics for seed in config["seeds"]
        ],
    output:
        summary=DATA.metrics_summary,
        table=report(
            DATA.path("metrics_summary.md"),
            caption="../report/metrics_summary.rst",
            category="Evidence",
            subcategory="Seeds",
            labels={"dataset": "{dataset}", "item": "metrics over split seeds"},
        ),
    log:
        "logs/{dataset}/seeds_summary.log",
    benchmark:
        DATA.benchmark("seeds_summary")
    conda:
        "../../envs/artistrec.yaml"
    script:
        "../scripts/seeds_summary.py"


rule sweep:
    input:
        DatasetFolder.of(DEFAULT_DATASET).sweep("sweep_summary.tsv"),


rule seeds:
    input:
        DatasetFolder.of(DEFAULT_DATASET).metrics_summary,
