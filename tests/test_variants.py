"""Model variants: the default, one-at-a-time sweep points, ensemble members and ablations."""

import pytest
import yaml

from artistrec.errors import InputError
from artistrec.variants import ablation_variants, ensemble_members, sweep_points, variant_settings

from conftest import REPO

CONFIG = yaml.safe_load((REPO / "config.yaml").read_text())


def test_the_default_variant_is_the_config():
    variant = variant_settings(CONFIG, "lastfm-2k", "default")
    assert variant.model == CONFIG["model"]
    assert variant.features == {
        source: {"dim": s["dim"], "weighting": s["weighting"]}
        for source, s in CONFIG["datasets"]["lastfm-2k"]["features"].items()
    }


def test_the_sweep_varies_one_axis_at_a_time_and_never_repeats_the_default():
    points = sweep_points(CONFIG, "lastfm-2k")
    assert points["default"] == ("default", "")
    assert {name for name, (axis, _) in points.items() if axis == "dim"} == {"dim-32", "dim-64", "dim-128", "dim-256"}
    assert {name for name, (axis, _) in points.items() if axis == "tower"} == {
        "tower-linear",
        "tower-256",
        "tower-1024-512-256",
    }
    assert "lr-0.001" not in points and "lr-0.0003" in points
    assert "weighting-bm25" not in points and "weighting-tfidf" in points
    for name in points:
        if name == "default":
            continue
        variant, default = variant_settings(CONFIG, "lastfm-2k", name), variant_settings(CONFIG, "lastfm-2k", "default")
        changed_model = {k for k in default.model if variant.model[k] != default.model[k]}
        changed_features = {
            key
            for source in default.features
            for key in default.features[source]
            if variant.features[source][key] != default.features[source][key]
        }
        assert len(changed_model) + len(changed_features) == 1, name


def test_sweep_values_become_settings():
    assert variant_settings(CONFIG, "lastfm-2k", "tower-linear").model["hidden_units"] == []
    assert variant_settings(CONFIG, "lastfm-2k", "tower-1024-512-256").model["hidden_units"] == [1024, 512, 256]
    assert variant_settings(CONFIG, "lastfm-2k", "lr-0.003").model["learning_rate"] == 0.003
    assert {s["dim"] for s in variant_settings(CONFIG, "lastfm-2k", "dim-64").features.values()} == {64}
    assert {s["weighting"] for s in variant_settings(CONFIG, "lastfm-2k", "weighting-raw").features.values()} == {"raw"}


def test_ablations_keep_one_source_and_members_change_only_the_model_seed():
    assert ablation_variants(list(CONFIG["datasets"]["lastfm-2k"]["features"])) == ["only-tags", "only-taggers"]
    assert list(variant_settings(CONFIG, "lastfm-2k", "only-taggers").features) == ["taggers"]
    assert ensemble_members(CONFIG["methods"]["network_ensemble"]) == ["default", "member-1", "member-2"]
    member = variant_settings(CONFIG, "lastfm-2k", "member-2")
    assert member.model == {**CONFIG["model"], "seed": CONFIG["model"]["seed"] + 2}
    assert ensemble_members(1) == []


@pytest.mark.parametrize("name", ["dim-7", "only-moods", "tower-3-3", "nonsense"])
def test_a_variant_outside_the_grid_is_refused_with_the_valid_names(name):
    with pytest.raises(InputError, match=rf"^variant: {name}: is neither .*; fix: use one of: default, "):
        variant_settings(CONFIG, "lastfm-2k", name)
