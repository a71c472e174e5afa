import numpy as np

from artistrec.matrices import positions, unique_ids


def test_positions_of_dense_and_sparse_ids_agree_with_a_binary_search():
    rng = np.random.default_rng(0)
    for high in (50, 2**40):  # a lookup table, then a binary search
        order = np.unique(rng.integers(0, high, 30))
        ids = np.concatenate([rng.choice(order, 20), rng.integers(0, high, 20), [-1, high + 5]])
        where = np.clip(np.searchsorted(order, ids), 0, order.shape[0] - 1)
        assert positions(ids, order).tolist() == np.where(order[where] == ids, where, -1).tolist()
        assert unique_ids(ids).tolist() == np.unique(ids).tolist()
