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
    """A trained network with the SVD files it reads, in input order; loaded once per step."""

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

    def probabilities(self, artist_ids: np.ndarray) -> np.ndarray:
        """The softmax over the candidates for ``artist_ids``."""
        return probabilities(scores(self.model, stack_vectors(self.inputs, artist_ids)))

    def listener_probabilities(self, artist_ids: np.ndarray) -> np.ndarray:
        """The listener network's probability that each user listens to each of ``artist_ids``."""
        return sigmoid(scores(self.model, stack_vectors(self.inputs, artist_ids)))

    def embedding(self, artist_ids: np.ndarray) -> np.ndarray:
        """The last hidden layer for ``artist_ids`` (zero without side information)."""
        return hidden_representation(self.model, stack_vectors(self.inputs, artist_ids))


def embeddings(variants: list[TrainedVariant], artist_ids: np.ndarray) -> np.ndarray:
    """The hidden representations of ``artist_ids`` by each variant, each unit length,
    concatenated and normalised: dot products are mean cosines over the variants.
    """
    return content_vectors([variant.embedding(artist_ids) for variant in variants])
