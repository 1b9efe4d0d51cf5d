"""Run each node of a launch description as its own process, echo its output, stop them all cleanly.

Shutdown follows ``ros2 launch``: SIGINT to every node, then SIGTERM, then SIGKILL for any node still
running after its grace period. Each node runs in its own process group, so nothing is left behind.
"""
from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import yaml

from robot_rl.bringup.launch_file import LaunchFileError, NodeSpec
from robot_rl.bringup.paths import find_executable


@dataclass
class NodeProcess:
    spec: NodeSpec
    popen: subprocess.Popen[bytes]
    reader: threading.Thread | None = None
    returncode: int | None = field(default=None)

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None


def resolve_executables(specs: list[NodeSpec]) -> dict[str, Path]:
    """Map each node's executable to its path; raise LaunchFileError naming every missing one."""
    found: dict[str, Path] = {}
    missing = []
    for spec in specs:
        path = find_executable(spec.package, spec.executable)
        if path is None:
            missing.append(f"{spec.executable!r} (node {spec.fully_qualified_name}, from {Path(spec.source).name})")
        else:
            found[spec.executable] = path
    if missing:
        raise LaunchFileError(f"executable(s) not installed: {', '.join(missing)}. Install the package "
                              f"(scripts/install.sh, or colcon build and source install/setup.bash) or fix "
                              f"the launch file's exec")
    return found


def command_line(spec: NodeSpec, executable: Path, params_file: Path | None) -> list[str]:
    """The node's command line as ``ros2 launch`` builds it: name, namespace, parameters, remappings."""
    cmd = [str(executable), *spec.arguments, "--ros-args", "-r", f"__node:={spec.name}", "-r", f"__ns:={spec.namespace}"]
    for path in spec.parameter_files:
        cmd += ["--params-file", str(path)]
    if params_file is not None:
        cmd += ["--params-file", str(params_file)]
    for source, target in spec.remappings:
        cmd += ["-r", f"{source}:={target}"]
    return cmd


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM if the supervisor dies, so a killed supervisor leaves no node."""
    PR_SET_PDEATHSIG = 1
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass  # not Linux: the supervisor's own shutdown still stops every node


class Supervisor:
    """Starts, watches and stops the processes of one graph."""

    def __init__(self, specs: list[NodeSpec], env: Mapping[str, str] | None = None,
                 log_dir: Path | None = None, echo: IO[str] | None = sys.stdout) -> None:
        self.specs = specs
        self.env = dict(os.environ if env is None else env)
        self.log_dir = log_dir
        self.echo = echo
        self.processes: list[NodeProcess] = []
        self._tmp = tempfile.TemporaryDirectory(prefix="robot_rl_launch_")
        self._echo_lock = threading.Lock()

    def start(self) -> None:
        executables = resolve_executables(self.specs)
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
        for spec in self.specs:
            cmd = command_line(spec, executables[spec.executable], self._write_params(spec))
            popen = subprocess.Popen(cmd, env={**self.env, **spec.env}, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                                     preexec_fn=_die_with_parent)
            process = NodeProcess(spec, popen)
            process.reader = threading.Thread(target=self._pump, args=(process,), daemon=True)
            process.reader.start()
            self.processes.append(process)

    def wait(self, duration_s: float | None = None, stop: threading.Event | None = None) -> str:
        """Block until ``duration_s`` passes, ``stop`` is set or a shutdown-on-exit node ends; say which."""
        deadline = None if duration_s is None else time.monotonic() + duration_s
        reported: set[int] = set()
        while True:
            for process in self.processes:
                code = process.popen.poll()
                if code is not None and process.popen.pid not in reported:
                    reported.add(process.popen.pid)
                    self._say(f"[robot-rl] node {process.spec.fully_qualified_name} exited with code {code}")
                    if process.spec.shutdown_on_exit:
                        return f"node {process.spec.fully_qualified_name} exited"
            if len(reported) == len(self.processes):
                return "every node exited"
            if stop is not None and stop.is_set():
                return "shutdown requested"
            if deadline is not None and time.monotonic() >= deadline:
                return "run length reached"
            time.sleep(0.05)

    def shutdown(self, grace_s: float = 5.0, term_s: float = 2.0) -> dict[str, int]:
        """Stop every node (SIGINT, then SIGTERM, then SIGKILL); return exit codes by node name."""
        self._signal_all(signal.SIGINT)
        if not self._wait_all(grace_s):
            self._signal_all(signal.SIGTERM)
            if not self._wait_all(term_s):
                self._signal_all(signal.SIGKILL)
                self._wait_all(2.0)
        for process in self.processes:
            self._kill_group(process, signal.SIGKILL)  # children a node spawned, if any
            if process.reader is not None:
                process.reader.join(timeout=1.0)
            process.returncode = process.popen.poll()
        self._tmp.cleanup()
        return {p.spec.fully_qualified_name: p.returncode if p.returncode is not None else -9 for p in self.processes}

    def _write_params(self, spec: NodeSpec) -> Path | None:
        if not spec.parameters:
            return None
        path = Path(self._tmp.name) / f"{spec.fully_qualified_name.strip('/').replace('/', '__')}.yaml"
        path.write_text(yaml.safe_dump({"/**": {"ros__parameters": spec.parameters}}))
        return path

    def _pump(self, process: NodeProcess) -> None:
        name = process.spec.name
        log = (self.log_dir / f"{name}.log").open("a") if self.log_dir is not None else None
        assert process.popen.stdout is not None
        for raw in process.popen.stdout:
            line = raw.decode(errors="replace").rstrip()
            if log is not None:
                log.write(line + "\n")
                log.flush()
            self._say(f"[{name}] {line}")
        if log is not None:
            log.close()

    def _say(self, line: str) -> None:
        if self.echo is not None:
            with self._echo_lock:
                print(line, file=self.echo, flush=True)

    def _signal_all(self, sig: signal.Signals) -> None:
        for process in self.processes:
            if process.alive:
                self._kill_group(process, sig)

    @staticmethod
    def _kill_group(process: NodeProcess, sig: signal.Signals) -> None:
        try:
            os.killpg(process.popen.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def _wait_all(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not any(p.alive for p in self.processes):
                return True
            time.sleep(0.02)
        return not any(p.alive for p in self.processes)
