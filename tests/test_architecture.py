"""How the package is built: one registry of methods, one of datasets, and imports that only go down the layers."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from artistrec import datasets, methods

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "src" / "artistrec"


def imported_modules(module: Path) -> set[str]:
    """The ``artistrec`` modules a source file imports, anywhere in it (lazy imports included)."""
    found = set()
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("artistrec"):
            found |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("artistrec")}
    return found


@pytest.mark.parametrize("module", sorted((PACKAGE / "methods").glob("*.py")), ids=lambda p: p.name)
def test_methods_never_import_the_steps_or_the_commands_that_use_them(module):
    higher = {"artistrec.evaluate_step", "artistrec.train_steps", "artistrec.steps", "artistrec.recommend"}
    higher |= {"artistrec.report", "artistrec.cli"}
    assert not imported_modules(module) & higher


@pytest.mark.parametrize("module", ["model.py", "metrics.py", "vectors.py", "neighbours.py", "layout.py"])
def test_the_model_and_the_metrics_never_import_methods_or_steps(module):
    imported = imported_modules(PACKAGE / module)
    assert not {name for name in imported if name.startswith(("artistrec.methods", "artistrec.evaluate_step"))}
    assert not imported & {"artistrec.steps", "artistrec.train_steps", "artistrec.networks"}


def test_every_switch_under_methods_names_a_method_of_the_registry_and_the_schema_knows_it():
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    schema = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())
    names = {method.name for method in methods.METHODS}
    assert set(config["methods"]) <= names
    assert set(config["methods"]) == set(schema["properties"]["methods"]["properties"])


def test_the_registry_names_each_method_and_row_once_and_every_row_has_one_owner():
    names = [method.name for method in methods.METHODS]
    assert len(names) == len(set(names))
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    for dataset in datasets.DATASETS:
        rows = methods.rows(methods.Plan.from_config(config, dataset))
        assert len(rows) == len(set(rows))
        assert all(methods.method_of(row).kind in ("baseline", "network") for row in rows)


def test_a_method_the_config_switches_off_gives_no_row_and_needs_no_network():
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    on = methods.Plan.from_config(config, "demo")
    off = methods.Plan(on.dataset, on.weightings, on.user_source, {**on.switches, "network_listeners": False})
    assert {"network_listeners", "content_knn_listeners"} <= set(methods.rows(on))
    assert not {"network_listeners", "content_knn_listeners"} & set(methods.rows(off))
    assert "listeners" in methods.models(on) and "listeners" not in methods.models(off)


def test_no_module_outside_datasets_branches_on_a_dataset_name():
    for module in [*PACKAGE.rglob("*.py"), *(REPO / "workflow").rglob("*.smk")]:
        if "datasets" in module.parts:
            continue
        text = module.read_text()
        for name in datasets.DATASETS:
            assert f'== "{name}"' not in text and f"== '{name}'" not in text, module


def test_a_step_that_fits_nothing_starts_without_scikit_learn_matplotlib_or_tensorflow():
    # Every workflow job is a fresh Python process: what its imports pull in, every job pays.
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, artistrec.runner, artistrec.steps; print(' '.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert not {name.split(".")[0] for name in loaded} & {"sklearn", "matplotlib", "tensorflow", "keras"}
