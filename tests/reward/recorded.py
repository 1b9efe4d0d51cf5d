"""Small sim-recorded stores and models trained on them, built once per test process and shared.

Recording is the slow part (~15 control steps/s with one rendered camera on 2 cores), so every test
that needs episodes (the reward tests and the reward node's graph test) takes them from here.
"""
from __future__ import annotations

import tempfile
from functools import lru_cache
from pathlib import Path

from robot_rl.config.schema import RewardConfig

OUTCOMES = ["success", "miss", "success", "stall", "success", "drop", "success", "success"]
CAMERAS = ["wrist", "front"]


@lru_cache(maxsize=None)
def workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="robot_rl_reward_tests_"))


@lru_cache(maxsize=None)
def sim_store() -> str:
    """8 episodes of the scripted pick (5 successful, 3 failed), wrist and front cameras, 64 px (rendered at 128)."""
    from robot_rl.reward.simdata import record_pick_episodes

    store = str(workdir() / "sim.zarr")
    outcomes = record_pick_episodes(store, OUTCOMES, seed=21, image_size=64, render_size=128, cameras=CAMERAS,
                                    max_steps=50, hold_steps=10)
    assert sum(outcomes) >= 4, f"the scripted pick should mostly succeed: {outcomes}"
    return store


def reward_config(**overrides: object) -> RewardConfig:
    base: dict[str, object] = dict(image_size=64, epochs=20, progress_steps=300, batch_size=32, lr=1e-3, holdout_fraction=0.3,
                                   seed=0, image_features=32, hidden_dims=[64, 64])
    base.update(overrides)
    return RewardConfig(**base)  # type: ignore[arg-type]


@lru_cache(maxsize=None)
def classifier_path() -> Path:
    from robot_rl.reward.train import train_classifier_from_store

    return train_classifier_from_store(sim_store(), workdir() / "models", reward_config(), log=lambda _: None)


@lru_cache(maxsize=None)
def progress_path() -> Path:
    from robot_rl.reward.train import train_progress_from_store

    return train_progress_from_store(sim_store(), workdir() / "models", reward_config(), log=lambda _: None)
