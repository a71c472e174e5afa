import numpy as np

from artistrec.split import all_artists, split_artists, tuning_artists, tuning_parts

IDS = np.arange(100, 300, 2)


def test_split_is_disjoint_sorted_and_covers_every_artist():
    parts = split_artists(IDS[::-1], test_fraction=0.1, valid_fraction=0.1, seed=3)
    together = np.concatenate([parts.train, parts.valid, parts.test])
    assert sorted(together.tolist()) == IDS.tolist()
    assert len(set(together.tolist())) == IDS.shape[0]
    for part in (parts.train, parts.valid, parts.test):
        assert np.all(np.diff(part) > 0)


def test_test_is_the_fraction_of_all_and_valid_the_fraction_of_the_rest():
    parts = split_artists(IDS, test_fraction=0.2, valid_fraction=0.25, seed=0)
    assert parts.test.shape[0] == 20
    assert parts.valid.shape[0] == 20
    assert parts.train.shape[0] == 60


def test_same_seed_gives_the_same_split_and_another_seed_another():
    first = split_artists(IDS, 0.1, 0.1, seed=5)
    again = split_artists(np.random.default_rng(1).permutation(IDS), 0.1, 0.1, seed=5)
    other = split_artists(IDS, 0.1, 0.1, seed=6)
    assert np.array_equal(first.test, again.test) and np.array_equal(first.valid, again.valid)
    assert not np.array_equal(first.test, other.test)


def test_settings_are_tuned_on_a_fixed_sorted_draw_of_valid_artists_or_on_all_when_there_are_fewer():
    valid = split_artists(IDS, 0.1, 0.5, seed=0).valid
    drawn = tuning_artists(valid, 20)
    assert drawn.shape[0] == 20 and np.isin(drawn, valid).all() and np.all(np.diff(drawn) > 0)
    assert np.array_equal(drawn, tuning_artists(valid.copy(), 20))  # the same draw in every step
    assert np.array_equal(tuning_artists(valid, valid.shape[0]), valid)
    assert np.array_equal(tuning_artists(valid, 10_000), valid)


def test_a_step_that_tunes_reads_every_artist_of_the_split_and_only_the_draw_of_valid_artists():
    split = split_artists(IDS, 0.1, 0.5, seed=0)
    parts = {"train": split.train, "valid": split.valid, "test": split.test}
    artist_ids, tuned = tuning_parts(parts, 20)
    assert np.array_equal(artist_ids, all_artists(parts)) and artist_ids.shape == IDS.shape
    assert np.array_equal(tuned["valid"], tuning_artists(split.valid, 20))
    assert tuned["train"] is split.train and tuned["test"] is split.test
    assert parts["valid"] is split.valid  # the split itself is left whole
