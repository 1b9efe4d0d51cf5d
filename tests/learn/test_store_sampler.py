"""The learner on a real replay store: two robots (groups), per-group position, RLPD bucket metrics."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from robot_rl.learn.data import open_replay_sampler
from robot_rl.learn.trainer import Trainer
from robot_rl.models.actor import ACTION_DIM
from robot_rl.replay import EpisodeWriter, GroupInfo, Source, Step
from tests.learn.conftest import tiny_config


def write_episodes(store: Path, group: str, episodes: int, steps: int, source: Source) -> None:
    rng = np.random.default_rng(len(group))
    info = GroupInfo(camera_names=["front"], image_size=(16, 16), state_dim=10, action_dim=ACTION_DIM)
    with EpisodeWriter(store, group, info) as writer:
        for _ in range(episodes):
            writer.begin_episode()
            for t in range(steps):
                writer.append(Step(images={"front": rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)},
                                   state=rng.uniform(-1, 1, 10), action=rng.uniform(-1, 1, ACTION_DIM),
                                   reward=float(t == steps - 1), source=source))
            writer.end_episode(terminated=True)


def test_trainer_follows_two_robots_in_a_store(tmp_path: Path) -> None:
    store = tmp_path / "replay.zarr"
    write_episodes(store, "robot_1", episodes=2, steps=10, source=Source.DEMO)
    config = tiny_config(tmp_path, [f"learner.replays=[{store}]", "learner.learning_starts=20", "learner.utd_ratio=1"])
    config.learner.source_weights = {"demo+human": 0.5, "policy": 0.5}  # RLPD: half demos, half online
    trainer = Trainer(config, open_replay_sampler(config, seed=0), console=False)
    assert trainer.iterate() == 0 and trainer.env_steps == 20  # at learning_starts: nothing owed yet
    write_episodes(store, "robot_2", episodes=1, steps=15, source=Source.POLICY)  # a second robot joins
    trainer.run(stop_when_idle=True)
    assert trainer.replay_position == {f"{store}::robot_1": 20, f"{store}::robot_2": 15}
    assert trainer.updates == 15 and trainer.env_steps == 35
    assert trainer.logger.last["replay/transitions/policy"] == 15.0
    assert trainer.logger.last["replay/transitions/demo+human"] == 20.0
