"""A real single-node SLURM for the tests, from Debian's slurm-wlm and munge packages.

Everything lives under one folder: generated slurm.conf/gres.conf (one node with this
machine's CPUs and memory, no accounting database, one placeholder GPU), a private
munge key, state, spool and logs. Nothing is written to /etc, the ports are free ones,
and only the daemons started here are stopped, by their process ids.
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "srun", "squeue", "scontrol", "sinfo", "scancel")
NODE = "localhost"
PARTITION = "main"
# Topology keys of `slurmd -C` that the node line repeats (it reports what slurmd measures).
NODE_KEYS = ("CPUs", "Boards", "SocketsPerBoard", "CoresPerSocket", "ThreadsPerCore", "RealMemory")


def missing_programs() -> list[str]:
    return [name for name in (*DAEMONS, *CLIENTS) if shutil.which(name) is None]


def node_hardware() -> str:
    """This machine as slurmd sees it, e.g. ``CPUs=2 Boards=1 ... RealMemory=24105``."""
    report = subprocess.run(["slurmd", "-C"], capture_output=True, text=True, check=True).stdout
    fields = dict(item.split("=", 1) for item in report.splitlines()[0].split())
    return " ".join(f"{key}={fields[key]}" for key in NODE_KEYS)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def slurm_conf(root: Path, hardware: str, ctld_port: int, slurmd_port: int) -> str:
    """One node, one partition, no slurmdbd; finished jobs stay visible to squeue/scontrol for 10 min."""
    return f"""\
ClusterName=artistrec-test
SlurmctldHost={NODE}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={root}/munge/munge.socket.2
CredType=cred/munge
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/log/slurmctld.log
SlurmdLogFile={root}/log/slurmd.log
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
ReturnToService=2
MinJobAge=600
GresTypes=gpu
NodeName={NODE} NodeAddr=127.0.0.1 {hardware} Gres=gpu:1 State=UNKNOWN
PartitionName={PARTITION} Nodes={NODE} Default=YES MaxTime=INFINITE State=UP
"""


# Slurm 22.05 silently drops a GPU without File= and then drains the node; any
# character device will do as the placeholder (jobs get CUDA_VISIBLE_DEVICES=0).
GRES_CONF = f"NodeName={NODE} Name=gpu File=/dev/null\n"


def srun_wrapper(conf: Path) -> str:
    """The SLURM job step plugin strips SLURM_CONF before its inner `srun`; restore it."""
    return f'#!/bin/sh\nSLURM_CONF={conf} exec {shutil.which("srun")} "$@"\n'


class SlurmCluster:
    """munged, slurmctld and slurmd in the background, configured under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.conf = root / "etc" / "slurm.conf"
        self.daemons: dict[str, subprocess.Popen] = {}

    @property
    def env(self) -> dict[str, str]:
        """The environment under which SLURM clients (and Snakemake) talk to this cluster."""
        return {
            **os.environ,
            "SLURM_CONF": str(self.conf),
            "PATH": f"{self.root / 'bin'}{os.pathsep}{os.environ['PATH']}",
        }

    def write_config(self) -> None:
        for folder in ("etc", "state", "spool", "log", "munge", "bin"):
            (self.root / folder).mkdir(parents=True, exist_ok=True)
        self.conf.write_text(slurm_conf(self.root, node_hardware(), free_port(), free_port()))
        (self.conf.parent / "gres.conf").write_text(GRES_CONF)
        key = self.root / "munge" / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o600)
        wrapper = self.root / "bin" / "srun"
        wrapper.write_text(srun_wrapper(self.conf))
        wrapper.chmod(0o755)

    def start(self, timeout: float = 60) -> None:
        self.write_config()
        munge = self.root / "munge"
        self._spawn(
            "munged",
            [
                "munged",
                "--foreground",
                "--force",  # munged refuses to run as root without it
                f"--socket={munge}/munge.socket.2",
                f"--key-file={munge}/munge.key",
                f"--pid-file={munge}/munged.pid",
                f"--seed-file={munge}/munged.seed",
                f"--log-file={self.root}/log/munged.log",
            ],
        )
        self._wait(lambda: (munge / "munge.socket.2").is_socket(), timeout, "munged to open its socket")
        self._spawn("slurmctld", ["slurmctld", "-D", "-i"])
        self._spawn("slurmd", ["slurmd", "-D", "-N", NODE])
        self._wait(lambda: self.node_state() == "idle", timeout, "the node to become idle")

    def stop(self) -> None:
        """Cancel what is left in the queue, then stop the daemons started here."""
        if "slurmctld" in self.daemons:
            subprocess.run(["scancel", "--user", getpass.getuser()], env=self.env, capture_output=True, timeout=30)
            self._wait(lambda: not self.jobs_in_queue(), 30, "cancelled jobs to leave the queue", fail=False)
        for name in reversed(list(self.daemons)):
            process = self.daemons.pop(name)
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def node_state(self) -> str:
        return self._client(["sinfo", "--noheader", "--nodes", NODE, "--format", "%T"]).strip()

    def jobs_in_queue(self) -> list[str]:
        return self._client(["squeue", "--noheader", "--format", "%i"]).split()

    def job_records(self) -> list[dict[str, str]]:
        """`scontrol show job` for every job the controller still knows (finished ones for MinJobAge)."""
        output = self._client(["scontrol", "--oneliner", "show", "job"])
        records = (dict(item.split("=", 1) for item in line.split() if "=" in item) for line in output.splitlines())
        return [record for record in records if "JobId" in record]

    def logs(self) -> str:
        """The daemons' own logs, for failure messages."""
        return "\n".join(f"== {log.name}\n{log.read_text()[-3000:]}" for log in sorted((self.root / "log").glob("*")))

    def _client(self, command: list[str]) -> str:
        result = subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=30)
        return result.stdout if result.returncode == 0 else ""

    def _spawn(self, name: str, command: list[str]) -> None:
        with open(self.root / "log" / f"{name}.stdout", "wb") as output:
            self.daemons[name] = subprocess.Popen(
                command, env=self.env, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )

    def _wait(self, condition: Callable[[], bool], timeout: float, what: str, fail: bool = True) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if fail and (dead := [name for name, process in self.daemons.items() if process.poll() is not None]):
                raise RuntimeError(f"SLURM test cluster: {', '.join(dead)} exited\n{self.logs()}")
            if time.monotonic() > deadline:
                if fail:
                    raise RuntimeError(f"SLURM test cluster: timed out waiting for {what}\n{self.logs()}")
                return
            time.sleep(0.25)
