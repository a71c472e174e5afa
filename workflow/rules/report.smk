# Items of `snakemake --report report.html`: cheap tables and figures built from a
# finished run, plus `compare`, which puts the metrics of several runs side by side.


# Every report item, under results/{dataset}/report/ (`rule all` pulls them in, so
# that a plain `snakemake --report report.html` finds each one).
REPORT_ITEMS = [
    "metrics.html",
    "map_at_k.svg",
    "examples.html",
    "loss.svg",
    "explained_variance.svg",
    "long_tail.svg",
    "run.html",
]


rule report_metrics:
    input:
        DATA.run(MAIN_SEED).metrics,
    output:
        table=report(
            DATA.report("metrics.html"),
            caption="../report/metrics.rst",
            category="Evaluation",
            subcategory="Metrics",
            labels={"dataset": "{dataset}", "item": "metrics table"},
        ),
        map_at_k=report(
            DATA.report("map_at_k.svg"),
            caption="../report/map_at_k.rst",
            category="Evaluation",
            subcategory="Metrics",
            labels={"dataset": "{dataset}", "item": "MAP@K by method"},
        ),
    log:
        "logs/{dataset}/report_metrics.log",
    benchmark:
        DATA.benchmark("report_metrics")
    conda:
        "../../envs/artistrec.yaml"
    script:
        "../scripts/report_metrics.py"


rule report_examples:
    input:
        test=DATA.run(MAIN_SEED).split()["test"],
        record=DATA.run(MAIN_SEED).record,
        recommendations=DATA.run(MAIN_SEED).recommendations,
        interactions=DATA.interactions,
        artists=DATA.artists,
    output:
        report(
            DATA.report("examples.html"),
            caption="../report/examples.rst",
            category="Evaluation",
            subcategory="Examples",
            labels={"dataset": "{dataset}", "item": "recommended beside co-listened"},
        ),
    log:
        "logs/{dataset}/report_examples.log",
    benchmark:
        DATA.benchmark("report_examples")
    conda:
        "../../envs/artistrec.yaml"
    params:
        n_examples=4,
        top=10,
    script:
        "../scripts/report_examples.py"


rule report_loss:
    input:
        DATA.run(MAIN_SEED).model(variants.DEFAULT, "history.csv"),
    output:
        report(
            DATA.report("loss.svg"),
            caption="../report/loss.rst",
            category="Training",
            subcategory="Loss",
            labels={"dataset": "{dataset}", "item": "loss by epoch"},
        ),
    log:
        "logs/{dataset}/report_loss.log",
    benchmark:
        DATA.benchmark("report_loss")
    conda:
        "../../envs/artistrec.yaml"
    script:
        "../scripts/report_loss.py"


rule report_explained_variance:
    input:
        lambda wildcards: default_svd_files(wildcards.dataset, MAIN_SEED),
    output:
        report(
            DATA.report("explained_variance.svg"),
            caption="../report/explained_variance.rst",
            category="Features",
            subcategory="SVD",
            labels={"dataset": "{dataset}", "item": "explained variance"},
        ),
    log:
        "logs/{dataset}/report_explained_variance.log",
    benchmark:
        DATA.benchmark("report_explained_variance")
    conda:
        "../../envs/artistrec.yaml"
    params:
        sources=lambda wildcards: sources(wildcards.dataset),
    script:
        "../scripts/report_explained_variance.py"


rule report_long_tail:
    input:
        interactions=DATA.interactions,
        candidates=DATA.run(MAIN_SEED).candidates,
    output:
        report(
            DATA.report("long_tail.svg"),
            caption="../report/long_tail.rst",
            category="Features",
            subcategory="Listeners",
            labels={"dataset": "{dataset}", "item": "long tail"},
        ),
    log:
        "logs/{dataset}/report_long_tail.log",
    benchmark:
        DATA.benchmark("report_long_tail")
    conda:
        "../../envs/artistrec.yaml"
    script:
        "../scripts/report_long_tail.py"


rule report_run:
    output:
        report(
            DATA.report("run.html"),
            caption="../report/run.rst",
            category="Run",
            subcategory="Configuration",
            labels={"dataset": "{dataset}", "item": "config and versions"},
        ),
    log:
        "logs/{dataset}/report_run.log",
    benchmark:
        DATA.benchmark("report_run")
    conda:
        "../../envs/artistrec.yaml"
    params:
        config=settings(),
    script:
        "../scripts/report_run.py"


rule compare:
    input:
        # results/compare/A+B.md compares results/A and results/B; A is the baseline.
        lambda wildcards: [
            results_path(name, "metrics.json") for name in wildcards.runs.split("+")
        ],
    output:
        results_path("compare", "{runs}.md"),
    log:
        "logs/compare/{runs}.log",
    benchmark:
        results_path("compare", "benchmarks", "{runs}.tsv")
    wildcard_constraints:
        runs=r"[A-Za-z0-9_.-]+(\+[A-Za-z0-9_.-]+)*",
    conda:
        "../../envs/artistrec.yaml"
    params:
        names=lambda wildcards: wildcards.runs.split("+"),
    script:
        "../scripts/compare.py"
