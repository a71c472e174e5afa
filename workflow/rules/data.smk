rule demo_data:
    output:
        users_artists=results("demo", "raw", "users_artists.csv"),
        artists=results("demo", "raw", "artists.csv"),
        likes=results("demo", "raw", "likes.csv"),
        playlists=results("demo", "raw", "playlists.csv"),
        user_tags=results("demo", "raw", "user_tags.csv"),
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
        expand("{folder}/{name}", folder=LASTFM_2K_DOWNLOAD, name=LASTFM_2K_FILES),
    log:
        "logs/lastfm-2k/download_lastfm_2k.log",
    benchmark:
        "results/lastfm-2k/benchmarks/download_lastfm_2k.tsv"
    retries: 2
    conda:
        "../../envs/artistrec.yaml"
    params:
        url="https://files.grouplens.org/datasets/hetrec2011/hetrec2011-lastfm-2k.zip",
        md5="296d61afe4e8632b173fc2dd3be20ce2",
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
