"""A server process under test: started in its own session, so that it and its workers stop together."""

# ruff: noqa: S603
# (the harness runs the servers it benchmarks, by design)

import os
import signal
import subprocess
import time
from pathlib import Path

import requests

from bench.config import GRANIAN, GUNICORN, WORKERS

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def children(pid):
    """The live children of `pid` (every thread's), from /proc."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def process_cpu_ticks(pid):
    """utime + stime + cutime + cstime of one process (/proc/<pid>/stat; cutime and cstime hold
    the children it has reaped, so a worker that exited still counts), or 0 if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) ": fields from state (3) on
    return sum(int(fields[i]) for i in (11, 12, 13, 14))  # stat fields 14-17


def tree_cpu_seconds(pid):
    """CPU seconds (user + system) of a process and all its live descendants, plus whatever
    the reaped ones used: gunicorn's master and workers together, or one node process."""
    ticks, todo, seen = 0, [pid], set()
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        ticks += process_cpu_ticks(current)
        todo += children(current)
    return ticks / CLOCK_TICKS


class Server:
    def __init__(self, name, cmd, *, cwd, env, port, ready_path, log_path):
        self.name, self.cmd, self.cwd, self.env = name, cmd, cwd, env
        self.port, self.ready_path, self.log_path = port, ready_path, log_path
        self.base = f"http://127.0.0.1:{port}"
        self.process = None

    def start(self, timeout=60):
        self._log = open(self.log_path, "a")  # closed in stop()
        self.process = subprocess.Popen(
            self.cmd, cwd=self.cwd, env=self.env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if requests.get(self.base + self.ready_path, timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"{self.name} did not start; log:\n{Path(self.log_path).read_text()[-3000:]}")

    def restart(self):
        """Fresh workers (a fresh peak RSS), same port and settings."""
        self.stop()
        return self.start()

    def worker_pids(self):
        """gunicorn's workers (the master's children), or the process itself (node)."""
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            children = []
        return [int(c) for c in children] or [pid]

    def cpu_seconds(self):
        """CPU seconds the server (master and workers) has used since it started."""
        return tree_cpu_seconds(self.process.pid)

    def peak_rss_mib(self):
        peaks = {}
        for pid in self.worker_pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peaks[pid] = round(int(line.split()[1]) / 1024, 1)
            except OSError:
                pass
        return peaks

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            self._close_log()
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)  # our own process group, by id
            self.process.wait(timeout=10)
        self._close_log()

    def _close_log(self):
        log_file = getattr(self, "_log", None)
        if log_file and not log_file.closed:
            log_file.close()


def wsgi_server(name, module, *, cwd, env, port, tmp, threads=1, server="gunicorn"):
    """gunicorn as production runs it (sync workers unless `threads` > 1: gthread);
    `server="granian"` for exploring (BENCH_SERVER)."""
    if server == "granian":
        cmd = [GRANIAN, "--interface", "wsgi", f"{module}:application", "--host", "127.0.0.1", "--port", str(port)]
        cmd += ["--workers", str(WORKERS), "--blocking-threads", str(threads), "--log-level", "warning"]
        return Server(name, cmd, cwd=cwd, env=env, port=port, ready_path="/health/live", log_path=f"{tmp}/{name}.log")
    cmd = [GUNICORN, module, "--bind", f"127.0.0.1:{port}", "--workers", str(WORKERS), "--timeout", "30"]
    if threads > 1:
        cmd += ["--worker-class", "gthread", "--threads", str(threads)]
    return Server(name, cmd, cwd=cwd, env=env, port=port, ready_path="/health/live", log_path=f"{tmp}/{name}.log")
