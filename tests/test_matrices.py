import numpy as np
import pandas as pd

from artistrec.ingest import merge_duplicates, pair_codes
from artistrec.matrices import listeners, positions, source_users, unique_ids


def test_positions_of_dense_and_sparse_ids_agree_with_a_binary_search():
    rng = np.random.default_rng(0)
    for high in (50, 2**40):  # a lookup table, then a binary search
        order = np.unique(rng.integers(0, high, 30))
        ids = np.concatenate([rng.choice(order, 20), rng.integers(0, high, 20), [-1, high + 5]])
        where = np.clip(np.searchsorted(order, ids), 0, order.shape[0] - 1)
        assert positions(ids, order).tolist() == np.where(order[where] == ids, where, -1).tolist()
        assert unique_ids(ids).tolist() == np.unique(ids).tolist()


def test_a_user_keyed_source_becomes_artists_by_users_in_the_listening_users_order():
    interactions = pd.DataFrame({"user_id": [7, 3, 3, 9], "artist_id": [10, 10, 20, 30], "weight": 1.0})
    taggers = pd.DataFrame(
        {
            "artist_id": [10, 20, 20, 30, 30, 99],
            "key": pd.array(["9", "3", "7", "5", "rock", "3"], dtype="string"),  # 5 and rock: no listening user
            "weight": [4.0, 1.0, 2.0, 1.0, 1.0, 1.0],  # 99: not an artist of the split
        }
    )
    artist_ids = np.array([10, 20, 30])
    users = source_users(taggers, interactions, artist_ids)
    assert users.shape == listeners(interactions, artist_ids).shape  # columns: users 3, 7, 9
    assert users.toarray().tolist() == [[0, 0, 1], [1, 1, 0], [0, 0, 0]]


def test_unique_listening_pairs_are_only_sorted_and_repeated_ones_summed_into_the_same_canonical_table():
    rng = np.random.default_rng(0)
    pairs = pd.DataFrame(
        {"user_id": rng.integers(0, 50, 400), "artist_id": rng.integers(0, 30, 400), "weight": rng.random(400)}
    )
    unique = pairs.drop_duplicates(["user_id", "artist_id"]).sample(frac=1, random_state=1)
    repeated = pd.concat([unique, unique.assign(weight=0.0)]).sample(frac=1, random_state=2)
    expected = unique.sort_values(["user_id", "artist_id"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(merge_duplicates(unique, ["user_id", "artist_id"], "u.csv"), expected)
    pd.testing.assert_frame_equal(merge_duplicates(repeated, ["user_id", "artist_id"], "u.csv"), expected)
    assert pair_codes(np.array([1, 2]), np.array([-1, 0])) is None  # not codable: pandas merges them
