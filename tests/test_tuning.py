from artistrec.tuning import coordinate_search


def scorer(value, log):
    """valid_maps of a known function of the settings, recording what it was asked to score."""

    def valid_maps(settings):
        settings = list(settings)
        log.extend(settings)
        return {setting: {"map@10": value(*setting)} for setting in settings}

    return valid_maps


def test_one_axis_at_a_time_finds_the_best_of_a_separable_grid_scoring_far_fewer_settings():
    asked = []
    axes = ([10, 25, 50, 100, 200], [1, 3, 6, 10], [0.1, 0.3, 1])
    best, scored = coordinate_search(
        axes, (10, 1, 0.1), (2, 0, 1), scorer(lambda k, p, s: -abs(k - 50) - abs(p - 6) - abs(s - 0.3), asked)
    )
    assert best == (50, 6, 0.3)
    assert len(asked) == len(set(asked)) == len(scored) <= 1 + 2 + 4 + 3 < 5 * 4 * 3


def test_ties_go_to_the_earlier_value_of_the_axis_and_untuned_axes_keep_their_start():
    best, _ = coordinate_search(([1, 2, 3], ["a", "b"]), (2, "b"), (0,), scorer(lambda x, y: 0.5, []))
    assert best == (1, "b")  # every x ties: the first; y is not tuned (not in order)
