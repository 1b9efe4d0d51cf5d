"""Train the learner against a simulated task in one process, the way it trains on the robot.

The scripted demonstrator and the learner's own actor write whole episodes through
``robot_rl.replay`` (demonstrations as ``Source.DEMO``, online rollouts as ``Source.POLICY``); the
``Trainer`` follows the store exactly as the learner process does (counting committed steps, owing
``utd_ratio`` updates per step, RLPD mixing by ``learner.source_weights``). Evaluation runs the
deterministic actor on seeds never used for data. Used by the learning test (reach, state-only) and
usable for any task with the ``SimTask`` shape below.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt
import torch

from robot_rl.config.schema import RobotRLConfig
from robot_rl.learn.data import StoreSampler
from robot_rl.learn.trainer import Trainer
from robot_rl.models.actor import ACTION_DIM, Actor
from robot_rl.replay import EpisodeWriter, GroupInfo, Source, Step

FloatArray = npt.NDArray[np.float32]


class TaskStep(Protocol):
    @property
    def state(self) -> FloatArray: ...  # the observation after the step

    @property
    def reward(self) -> float: ...

    @property
    def terminated(self) -> bool: ...  # success (or failure): the episode ends without bootstrapping

    @property
    def truncated(self) -> bool: ...  # out of time


class SimTask(Protocol):
    def reset(self, seed: int) -> FloatArray: ...

    def step(self, action: npt.ArrayLike) -> TaskStep: ...


Policy = Callable[[FloatArray], FloatArray]


@dataclass
class SimTrainingResult:
    success_rate: float  # final evaluation on held-out seeds
    env_steps: int  # committed steps, demonstrations included
    demo_steps: int
    updates: int
    episodes: int  # online episodes
    seconds: float
    history: list[tuple[int, float]] = field(default_factory=list)  # (env_steps, validation success rate)


def run_episode(task: SimTask, seed: int, policy: Policy, writer: EpisodeWriter | None = None,
                source: Source = Source.POLICY) -> tuple[bool, int]:
    """One episode from ``task.reset(seed)``; written to ``writer`` when given. Returns (success, steps)."""
    state = task.reset(seed)
    if writer is not None:
        writer.begin_episode()
    steps = 0
    while True:
        action = np.asarray(policy(state), dtype=np.float32)
        result = task.step(action)
        steps += 1
        if writer is not None:
            writer.append(Step(images={}, state=state, action=action, reward=result.reward, source=source))
        state = result.state
        if result.terminated or result.truncated:
            break
    if writer is not None:
        writer.end_episode(terminated=result.terminated, truncated=result.truncated)
    return result.terminated, steps


def actor_policy(actor: Actor, deterministic: bool) -> Policy:
    device = next(actor.parameters()).device

    def act(state: FloatArray) -> FloatArray:
        tensor = torch.as_tensor(state, dtype=torch.float32, device=device).unsqueeze(0)
        return actor.act({}, tensor, deterministic=deterministic)[0].cpu().numpy()  # type: ignore[no-any-return]

    return act


def evaluate(task: SimTask, actor: Actor, seeds: Iterable[int]) -> float:
    """Success rate of the deterministic (mean) action on ``seeds``."""
    was_training = actor.training
    actor.eval()
    results = [run_episode(task, seed, actor_policy(actor, deterministic=True))[0] for seed in seeds]
    actor.train(was_training)
    return float(np.mean(results))


def train_in_sim(config: RobotRLConfig, task: SimTask, store: Path, demonstrator: Policy, *, demos: int,
                 max_episodes: int, eval_seeds: Iterable[int], validation_seeds: Iterable[int] = (),
                 validate_every: int = 10, stop_at: float = 1.0, seed_base: int = 0) -> SimTrainingResult:
    """Record ``demos`` demonstrations, then alternate online episodes and the learner's owed updates.

    Every ``validate_every`` online episodes the deterministic actor runs on ``validation_seeds``;
    training stops early once that success rate reaches ``stop_at``. The returned ``success_rate`` is
    measured on ``eval_seeds`` (disjoint from every seed used for data or validation). Seeds: demos
    ``seed_base + i``, online episodes ``seed_base + 100_000 + i``.
    """
    start = time.monotonic()
    config.learner.replays = [str(store)]
    info = GroupInfo(camera_names=[], image_size=(1, 1), state_dim=config.policy.model.state_dim,
                     action_dim=ACTION_DIM, task=type(task).__name__)
    validation, history = list(validation_seeds), []
    with EpisodeWriter(store, "sim", info) as writer:
        demo_steps = sum(run_episode(task, seed_base + i, demonstrator, writer, Source.DEMO)[1] for i in range(demos))
        trainer = Trainer(config, StoreSampler(config, seed=config.learner.seed), console=False, resume=False)
        explore = actor_policy(trainer.sac.actor, deterministic=False)
        episode = 0
        while episode < max_episodes:
            run_episode(task, seed_base + 100_000 + episode, explore, writer, Source.POLICY)
            episode += 1
            while trainer.iterate():
                pass
            if validation and episode % validate_every == 0:
                rate = evaluate(task, trainer.sac.actor, validation)
                history.append((trainer.env_steps, rate))
                if rate >= stop_at:
                    break
    success = evaluate(task, trainer.sac.actor, eval_seeds)
    trainer.logger.close()
    return SimTrainingResult(success_rate=success, env_steps=trainer.env_steps, demo_steps=demo_steps,
                             updates=trainer.updates, episodes=episode, seconds=time.monotonic() - start,
                             history=history)
