"""Trained networks as the evaluate and validate steps read them: the model and the SVD files it reads."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from artistrec.features import stack_vectors
from artistrec.model import hidden_representation, keras, load_model, scores
from artistrec.variants import input_files
from artistrec.vectors import content_vectors, probabilities, sigmoid


@dataclass(frozen=True)
class TrainedVariant:
    """A trained network with the SVD files it reads, in input order; loaded once per step.

    The ``*_of`` methods take network inputs (SVD vectors of every source, in input
    order), such as a new artist's projected side information; the others the ids of
    the run's artists.
    """

    model: keras.Model
    inputs: list[str]

    @classmethod
    def load(cls, model_file: str, n_candidates: int) -> TrainedVariant:
        """Load a variant, refusing one whose output width is not ``n_candidates``."""
        return cls(load_model(model_file, n_candidates=n_candidates), input_files(model_file))

    @classmethod
    def load_listeners(cls, model_file: str, n_users: int) -> TrainedVariant:
        """Load the listener network, refusing one whose output width is not ``n_users``."""
        return cls(load_model(model_file, n_users=n_users), input_files(model_file))

    @classmethod
    def load_named(cls, name: str, model_file: str, n_candidates: int, n_users: int) -> TrainedVariant:
        """Load a run's network by name: ``listeners`` (its width checked against the users), else a variant."""
        if name == "listeners":
            return cls.load_listeners(model_file, n_users)
        return cls.load(model_file, n_candidates)

    def vectors(self, artist_ids: np.ndarray) -> np.ndarray:
        """The network inputs of the run's ``artist_ids``."""
        return stack_vectors(self.inputs, artist_ids)

    def probabilities_of(self, inputs: np.ndarray) -> np.ndarray:
        """The softmax over the candidates."""
        return probabilities(scores(self.model, inputs))

    def listener_probabilities_of(self, inputs: np.ndarray) -> np.ndarray:
        """The listener network's probability that each user listens."""
        return sigmoid(scores(self.model, inputs))

    def probabilities(self, artist_ids: np.ndarray) -> np.ndarray:
        return self.probabilities_of(self.vectors(artist_ids))

    def embedding(self, artist_ids: np.ndarray) -> np.ndarray:
        """The last hidden layer for ``artist_ids`` (zero without side information)."""
        return hidden_representation(self.model, self.vectors(artist_ids))


def embeddings(variants: list[TrainedVariant], artist_ids: np.ndarray) -> np.ndarray:
    """The hidden representations of ``artist_ids`` by each variant, each unit length,
    concatenated and normalised: dot products are mean cosines over the variants.
    """
    return content_vectors([variant.embedding(artist_ids) for variant in variants])
