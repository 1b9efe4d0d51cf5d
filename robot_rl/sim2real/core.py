"""The three comparisons of ``robot-rl sim2real`` over the episodes of one replay group.

Open loop (a): the simulator is reset, the cube put where the episode's metadata says it was
(``initial_cube_position``, written by the replay writer from ``sim/cube_pose`` or by
``robot_rl.sim.session``; without it the cube stays where the simulator's reset puts it), and each
recorded executed action (action units x the group's ``action_scale``) is applied for one control
period. Step ``i``'s recorded state is compared with the simulator's before action ``i``.

Policy (b): each recorded observation (images, state) goes through the checkpoint's actor
(deterministic); its action is compared with the recorded policy proposal where one was recorded,
else with the executed action.

Images (c): every ``image_every``-th step of the open-loop replay the simulator renders its cameras;
mean colour, contrast and the mean absolute difference to the recorded frame are reported.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from robot_rl.config.schema import RobotRLConfig
from robot_rl.replay.store import (
    array,
    episode_metadata,
    episode_starts,
    group_names,
    open_group,
    open_root,
    read_episode_ends,
)
from robot_rl.sim2real.config import Sim2RealConfig


class Sim2RealError(ValueError):
    """The recording cannot be replayed (no episodes, foreign cameras, ...); the message says why."""


@dataclass
class RecordedEpisode:
    index: int
    state: npt.NDArray[np.float32]  # (T, S)
    action: npt.NDArray[np.float32]  # (T, A) executed, action units
    policy_action: npt.NDArray[np.float32]  # (T, A), NaN where the policy proposed nothing
    images: dict[str, npt.NDArray[np.uint8]]  # camera -> (T, H, W, 3)
    success: bool  # the recording ended in success (terminated with a positive reward)
    metadata: dict[str, Any]


@dataclass
class EpisodeReport:
    index: int
    steps: int
    recorded_success: bool
    replayed_success: bool
    ee_rmse_m: float
    ee_max_m: float
    ee_final_m: float
    cube_from_metadata: bool
    action_error: float | None = None  # mean |checkpoint - recorded| over the compared steps
    action_compared_with: str = ""  # policy_action | action
    image: dict[str, dict[str, float]] = field(default_factory=dict)  # camera -> statistics
    failures: list[str] = field(default_factory=list)
    ee_recorded: list[list[float]] = field(default_factory=list, repr=False)
    ee_replayed: list[list[float]] = field(default_factory=list, repr=False)


@dataclass
class Sim2RealReport:
    location: str
    group: str
    config: dict[str, Any]
    episodes: list[EpisodeReport]

    @property
    def passed(self) -> bool:
        return bool(self.episodes) and not any(e.failures for e in self.episodes)

    def summary(self) -> dict[str, Any]:
        eps = self.episodes
        worst_image = max((s["mad"] for e in eps for s in e.image.values()), default=None)
        errors = [e.action_error for e in eps if e.action_error is not None]
        return {"passed": self.passed, "episodes": len(eps),
                "ee_rmse_m_max": max((e.ee_rmse_m for e in eps), default=None),
                "ee_rmse_m_mean": float(np.mean([e.ee_rmse_m for e in eps])) if eps else None,
                "outcome_matches": sum(e.recorded_success == e.replayed_success for e in eps),
                "action_error_max": max(errors) if errors else None,
                "image_mad_max": worst_image,
                "failures": {e.index: e.failures for e in eps if e.failures}}


def load_episodes(location: str, group: str = "", last: int = 0) -> tuple[str, Any, list[RecordedEpisode]]:
    """The committed episodes of one group (the only one, or ``group``); the last ``last`` when > 0."""
    root = open_root(location)
    names = group_names(root)
    if not group:
        if len(names) != 1:
            raise Sim2RealError(f"{location} holds groups {names}: choose one with --group")
        group = names[0]
    zgroup, info = open_group(root, group)
    ends = read_episode_ends(zgroup)
    if ends.size == 0:
        raise Sim2RealError(f"{location}::{group} has no committed episodes to replay")
    starts = episode_starts(ends)
    indices = list(range(ends.size))[-last:] if last else list(range(ends.size))
    episodes = []
    for i in indices:
        a, b = int(starts[i]), int(ends[i])
        read = lambda key: np.asarray(array(zgroup, key)[a:b])  # noqa: E731
        reward, terminated = read("data/reward"), read("data/terminated")
        episodes.append(RecordedEpisode(
            index=i, state=read("data/state"), action=read("data/action"), policy_action=read("data/policy_action"),
            images={c: read(f"data/images/{c}") for c in info.camera_names},
            success=bool(terminated[-1] and reward.max() >= 0.5), metadata=episode_metadata(zgroup, i)))
    return group, info, episodes


def image_statistics(recorded: list[npt.NDArray[np.uint8]], simulated: list[npt.NDArray[np.uint8]]) -> dict[str, float]:
    """Mean colour and contrast of both, mean absolute difference and PSNR between them (0..255 scale)."""
    rec = np.stack(recorded).astype(np.float32)
    sim = np.stack(simulated).astype(np.float32)
    mse = float(np.mean((rec - sim) ** 2))
    stats = {"frames": float(len(recorded)), "mad": float(np.mean(np.abs(rec - sim))),
             "psnr_db": float(10 * np.log10(255.0 ** 2 / mse)) if mse > 0 else float("inf"),
             "recorded_mean": float(rec.mean()), "simulated_mean": float(sim.mean()),
             "recorded_std": float(rec.std()), "simulated_std": float(sim.std())}
    for c, name in enumerate("rgb"):
        stats[f"recorded_mean_{name}"] = float(rec[..., c].mean())
        stats[f"simulated_mean_{name}"] = float(sim[..., c].mean())
    return stats


def replay_open_loop(episode: RecordedEpisode, sim: Any, scale: npt.NDArray[np.float32], image_size: int,
                     image_every: int) -> tuple[npt.NDArray[np.float64], bool, dict[str, dict[str, float]], bool]:
    """(replayed ee positions before each action, reached success, image statistics, cube from metadata)."""
    from robot_rl.sim.session import _fit, command_from_action

    sim.reset(force=True)
    cube = episode.metadata.get("initial_cube_position")
    if cube is not None:
        sim.place_cube(cube)
    positions, success = [], False
    recorded: dict[str, list[npt.NDArray[np.uint8]]] = {c: [] for c in episode.images}
    simulated: dict[str, list[npt.NDArray[np.uint8]]] = {c: [] for c in episode.images}
    for i, action in enumerate(episode.action):
        positions.append(sim.observe().ee_position.copy())
        if image_every and i % image_every == 0:
            frames = sim.render()
            for camera in episode.images:
                recorded[camera].append(episode.images[camera][i])
                simulated[camera].append(_fit(frames[camera], image_size))
        sim.command(command_from_action(action, scale))
        sim.step()
        success = success or sim.success()
    stats = {c: image_statistics(recorded[c], simulated[c]) for c in episode.images if recorded[c]}
    return np.array(positions), success, stats, cube is not None


def policy_actions(episode: RecordedEpisode, runner: Any) -> npt.NDArray[np.float32]:
    """The checkpoint's deterministic action for every recorded observation (T, 7)."""
    out = []
    for i in range(len(episode.action)):
        act = runner.act({c: frames[i] for c, frames in episode.images.items()}, episode.state[i])
        out.append(np.append(act.twist, act.gripper))
    return np.asarray(out, dtype=np.float32)


def compare_actions(ours: npt.NDArray[np.float32], episode: RecordedEpisode) -> tuple[float, str]:
    """Mean absolute action difference against the recorded policy proposals (or the executed actions)."""
    proposed = ~np.isnan(episode.policy_action).any(axis=1)
    if proposed.any():
        return float(np.mean(np.abs(ours[proposed] - episode.policy_action[proposed]))), "policy_action"
    return float(np.mean(np.abs(ours - episode.action))), "action"


def run_sim2real(location: str, settings: RobotRLConfig, config: Sim2RealConfig, group: str = "",
                 checkpoint: str = "") -> Sim2RealReport:
    """Replay the recording against the simulator ``settings`` describe (and the checkpoint, if given)."""
    import robot_rl.sim  # noqa: F401  (headless OpenGL before MuJoCo loads)
    from robot_rl.sim.pick_cube import PickCubeSim

    group, info, episodes = load_episodes(location, group, config.episodes)
    missing = [c for c in info.camera_names if c not in settings.sim.cameras]
    if missing:
        raise Sim2RealError(f"recorded cameras {missing} have no simulated camera: map them in sim.cameras")
    if abs(info.control_hz - settings.robot.control_hz) > 1e-6:
        raise Sim2RealError(f"recorded at {info.control_hz} Hz, the simulator steps at {settings.robot.control_hz} Hz: "
                            f"pass robot.control_hz={info.control_hz}")
    scale = np.asarray(info.action_scale or [settings.policy.max_linear_speed] * 3
                       + [settings.policy.max_angular_speed] * 3 + [1.0], dtype=np.float32)
    runner = None
    if checkpoint:
        from robot_rl.models.weights import WeightsInfo
        from robot_rl.policy.runner import PolicyRunner

        runner = PolicyRunner(settings.policy.model, list(info.camera_names), info.image_size[0], device="cpu",
                              deterministic=True, seed=settings.policy.seed)
        runner.load_now(WeightsInfo(version=0, path=checkpoint, sha256=""))
    sim = PickCubeSim(settings.sim, settings.robot, info.camera_names, render=config.image_every > 0)
    reports = []
    try:
        for episode in episodes:
            replayed, success, images, cube_known = replay_open_loop(episode, sim, scale, info.image_size[0],
                                                                     config.image_every)
            recorded = episode.state[:, :3].astype(np.float64)
            error = np.linalg.norm(replayed - recorded, axis=1)
            report = EpisodeReport(index=episode.index, steps=len(error), recorded_success=episode.success,
                                   replayed_success=success, ee_rmse_m=float(np.sqrt(np.mean(error ** 2))),
                                   ee_max_m=float(error.max()), ee_final_m=float(error[-1]),
                                   cube_from_metadata=cube_known, image=images,
                                   ee_recorded=recorded.tolist(), ee_replayed=replayed.tolist())
            if runner is not None:
                report.action_error, report.action_compared_with = compare_actions(policy_actions(episode, runner),
                                                                                    episode)
            report.failures = gate(report, config)
            reports.append(report)
    finally:
        sim.close()
        if runner is not None:
            runner.close()
    return Sim2RealReport(location=location, group=group, config=vars(config).copy(), episodes=reports)


def gate(report: EpisodeReport, config: Sim2RealConfig) -> list[str]:
    """Why this episode fails the configured thresholds ([] = it passes)."""
    failures = []
    if report.ee_rmse_m > config.max_ee_rmse_m:
        failures.append(f"ee trajectory RMSE {report.ee_rmse_m * 1000:.1f} mm > {config.max_ee_rmse_m * 1000:.1f} mm")
    if config.require_outcome and report.cube_from_metadata and report.recorded_success != report.replayed_success:
        failures.append(f"outcome differs: recorded {'success' if report.recorded_success else 'no success'}, "
                        f"replayed {'success' if report.replayed_success else 'no success'}")
    if report.action_error is not None and report.action_error > config.max_action_error:
        failures.append(f"policy action error {report.action_error:.3f} > {config.max_action_error}")
    for camera, stats in report.image.items():
        if stats["mad"] > config.max_image_mad:
            failures.append(f"camera {camera}: mean abs pixel difference {stats['mad']:.1f} > {config.max_image_mad}")
    return failures
