"""A benchmark step run in a process of its own, with its peak memory: what the harness and the Spark
benchmark share."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


# The step runs under this small launcher, which waits for it and writes its peak RSS (KiB) to the file
# named first. Measured from the benchmark's own process, the figure would be wrong: a forked child maps
# every resident page of its parent, and Linux carries that peak through exec into the child's
# ru_maxrss, so a step started by a process holding 3 GB reports at least 3 GB however little it uses.
# The launcher starts small, so its child's figure is the child's own. A SIGTERM to the process group
# (a step stopped for time) stops the child; the launcher still reads the child's figure, then stops too.
LAUNCHER = """
import os, signal, subprocess, sys
signal.signal(signal.SIGTERM, lambda *_: None)
proc = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(proc.pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(str(usage.ru_maxrss))
code = os.waitstatus_to_exitcode(status)
if code < 0:
    signal.signal(-code, signal.SIG_DFL)
    os.kill(os.getpid(), -code)
sys.exit(code)
"""


def run_child(argv: list[str], timeout: float | None = None) -> tuple[int, str, str, float, float]:
    """Run argv from the repository root; return (exit code, stdout, stderr, wall seconds, peak RSS in MB
    of that child alone, as LAUNCHER reads it). With `timeout` (seconds), the child runs in a process
    group of its own, stopped (SIGTERM to that group: the child and what it started, e.g. Spark's JVM and
    its Python workers) when it runs longer: exit code -15."""
    import signal

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile("r", suffix=".rss") as peak:
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-S", "-c", LAUNCHER, peak.name, *argv], cwd=ROOT, stdout=out,
                                stderr=err, env=env, start_new_session=timeout is not None)
        if timeout is None:
            status = proc.wait()
        else:
            while (status := proc.poll()) is None:
                if time.perf_counter() - start > timeout:
                    os.killpg(proc.pid, signal.SIGTERM)
                    status = proc.wait()
                    break
                time.sleep(2)
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        kib = peak.read().strip()
        return status, out.read().decode(), err.read().decode(), wall, int(kib) / 1024 if kib else 0.0
