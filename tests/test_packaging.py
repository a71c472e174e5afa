"""The conda environment and pyproject.toml name the same packages and versions."""

import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def test_conda_env_pins_the_same_versions_as_pyproject():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((REPO / "envs" / "artistrec.yaml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert sorted(pip) == sorted(project["dependencies"])
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python="))
    assert python == "python=3.11" and ">=3.11" in project["requires-python"]


def test_every_rule_declares_a_log_a_benchmark_and_the_conda_env():
    for rules in (REPO / "workflow" / "rules").glob("*.smk"):
        for block in rules.read_text().split("\nrule ")[1:]:
            name = block.split(":")[0]
            if "output:" not in block:
                continue  # a target rule (sweep, seeds): it only names files
            assert "log:" in block and "benchmark:" in block, f"rule {name} in {rules.name}"
            assert 'conda:\n        "../../envs/artistrec.yaml"' in block, f"rule {name} in {rules.name}"
