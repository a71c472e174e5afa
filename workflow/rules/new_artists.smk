rule recommend_new:
    input:
        unpack(split_inputs),
        batch=new_artists_files,
        record=RUN.record,
        models=served_models,
        svd=default_svd_inputs,
        knn=RUN.knn,
        knn_svd=knn_svd_inputs,
        targets=RUN.targets,
        candidates=RUN.candidates,
        interactions=DATA.interactions,
        artists=DATA.artists,
        users=user_source_input,
    output:
        csv=RUN.new_artists("{batch}"),
        parquet=RUN.new_artists("{batch}", "recommendations.parquet"),
    log:
        "logs/{dataset}/split-{seed}/new/{batch}.log",
    benchmark:
        RUN.benchmark("recommend_new-{batch}")
    conda:
        "../../envs/artistrec.yaml"
    threads: 2
    resources:
        mem_mb=lambda wildcards, input, attempt: max(4000, 20 * input.size_mb) * attempt,
    params:
        folder=lambda wildcards: new_artists_folder(),
        top_k=config["evaluation"]["top_k"],
    script:
        "../scripts/recommend_new.py"


rule new:
    input:
        new_artists_target,
