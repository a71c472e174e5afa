import numpy as np
import pandas as pd
import pytest

from artistrec.candidates import ALL, select_candidates
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


def test_all_is_every_train_artist_with_enough_distinct_listeners_in_the_same_order():
    assert select_candidates(INTERACTIONS, TRAIN, ALL).tolist() == [10, 20, 30, 40]
    assert select_candidates(INTERACTIONS, TRAIN, ALL, min_listeners=2).tolist() == [10, 20, 30]
    assert select_candidates(INTERACTIONS, TRAIN, 2, min_listeners=2).tolist() == [10, 20]


def test_more_candidates_than_artists_with_enough_listeners_names_both_keys_in_the_fix():
    with pytest.raises(InputError) as raised:
        select_candidates(INTERACTIONS, TRAIN, 4, min_listeners=2)
    message = str(raised.value)
    assert "n_candidates: is 4 but there are only 3 train artists with at least 2 listeners" in message
    assert "set n_candidates to at most 3, or to all" in message


def test_a_listener_minimum_no_train_artist_reaches_is_an_error_naming_it():
    with pytest.raises(InputError, match=r"candidates.min_listeners: is 4 .* set it to at most 3"):
        select_candidates(INTERACTIONS, TRAIN, ALL, min_listeners=4)
