"""The learner learns a simulated task from its replay store, and the pixel configuration runs end to end.

The learning test uses the reach task (``robot_rl.sim.reach``), not pick: a pick episode is ~50
control steps of MuJoCo's operational-space controller (~25-60 ms each on a 2-core CI machine) plus a
grasp the policy must discover, which does not fit a CI budget; reach needs ~5 steps an episode.
Pick is learned in ``benchmarks/bench_learning.py`` (results in ``benchmarks/results/``); CI checks
that the BC warm start reproduces pick demonstrations (``test_pick_warm_start.py``).
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import torch

from robot_rl.config import load_config, to_object
from robot_rl.learn.data import StoreSampler
from robot_rl.learn.simulated import run_episode, train_in_sim
from robot_rl.learn.trainer import Trainer
from robot_rl.models.weights import latest_weights
from robot_rl.policy.runner import PolicyRunner
from robot_rl.replay import EpisodeWriter, GroupInfo, Source, Step
from robot_rl.sim.reach import REACH_STATE_DIM, ReachTask

STATE_ONLY_REACH = [
    "policy.model.use_images=false", f"policy.model.state_dim={REACH_STATE_DIM}",
    "policy.model.hidden_dims=[256,256]", "learner.critic_hidden_dims=[256,256]", "learner.gripper_critic=false",
    "learner.device=cpu", "learner.batch_size=128", "learner.utd_ratio=2", "learner.learning_starts=20",
    "learner.actor_lr=1e-3", "learner.critic_lr=1e-3", "learner.discount=0.9", "learner.n_step=3",
    "learner.weights_every_s=1e6", "learner.checkpoint_every_s=1e6", "learner.log_every_updates=100000",
]


def test_state_only_learner_reaches_80_percent_success_on_simulated_reach(tmp_path: Path) -> None:
    config = to_object(load_config("sim", [f"run_dir={tmp_path}", *STATE_ONLY_REACH]))
    config.learner.source_weights = {"demo": 0.5, "policy": 0.5}  # RLPD: half of every batch from demos
    task = ReachTask(config.sim, config.robot, max_steps=15, success_m=0.03)
    rng = np.random.default_rng(0)
    try:
        result = train_in_sim(config, task, tmp_path / "replay.zarr", lambda s: task.scripted(s, noise=0.1, rng=rng),
                              demos=30, max_episodes=80, eval_seeds=range(900_000, 900_020),
                              validation_seeds=range(800_000, 800_020), validate_every=5, stop_at=0.9)
    finally:
        task.close()
    print(f"reach, state-only: success {result.success_rate:.0%} on 20 held-out seeds after {result.env_steps} env "
          f"steps ({result.demo_steps} demo), {result.updates} updates, {result.episodes} online episodes, "
          f"{result.seconds / 60:.1f} min; validation {result.history}")
    assert result.success_rate >= 0.8, result


def test_pixel_configuration_runs_end_to_end_on_tiny_images(tmp_path: Path) -> None:
    """Rendered 32x32 frames from two cameras -> replay store -> learner updates -> weights -> policy runner."""
    config = to_object(load_config("sim", [
        f"run_dir={tmp_path}", "sim.image_size=32", "cameras.policy_image_size=32",
        "policy.model.conv_channels=[8,8]", "policy.model.conv_strides=[2,2]", "policy.model.hidden_dims=[32]",
        "learner.critic_hidden_dims=[32]", "learner.gripper_hidden_dims=[32]", "learner.batch_size=16",
        "learner.device=cpu", "learner.learning_starts=10", "learner.weights_every_s=1e6"]))
    cameras = list(config.cameras.names)
    from robot_rl.policy.state import policy_state
    from robot_rl.robot.interface import RobotCommand
    from robot_rl.sim.pick_cube import PickCubeSim

    sim = PickCubeSim(config.sim, config.robot, cameras)
    store = tmp_path / "replay.zarr"
    config.learner.replays = [str(store)]
    info = GroupInfo(camera_names=cameras, image_size=(32, 32), state_dim=10, action_dim=7)

    def observe() -> tuple[dict[str, np.ndarray], np.ndarray]:
        obs = sim.observe()
        return sim.render(), policy_state(obs.ee_position, obs.ee_orientation, float(obs.joint_positions[-1]))

    try:
        with EpisodeWriter(store, "sim", info) as writer:
            writer.begin_episode()
            for t in range(12):
                images, state = observe()
                action = np.clip(np.random.default_rng(t).normal(0, 0.5, 7), -1, 1).astype(np.float32)
                writer.append(Step(images=images, state=state, action=action, reward=0.0, source=Source.DEMO))
                sim.command(RobotCommand(linear=(action[:3] * config.policy.max_linear_speed).astype(np.float64),
                                         gripper=float(action[6])))
                sim.step()
            writer.end_episode(truncated=True)
        trainer = Trainer(config, StoreSampler(config, seed=0), console=False, max_updates=8)
        trainer.run(stop_when_idle=True)
        assert trainer.updates == 8 and trainer.env_steps == 12  # utd 4 x (12 - 10 learning_starts)
        assert all(torch.isfinite(torch.as_tensor(v)) for v in trainer.logger.last.values())
        weights = latest_weights(config.policy.weights_dir)
        assert weights is not None
        runner = PolicyRunner(config.policy.model, cameras, 32, device="cpu")
        try:
            runner.load_now(weights)
            images, state = observe()
            acted = runner.act(images, state)
            assert acted.finite and acted.version == weights.version
        finally:
            runner.close()
    finally:
        sim.close()


def test_run_episode_records_terminal_steps_with_their_source(tmp_path: Path) -> None:
    config = to_object(load_config("sim", [f"run_dir={tmp_path}"]))
    task = ReachTask(config.sim, config.robot, max_steps=15, success_m=0.03)
    info = GroupInfo(camera_names=[], image_size=(1, 1), state_dim=REACH_STATE_DIM, action_dim=7)
    try:
        start = time.perf_counter()
        with EpisodeWriter(tmp_path / "r.zarr", "sim", info) as writer:
            success, steps = run_episode(task, 3, task.scripted, writer, Source.DEMO)
        assert success and 1 <= steps < 15, (success, steps, time.perf_counter() - start)
    finally:
        task.close()
    from robot_rl.replay import ReplaySampler
    sampler = ReplaySampler([str(tmp_path / "r.zarr")], seed=0)
    sampler.refresh()
    batch = sampler.sample(8)
    assert batch.images == {} and batch.state.shape == (8, REACH_STATE_DIM)
    assert set(batch.source.tolist()) == {int(Source.DEMO)} and batch.done.max() == 1.0


@pytest.fixture(autouse=True)
def _reproducible() -> None:
    torch.manual_seed(0)
