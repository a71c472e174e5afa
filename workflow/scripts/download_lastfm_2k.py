from artistrec.download import fetch_lastfm_2k
from artistrec.runner import run

run(
    snakemake,
    lambda: fetch_lastfm_2k(snakemake.params.url, snakemake.params.md5, snakemake.params.folder),
)
