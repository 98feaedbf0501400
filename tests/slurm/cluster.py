"""A throw-away single-node SLURM cluster (munge, slurmctld, slurmd as plain daemons).

Used by the integration test; `python tests/slurm/cluster.py DIR` starts one by hand and
prints the SLURM_CONF to export. Every daemon is started in the foreground by us and
stopped by its pid.

The config is also linked at SLURM's default path, /etc/slurm/slurm.conf, because the
jobstep plugin (0.6.1) drops SLURM_CONF before its inner `srun`; the link is made only
where no config exists and removed on stop, so a real cluster's config is never touched.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

CONF = """\
ClusterName=vslm
SlurmctldHost={host}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={root}/munge.socket
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/slurmctld.log
SlurmdLogFile={root}/slurmd.log
SlurmctldPort={port}
SlurmdPort={dport}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
EnforcePartLimits=ALL
MinJobAge=600
ReturnToService=2
MpiDefault=none
NodeName={host} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={mem} State=UNKNOWN
PartitionName=main Nodes=ALL Default=YES MaxTime=INFINITE State=UP
"""


DEFAULT_CONF = Path("/etc/slurm/slurm.conf")


def available() -> bool:
    tools = all(shutil.which(p) for p in ("munged", "slurmctld", "slurmd", "sbatch", "squeue"))
    return tools and not DEFAULT_CONF.exists() and os.geteuid() == 0


class Cluster:
    def __init__(self, root: Path, port: int = 16817):
        self.root, self.port = Path(root), port
        self.procs: list[subprocess.Popen] = []
        self.env = {**os.environ, "SLURM_CONF": str(self.root / "slurm.conf")}

    def start(self, timeout: float = 60) -> Cluster:
        r = self.root
        for d in ("state", "spool"):
            (r / d).mkdir(parents=True, exist_ok=True)
        key = r / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o400)
        host = socket.gethostname().split(".")[0]
        mem = int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20 * 0.8)
        (r / "slurm.conf").write_text(CONF.format(host=host, root=r, port=self.port, dport=self.port + 1,
                                                  cpus=os.cpu_count(), mem=mem))
        DEFAULT_CONF.parent.mkdir(parents=True, exist_ok=True)
        DEFAULT_CONF.symlink_to(r / "slurm.conf")
        self._spawn(["munged", "-F", "--force", f"--key-file={key}", f"--socket={r}/munge.socket",
                     f"--pid-file={r}/munged.pid", f"--log-file={r}/munged.log", f"--seed-file={r}/munge.seed"])
        self._wait(lambda: (r / "munge.socket").exists(), timeout, "munged")
        self._spawn(["slurmctld", "-D", "-i"])
        self._spawn(["slurmd", "-D"])
        self._wait(self._node_idle, timeout, "slurmd to register")
        return self

    def _spawn(self, cmd):
        log = open(self.root / f"{Path(cmd[0]).name}.out", "ab")
        self.procs.append(subprocess.Popen(cmd, env=self.env, stdout=log, stderr=log, start_new_session=True))

    def _node_idle(self) -> bool:
        out = subprocess.run(["sinfo", "-h", "-o", "%t"], env=self.env, capture_output=True, text=True)
        return out.returncode == 0 and "idle" in out.stdout

    def _wait(self, ready, timeout, what):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if any(p.poll() is not None for p in self.procs):
                break
            if ready():
                return
            time.sleep(0.5)
        self.stop()
        logs = "".join((self.root / f).read_text(errors="replace")[-800:] for f in
                       ("munged.out", "slurmctld.log", "slurmd.log") if (self.root / f).exists())
        raise RuntimeError(f"waiting for {what} failed; logs:\n{logs}")

    def stop(self) -> None:
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in reversed(self.procs):
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs.clear()
        if DEFAULT_CONF.is_symlink() and DEFAULT_CONF.resolve() == (self.root / "slurm.conf").resolve():
            DEFAULT_CONF.unlink()


if __name__ == "__main__":
    c = Cluster(Path(sys.argv[1]).resolve()).start()
    print(f"export SLURM_CONF={c.env['SLURM_CONF']}  # stop: kill {' '.join(str(p.pid) for p in c.procs)}")
