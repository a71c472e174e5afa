from snakemake.utils import min_version

min_version("9.20")


configfile: "config.yaml"


report: "workflow/report/workflow.rst"


# Locally, one training job holds the GPU at a time; on a cluster every job asks
# the scheduler for its own GPU, with no workflow-wide cap.
resource_scopes:
    gpu="local",


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/split.smk"
include: "workflow/rules/features.smk"
include: "workflow/rules/targets.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/summary.smk"
include: "workflow/rules/new_artists.smk"


localrules:
    all,
    root_metrics,
    report_metrics,
    report_examples,
    report_loss,
    report_explained_variance,
    report_long_tail,
    report_run,
    compare,
    sweep_summary,
    seeds_summary,
    sweep,
    seeds,
    new,


# Every result of the main run, so that plain `snakemake` rebuilds any of them that is missing.
MAIN_RUN = RunFolder.of(DEFAULT_DATASET, MAIN_SEED)


rule all:
    default_target: True
    input:
        "metrics.json",
        MAIN_RUN.metrics_table,
        MAIN_RUN.recommendations,
        MAIN_RUN.record,
        expand(DatasetFolder.of(DEFAULT_DATASET).report("{item}"), item=REPORT_ITEMS),


onsuccess:
    from artistrec.finish import print_run_summary

    print_run_summary(DEFAULT_DATASET, MAIN_SEED, config.get("new_artists"))
