"""The SLURM profile: a dry run anywhere, and a real run on a single-node SLURM.

The real run (marker ``slurm``) starts munged, slurmctld and slurmd from Debian's
slurm-wlm and munge packages. It is opt-in locally (ARTISTREC_SLURM_TEST=1) and always
on in CI, where missing SLURM programs are a failure, not a skip.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections import Counter
from pathlib import Path

import pytest
import yaml

from conftest import HANG_LIMIT, REPO, SNAKEMAKE, TEST_CONFIG, copy_workflow, snakemake
from slurm_cluster import PARTITION, SlurmCluster, missing_programs

SHIPPED_PROFILE = REPO / "profiles" / "slurm" / "config.yaml"
SUBMITTED = re.compile(r"Job \d+ has been submitted with SLURM jobid (\d+)")


def job_resources(dry_run_output: str, rule: str) -> dict[str, str]:
    """The resources Snakemake resolved for the first job of ``rule`` in a dry run."""
    block = re.search(rf"^rule {rule}:\n(?:    .*\n)*?    resources: (.*)$", dry_run_output, re.MULTILINE)
    assert block, f"no job of rule {rule} in the dry run"
    return dict(item.split("=", 1) for item in block.group(1).split(", "))


def test_slurm_profile_dry_run_works_without_a_cluster(workflow_copy):
    result = snakemake(workflow_copy, "--profile", "profiles/slurm", "--dry-run")
    output = result.stdout + result.stderr

    train = job_resources(output, "train")
    split = job_resources(output, "split")
    assert (train["gpu"], train["runtime"]) == ("1", "240")  # its mem_mb waits for the input sizes
    assert (split["runtime"], split["mem_mb"]) == ("30", "2000")
    assert "gpu" not in split


def rule_of(job: dict[str, str]) -> str:
    """The rule a SLURM job ran: the plugin comments jobs as ``rule_<rule>[_wildcards_<values>]``."""
    return re.fullmatch(r"rule_(.+?)(_wildcards_.*)?", job["Comment"]).group(1)


def kept_job_logs(workdir: Path) -> str:
    """The plugin keeps the SLURM log of every failed job (successful ones are deleted)."""
    logs = sorted((workdir / ".snakemake" / "slurm_logs").rglob("*.log"))
    return "\n".join(f"== {log}\n{log.read_text()[-3000:]}" for log in logs)


def site_profile(folder: Path) -> Path:
    """What a site without an accounting database adds on top of profiles/slurm."""
    shipped = yaml.safe_load(SHIPPED_PROFILE.read_text())
    settings = {
        # A later profile replaces the whole key, so the shipped defaults are repeated.
        "default-resources": {**shipped["default-resources"], "slurm_partition": PARTITION},
        "slurm-status-command": "squeue",  # no slurmdbd: sacct fails and Snakemake would wait forever
        "slurm-init-seconds-before-status-checks": 2,  # the default 40 s would dominate this short run
        "latency-wait": 5,  # one machine, no shared-filesystem lag
    }
    folder.mkdir()
    (folder / "config.yaml").write_text(yaml.safe_dump(settings))
    return folder


def fail_or_skip(message: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def slurm_cluster(tmp_path_factory: pytest.TempPathFactory):
    if missing := missing_programs():
        fail_or_skip(f"SLURM test cluster needs {', '.join(missing)}: apt-get install slurm-wlm munge")
    if os.geteuid() != 0:
        fail_or_skip("SLURM test cluster runs its daemons as root")
    cluster = SlurmCluster(tmp_path_factory.mktemp("slurm"))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.mark.slurm
@pytest.mark.skipif(
    os.environ.get("CI") != "true" and os.environ.get("ARTISTREC_SLURM_TEST") != "1",
    reason="starts a real SLURM: set ARTISTREC_SLURM_TEST=1 (always on when CI=true)",
)
def test_demo_workflow_runs_as_slurm_jobs_with_a_gpu_for_training(slurm_cluster, demo_run, tmp_path):
    workdir = copy_workflow(tmp_path / "wf")
    site = site_profile(tmp_path / "site")
    result = subprocess.run(
        # metrics.json needs every non-local rule; the default target adds only local report rules.
        [
            SNAKEMAKE,
            "metrics.json",
            "--profile",
            "profiles/slurm",
            "--profile",
            str(site),
            "--configfile",
            str(TEST_CONFIG),
        ],
        cwd=workdir,
        env=slurm_cluster.env,
        capture_output=True,
        text=True,
        timeout=HANG_LIMIT,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{output[-6000:]}\n{kept_job_logs(workdir)}\n{slurm_cluster.logs()}"

    cluster_rules = Counter(re.findall(r"^rule (\w+):$", output, re.MULTILINE))
    local_rules = set(re.findall(r"^localrule (\w+):$", output, re.MULTILINE))
    records = {record["JobId"]: record for record in slurm_cluster.job_records()}
    submitted = [records[job_id] for job_id in SUBMITTED.findall(output)]
    assert Counter(rule_of(job) for job in submitted) == cluster_rules
    assert {job["JobState"] for job in submitted} == {"COMPLETED"}
    assert "train" in cluster_rules and not local_rules & set(cluster_rules)

    gpu_jobs = [job for job in submitted if "TresPerJob" in job]
    # Only training asks for a GPU: the network, its ensemble member, the three ablations
    # and the listener network.
    assert cluster_rules["train"] == 5 and cluster_rules["train_listeners"] == 1
    assert sorted((rule_of(job), job["TresPerJob"]) for job in gpu_jobs) == [("train", "gres:gpu:1")] * 5 + [
        ("train_listeners", "gres:gpu:1")
    ]

    local_metrics = json.loads((demo_run / "metrics.json").read_text())
    assert json.loads((workdir / "metrics.json").read_text()) == local_metrics
