"""Trained networks as the evaluate and validate steps read them: the model and the SVD files it reads."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from artistrec.features import stack_vectors
from artistrec.model import SCORE_BATCH, forward, hidden_representation, keras, load_model, scores, tower
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

    def listener_chances(self, inputs: np.ndarray) -> ListenerChances:
        """The listener network's chances that users listen to each input row, for whichever users are asked."""
        weights, bias = self.model.layers[-1].get_weights()
        return ListenerChances(forward(tower(self.model), inputs), weights, bias)

    def probabilities(self, artist_ids: np.ndarray) -> np.ndarray:
        return self.probabilities_of(self.vectors(artist_ids))

    def embedding_of(self, inputs: np.ndarray) -> np.ndarray:
        """The last hidden layer (zero without side information)."""
        return hidden_representation(self.model, inputs)

    def embedding(self, artist_ids: np.ndarray) -> np.ndarray:
        return self.embedding_of(self.vectors(artist_ids))


@dataclass(frozen=True)
class ListenerChances:
    """The listener network's chances (``listeners.ListenerProbabilities``) from its last hidden layer
    (``hidden``, one row per query) and its output layer: only the asked users' logits are computed.

    Logits are computed on blocks of exactly ``SCORE_BATCH`` queries, as in
    ``model.forward``, so a query's chances do not depend on the queries beside it.
    """

    hidden: np.ndarray
    weights: np.ndarray
    bias: np.ndarray

    def of_users(self, rows: slice, users: np.ndarray) -> np.ndarray:
        hidden = self.hidden[rows]
        weights, bias = self.weights[:, users], self.bias[users]
        chances = np.empty((hidden.shape[0], users.shape[0]), dtype=np.float32)
        block = np.zeros((SCORE_BATCH, hidden.shape[1]), dtype=np.float32)
        for start in range(0, hidden.shape[0], SCORE_BATCH):
            part = hidden[start : start + SCORE_BATCH]
            block[: part.shape[0]], block[part.shape[0] :] = part, 0.0
            chances[start : start + part.shape[0]] = sigmoid(block @ weights + bias)[: part.shape[0]]
        return chances

    def at(self, queries: np.ndarray, users: np.ndarray) -> np.ndarray:
        logits = np.einsum("ij,ji->i", self.hidden[queries], self.weights[:, users]) + self.bias[users]
        return sigmoid(logits.astype(np.float32))


def embeddings(variants: list[TrainedVariant], artist_ids: np.ndarray) -> np.ndarray:
    """The hidden representations of ``artist_ids`` by each variant, each unit length,
    concatenated and normalised: dot products are mean cosines over the variants.
    """
    return content_vectors([variant.embedding(artist_ids) for variant in variants])


def embeddings_of(variants: list[TrainedVariant], inputs: np.ndarray) -> np.ndarray:
    """``embeddings`` of network inputs (a new artist's projected side information, say)."""
    return content_vectors([variant.embedding_of(inputs) for variant in variants])
