"""Kill the learner (SIGKILL) mid-training and restart it: same counters, every committed step counted once."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from robot_rl.learn.checkpoint import latest_checkpoint, read_checkpoint
from robot_rl.learn.data import open_synthetic_sampler
from robot_rl.learn.trainer import Trainer
from tests.learn.conftest import tiny_config, tiny_overrides

ROOT = Path(__file__).resolve().parents[2]
EXTRA = ["learner.learning_starts=10", "learner.utd_ratio=1", "learner.checkpoint_every_s=0.3",
         "learner.weights_every_s=0.3"]


@pytest.mark.slow
def test_sigkill_then_resume_continues_without_losing_or_recounting_data(tmp_path: Path) -> None:
    committed = tmp_path / "committed.json"
    committed.write_text(json.dumps({"robot_a": 5000}))  # ~5000 owed updates: far more than run before the kill
    checkpoints = tmp_path / "learner" / "checkpoints"
    learner = subprocess.Popen(
        [sys.executable, "-m", "robot_rl.learn.cli", "--synthetic", str(committed), "--no-progress",
         *tiny_overrides(tmp_path, EXTRA)],
        cwd=ROOT, env={**os.environ, "OMP_NUM_THREADS": "1"}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and learner.poll() is None:
            found = latest_checkpoint(checkpoints)
            if found is not None and int(found.name.split("-")[1]) >= 64:
                break
            time.sleep(0.1)
        assert learner.poll() is None, learner.stderr.read().decode()[-2000:] if learner.stderr else ""
        # a second robot commits while the learner runs; it may or may not be counted before the kill
        committed.write_text(json.dumps({"robot_a": 5000, "robot_b": 120}))
        time.sleep(0.5)
        learner.send_signal(signal.SIGKILL)
        learner.wait(timeout=30)
    finally:
        if learner.poll() is None:
            learner.kill()
    assert learner.returncode == -signal.SIGKILL

    saved_path = latest_checkpoint(checkpoints)
    assert saved_path is not None
    saved = read_checkpoint(saved_path)[0]["state"]
    assert 0 < saved["updates"] < 4990, "the kill must land mid-training"

    config = tiny_config(tmp_path, EXTRA)
    trainer = Trainer(config, open_synthetic_sampler(config, str(committed), seed=1), console=False)
    assert trainer.resumed_from == saved_path
    assert {k: trainer.counters()[k] for k in saved if k != "config"} == {k: v for k, v in saved.items() if k != "config"}
    trainer.iterate()
    # every committed step counted exactly once: what the checkpoint had plus what came after it
    assert trainer.replay_position == {"robot_a": 5000, "robot_b": 120}
    assert trainer.env_steps == 5120
    assert trainer.updates == saved["updates"] + 64  # continues from the saved counter
    assert trainer.owed_updates() == 5120 - 10 - trainer.updates
    trainer.finish()
    # and a restart after a clean stop resumes the final state
    again = Trainer(config, open_synthetic_sampler(config, str(committed), seed=1), console=False)
    assert again.counters()["updates"] == trainer.updates and again.env_steps == 5120
    again.logger.close()
