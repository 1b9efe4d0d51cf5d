"""The learner process: gets past learning_starts, counts new data once, hands weights over, learns."""
from __future__ import annotations

import json
from pathlib import Path

import torch

from robot_rl.learn.checkpoint import latest_checkpoint
from robot_rl.learn.synthetic import SyntheticSampler
from robot_rl.learn.trainer import Trainer
from robot_rl.models.weights import WeightsInfo, latest_weights
from tests.learn.conftest import tiny_config


def test_smoke_gets_past_learning_starts_and_hands_over_weights(tmp_path: Path) -> None:
    config = tiny_config(tmp_path, ["learner.learning_starts=20", "learner.utd_ratio=2",
                                    "learner.critic_actor_ratio=2", "learner.weights_every_s=0.01"])
    committed = {"store_a/robot_1": 15}
    sampler = SyntheticSampler(["front"], 16, 10, lambda: committed)
    announced: list[WeightsInfo] = []
    trainer = Trainer(config, sampler, on_weights=announced.append, console=False)
    assert trainer.iterate() == 0 and trainer.env_steps == 15  # before learning_starts: no updates
    committed["store_a/robot_1"] = 30
    committed["store_b/robot_2"] = 5
    trainer.run(stop_when_idle=True)
    # 35 steps, 15 of them past learning_starts, 2 updates each; every second one updates the actor
    assert trainer.counters() == {"updates": 30, "actor_updates": 15, "bc_updates": 0, "env_steps": 35,
                                  "weights_version": 30,
                                  "replay_position": {"store_a/robot_1": 30, "store_b/robot_2": 5}}
    assert announced and announced[-1].version == 30 and latest_weights(config.policy.weights_dir) == announced[-1]
    assert trainer.logger.last["losses/qf_loss"] > 0 and "losses/actor_loss" in trainer.logger.last
    assert trainer.logger.last["replay/steps/store_b/robot_2"] == 5
    assert any(Path(config.learner.log_dir).glob("events.out.tfevents.*"))
    ckpt = latest_checkpoint(config.learner.checkpoint_dir)
    assert ckpt is not None and json.loads((ckpt / "state.json").read_text())["state"]["updates"] == 30


def test_a_round_budget_hands_control_back_and_the_owed_updates_follow(tmp_path: Path) -> None:
    config = tiny_config(tmp_path, ["learner.learning_starts=10", "learner.utd_ratio=1"])
    sampler = SyntheticSampler(["front"], 16, 10, lambda: {"store/robot": 14})
    trainer = Trainer(config, sampler, console=False)
    assert trainer.iterate(budget_s=0.0) == 1  # 4 owed; the budget ends the round after its first update
    assert trainer.iterate() == 3 and trainer.updates == 4
    assert trainer.iterate(budget_s=0.0) == 0  # nothing owed: idle, as without a budget


def test_policy_learns_a_one_step_reach_task(tmp_path: Path) -> None:
    """Bandit: reward = -mean|a_arm - target|, 1-step episodes; the actor's mean must move to the target."""
    target = [0.6, -0.5, 0.3, -0.2, 0.4, 0.0]
    config = tiny_config(tmp_path, ["learner.learning_starts=0", "learner.utd_ratio=1", "learner.batch_size=64",
                                    "learner.actor_lr=3e-3", "learner.critic_lr=3e-3", "learner.gripper_critic=false",
                                    "learner.augmentation_pad=0", "learner.log_every_updates=1000"])
    sampler = SyntheticSampler(["front"], 16, 10, {"bandit": 500}, target=target, seed=3)
    trainer = Trainer(config, sampler, console=False)
    probe = sampler.sample(64)
    images = {k: torch.from_numpy(v) for k, v in probe.images.items()}
    state = torch.from_numpy(probe.state)

    def error() -> float:
        action = trainer.sac.actor.act(images, state, deterministic=True)[:, :6]
        return float((action - torch.tensor(target)).abs().mean())

    before = error()
    trainer.run(stop_when_idle=True)
    assert trainer.updates == 500
    after = error()
    assert after < 0.1 and after < 0.4 * before, (before, after)  # 0.32 -> ~0.05 when it works
