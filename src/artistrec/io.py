"""Artifact reading and writing.

Every writer goes to a temporary name in the target folder and is renamed into
place, so an interrupted job never leaves a half-written artifact behind. No
pickle: arrays are `.npz` read with ``allow_pickle=False``, tables are Parquet.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

# mkstemp creates 0600 files; artifacts get the permissions any other file would.
_UMASK = os.umask(0)
os.umask(_UMASK)

import numpy as np  # noqa: E402  (after the umask is read)
import pandas as pd  # noqa: E402
import pyarrow  # noqa: E402
import scipy.sparse as sp  # noqa: E402

from artistrec.errors import InputError  # noqa: E402

REBUILD = "delete it and run snakemake again, which rebuilds it"


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` on success.

    The temporary name ends in all the suffixes of ``path`` (``.weights.h5``)
    because some writers (Keras, numpy) choose or check the format from them.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=f".tmp{''.join(target.suffixes)}", dir=target.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: str | os.PathLike[str], text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(path: str | os.PathLike[str], payload: Any) -> None:
    write_text(path, json.dumps(payload, indent=2, sort_keys=False) + "\n")


@contextlib.contextmanager
def reading(path: str | os.PathLike[str]) -> Iterator[None]:
    """Report a damaged artifact as one line naming it (a missing one is left to the caller)."""
    try:
        yield
    except FileNotFoundError:
        raise
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, pyarrow.ArrowException) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise InputError(str(path), "content", f"cannot be read ({reason})", REBUILD) from err


def read_json(path: str | os.PathLike[str]) -> Any:
    with reading(path):
        return json.loads(Path(path).read_text(encoding="utf-8"))


def write_ids(path: str | os.PathLike[str], ids: np.ndarray) -> None:
    """Write integer ids one per line (the split and candidate files)."""
    write_text(path, "".join(f"{int(i)}\n" for i in ids))


def read_ids(path: str | os.PathLike[str]) -> np.ndarray:
    with reading(path):
        text = Path(path).read_text(encoding="utf-8").split()
        return np.asarray([int(t) for t in text], dtype=np.int64)


def write_parquet(path: str | os.PathLike[str], table: pd.DataFrame) -> None:
    with atomic_path(path) as tmp:
        table.to_parquet(tmp, index=False)


def read_parquet(path: str | os.PathLike[str]) -> pd.DataFrame:
    with reading(path):
        return pd.read_parquet(path)


def check_finite(path: str | os.PathLike[str], name: str, values: np.ndarray) -> None:
    """Refuse to write an infinite or NaN number: every numeric artifact is finite."""
    if np.issubdtype(values.dtype, np.inexact) and not np.isfinite(values).all():
        bad = int((~np.isfinite(values)).sum())
        raise InputError(
            str(path),
            name,
            f"would hold {bad} infinite or NaN values of {values.size}",
            "look for absurd weights in the raw tables (the step's log names its inputs)",
        )


def write_npz(path: str | os.PathLike[str], **arrays: np.ndarray) -> None:
    for name, values in arrays.items():
        check_finite(path, name, np.asarray(values))
    with atomic_path(path) as tmp:
        np.savez_compressed(tmp, **arrays)


def read_npz(path: str | os.PathLike[str], keys: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` file; ``keys``: only these (each is read and decompressed on its own)."""
    with reading(path), np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in (data.files if keys is None else keys)}


def write_sparse(path: str | os.PathLike[str], matrix: sp.spmatrix | sp.sparray) -> None:
    check_finite(path, "data", sp.csr_matrix(matrix).data)
    with atomic_path(path) as tmp:
        sp.save_npz(tmp, sp.csr_matrix(matrix), compressed=True)


def read_sparse(path: str | os.PathLike[str]) -> sp.csr_matrix:
    with reading(path):
        return sp.csr_matrix(sp.load_npz(path))
