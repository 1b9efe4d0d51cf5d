"""Open the learner's data: the replay stores it follows, or a synthetic source for tests and benchmarks."""
from __future__ import annotations

import json
from pathlib import Path

from robot_rl.config.schema import ConfigError, RobotRLConfig
from robot_rl.learn.batch import NumpyBatch, ReplaySampler
from robot_rl.learn.synthetic import SyntheticSampler


class StoreSampler:
    """``robot_rl.replay.ReplaySampler`` over ``learner.replays`` x ``learner.groups``, with the per-group
    committed step counts the learner keeps as its replay position."""

    def __init__(self, config: RobotRLConfig, seed: int) -> None:
        from robot_rl.replay import ReplaySampler as StoreReplaySampler

        learner = config.learner
        sources = ([f"{store}::{group}" for store in learner.replays for group in learner.groups]
                   if learner.groups else list(learner.replays))
        self.replay = StoreReplaySampler(sources, n_step=learner.n_step, discount=learner.discount,
                                         weights=dict(learner.source_weights) or None, seed=seed)

    def refresh(self) -> None:
        self.replay.refresh()

    def committed_steps(self) -> dict[str, int]:
        # steps loaded per group (each group's followers read whole committed episodes, in order)
        return {f"{follower.spec.location}::{name}": group.steps_read
                for follower in self.replay._followers for name, group in follower.groups.items()}

    def transitions_per_source(self) -> dict[str, int]:
        """Sampleable transitions per mixing bucket (for the ``replay/transitions/*`` metrics)."""
        return self.replay.num_transitions()

    def sample(self, batch_size: int) -> NumpyBatch:
        return self.replay.sample(batch_size)


def open_replay_sampler(config: RobotRLConfig, seed: int) -> ReplaySampler:
    """The replay sampler over ``learner.replays`` (local paths or fsspec URLs), one source per store group."""
    try:
        return StoreSampler(config, seed)
    except (OSError, ValueError) as err:
        raise ConfigError(f"cannot open learner.replays={list(config.learner.replays)} "
                          f"(groups {list(config.learner.groups) or 'all'}): {err}") from None


def open_synthetic_sampler(config: RobotRLConfig, spec: str, seed: int) -> SyntheticSampler:
    """``spec``: a number of committed steps, or a JSON file ``{source: steps}`` re-read on every refresh
    (a test "commits" episodes by rewriting it)."""
    cameras, size = config.cameras.names, config.cameras.policy_image_size
    state_dim, gamma = config.policy.model.state_dim, config.learner.discount
    if spec.isdigit():
        return SyntheticSampler(cameras, size, state_dim, {"synthetic": int(spec)}, discount=gamma, seed=seed)
    path = Path(spec)
    if not path.is_file():
        raise ConfigError(f"--synthetic {spec!r}: give a number of steps or a JSON file {{source: steps}}")

    def committed() -> dict[str, int]:
        return {str(k): int(v) for k, v in json.loads(path.read_text()).items()}

    return SyntheticSampler(cameras, size, state_dim, committed, discount=gamma, seed=seed)
