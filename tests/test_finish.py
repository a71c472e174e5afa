"""What a finished run prints: the served method against popularity and the best baseline, and what to try."""

from artistrec.finish import TABLE_KEYS, best_of, degenerate_warnings, metrics_markdown, run_summary
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


def test_the_best_row_of_a_kind_is_its_best_by_map_at_10_and_a_named_row_can_be_left_out():
    assert best_of(METRICS, "baseline") == "content_knn_listeners"
    assert best_of(METRICS, "baseline", other_than="content_knn_listeners") == "content_knn"
    assert best_of(METRICS, "network") == "network_listeners"


def test_the_summary_names_the_served_method_against_popularity_and_the_best_baseline_and_a_command_to_try():
    lines = run_summary(METRICS, RunFolder.of("demo", 42), example_artist=7).splitlines()
    assert lines[0] == "artistrec: demo, split seed 42: 300 new (test) artists, 1000 candidates"
    assert lines[1] == (
        "  served method: network_listeners, MAP@10 0.7500 (popularity 0.4000, best baseline content_knn_listeners 0.7400)"
    )
    assert "results/demo/split-42/metrics.md" in lines[2] and "make report" in lines[2]
    assert lines[3] == "  try: .venv/bin/artistrec recommend results/demo/split-42 7"
    assert len(lines) == 4  # no warning: the task is not degenerate


def test_a_served_baseline_is_set_against_the_best_other_baseline_and_marked_served_in_metrics_md():
    served = {"name": "content_knn_listeners", "valid_map@10": 0.76, "test_map@10": 0.74}
    summary = run_summary(METRICS | {"served_method": served}, RunFolder.of("demo", 42), example_artist=7)
    assert summary.splitlines()[1] == (
        "  served method: content_knn_listeners, MAP@10 0.7400 (popularity 0.4000, best other baseline content_knn "
        "0.7200, best network network_listeners 0.7500)"
    )
    metrics = METRICS | {"served_method": served}
    metrics["methods"] = {row: dict.fromkeys(TABLE_KEYS, value["map@10"]) for row, value in METRICS["methods"].items()}
    assert "| content_knn_listeners | baseline, served | 0.7400 |" in metrics_markdown(metrics)


def with_map(**map_at_10: float) -> dict:
    return METRICS | {"methods": {row: {"map@10": value} for row, value in map_at_10.items()}}


def test_a_task_is_degenerate_when_popularity_comes_within_5_percent_of_the_best_method():
    assert degenerate_warnings(METRICS, median_ground_truth=100) == []
    close = degenerate_warnings(with_map(network=0.70, content_knn=0.72, popularity=0.69), median_ground_truth=100)
    assert len(close) == 1 and close[0].startswith("degenerate task: popularity's MAP@10 (0.6900) is within 5%")
    assert "(content_knn, 0.7200)" in close[0]


def test_a_task_is_degenerate_when_the_median_ground_truth_covers_over_a_quarter_of_the_candidates():
    assert degenerate_warnings(METRICS, median_ground_truth=250) == []
    wide = degenerate_warnings(METRICS, median_ground_truth=251)
    assert wide == [
        "degenerate task: the median test artist is co-listened with 251 of the 1000 candidates (over 25%): "
        "nearly any list scores well"
    ]
    summary = run_summary(METRICS | {"warnings": wide}, RunFolder.of("demo", 42), example_artist=7)
    assert summary.splitlines()[-1] == f"  warning: {wide[0]}"


def test_metrics_md_lists_the_methods_by_map_at_10_with_four_digits_and_marks_the_served_one():
    keys = ("map@1", "map@5", "map@10", "map@20", "ndcg@10")
    metrics = METRICS | {
        "methods": {row: dict.fromkeys(keys, value["map@10"]) for row, value in METRICS["methods"].items()}
    }
    lines = metrics_markdown(metrics).splitlines()
    assert lines[0] == "# demo, split seed 42: 300 test artists, 1000 candidates"
    rows = [line.split(" | ")[0].strip("| ") for line in lines[4:9]]
    assert rows == ["network_listeners", "content_knn_listeners", "content_knn", "network", "popularity"]
    assert lines[4] == "| network_listeners | network, served | 0.7500 | 0.7500 | 0.7500 | 0.7500 | 0.7500 |"
    assert lines[5].startswith("| content_knn_listeners | baseline | 0.7400 |")
