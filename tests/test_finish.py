"""What a finished run prints: the served method against popularity and the best baseline, and what to try."""

from artistrec.finish import best_baseline, run_summary
from artistrec.layout import RunFolder

METRICS = {
    "dataset": "demo",
    "split_seed": 42,
    "n_test_artists": 300,
    "n_candidates": 1000,
    "methods": {
        "network": {"map@10": 0.70},
        "network_listeners": {"map@10": 0.75},
        "content_knn": {"map@10": 0.72},
        "content_knn_listeners": {"map@10": 0.74},
        "popularity": {"map@10": 0.40},
    },
    "served_method": {"name": "network_listeners", "valid_map@10": 0.73, "test_map@10": 0.75},
}


def test_the_best_baseline_is_the_best_row_of_kind_baseline_not_a_network():
    assert best_baseline(METRICS) == "content_knn_listeners"


def test_the_summary_names_the_served_method_against_popularity_and_the_best_baseline_and_a_command_to_try():
    lines = run_summary(METRICS, RunFolder.of("demo", 42), example_artist=7).splitlines()
    assert lines[0] == "artistrec: demo, split seed 42: 300 new (test) artists, 1000 candidates"
    assert lines[1] == (
        "  served method: network_listeners, MAP@10 0.7500 (popularity 0.4000, best baseline content_knn_listeners 0.7400)"
    )
    assert "results/demo/split-42/metrics.json" in lines[2] and "snakemake --report report.html" in lines[2]
    assert lines[3] == "  try: .venv/bin/artistrec recommend results/demo/split-42 7"
