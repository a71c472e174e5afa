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
        run("{dataset}", MAIN_SEED, "metrics.json"),
    output:
        table=report(
            results("{dataset}", "report", "metrics.html"),
            caption="../report/metrics.rst",
            category="Evaluation",
            subcategory="Metrics",
            labels={"dataset": "{dataset}", "item": "metrics table"},
        ),
        map_at_k=report(
            results("{dataset}", "report", "map_at_k.svg"),
            caption="../report/map_at_k.rst",
            category="Evaluation",
            subcategory="Metrics",
            labels={"dataset": "{dataset}", "item": "MAP@K by method"},
        ),
    log:
        "logs/{dataset}/report_metrics.log",
    benchmark:
        "results/{dataset}/benchmarks/report_metrics.tsv"
    conda:
        "../../envs/artistrec.yaml"
    script:
        "../scripts/report_metrics.py"


rule report_examples:
    input:
        test=run("{dataset}", MAIN_SEED, "split", "test.txt"),
        recommendations=run("{dataset}", MAIN_SEED, "recommendations", "test.csv"),
        interactions=results("{dataset}", "data", "interactions.parquet"),
        artists=results("{dataset}", "data", "artists.parquet"),
    output:
        report(
            results("{dataset}", "report", "examples.html"),
            caption="../report/examples.rst",
            category="Evaluation",
            subcategory="Examples",
            labels={"dataset": "{dataset}", "item": "recommended beside co-listened"},
        ),
    log:
        "logs/{dataset}/report_examples.log",
    benchmark:
        "results/{dataset}/benchmarks/report_examples.tsv"
    conda:
        "../../envs/artistrec.yaml"
    params:
        n_examples=4,
        top=10,
    script:
        "../scripts/report_examples.py"


rule report_loss:
    input:
        model_file("{dataset}", MAIN_SEED, variants.DEFAULT, "history.csv"),
    output:
        report(
            results("{dataset}", "report", "loss.svg"),
            caption="../report/loss.rst",
            category="Training",
            subcategory="Loss",
            labels={"dataset": "{dataset}", "item": "loss by epoch"},
        ),
    log:
        "logs/{dataset}/report_loss.log",
    benchmark:
        "results/{dataset}/benchmarks/report_loss.tsv"
    conda:
        "../../envs/artistrec.yaml"
    script:
        "../scripts/report_loss.py"


rule report_explained_variance:
    input:
        lambda wildcards: default_svd_files(wildcards.dataset, MAIN_SEED),
    output:
        report(
            results("{dataset}", "report", "explained_variance.svg"),
            caption="../report/explained_variance.rst",
            category="Features",
            subcategory="SVD",
            labels={"dataset": "{dataset}", "item": "explained variance"},
        ),
    log:
        "logs/{dataset}/report_explained_variance.log",
    benchmark:
        "results/{dataset}/benchmarks/report_explained_variance.tsv"
    conda:
        "../../envs/artistrec.yaml"
    params:
        sources=lambda wildcards: sources(wildcards.dataset),
    script:
        "../scripts/report_explained_variance.py"


rule report_long_tail:
    input:
        interactions=results("{dataset}", "data", "interactions.parquet"),
        candidates=run("{dataset}", MAIN_SEED, "candidates.txt"),
    output:
        report(
            results("{dataset}", "report", "long_tail.svg"),
            caption="../report/long_tail.rst",
            category="Features",
            subcategory="Listeners",
            labels={"dataset": "{dataset}", "item": "long tail"},
        ),
    log:
        "logs/{dataset}/report_long_tail.log",
    benchmark:
        "results/{dataset}/benchmarks/report_long_tail.tsv"
    conda:
        "../../envs/artistrec.yaml"
    script:
        "../scripts/report_long_tail.py"


rule report_run:
    output:
        report(
            results("{dataset}", "report", "run.html"),
            caption="../report/run.rst",
            category="Run",
            subcategory="Configuration",
            labels={"dataset": "{dataset}", "item": "config and versions"},
        ),
    log:
        "logs/{dataset}/report_run.log",
    benchmark:
        "results/{dataset}/benchmarks/report_run.tsv"
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
            results(name, "metrics.json") for name in wildcards.runs.split("+")
        ],
    output:
        "results/compare/{runs}.md",
    log:
        "logs/compare/{runs}.log",
    benchmark:
        "results/compare/benchmarks/{runs}.tsv"
    wildcard_constraints:
        runs=r"[A-Za-z0-9_.-]+(\+[A-Za-z0-9_.-]+)*",
    conda:
        "../../envs/artistrec.yaml"
    params:
        names=lambda wildcards: wildcards.runs.split("+"),
    script:
        "../scripts/compare.py"
