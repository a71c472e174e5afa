"""Aggregation over split seeds, paired comparisons, and the sweep's table and figure."""

from __future__ import annotations

import copy

import pytest

from artistrec.summary import aggregate, comparisons, markdown_table, sweep_plot, sweep_table


def maps(map10: float) -> dict[str, float]:
    """MAP@1, 5, 10, 20 around a given MAP@10."""
    return {"map@1": map10 + 0.2, "map@5": map10 + 0.1, "map@10": map10, "map@20": map10 - 0.05}


def document(seed: int, network: float, content_knn: float, popularity: float) -> dict:
    """A per-seed metrics.json with the given MAP@10 of each method, in all three subsets."""
    methods = {
        "network": {**maps(network), "ndcg@10": 0.4, "map@10_ci95": [network - 0.01, network + 0.01]},
        "content_knn": {**maps(content_knn), "ndcg@10": 0.3, "map@10_ci95": [0.0, 1.0]},
        "popularity": {**maps(popularity), "ndcg@10": 0.2, "map@10_ci95": [0.0, 1.0]},
    }
    subset = {"n_test_artists": 5, "methods": {m: maps(v["map@10"]) for m, v in methods.items()}}
    return {
        "dataset": "lastfm-2k",
        "split_seed": seed,
        "n_test_artists": 10,
        "methods": methods,
        "subsets": {"with_side_information": subset, "without_side_information": copy.deepcopy(subset)},
    }


# network beats content_knn by 0.04, 0.05, 0.06: clearly, since the paired differences hardly vary.
DOCUMENTS = [document(1, 0.34, 0.30, 0.10), document(2, 0.36, 0.31, 0.12), document(3, 0.38, 0.32, 0.11)]


def test_aggregate_gives_mean_sample_std_and_standard_error_of_each_scalar_metric():
    summary = aggregate(DOCUMENTS)
    assert summary["dataset"] == "lastfm-2k"
    assert summary["split_seeds"] == [1, 2, 3]
    assert summary["n_seeds"] == 3
    assert set(summary["subsets"]) == {"all", "with_side_information", "without_side_information"}
    network = summary["subsets"]["all"]["network"]
    assert set(network) == {"map@1", "map@5", "map@10", "map@20", "ndcg@10"}  # not the interval
    assert network["map@10"]["mean"] == pytest.approx(0.36)
    assert network["map@10"]["std"] == pytest.approx(0.02)  # ddof=1: sqrt((0.02² + 0 + 0.02²) / 2)
    assert network["map@10"]["sem"] == pytest.approx(0.02 / 3**0.5)
    assert network["map@10"]["values"] == pytest.approx([0.34, 0.36, 0.38])
    assert summary["subsets"]["without_side_information"]["popularity"]["map@10"]["mean"] == pytest.approx(0.11)


def test_one_seed_has_zero_std():
    assert aggregate(DOCUMENTS[:1])["subsets"]["all"]["network"]["map@10"]["std"] == 0.0


def test_aggregate_refuses_mixed_datasets():
    other = copy.deepcopy(DOCUMENTS[1])
    other["dataset"] = "demo"
    with pytest.raises(ValueError, match="different datasets"):
        aggregate([DOCUMENTS[0], other])


def test_aggregate_refuses_different_method_sets():
    other = copy.deepcopy(DOCUMENTS[1])
    del other["methods"]["popularity"]
    with pytest.raises(ValueError, match="method sets"):
        aggregate([DOCUMENTS[0], other])


def test_a_consistent_gain_over_the_best_baseline_is_a_win():
    result = comparisons(aggregate(DOCUMENTS), "network", ["popularity", "content_knn"])
    map10 = result["all"]["map@10"]
    assert map10["baseline"] == "content_knn"
    assert map10["difference"] == pytest.approx(0.05)
    assert map10["relative_gain"] == pytest.approx(0.05 / 0.31)
    assert map10["sem"] == pytest.approx(0.01 / 3**0.5)  # std of (0.04, 0.05, 0.06) over sqrt(3)
    assert map10["verdict"] == "win"
    assert set(result) == {"all", "with_side_information", "without_side_information"}
    assert set(result["all"]) == {"map@1", "map@5", "map@10", "map@20"}


def test_a_gap_within_two_standard_errors_is_a_tie_and_a_clear_deficit_a_loss():
    # Paired differences 0.05, -0.03, 0.04: mean 0.02, standard error about 0.026.
    noisy = [document(1, 0.35, 0.30, 0.1), document(2, 0.28, 0.31, 0.1), document(3, 0.36, 0.32, 0.1)]
    assert comparisons(aggregate(noisy), "network", ["content_knn"])["all"]["map@10"]["verdict"] == "tie"
    assert comparisons(aggregate(DOCUMENTS), "content_knn", ["network"])["all"]["map@10"]["verdict"] == "loss"


def test_one_seed_is_a_tie_with_undefined_standard_error():
    map10 = comparisons(aggregate(DOCUMENTS[:1]), "network", ["content_knn"])["all"]["map@10"]
    assert map10["sem"] is None
    assert map10["verdict"] == "tie"


def test_markdown_table_shows_mean_and_std_best_map10_first():
    table = markdown_table(aggregate(DOCUMENTS), "all").splitlines()
    assert table[0] == "| method | MAP@1 | MAP@5 | MAP@10 | MAP@20 |"
    assert table[2] == "| network | 0.5600 ± 0.0200 | 0.4600 ± 0.0200 | 0.3600 ± 0.0200 | 0.3100 ± 0.0200 |"
    assert [row.split(" | ")[0] for row in table[2:]] == ["| network", "| content_knn", "| popularity"]
    ordered = markdown_table(aggregate(DOCUMENTS), "all", methods=["popularity", "network"]).splitlines()
    assert [row.split(" | ")[0] for row in ordered[2:]] == ["| popularity", "| network"]


def sweep_point(axis: str, value: str, map10: float) -> dict:
    return {"axis": axis, "value": value, "valid": maps(map10), "epochs": 12}


POINTS = {
    "default": sweep_point("default", "", 0.30),
    "dim-32": sweep_point("dim", "32", 0.28),
    "dim-64": sweep_point("dim", "64", 0.30),
    "dim-128": sweep_point("dim", "128", 0.31),
    "dropout-0.1": sweep_point("dropout", "0.1", 0.27),
    "dropout-0.3": sweep_point("dropout", "0.3", 0.29),
}
DEFAULTS = {"dim": "64", "dropout": "0.2"}


def test_sweep_table_marks_the_defaults_and_sorts_by_axis_then_best_map10():
    table = sweep_table(POINTS, DEFAULTS)
    assert table["point"].tolist() == ["default", "dim-128", "dim-64", "dim-32", "dropout-0.3", "dropout-0.1"]
    assert table.set_index("point")["is_default"].to_dict() == {
        "default": True,
        "dim-128": False,
        "dim-64": True,
        "dim-32": False,
        "dropout-0.3": False,
        "dropout-0.1": False,
    }
    assert list(table.columns) == [
        "point",
        "axis",
        "value",
        "is_default",
        "map@1",
        "map@5",
        "map@10",
        "map@20",
        "epochs",
    ]


def test_sweep_plot_writes_a_png(tmp_path):
    out = tmp_path / "sweep.png"
    sweep_plot(sweep_table(POINTS, DEFAULTS), out)
    assert out.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert out.stat().st_size > 1000


def test_an_empty_subset_is_aggregated_and_compared_as_nothing():
    empty = {"n_test_artists": 0, "methods": {}}
    documents = [
        {
            "dataset": "demo",
            "split_seed": seed,
            "methods": {
                "network": {"map@1": m, "map@5": m, "map@10": m, "map@20": m},
                "content_knn": {"map@1": b, "map@5": b, "map@10": b, "map@20": b},
            },
            "subsets": {"without_side_information": empty},
        }
        for seed, m, b in ((1, 0.5, 0.4), (2, 0.6, 0.45))
    ]
    summary = aggregate(documents)
    assert summary["subsets"]["without_side_information"] == {}
    assert set(comparisons(summary, "network", ["content_knn"])) == {"all"}
