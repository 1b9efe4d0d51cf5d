"""Issue 10: the main job (sim_launch.xml through the bring-up) learns while it runs, end to end.

A short run on the simulated arm with the scripted operator: one demonstration, then policy episodes
the operator corrects. The test stops the graph as soon as the store holds a corrected policy episode
and the policy server serves weights the learner trained, then checks the store, the session summary
and the shutdown. Small images and a small learner batch keep it near a minute on a 2-core CPU.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest

from robot_rl.bringup.paths import package_share
from robot_rl.replay import Source, verify
from robot_rl.replay.store import array, open_group, open_root, read_episode_ends
from tests.ros_harness import wait_until

pytestmark = pytest.mark.ros

OVERRIDES = ("teleop.scripted_demo_episodes=1 episode.time_limit_s=8 sim.image_size=64 cameras.policy_image_size=64 "
             "learner.learning_starts=30 learner.batch_size=16 learner.utd_ratio=1 learner.weights_every_s=2 "
             "policy.model.use_images=false")  # state-only actor: updates in ms, so a loaded 2-core CPU keeps up


def corrected_policy_steps(store: Path) -> int:
    """Committed steps where the operator overrode the policy, with both actions recorded."""
    if not (store / "panda_sim").exists():
        return 0
    try:
        group, _ = open_group(open_root(store), "panda_sim")
        n = int(read_episode_ends(group)[-1]) if read_episode_ends(group).size else 0
    except Exception:  # the group is being created
        return 0
    if n == 0:
        return 0
    flags = np.asarray(array(group, "data/intervention")[:n])
    source = np.asarray(array(group, "data/source")[:n])
    both = (np.isfinite(np.asarray(array(group, "data/policy_action")[:n])).all(axis=1)
            & np.isfinite(np.asarray(array(group, "data/human_action")[:n])).all(axis=1))
    return int((flags & both & (source == Source.HUMAN)).sum())


def served_versions(log: Path) -> list[int]:
    text = log.read_text() if log.exists() else ""
    return [int(v) for v in re.findall(r"serving weights v(\d+)", text)]


def test_the_main_job_records_corrects_learns_and_hands_weights_over(tmp_path: Path) -> None:
    run_dir, logs = tmp_path / "run", tmp_path / "logs"
    graph = subprocess.Popen(
        [sys.executable, "-m", "robot_rl.cli", "launch", str(package_share() / "launch" / "sim_launch.xml"),
         f"overrides:=run_dir={run_dir} {OVERRIDES}", "--log-dir", str(logs)],
        stdout=(tmp_path / "console.txt").open("w"), stderr=subprocess.STDOUT, text=True, start_new_session=True)
    store = run_dir / "replay.zarr"
    try:
        # Two trained versions: a slow configure may skip the initial weights straight to the learner's first.
        wait_until(lambda: corrected_policy_steps(store) > 0 and len({v for v in served_versions(
            logs / "policy_server.log") if v > 0}) >= 2, 150.0,
            lambda: f"a corrected policy episode and two trained weights versions served; policy_server log:\n"
                    f"{(logs / 'policy_server.log').read_text() if (logs / 'policy_server.log').exists() else ''}"
                    f"\nmonitor log:\n{(logs / 'monitor.log').read_text()[-3000:] if (logs / 'monitor.log').exists() else ''}")
        children = psutil.Process(graph.pid).children(recursive=True)
        started = time.monotonic()
        os.killpg(graph.pid, signal.SIGINT)
        graph.wait(timeout=30)
        took = time.monotonic() - started
        output = (tmp_path / "console.txt").read_text()
    finally:
        if graph.poll() is None:
            os.killpg(graph.pid, signal.SIGKILL)
    assert graph.returncode == 0, output[-5000:]
    assert took < 15.0, f"shutdown took {took:.1f} s"
    assert not [c.pid for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    assert "Traceback" not in output, output[-5000:]

    report = verify(store)
    assert not report.problems, report.problems
    group, _ = open_group(open_root(store), "panda_sim")
    ends = read_episode_ends(group)
    n = int(ends[-1])
    source = np.asarray(array(group, "data/source")[:n])
    assert Source.DEMO in source and Source.POLICY in source and Source.HUMAN in source
    assert np.asarray(array(group, "data/reward")[:n]).max() == 1.0, "the reward node's success reward"

    summaries = sorted((run_dir / "monitor").glob("session-*.json"))
    assert summaries and (run_dir / "monitor" / f"{summaries[-1].stem}.png").exists()
    session = json.loads(summaries[-1].read_text())
    seen = [(e["index"], e["outcome"], e["steps"]) for e in session["per_episode"]]
    writer_log = "\n".join((logs / "replay_writer.log").read_text().splitlines()[-6:])
    assert session["episodes"] == len(ends), (f"every episode the operator saw end is committed: no data lost; "
                                              f"seen {seen}, committed ends {ends.tolist()}, writer:\n{writer_log}")
    assert len(session["weights_versions_loaded"]) >= 2 and max(session["weights_versions_loaded"]) > 0
    assert session["learner_updates"] > 0 or max(served_versions(logs / "policy_server.log")) > 0
    assert list((run_dir / "learner" / "tensorboard").rglob("events.out.tfevents.*"))
