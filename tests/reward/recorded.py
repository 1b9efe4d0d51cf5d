"""Small sim-recorded stores and models trained on them, built once per test process and shared.

Recording and training are the slow parts on a shared 2-core machine (minutes), so every reward test
takes its episodes and models from here, built once per test process. Images are 32 px (rendered at
64): the tests check that the models learn, not how well (``benchmarks/bench_reward.py`` measures that
at 64 px), and a 32 px update takes about half the time of a 64 px one.
"""
from __future__ import annotations

import tempfile
from functools import lru_cache
from pathlib import Path

from robot_rl.config.schema import RewardConfig

OUTCOMES = ["success", "miss", "success", "stall", "success", "drop", "success", "success"]
CAMERAS = ["wrist", "front"]
IMAGE_SIZE = 32


@lru_cache(maxsize=None)
def workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="robot_rl_reward_tests_"))


@lru_cache(maxsize=None)
def sim_store() -> str:
    """8 episodes of the scripted pick (5 successful, 3 failed), wrist and front cameras, 32 px (rendered at 64)."""
    from robot_rl.reward.simdata import record_pick_episodes

    store = str(workdir() / "sim.zarr")
    outcomes = record_pick_episodes(store, OUTCOMES, seed=21, image_size=IMAGE_SIZE, render_size=64, cameras=CAMERAS,
                                    max_steps=50, hold_steps=10)
    assert sum(outcomes) >= 4, f"the scripted pick should mostly succeed: {outcomes}"
    return store


def reward_config(**overrides: object) -> RewardConfig:
    base: dict[str, object] = dict(image_size=IMAGE_SIZE, epochs=20, progress_steps=300, batch_size=32, lr=1e-3, holdout_fraction=0.3,
                                   seed=0, image_features=32, hidden_dims=[64, 64])
    base.update(overrides)
    return RewardConfig(**base)  # type: ignore[arg-type]


@lru_cache(maxsize=None)
def classifier_path() -> Path:
    from robot_rl.reward.train import train_classifier_from_store

    return train_classifier_from_store(sim_store(), workdir() / "models", reward_config(), log=lambda _: None)


@lru_cache(maxsize=None)
def state_classifier_path() -> Path:
    """A classifier that reads the state vector too (``reward.classifier_state``)."""
    from robot_rl.reward.train import train_classifier_from_store

    return train_classifier_from_store(sim_store(), workdir() / "state_models", reward_config(classifier_state=True),
                                       log=lambda _: None)


@lru_cache(maxsize=None)
def progress_path() -> Path:
    from robot_rl.reward.train import train_progress_from_store

    return train_progress_from_store(sim_store(), workdir() / "models", reward_config(), log=lambda _: None)
