"""The datasets the workflow can run, one module each, and the registry that names them.

Adding a dataset: a module with a :class:`~artistrec.datasets.base.Dataset`
subclass, its line in :data:`DATASETS`, and its entries in ``config.yaml`` and
``workflow/schemas/config.schema.yaml``.
"""

from __future__ import annotations

from artistrec.datasets.base import Dataset, RawFiles
from artistrec.datasets.custom import Custom
from artistrec.datasets.demo import Demo
from artistrec.datasets.lastfm_2k import LastFm2k
from artistrec.errors import InputError

DATASETS: dict[str, Dataset] = {
    dataset.name: dataset
    for dataset in (
        Demo(),
        LastFm2k(),
        Custom(),
    )
}
"""Every dataset by name: the only list of them (the ``{dataset}`` wildcard is built from it)."""


def get_dataset(name: str) -> Dataset:
    """The dataset called ``name`` (the config's ``dataset``, or a ``{dataset}`` wildcard)."""
    try:
        return DATASETS[name]
    except KeyError:
        raise InputError(
            "config", "dataset", f"is {name!r}, not a known dataset", f"use one of {', '.join(DATASETS)}"
        ) from None


__all__ = ["DATASETS", "Dataset", "RawFiles", "get_dataset"]
