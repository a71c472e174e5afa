rule demo_data:
    output:
        **datasets.demo.raw_outputs(),
    log:
        "logs/demo/demo_data.log",
    benchmark:
        DatasetFolder.of("demo").benchmark("demo_data")
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
        DatasetFolder.of("lastfm-2k").benchmark("download_lastfm_2k")
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
        interactions=DATA.interactions,
        artists=DATA.artists,
    log:
        "logs/{dataset}/ingest.log",
    benchmark:
        DATA.benchmark("ingest")
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
        interactions=DATA.interactions,
    output:
        DATA.features("{source}"),
    log:
        "logs/{dataset}/ingest_features_{source}.log",
    benchmark:
        DATA.benchmark("ingest_features_{source}")
    conda:
        "../../envs/artistrec.yaml"
    resources:
        mem_mb=lambda wildcards, input, attempt: max(2000, 20 * input.size_mb) * attempt,
    params:
        raw=raw_tables,
    script:
        "../scripts/ingest_features.py"
