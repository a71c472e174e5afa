import numpy as np
import pandas as pd
import pytest

from artistrec.errors import InputError
from artistrec.features import WEIGHTINGS, fit_svd, fit_weighting, source_matrix, weigh

ARTISTS = np.arange(1, 13)
TRAIN = np.arange(1, 9)


def feature_table(rng: np.random.Generator, artists=ARTISTS) -> pd.DataFrame:
    rows = [(a, f"tag{k}", float(rng.integers(1, 5))) for a in artists for k in rng.choice(20, 6, replace=False)]
    return pd.DataFrame(rows, columns=["artist_id", "key", "weight"])


def test_svd_vectors_have_one_row_per_artist_and_dim_columns():
    table = feature_table(np.random.default_rng(0), artists=ARTISTS[:-1])  # artist 12 has no side information
    fitted = fit_svd(
        source_matrix(table, ARTISTS), TRAIN, dim=4, weighting="tfidf", seed=0, source="tags", dataset="demo"
    )
    assert fitted.vectors.shape == (ARTISTS.shape[0], 4)
    assert fitted.vectors.dtype == np.float32
    assert fitted.explained_variance_ratio.shape == (4,)
    assert np.array_equal(fitted.artist_ids, ARTISTS)
    assert not fitted.vectors[-1].any()


@pytest.mark.parametrize("weighting", ["raw", "log", "tfidf", "bm25"])
def test_the_svd_fit_never_sees_held_out_artists(weighting):
    rng = np.random.default_rng(1)
    table = feature_table(rng)
    changed = table.copy()
    held_out = ~changed["artist_id"].isin(TRAIN)
    changed.loc[held_out, "weight"] *= 100.0
    changed.loc[held_out, "key"] = "only-held-out-artists-use-this"
    first = fit_svd(source_matrix(table, ARTISTS), TRAIN, 3, weighting, seed=0, source="tags", dataset="demo")
    second = fit_svd(source_matrix(changed, ARTISTS), TRAIN, 3, weighting, seed=0, source="tags", dataset="demo")
    train_rows = np.isin(ARTISTS, TRAIN)
    assert np.allclose(first.vectors[train_rows], second.vectors[train_rows], atol=1e-5)
    assert np.allclose(first.explained_variance_ratio, second.explained_variance_ratio)


def test_idf_comes_from_train_artists_only():
    table = pd.DataFrame({"artist_id": [1, 2, 9], "key": ["a", "b", "b"], "weight": [1.0, 1.0, 1.0]})
    matrix = source_matrix(table, ARTISTS)
    fit_rows = np.arange(TRAIN.shape[0])
    weighted = weigh(matrix.counts, "tfidf", fit_weighting(matrix.counts, fit_rows)).toarray()
    # both keys occur in exactly one train artist, so they get the same weight.
    assert weighted[0, 0] == pytest.approx(weighted[1, 1])


def test_an_svd_dim_not_below_the_number_of_columns_is_an_error_naming_the_key():
    table = pd.DataFrame({"artist_id": [1, 2, 3], "key": ["a", "b", "c"], "weight": [1.0, 2.0, 3.0]})
    with pytest.raises(InputError, match=r"datasets\.demo\.features\.tags\.dim or datasets\.demo\.dims"):
        fit_svd(source_matrix(table, ARTISTS), TRAIN, dim=3, weighting="log", seed=0, source="tags", dataset="demo")


@pytest.mark.parametrize("weighting", WEIGHTINGS)
def test_a_row_is_weighted_alone_so_a_new_artist_is_weighted_like_the_train_artists(weighting):
    matrix = source_matrix(feature_table(np.random.default_rng(2)), ARTISTS)
    stats = fit_weighting(matrix.counts, np.arange(TRAIN.shape[0]))
    everything = weigh(matrix.counts, weighting, stats).toarray()
    one_row = weigh(matrix.counts[[10]], weighting, stats).toarray()
    assert np.allclose(one_row[0], everything[10])
