"""A benchmark step run in a process of its own, with its peak memory: what the harness and the Spark
benchmark share."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_child(argv: list[str], timeout: float | None = None) -> tuple[int, str, str, float, float]:
    """Run argv from the repository root; return (exit code, stdout, stderr, wall seconds, peak RSS in MB
    of that child alone: os.wait4 reads the rusage of exactly this process). With `timeout` (seconds),
    the child runs in a process group of its own, stopped (SIGTERM to that group: the child and what it
    started, e.g. Spark's JVM and its Python workers) when it runs longer: exit code -15."""
    import signal

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=ROOT, stdout=out, stderr=err, env=env, start_new_session=timeout is not None)
        if timeout is None:
            _, status, usage = os.wait4(proc.pid, 0)
        else:
            while True:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                if time.perf_counter() - start > timeout:
                    os.killpg(proc.pid, signal.SIGTERM)
                    _, status, usage = os.wait4(proc.pid, 0)
                    break
                time.sleep(2)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return proc.returncode, out.read().decode(), err.read().decode(), wall, usage.ru_maxrss / 1024
