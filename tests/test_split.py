import numpy as np

from artistrec.split import split_artists

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
