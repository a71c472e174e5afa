import os
import sys
from pathlib import Path

# The workflow's logic lives in the artistrec package under src/; jobs (local or
# on a cluster) find it too, even without `pip install -e .`.
sys.path.insert(0, str(Path(workflow.basedir) / "src"))

from artistrec import config as artistrec_config
from artistrec import datasets, locks, methods, variants
from artistrec.errors import InputError
from artistrec.layout import DatasetFolder, RunFolder, batch_name, results_path

artistrec_config.export_package_path()
if workflow.is_main_process:
    # A run killed with SIGKILL leaves Snakemake's lock files, orphaned jobs and
    # temporary files behind; clean up when no live run holds this folder.
    locks.release_stale_locks()

try:
    artistrec_config.validate(
        config, Path(workflow.basedir) / "workflow/schemas/config.schema.yaml"
    )
except InputError as err:
    sys.exit(f"error: {err}")


wildcard_constraints:
    dataset="|".join(datasets.DATASETS),
    source="[A-Za-z][A-Za-z0-9_]*",
    seed=r"\d+",
    dim=r"\d+",
    weighting="raw|log|tfidf|bm25",
    # models/listeners/ is the listener network's (rule train_listeners), not a variant
    variant=r"(?!listeners/)[a-z]+(-[A-Za-z0-9_.]+)*",


DEFAULT_DATASET = config["dataset"]
MAIN_SEED = config["split"]["seed"]


def settings(*keys):
    """A config section as a key-sorted dict: a params value whose text does not
    depend on the order of keys in the config files, so reordering them re-runs nothing.
    """
    section = config
    for key in keys:
        section = section[key]
    return dict(sorted(section.items()))


def sources(dataset):
    """Feature sources of a dataset, in config order (the network's input order)."""
    return list(artistrec_config.feature_settings(config, dataset))


# The results layout (artistrec.layout), with wildcards: one dataset's folder and one run's.
DATA = DatasetFolder.of("{dataset}")
RUN = RunFolder.of("{dataset}", "{seed}")


def split_inputs(wildcards):
    return RunFolder.of(wildcards.dataset, wildcards.seed).split()


def svd_file(dataset, seed, source, settings):
    return RunFolder.of(dataset, seed).svd(
        source, settings["weighting"], settings["dim"]
    )


def variant(wildcards):
    return variants.variant_settings(config, wildcards.dataset, wildcards.variant)


def variant_svd_inputs(wildcards):
    """The SVD files of a model variant, in its input order."""
    return [
        svd_file(wildcards.dataset, wildcards.seed, source, settings)
        for source, settings in variant(wildcards).features.items()
    ]


def default_svd_files(dataset, seed):
    features = variants.variant_settings(config, dataset, variants.DEFAULT).features
    return [
        svd_file(dataset, seed, source, settings)
        for source, settings in features.items()
    ]


def default_svd_inputs(wildcards):
    return default_svd_files(wildcards.dataset, wildcards.seed)


def knn_svd_inputs(wildcards):
    """Each source's SVD (its configured weighting) at each of the dataset's dims, dims-major."""
    features = config["datasets"][wildcards.dataset]["features"]
    return [
        svd_file(wildcards.dataset, wildcards.seed, source, {**settings, "dim": dim})
        for dim in config["datasets"][wildcards.dataset]["dims"]
        for source, settings in features.items()
    ]


def plan(dataset):
    """What the config says about the methods of ``dataset`` (the registry reads it)."""
    return methods.Plan.from_config(config, dataset)


def training_params(dataset, name):
    """A network's training settings and input sources, as its train rule gets them."""
    if name == "listeners":
        return {
            "settings": settings("model"),
            "sources": sources(dataset),
            "output_layer": settings("listeners"),
        }
    trained = variants.variant_settings(config, dataset, name)
    return {
        "settings": dict(sorted(trained.model.items())),
        "sources": list(trained.features),
        "output_layer": settings("softmax"),
    }


def trained_as_configured(wildcards):
    """Each network the job reads, with the training params its record must show.

    A model trained with other settings (an orphaned job of a killed run) is refused.
    """
    run = RunFolder.of(wildcards.dataset, wildcards.seed)
    return {
        run.model(name): training_params(wildcards.dataset, name)
        for name in methods.models(plan(wildcards.dataset))
    }


def evaluated_models(wildcards):
    """The trained networks the enabled methods read, by variant name (``listeners`` included)."""
    return {
        name: RunFolder.of(wildcards.dataset, wildcards.seed).model(name)
        for name in methods.models(plan(wildcards.dataset))
    }


def clusters_input(wildcards):
    if not methods.needs(plan(wildcards.dataset), methods.CLUSTERS):
        return []
    return RunFolder.of(wildcards.dataset, wildcards.seed).clusters()


def feature_tables_input(wildcards):
    """Every source's feature table (in input order), when a method reads the raw side information."""
    dataset_plan = plan(wildcards.dataset)
    if not methods.needs(dataset_plan, methods.FEATURES):
        return []
    return [
        DatasetFolder.of(wildcards.dataset).features(s) for s in dataset_plan.sources
    ]


def user_source_input(wildcards):
    """The feature table of the source keyed by user id (none: no user source).

    Every run with one reads it: its artists' own users are part of what a servable
    method scores, in the evaluation as for new artists.
    """
    dataset_plan = plan(wildcards.dataset)
    if dataset_plan.user_source is None:
        return []
    return DatasetFolder.of(wildcards.dataset).features(dataset_plan.user_source)


def raw_files(wildcards):
    """A dataset's raw files (paths are inputs, so edits re-run its ingest jobs)."""
    return datasets.get_dataset(wildcards.dataset).raw_files(config)


def raw_tables(wildcards):
    """Where the ingest jobs read a dataset's raw tables."""
    return raw_files(wildcards).tables


def listening_files(wildcards):
    """The raw listening (and artist name) files of a dataset, for staleness checks."""
    return raw_files(wildcards).listening


def feature_files(wildcards):
    """The raw files behind one feature source."""
    return raw_files(wildcards).features[wildcards.source]


def new_artists_folder():
    """The folder of new artists (``new_artists`` in the config), or None."""
    return config.get("new_artists")


def new_artists_files(wildcards):
    """The CSVs of the batch folder: editing, adding or removing one re-runs the batch."""
    folder = new_artists_folder()
    if folder is None or batch_name(folder) != wildcards.batch:
        raise InputError(
            "config",
            "new_artists",
            f"names no folder called {wildcards.batch!r}",
            "snakemake new --config new_artists=path/to/folder",
        )
    return sorted(str(path) for path in Path(folder).glob("*.csv"))


def served_models(wildcards):
    """The networks of every servable method of the run (which one serves is in run.json)."""
    return [
        RunFolder.of(wildcards.dataset, wildcards.seed).model(name)
        for method in methods.servable(plan(wildcards.dataset))
        for name in method.models(plan(wildcards.dataset))
    ]


def new_artists_target(wildcards):
    """The main run's recommendations for the batch; without a batch, a one-line error."""
    if new_artists_folder() is None:
        sys.exit(
            "error: config: new_artists: is not set, so there is no batch to score; "
            "fix: snakemake new --config new_artists=path/to/folder"
        )
    return RunFolder.of(DEFAULT_DATASET, MAIN_SEED).new_artists(
        batch_name(new_artists_folder())
    )
