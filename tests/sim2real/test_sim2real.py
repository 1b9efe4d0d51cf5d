"""robot-rl sim2real: near-zero divergence on a faithful recording, non-zero exit on a perturbed one."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import zarr

import robot_rl.sim  # noqa: F401  (headless OpenGL before MuJoCo loads)
from robot_rl.config import load_config, to_object
from robot_rl.replay import EpisodeWriter
from robot_rl.replay.store import read_episode_ends
from robot_rl.sim.pick_cube import PickCubeSim
from robot_rl.sim.session import SimSession, action_scale, group_info
from robot_rl.sim2real.cli import main
from robot_rl.teleop.scripted import CorrectingOperator

OVERRIDES = ["sim.image_size=64", "cameras.policy_image_size=64"]  # a quarter of the pixels: faster renders


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One scripted pick recorded with rendered camera frames, as the main job would record it."""
    cfg = to_object(load_config("sim", OVERRIDES))
    store = tmp_path_factory.mktemp("sim2real") / "replay.zarr"
    sim = PickCubeSim(cfg.sim, cfg.robot, cfg.cameras.names)
    scale = action_scale(cfg.policy.max_linear_speed, cfg.policy.max_angular_speed)
    try:
        with EpisodeWriter(store, "panda_sim", group_info(cfg.cameras.names, 64, scale, cfg.robot.control_hz)) as w:
            operator = CorrectingOperator(sim.control_dt, max_speed=cfg.policy.max_linear_speed, demo_episodes=1)
            outcome = SimSession(sim, scale, w, image_size=64).run_episode(None, operator, 100, seed=5)
    finally:
        sim.close()
    assert outcome.success
    return store


def perturb(store: Path, to: Path, shift_px: int = 0, motion_gain: float = 1.0) -> Path:
    """A copy whose camera moved by ``shift_px`` and whose arm covered ``motion_gain`` of the recorded path."""
    shutil.copytree(store, to)
    group = zarr.open_group(str(to / "panda_sim"), mode="r+")
    n = int(read_episode_ends(group)[-1])
    if shift_px:
        for camera in ("wrist", "front"):
            images = np.asarray(group[f"data/images/{camera}"][:n])
            group[f"data/images/{camera}"][:n] = np.roll(images, shift_px, axis=2)
    if motion_gain != 1.0:
        state = np.asarray(group["data/state"][:n])
        state[:, :3] = state[0, :3] + motion_gain * (state[:, :3] - state[0, :3])
        group["data/state"][:n] = state
    return to


def run(store: Path, out: Path) -> tuple[int, dict]:
    code = main([str(store), *OVERRIDES, "--out", str(out), "--image-every", "10"])
    return code, json.loads((out / "report.json").read_text())


def test_a_faithful_recording_passes_with_near_zero_divergence(recording: Path, tmp_path: Path) -> None:
    code, report = run(recording, tmp_path / "report")
    summary = report["summary"]
    assert code == 0, summary
    assert summary["ee_rmse_m_max"] < 1e-4 and summary["outcome_matches"] == 1
    assert summary["image_mad_max"] < 1.0
    assert (tmp_path / "report" / "ee_trajectories.png").stat().st_size > 0


@pytest.mark.parametrize("perturbation", [{"shift_px": 6}, {"motion_gain": 0.6}], ids=["camera_shift", "dynamics"])
def test_a_perturbed_recording_fails_the_gate(recording: Path, tmp_path: Path, perturbation: dict) -> None:
    code, report = run(perturb(recording, tmp_path / "perturbed.zarr", **perturbation), tmp_path / "report")
    assert code == 1
    failures = " ".join(f for fs in report["summary"]["failures"].values() for f in fs)
    assert ("pixel difference" if "shift_px" in perturbation else "RMSE") in failures
