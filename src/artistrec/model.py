"""The YouTube-DNN-style network: a ReLU tower over side-information vectors, softmax over candidates.

Covington et al. (RecSys 2016) treat recommendation as extreme multiclass
classification: a tower of ReLU layers ends in a softmax over the candidate items,
trained with cross-entropy. Here the classes are the candidate artists and the
"labels" are soft: each train artist's co-listening distribution over the candidates.
The same tower with the ``listeners`` head ends in one sigmoid per user instead,
trained with binary cross-entropy on each train artist's listeners (see
``artistrec.methods.listeners``), on sampled users per batch (``artistrec.listener_head``).
Over many candidates the softmax is sampled too (``artistrec.softmax_head``).

Training is deterministic (seeded, op determinism on) and resumable: after every
epoch the full model with its optimizer state is checkpointed, so a killed run
continues from its last finished epoch and ends with the same weights as an
uninterrupted one.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from artistrec import io
from artistrec.errors import InputError
from artistrec.runner import DETAIL
from artistrec.vectors import has_side_information

if TYPE_CHECKING:  # sampled_head builds on this module
    from artistrec.sampled_head import SampledOutputs

log = logging.getLogger(__name__)


@contextlib.contextmanager
def quiet_fd2() -> Iterator[None]:
    """Point fd 2 at ``os.devnull``: TensorFlow's C++ lines bypass Python logging.

    TF 2.21 prints its start-up lines before absl logging starts, so
    ``TF_CPP_MIN_LOG_LEVEL`` cannot silence them, and device probing prints more
    on first use.
    """
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(devnull)
        os.close(saved)


def import_tensorflow():
    """Import TensorFlow with its start-up lines kept off the console."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with quiet_fd2():
        import tensorflow as tf
    return tf


tf = import_tensorflow()
import keras  # noqa: E402  (after the quiet TensorFlow import)


@dataclass(frozen=True)
class TrainSettings:
    """The ``model:`` section of the config; the defaults are those of ``config.yaml``."""

    hidden_units: list[int] = field(default_factory=lambda: [512, 256])
    dropout: float = 0.5
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    batch_size: int = 256
    max_epochs: int = 200
    min_epochs: int = 20
    patience: int = 6
    seed: int = 0
    require_gpu: bool = False


def describe_device(require_gpu: bool) -> str:
    """Which device trains: the first visible GPU, else the CPU."""
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        return f"GPU {gpus[0].name} ({details.get('device_name', 'unknown')})"
    if require_gpu:
        raise InputError(
            "config", "model.require_gpu", "is true but TensorFlow sees no GPU", "run on a GPU node or set it to false"
        )
    return "CPU (no GPU visible to TensorFlow)"


# Rows of every forward pass after training (``forward``): small, so one artist alone costs little.
SCORE_BATCH = 256

# What the tower's last layer scores, and the loss it is trained with: a softmax
# over the candidates against co-listening distributions, or a sigmoid per user
# against the artist's listeners.
HEADS = {
    "candidates": ("candidate_logits", keras.losses.CategoricalCrossentropy(from_logits=True)),
    "listeners": ("listener_logits", keras.losses.BinaryCrossentropy(from_logits=True)),
}


def build_model(
    train_inputs: np.ndarray, n_outputs: int, settings: TrainSettings, head: str = "candidates"
) -> keras.Model:
    """Normalization (adapted on train artists) -> ReLU tower with dropout -> one logit per output of ``head``."""
    normalise = keras.layers.Normalization(name="normalise")
    normalise.adapt(train_inputs)
    layers: list[keras.layers.Layer] = [keras.Input(shape=(train_inputs.shape[1],), name="side_information"), normalise]
    for depth, units in enumerate(settings.hidden_units):
        layers.append(keras.layers.Dense(units, activation="relu", name=f"relu_{depth}"))
        if settings.dropout > 0:
            layers.append(keras.layers.Dropout(settings.dropout, seed=settings.seed + depth, name=f"dropout_{depth}"))
    layers.append(keras.layers.Dense(n_outputs, name=HEADS[head][0]))
    model = keras.Sequential(layers, name="artistrec")
    compile_model(model, settings, head)
    return model


def compile_model(model: keras.Model, settings: TrainSettings, head: str) -> None:
    optimizers = {
        "adam": keras.optimizers.Adam,
        "adamw": keras.optimizers.AdamW,
        "sgd": keras.optimizers.SGD,
        "rmsprop": keras.optimizers.RMSprop,
    }
    model.compile(
        optimizer=optimizers[settings.optimizer](learning_rate=settings.learning_rate),
        loss=HEADS[head][1],
    )


class TargetBatches(keras.utils.PyDataset):
    """Dense mini-batches from sparse target rows, in a fixed order.

    Only one batch of targets is ever dense, so training memory does not grow with
    the number of train artists times candidates.
    """

    def __init__(self, inputs: np.ndarray, targets: sp.csr_matrix, order: np.ndarray, batch_size: int) -> None:
        super().__init__(workers=1, use_multiprocessing=False)
        self.inputs = inputs
        self.targets = targets
        self.order = order
        self.batch_size = batch_size

    def __len__(self) -> int:
        return math.ceil(self.order.shape[0] / self.batch_size)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        rows = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        return self.inputs[rows], self.targets[rows].toarray()


class ProgressLog(keras.callbacks.Callback):
    """A line within an epoch every ``every`` seconds, so a long epoch is never silent."""

    def __init__(self, epoch: int, n_batches: int, every: float = 30.0) -> None:
        super().__init__()
        self.epoch, self.n_batches, self.every = epoch, n_batches, every
        self.last = time.perf_counter()

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if time.perf_counter() - self.last >= self.every:
            self.last = time.perf_counter()
            loss = (logs or {}).get("loss", math.nan)
            log.log(DETAIL, "epoch %d: batch %d/%d loss=%.5f", self.epoch + 1, batch + 1, self.n_batches, float(loss))


def trainable(inputs: np.ndarray, targets: sp.csr_matrix) -> tuple[np.ndarray, sp.csr_matrix]:
    """Keep the artists with side information and a non-empty target row.

    An empty row is no distribution, and an artist without side information (a
    zero input) teaches the tower nothing about content: such artists are scored
    by the popularity fallback at evaluation, so training on them only adds noise.
    """
    keep = (np.diff(targets.indptr) > 0) & has_side_information(inputs)
    return inputs[keep], targets[keep]


@dataclass
class TrainState:
    """What a resumed training needs besides the checkpointed model."""

    fingerprint: str
    epoch: int = -1
    best_epoch: int = -1
    best_val_loss: float = math.inf
    history: list[dict[str, float]] = field(default_factory=list)


def fingerprint(settings: dict[str, Any], head: str, *arrays: np.ndarray | sp.csr_matrix) -> str:
    """Hash of the settings, head and training data; a checkpoint from other inputs is not resumed."""
    digest = hashlib.sha256(json.dumps({**settings, "head": head}, sort_keys=True).encode())
    for array in arrays:
        parts = (array.data, array.indices, array.indptr) if sp.issparse(array) else (array,)
        for part in parts:
            digest.update(np.ascontiguousarray(part).tobytes())
    return digest.hexdigest()


class Checkpoints:
    """Per-epoch checkpoints in a folder: ``epoch-N.keras``, ``best-N.weights.h5`` and ``state.json``.

    ``state.json`` is written last and names the files it belongs to, so a kill at
    any moment leaves a consistent state (at worst, the previous epoch's).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.state_file = self.folder / "state.json"

    def model_file(self, epoch: int) -> Path:
        return self.folder / f"epoch-{epoch}.keras"

    def best_file(self, epoch: int) -> Path:
        return self.folder / f"best-{epoch}.weights.h5"

    def slots_file(self, epoch: int) -> Path:
        return self.folder / f"slots-{epoch}.npz"

    def slots(self, state: TrainState) -> dict[str, np.ndarray] | None:
        """The optimizer slots saved beside the model of ``state``'s epoch (``sampled_head.SampledTraining``), if any."""
        path = self.slots_file(state.epoch)
        return io.read_npz(path) if state.epoch >= 0 and path.is_file() else None

    def load(self, expected: str) -> TrainState | None:
        if not self.state_file.is_file():
            return None
        try:
            state = TrainState(**io.read_json(self.state_file))
        except (InputError, TypeError):
            log.info("checkpoint in %s is unreadable; starting over", self.folder)
            return None
        if state.fingerprint != expected:
            log.info("checkpoint in %s is from other settings or data; starting over", self.folder)
            return None
        if not self.model_file(state.epoch).is_file() or not self.best_file(state.best_epoch).is_file():
            log.info("checkpoint in %s is incomplete; starting over", self.folder)
            return None
        return state

    def save(
        self, model: keras.Model, state: TrainState, improved: bool, slots: dict[str, np.ndarray] | None = None
    ) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if slots is not None:
            io.write_npz(self.slots_file(state.epoch), **slots)
        with io.atomic_path(self.model_file(state.epoch)) as tmp:
            model.save(tmp)
        if improved:
            with io.atomic_path(self.best_file(state.epoch)) as tmp:
                model.save_weights(tmp)
        io.write_json(self.state_file, asdict(state))
        keep = {
            *(self.model_file(state.epoch).name, self.slots_file(state.epoch).name),
            *(self.best_file(state.best_epoch).name, self.state_file.name),
        }
        for stale in self.folder.iterdir():
            if stale.name not in keep and not stale.name.startswith("."):
                stale.unlink()


def epoch_order(n_rows: int, seed: int, epoch: int) -> np.ndarray:
    """The batch order of one epoch: a function of seed and epoch only, so a resumed run matches."""
    return np.random.default_rng([seed, epoch]).permutation(n_rows)


def reseed_dropout(model: keras.Model, seed: int, epoch: int) -> None:
    """Set every dropout layer's random stream to a function of seed, layer and epoch.

    Keras does not restore a seed generator's state from a saved model, so without
    this a resumed run would draw other dropout masks than an uninterrupted one.
    """
    for depth, layer in enumerate(model.layers):
        generator = getattr(layer, "seed_generator", None)
        if generator is not None:
            generator.state.assign(np.array([seed + depth, epoch << 32], dtype=generator.state.dtype))


def start_or_resume(
    checkpoints: Checkpoints, expected: str, x_train: np.ndarray, n_outputs: int, settings: TrainSettings, head: str
) -> tuple[keras.Model, TrainState]:
    """A new model, or the checkpointed one of an interrupted training with the same fingerprint."""
    state = checkpoints.load(expected)
    if state is None:
        return build_model(x_train, n_outputs, settings, head), TrainState(fingerprint=expected)
    log.info("resuming from the checkpoint of epoch %d", state.epoch + 1)
    return keras.models.load_model(checkpoints.model_file(state.epoch)), state


def fit_epoch(
    model: keras.Model,
    x_train: np.ndarray,
    y_train: sp.csr_matrix,
    valid: TargetBatches | None,
    settings: TrainSettings,
    epoch: int,
) -> dict[str, float]:
    """One epoch in ``epoch_order`` with ``reseed_dropout``; its row of the history."""
    started = time.perf_counter()
    batches = TargetBatches(x_train, y_train, epoch_order(x_train.shape[0], settings.seed, epoch), settings.batch_size)
    reseed_dropout(model, settings.seed, epoch)
    result = model.fit(
        batches,
        validation_data=valid,
        initial_epoch=epoch,
        epochs=epoch + 1,
        shuffle=False,  # the order is epoch_order's; Keras would shuffle batches from global state
        callbacks=[ProgressLog(epoch, len(batches))],
        verbose=0,
    ).history
    return {
        "epoch": epoch + 1,
        "loss": float(result["loss"][-1]),
        "val_loss": float(result.get("val_loss", [math.nan])[-1]),
        "seconds": round(time.perf_counter() - started, 3),
    }


def epochs_of(
    model: keras.Model,
    train: tuple[np.ndarray, sp.csr_matrix],
    valid: tuple[np.ndarray, sp.csr_matrix],
    settings: TrainSettings,
    sampled: SampledOutputs | None,
    slots: dict[str, np.ndarray] | None,
) -> Callable[[int], dict[str, float]]:
    """One call per epoch: ``fit_epoch`` over every output, or ``sampled``'s epochs (resumed with ``slots``)."""
    if sampled is not None:
        return sampled.epochs(model, train, valid, settings, slots)
    x_valid, y_valid = valid
    batches = TargetBatches(x_valid, y_valid, np.arange(x_valid.shape[0]), settings.batch_size)
    return functools.partial(fit_epoch, model, *train, batches if x_valid.shape[0] else None, settings)


def training_data(
    train_inputs: np.ndarray,
    train_targets: sp.csr_matrix,
    valid_inputs: np.ndarray,
    valid_targets: sp.csr_matrix,
    head: str,
) -> tuple[np.ndarray, sp.csr_matrix, np.ndarray, sp.csr_matrix]:
    """The ``trainable`` train and valid rows; no train row at all is an error."""
    x_train, y_train = trainable(train_inputs, train_targets)
    x_valid, y_valid = trainable(valid_inputs, valid_targets)
    if x_train.shape[0] == 0:
        raise InputError(
            "targets",
            "rows",
            f"no train artist has both side information and a non-empty target ({head})",
            "use more data",
        )
    log.info(
        "%d train and %d valid artists with side information and non-empty targets, %d inputs, %d %s",
        *(x_train.shape[0], x_valid.shape[0], x_train.shape[1], y_train.shape[1], head),
    )
    return x_train, y_train, x_valid, y_valid


def train(
    train_inputs: np.ndarray,
    train_targets: sp.csr_matrix,
    valid_inputs: np.ndarray,
    valid_targets: sp.csr_matrix,
    settings: TrainSettings,
    checkpoint_folder: Path,
    head: str = "candidates",
    sampled: SampledOutputs | None = None,
) -> tuple[keras.Model, list[dict[str, float]]]:
    """Train with early stopping on the valid loss; return the best model and the history.

    ``head`` (a key of ``HEADS``) says what the targets' columns are: candidates
    (rows are co-listening distributions) or users (rows are binary listeners).
    ``sampled`` trains the last layer on sampled outputs (``sampled_head``) instead of all of them.
    """
    keras.utils.set_random_seed(settings.seed)
    tf.config.experimental.enable_op_determinism()
    log.info("training on %s", describe_device(settings.require_gpu))
    x_train, y_train, x_valid, y_valid = training_data(train_inputs, train_targets, valid_inputs, valid_targets, head)
    checkpoints = Checkpoints(checkpoint_folder)
    options = asdict(settings) | ({} if sampled is None else {"sampling": repr(sampled.sampling)})
    expected = fingerprint(options, head, x_train, y_train, x_valid, y_valid)
    model, state = start_or_resume(checkpoints, expected, x_train, y_train.shape[1], settings, head)
    fit = epochs_of(model, (x_train, y_train), (x_valid, y_valid), settings, sampled, checkpoints.slots(state))
    monitor = "val_loss" if x_valid.shape[0] else "loss"
    while keep_training(state, settings):
        epoch = state.epoch + 1
        row = fit(epoch)
        state.history.append(row)
        state.epoch = epoch
        improved = row[monitor] < state.best_val_loss
        if improved:
            state.best_epoch, state.best_val_loss = epoch, row[monitor]
        checkpoints.save(model, state, improved, fit.slots() if sampled is not None else None)
        log.log(
            DETAIL,
            "epoch %d/%d loss=%.5f val_loss=%.5f %.1fs%s",
            epoch + 1,
            settings.max_epochs,
            row["loss"],
            row["val_loss"],
            row["seconds"],
            " (best)" if improved else "",
        )
    model.load_weights(checkpoints.best_file(state.best_epoch))
    report_stop(state, settings, monitor)
    return model, state.history


def keep_training(state: TrainState, settings: TrainSettings) -> bool:
    """Another epoch: below ``max_epochs``, and below ``min_epochs`` or within ``patience`` of the best epoch.

    Early stopping waits for ``min_epochs``: the listener network's valid loss can rise for several
    epochs after the first few before it falls for good, and ``patience`` alone stopped it there.
    """
    if state.epoch + 1 >= settings.max_epochs:
        return False
    return state.epoch + 1 < settings.min_epochs or within_patience(state, settings)


def within_patience(state: TrainState, settings: TrainSettings) -> bool:
    """Whether the best epoch is one of the last ``patience``: the monitored loss may still fall."""
    return state.epoch - state.best_epoch < settings.patience


def report_stop(state: TrainState, settings: TrainSettings, monitor: str) -> None:
    """Say where training stopped, and warn when ``max_epochs`` stopped it while ``monitor`` still fell
    (its best epoch within the last ``patience``): early stopping did not decide, and more epochs would help.
    """
    log.info(
        "trained %d epochs (each in the log); restored the weights of epoch %d (%s %.5f)",
        state.epoch + 1,
        state.best_epoch + 1,
        monitor,
        state.best_val_loss,
    )
    if state.epoch + 1 >= settings.max_epochs and within_patience(state, settings):
        log.warning(
            "training reached model.max_epochs (%d) while the %s still fell (best epoch %d); "
            "raise model.max_epochs for a better network",
            settings.max_epochs,
            monitor,
            state.best_epoch + 1,
        )


def save_model(model: keras.Model, path: str | Path) -> None:
    """Write the final model as a legacy ``.h5`` file (the notebook's format), atomically."""
    with io.atomic_path(path) as tmp:
        model.save(tmp)


def load_model(path: str | Path, n_candidates: int | None = None, n_users: int | None = None) -> keras.Model:
    """Open a saved model in Keras safe mode (no custom objects, no Lambda layers).

    ``n_candidates`` (``n_users`` for a ``listeners`` head): refuse a model whose
    output width does not match the candidate list (the listening table's users).
    """
    try:
        model = keras.models.load_model(path, compile=False, safe_mode=True)
    except (OSError, ValueError, TypeError, KeyError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise InputError(
            str(path),
            "model",
            f"cannot be loaded safely ({reason[:200]})",
            "artistrec loads only the models its train step writes: delete it and run snakemake again",
        ) from err
    width = int(model.output_shape[-1])
    for expected, outputs, source in (
        (n_candidates, "candidates", "candidates.txt"),
        (n_users, "users", "the listening table"),
    ):
        if expected is not None and width != expected:
            raise InputError(
                str(path),
                "output width",
                f"the model scores {width} {outputs} but {source} lists {expected}",
                "re-run the workflow so the model and its data come from the same run",
            )
    return model


def hidden_representation(model: keras.Model, inputs: np.ndarray, batch_size: int = SCORE_BATCH) -> np.ndarray:
    """The tower's last hidden layer (the normalised inputs of a linear model): the artist embedding the logits read.

    An artist without side information gets the zero vector, not the tower's
    response to a zero input, so it is nobody's neighbour.
    """
    return forward(tower(model), inputs, batch_size) * has_side_information(inputs)[:, None]


def tower(model: keras.Model) -> keras.Model:
    """``model`` without its output layer: the last hidden layer (the inputs of a linear model)."""
    return keras.Model(model.inputs, model.layers[-2].output)


def scores(model: keras.Model, inputs: np.ndarray, batch_size: int = SCORE_BATCH) -> np.ndarray:
    """One score (logit) per candidate for each input row."""
    return forward(model, inputs, batch_size)


def forward(model: keras.Model, inputs: np.ndarray, batch_size: int = SCORE_BATCH) -> np.ndarray:
    """The model's outputs for each input row, computed on batches of exactly ``batch_size`` rows
    (the last one padded with zero rows).

    On the CPU a row's outputs differ in the last bits with the number of rows that
    share its batch (other matrix kernels); with one batch shape they do not, so an
    artist scored alone (``artistrec recommend``), in a batch job or in the
    evaluation gets the same scores and the same ties.
    """
    width = int(model.output_shape[-1])
    outputs = np.empty((inputs.shape[0], width), dtype=np.float32)
    batch = np.zeros((batch_size, inputs.shape[1]), dtype=np.float32)
    for start in range(0, inputs.shape[0], batch_size):
        rows = inputs[start : start + batch_size]
        batch[: rows.shape[0]] = rows
        batch[rows.shape[0] :] = 0.0
        outputs[start : start + rows.shape[0]] = np.asarray(model.predict_on_batch(batch))[: rows.shape[0]]
    return outputs
