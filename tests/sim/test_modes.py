"""The graded protocol's modes on the simulated arm: a recorded session of demonstrations replays in a
fresh simulator to the same outcomes, return-and-explore starts from a recorded state, and every
episode is tagged in the replay store."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import robot_rl.sim  # noqa: F401  (headless OpenGL before MuJoCo loads)
from robot_rl.config import load_config, to_object
from robot_rl.config.schema import RobotRLConfig
from robot_rl.replay import EpisodeWriter, Source
from robot_rl.replay.store import (
    array,
    episode_metadata,
    episode_starts,
    open_group,
    open_root,
    read_episode_ends,
)
from robot_rl.sim.modes import ModeSession, start_state
from robot_rl.sim.pick_cube import PickCubeSim
from robot_rl.sim.session import EpisodeOutcome, SimSession, action_scale, group_info
from robot_rl.teleop.protocol import ProtocolError, load_source_episode
from robot_rl.teleop.scripted import CorrectingOperator

MAX_STEPS = 120
SEEDS = [21, 22]


@pytest.fixture(scope="module")
def cfg() -> RobotRLConfig:
    return to_object(load_config("sim"))


def scale_of(cfg: RobotRLConfig) -> np.ndarray:
    return action_scale(cfg.policy.max_linear_speed, cfg.policy.max_angular_speed)


def run_mode(cfg: RobotRLConfig, store: Path, group: str, mode: str, seeds: Sequence[int | None],
             source_index: int = -1, return_step: int = 0, source_store: Path | None = None,
             policy: object = None) -> list[EpisodeOutcome]:
    """Run one session in ``mode`` in a fresh simulator, recording into ``store::group``."""
    sim = PickCubeSim(cfg.sim, cfg.robot, cfg.cameras.names, render=False)
    scale = scale_of(cfg)
    operator = CorrectingOperator(sim.control_dt, max_speed=cfg.policy.max_linear_speed,
                                  demo_episodes=len(seeds) if mode == "demo" else 0)
    source = load_source_episode(str(source_store), index=source_index) if source_store else None
    try:
        with EpisodeWriter(store, group, group_info(cfg.cameras.names, 16, scale, cfg.robot.control_hz)) as writer:
            session = ModeSession(SimSession(sim, scale, writer, image_size=16, render=False), mode, source,
                                  return_step)
            return [session.run_episode(policy, operator if mode != "replay" else None,  # type: ignore[arg-type]
                                        MAX_STEPS, seed=seed) for seed in seeds]
    finally:
        sim.close()


def sources(store: Path, group: str) -> tuple[list[set[int]], list[dict[str, Any]]]:
    zgroup, _ = open_group(open_root(store), group)
    ends = read_episode_ends(zgroup)
    source = np.asarray(array(zgroup, "data/source")[:int(ends[-1])])
    per_episode = [set(source[a:b].tolist()) for a, b in zip(episode_starts(ends), ends)]
    return per_episode, [episode_metadata(zgroup, i) for i in range(ends.size)]


def test_a_sessions_demonstrations_replay_in_a_fresh_simulator_to_the_same_outcome(
        cfg: RobotRLConfig, tmp_path: Path) -> None:
    demos = tmp_path / "demos.zarr"
    recorded = run_mode(cfg, demos, "operator", "demo", SEEDS)
    assert all(o.success for o in recorded), "the scripted demonstrations pick the cube"
    tags, meta = sources(demos, "operator")
    assert tags == [{Source.DEMO}] * len(SEEDS) and [m["mode"] for m in meta] == ["demo"] * len(SEEDS)
    assert [m["seed"] for m in meta] == SEEDS

    replays = tmp_path / "replays.zarr"
    for i, demo in enumerate(recorded):
        replayed = run_mode(cfg, replays, f"replay{i}", "replay", [None], source_index=i, source_store=demos)[0]
        assert replayed.success == demo.success and replayed.steps == demo.steps
        np.testing.assert_allclose(replayed.cube_position, demo.cube_position)
        np.testing.assert_allclose(replayed.ee_trajectory, demo.ee_trajectory, atol=1e-6)
        tags, meta = sources(replays, f"replay{i}")
        assert tags == [{Source.REPLAY}]
        assert meta[0]["mode"] == "replay" and meta[0]["source"] == {"path": str(demos), "group": "operator",
                                                                       "episode": i, "step": 0}
        assert meta[0]["outcome"] == "success"
    zgroup, _ = open_group(open_root(replays), "replay0")
    assert np.isnan(np.asarray(array(zgroup, "data/policy_action")[:])).all(), "a replay is no policy's proposal"


def test_return_and_explore_starts_every_episode_from_the_recorded_state(cfg: RobotRLConfig, tmp_path: Path) -> None:
    demos = tmp_path / "demos.zarr"
    recorded = run_mode(cfg, demos, "operator", "demo", SEEDS[:1])[0]
    episode = load_source_episode(str(demos))
    step = 25
    sim = PickCubeSim(cfg.sim, cfg.robot, cfg.cameras.names, render=False)
    try:
        observation = start_state(sim, episode, scale_of(cfg), step)
        np.testing.assert_allclose(observation.ee_position, recorded.ee_trajectory[step], atol=1e-6)
        np.testing.assert_allclose(observation.ee_position, episode.states[step, :3], atol=1e-5)
    finally:
        sim.close()

    def backs_off(images: object, state: np.ndarray) -> np.ndarray:
        return np.array([-0.6, 0.0, 0.4, 0.0, 0.0, 0.0, -1.0], dtype=np.float32)

    explored = run_mode(cfg, tmp_path / "explore.zarr", "explore", "return_explore", [None, None],
                        return_step=step, source_store=demos, policy=backs_off)
    for outcome in explored:
        np.testing.assert_allclose(outcome.ee_trajectory[0], recorded.ee_trajectory[step], atol=1e-6)
        assert outcome.intervention_steps > 0 and outcome.success, "the operator corrects the exploring policy"
    tags, meta = sources(tmp_path / "explore.zarr", "explore")
    assert all(t == {Source.POLICY, Source.HUMAN} for t in tags)
    assert all(m["mode"] == "return_explore" and m["source"]["step"] == step for m in meta)


def test_a_missing_or_unusable_recording_is_refused_with_the_fix(cfg: RobotRLConfig, tmp_path: Path) -> None:
    with pytest.raises(ProtocolError, match="teleop.source_path"):
        load_source_episode("")
    with pytest.raises(ValueError, match="no replay store here"):
        load_source_episode(str(tmp_path / "nothing.zarr"))
    demos = tmp_path / "demos.zarr"
    run_mode(cfg, demos, "operator", "demo", SEEDS[:1])
    with pytest.raises(ProtocolError, match="has 1 episodes"):
        load_source_episode(str(demos), index=3)
    episode = load_source_episode(str(demos))
    with pytest.raises(ProtocolError, match="teleop.return_step=999"):
        episode.check_step(999)
    with pytest.raises(ProtocolError, match="policy.max_linear_speed"):
        episode.check_scale(scale_of(cfg) * 2)
