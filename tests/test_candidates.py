import numpy as np
import pandas as pd
import pytest

from artistrec.candidates import select_candidates
from artistrec.errors import InputError

# artist 10: 3 listeners, 20: 2, 30: 2 (one listens twice), 40: 1, 50 (not train): 4
INTERACTIONS = pd.DataFrame(
    {
        "user_id": [1, 2, 3, 1, 2, 4, 4, 5, 1, 2, 3, 4],
        "artist_id": [10, 10, 10, 30, 30, 20, 40, 20, 50, 50, 50, 50],
        "weight": 1.0,
    }
)
TRAIN = np.array([10, 20, 30, 40])


def test_candidates_are_train_artists_by_distinct_listeners_ties_to_smaller_id():
    assert select_candidates(INTERACTIONS, TRAIN, 4).tolist() == [10, 20, 30, 40]
    assert select_candidates(INTERACTIONS, TRAIN, 2).tolist() == [10, 20]


def test_repeated_listens_count_once():
    repeated = pd.concat([INTERACTIONS, INTERACTIONS[INTERACTIONS.artist_id == 40]] * 3)
    assert select_candidates(repeated, TRAIN, 4).tolist() == [10, 20, 30, 40]


def test_more_candidates_than_train_artists_is_an_error_naming_the_key():
    with pytest.raises(InputError, match="n_candidates"):
        select_candidates(INTERACTIONS, TRAIN, 5)
