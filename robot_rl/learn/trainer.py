"""The learner process: follow the replay, update at the configured ratio, hand weights to the robot.

Bookkeeping that makes a kill harmless:

- ``replay_position`` is the number of committed steps already *counted* per source group. Each round
  the sampler is refreshed; steps committed beyond the position are new data: they raise
  ``env_steps`` and the position moves to the committed count. Groups only grow by whole episodes,
  so a per-group count is an exact position.
- The update schedule is a function of the counters: after ``learning_starts`` steps, every new step
  owes ``utd_ratio`` critic updates (``owed = utd_ratio * (env_steps - learning_starts) - updates``);
  every ``critic_actor_ratio``-th critic update also updates the actor and temperature.
- A checkpoint holds the networks, optimizers and temperature *together with* these counters. After
  a kill the learner resumes from the last checkpoint: data committed after it (before or after the
  kill) is beyond the saved position and is counted once; nothing before it is counted again.

Rank 0 decides each round's number of updates and broadcasts it, so data-parallel ranks run the same
number of steps (``robot_rl.learn.distributed``); rank 0 writes weights, checkpoints and logs.
"""
from __future__ import annotations

import signal
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import torch

from robot_rl.config.schema import RobotRLConfig
from robot_rl.learn import distributed
from robot_rl.learn.batch import ReplaySampler, to_torch
from robot_rl.learn.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from robot_rl.learn.distributed import DistInfo
from robot_rl.learn.features import FeatureCacheSampler
from robot_rl.learn.metrics import MetricsLogger
from robot_rl.learn.sac import SAC
from robot_rl.models.weights import WeightsInfo, latest_weights, save_weights

WeightsCallback = Callable[[WeightsInfo], None]
UPDATES_PER_ROUND = 64  # updates between looks at the replay, the clock and a stop request


class Trainer:
    """Owns the SAC agent, the sampler and the counters; ``run`` (or ``iterate`` from a ROS timer)."""

    def __init__(self, config: RobotRLConfig, sampler: ReplaySampler, *, on_weights: WeightsCallback | None = None,
                 max_updates: int | None = None, console: bool = True, dist_info: DistInfo | None = None,
                 device: torch.device | None = None, resume: bool = True) -> None:
        self.config = config
        self.cfg = config.learner
        self.sampler = sampler
        self.on_weights = on_weights
        self.max_updates = max_updates
        self.dist = dist_info or DistInfo()
        self.device = device or distributed.resolve_device(self.cfg.device, self.dist.local_rank)
        torch.manual_seed(self.cfg.seed)  # the same initial networks on every rank (rank 0's are broadcast anyway)
        self.sac = SAC(self.cfg, config.policy.model, config.cameras.names, config.cameras.policy_image_size,
                       config.robot.gripper_open_position, config.robot.gripper_closed_position).to(self.device)
        if self.cfg.cache_image_features:  # frozen backbone: features once per stored frame (learn/features.py)
            self.sampler = FeatureCacheSampler(sampler, self.sac.actor.encoder, self.device)
        # counters: everything a resume needs besides the tensors
        self.updates = 0  # critic updates done
        self.actor_updates = 0
        self.bc_updates = 0  # warm-start imitation updates done (learner.bc_pretrain_updates)
        self.env_steps = 0  # committed steps counted (sum of replay_position)
        self.replay_position: dict[str, int] = {}
        self.weights_version = -1
        self.resumed_from: Path | None = None
        if resume:
            self._resume()
        distributed.broadcast_parameters(self.sac, self.dist)
        torch.manual_seed(self.cfg.seed + 1 + 7919 * self.dist.rank + self.updates)  # per-rank sampling noise
        self.logger = MetricsLogger(self.cfg.log_dir if self.dist.is_main else None, total_updates=max_updates,
                                    initial=self.updates, console=console and self.dist.is_main)
        self._stop_requested = False  # set by a signal or the caller; acted on at the next round
        self._stopped = False
        self._last_weights = self._last_checkpoint = self._window_start = time.monotonic()
        self._window_updates = 0
        self._sample_s = 0.0
        self._weights_updates = self.updates if self.resumed_from is not None else -1

    # ------------------------------------------------------------------------------------------- state

    def counters(self) -> dict[str, Any]:
        return {"updates": self.updates, "actor_updates": self.actor_updates, "bc_updates": self.bc_updates,
                "env_steps": self.env_steps,
                "replay_position": dict(self.replay_position), "weights_version": self.weights_version}

    def _resume(self) -> None:
        path = latest_checkpoint(self.cfg.checkpoint_dir)
        if path is None:
            return
        state = load_checkpoint(path, self.sac)
        self.updates = int(state["updates"])
        self.actor_updates = int(state["actor_updates"])
        self.bc_updates = int(state.get("bc_updates", 0))
        self.env_steps = int(state["env_steps"])
        self.replay_position = {str(k): int(v) for k, v in state["replay_position"].items()}
        self.weights_version = int(state["weights_version"])
        self.resumed_from = path

    def checkpoint(self) -> Path | None:
        """Write a checkpoint now (rank 0); returns its directory."""
        self._last_checkpoint = time.monotonic()
        if not self.dist.is_main:
            return None
        state = {**self.counters(), "config": {"learner": _plain(self.cfg)}}
        return save_checkpoint(self.cfg.checkpoint_dir, self.sac, state, self.updates, self.cfg.keep_checkpoints)

    def publish_weights(self) -> WeightsInfo | None:
        """Write the actor's weights for the policy server (rank 0) and announce them."""
        self._last_weights = time.monotonic()
        self._weights_updates = self.updates
        if not self.dist.is_main:
            return None
        directory = self.config.policy.weights_dir
        on_disk = latest_weights(directory)
        version = max(self.updates, self.weights_version + 1, on_disk.version + 1 if on_disk else 0)
        info = save_weights(self.sac.actor, directory, version)
        self.weights_version = version
        if self.on_weights is not None:
            self.on_weights(info)
        return info

    # ------------------------------------------------------------------------------------------- loop

    def owed_updates(self) -> int:
        if self.env_steps < max(self.cfg.learning_starts, 1):
            return 0
        return max(0, self.cfg.utd_ratio * (self.env_steps - self.cfg.learning_starts) - self.updates)

    def _count_new_data(self) -> int:
        """Refresh the sampler; count steps committed beyond ``replay_position``."""
        self.sampler.refresh()
        new = 0
        for source, committed in self.sampler.committed_steps().items():
            seen = self.replay_position.get(source, 0)
            if committed < seen:
                raise RuntimeError(f"replay source {source!r} shrank from {seen} to {committed} committed steps: "
                                   "the store was replaced or truncated; start the learner with a new checkpoint_dir")
            new += committed - seen
            self.replay_position[source] = committed
        self.env_steps += new
        return new

    def iterate(self, budget_s: float | None = None) -> int:
        """One round: look for new data, run up to ``UPDATES_PER_ROUND`` owed updates, hand over weights
        and checkpoint when due. Returns the number of updates run (0 = idle: nothing owed).

        ``budget_s`` ends the round's updates once it has taken that long (one process only: the ranks of
        a distributed run must agree on the count), so a caller with other work gets control back.
        """
        deadline = None if budget_s is None or self.dist.enabled else time.monotonic() + budget_s
        if self.dist.is_main:
            self._count_new_data()
            todo, bc_todo = self.owed_updates(), self.owed_bc_updates()
            if self.max_updates is not None:
                todo = min(todo, self.max_updates - self.updates)
            todo = 0 if bc_todo else max(0, min(todo, UPDATES_PER_ROUND))  # the warm start comes first
        else:
            self.sampler.refresh()
            todo = bc_todo = 0
        todo, bc_todo, env_steps = distributed.broadcast_ints([todo, bc_todo, self.env_steps], self.dist,
                                                              self.device)
        self.env_steps = env_steps
        if distributed.any_rank(self._stop_requested, self.dist, self.device):
            self._stopped = True  # every rank leaves in the same round
            return 0
        ran = 0
        for update in [self._bc_update_once] * bc_todo + [self._update_once] * todo:
            update()
            ran += 1
            if deadline is not None and time.monotonic() >= deadline:
                break
        now = time.monotonic()
        if self.updates > self._weights_updates and now - self._last_weights >= self.cfg.weights_every_s:
            self.publish_weights()
        if now - self._last_checkpoint >= self.cfg.checkpoint_every_s:
            self.checkpoint()
        return ran

    def owed_bc_updates(self) -> int:
        """Warm-start imitation updates still due (``learner.bc_pretrain_updates``), at most a round's worth."""
        if self.env_steps < max(self.cfg.learning_starts, 1) or self.updates > 0:
            return 0
        return max(0, min(self.cfg.bc_pretrain_updates - self.bc_updates, UPDATES_PER_ROUND))

    def _bc_update_once(self) -> None:
        batch = to_torch(self.sampler.sample(self.cfg.batch_size), self.device)
        reduce = (lambda grads: distributed.all_reduce_mean(grads, self.dist)) if self.dist.enabled else None
        metrics = self.sac.bc_update(batch, reduce_gradients=reduce)
        self.bc_updates += 1
        if self.bc_updates == self.cfg.bc_pretrain_updates:
            self.sac.freeze_reference()
        if self.dist.is_main and self.bc_updates % self.cfg.log_every_updates == 0:
            self.logger.accumulate(metrics)

    def _update_once(self) -> None:
        start = time.perf_counter()
        batch = to_torch(self.sampler.sample(self.cfg.batch_size), self.device)
        self._sample_s += time.perf_counter() - start
        update_actor = self.updates % self.cfg.critic_actor_ratio == 0
        reduce = (lambda grads: distributed.all_reduce_mean(grads, self.dist)) if self.dist.enabled else None
        metrics = self.sac.update(batch, update_actor=update_actor, reduce_gradients=reduce)
        self.updates += 1
        self.actor_updates += int(update_actor)
        self._window_updates += 1
        if self.dist.is_main:
            self.logger.accumulate(metrics)
            self.logger.advance(1)
            if self.updates % self.cfg.log_every_updates == 0:
                self._write_metrics()

    def _write_metrics(self) -> dict[str, float]:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        elapsed = max(time.monotonic() - self._window_start, 1e-9)
        n = max(self._window_updates, 1)
        extra = {"charts/updates_per_s": self._window_updates / elapsed, "charts/sample_ms": 1e3 * self._sample_s / n,
                 "charts/update_ms": 1e3 * (elapsed - self._sample_s) / n,
                 "charts/sample_time_fraction": self._sample_s / elapsed, "replay/env_steps": float(self.env_steps),
                 **{f"replay/steps/{source}": float(v) for source, v in self.replay_position.items()}}
        per_bucket = getattr(self.sampler, "transitions_per_source", None)  # optional: the store sampler has it
        if callable(per_bucket):
            extra.update({f"replay/transitions/{bucket}": float(n) for bucket, n in per_bucket().items()})
        self._window_start, self._window_updates, self._sample_s = time.monotonic(), 0, 0.0
        return self.logger.write(self.updates, extra)

    def request_stop(self) -> None:
        """Stop after the current round (safe from a signal handler)."""
        self._stop_requested = True

    def done(self) -> bool:
        return self._stopped or (self.max_updates is not None and self.updates >= self.max_updates)

    def run(self, stop_when_idle: bool = False, max_seconds: float | None = None) -> None:
        """Train until stopped (SIGINT/SIGTERM, ``max_updates``, ``max_seconds``, or idle if asked), then
        write a final checkpoint and weights."""
        deadline = None if max_seconds is None else time.monotonic() + max_seconds
        previous = _install_stop_handlers(self.request_stop)
        try:
            if self.resumed_from is not None:
                self.logger.message(f"resumed from {self.resumed_from}: {self.counters()}")
            while not self.done():
                ran = self.iterate()
                if deadline is not None and time.monotonic() >= deadline:
                    self.request_stop()
                if ran == 0 and not self.done():
                    if stop_when_idle:
                        break
                    time.sleep(self.cfg.poll_s)
        finally:
            _restore_handlers(previous)
        self.finish()

    def finish(self) -> None:
        """Final weights and checkpoint; close the logs."""
        if self.updates > self._weights_updates:
            self.publish_weights()
        self.checkpoint()
        self.logger.close()


def _plain(obj: Any) -> Any:
    from dataclasses import asdict, is_dataclass

    return asdict(obj) if is_dataclass(obj) and not isinstance(obj, type) else obj


Handler = Callable[[int, FrameType | None], Any] | int | None


def _install_stop_handlers(stop: Callable[[], None]) -> dict[int, Handler]:
    import threading

    if threading.current_thread() is not threading.main_thread():
        return {}
    previous: dict[int, Handler] = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.getsignal(sig)
        signal.signal(sig, lambda *_: stop())
    return previous


def _restore_handlers(previous: dict[int, Handler]) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)
