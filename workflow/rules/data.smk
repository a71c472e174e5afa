rule demo_data:
    output:
        **datasets.demo.raw_outputs(),
    log:
        "logs/demo/demo_data.log",
    benchmark:
        "results/demo/benchmarks/demo_data.tsv"
    conda:
        "../../envs/artistrec.yaml"
    params:
        generator=settings("datasets", "demo", "generator"),
    script:
        "../scripts/demo_data.py"


rule download_lastfm_2k:
    output:
        expand(
            "{folder}/{name}",
            folder=datasets.lastfm_2k.DOWNLOAD_FOLDER,
            name=datasets.lastfm_2k.FILES,
        ),
    log:
        "logs/lastfm-2k/download_lastfm_2k.log",
    benchmark:
        "results/lastfm-2k/benchmarks/download_lastfm_2k.tsv"
    retries: 2
    conda:
        "../../envs/artistrec.yaml"
    params:
        url=datasets.lastfm_2k.URL,
        md5=datasets.lastfm_2k.MD5,
        folder=lambda wildcards, output: os.path.dirname(output[0]),
    script:
        "../scripts/download_lastfm_2k.py"


rule ingest:
    input:
        listening_files,
    output:
        interactions=results("{dataset}", "data", "interactions.parquet"),
        artists=results("{dataset}", "data", "artists.parquet"),
    log:
        "logs/{dataset}/ingest.log",
    benchmark:
        "results/{dataset}/benchmarks/ingest.tsv"
    conda:
        "../../envs/artistrec.yaml"
    resources:
        mem_mb=lambda wildcards, input, attempt: max(2000, 20 * input.size_mb) * attempt,
    params:
        raw=raw_tables,
    script:
        "../scripts/ingest.py"


rule ingest_features:
    input:
        raw=feature_files,
        interactions=results("{dataset}", "data", "interactions.parquet"),
    output:
        results("{dataset}", "data", "features_{source}.parquet"),
    log:
        "logs/{dataset}/ingest_features_{source}.log",
    benchmark:
        "results/{dataset}/benchmarks/ingest_features_{source}.tsv"
    conda:
        "../../envs/artistrec.yaml"
    resources:
        mem_mb=lambda wildcards, input, attempt: max(2000, 20 * input.size_mb) * attempt,
    params:
        raw=raw_tables,
    script:
        "../scripts/ingest_features.py"
