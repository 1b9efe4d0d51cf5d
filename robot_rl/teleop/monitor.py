"""The operator's view of a session: episodes, success and intervention rates, learner progress.

``SessionMonitor`` is fed what the graph says (``episode/status``, ``teleop/intervening``,
``teleop/demo``, the teleop device's health, the learner's counters, the weights version the policy
server uses) and one ``tick`` per control period; it keeps one ``EpisodeRecord`` per ended episode, formats a one-line status for
the terminal and, at the end of a session, writes a PNG plot of success and intervention rate per
episode with a JSON summary beside it. No ROS here: the ``monitor`` node only forwards messages.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ENDS = ("success", "failure", "timeout")


@dataclass
class EpisodeRecord:
    index: int  # episodes seen in this session, from 1
    outcome: str  # success | failure | timeout
    steps: int  # control ticks while running
    intervention_steps: int  # ...of which the operator was in control
    demo: bool  # a whole demonstration (not counted in the policy's rates)
    weights_version: int  # weights the policy server used when the episode ended

    @property
    def intervention_rate(self) -> float:
        return self.intervention_steps / self.steps if self.steps else 0.0


@dataclass
class SessionMonitor:
    window: int = 10  # episodes in the rolling rates of the status line and the plot
    session_mode: str = "guided"  # teleop.mode: demo | replay | return_explore | guided
    device: str = ""  # the teleop device (teleop.device)
    device_healthy: bool | None = None  # None until the intervention node reported
    device_problem: str = ""  # why the device is unhealthy
    episodes: list[EpisodeRecord] = field(default_factory=list)
    status: str = "idle"
    intervening: bool = False
    demo: bool = False
    learner_updates: int = 0
    learner_env_steps: int = 0
    learner_weights_version: int = -1
    policy_weights_version: int = -1
    weights_versions_seen: list[int] = field(default_factory=list)  # versions the policy server loaded, in order
    _steps: int = 0
    _intervention_steps: int = 0
    _episode_demo: bool = False
    _started: int = 0

    # -- inputs ------------------------------------------------------------------------------------

    def on_status(self, status: str) -> EpisodeRecord | None:
        """An ``episode/status`` value; returns the record of an episode that just ended."""
        previous, self.status = self.status, status
        if status == previous:
            return None
        if status == "running":
            self._started += 1
            self._steps = self._intervention_steps = 0
            self._episode_demo = self.demo
            return None
        if status in ENDS and previous == "running":
            record = EpisodeRecord(index=self._started, outcome=status, steps=self._steps,
                                   intervention_steps=self._intervention_steps, demo=self._episode_demo,
                                   weights_version=self.policy_weights_version)
            self.episodes.append(record)
            return record
        return None

    def on_demo(self, demo: bool) -> None:
        self.demo = demo
        if demo and self.status == "running":
            self._episode_demo = True

    def on_device(self, healthy: bool, problem: str = "", device: str = "") -> None:
        """The intervention node's report on its device (/diagnostics)."""
        self.device_healthy, self.device_problem = healthy, "" if healthy else problem
        self.device = device or self.device

    def on_policy_weights(self, version: int) -> None:
        if version != self.policy_weights_version:
            self.policy_weights_version = version
            self.weights_versions_seen.append(version)

    def on_learner(self, updates: int, env_steps: int, weights_version: int) -> None:
        self.learner_updates, self.learner_env_steps = updates, env_steps
        self.learner_weights_version = weights_version

    def tick(self) -> None:
        """One control period: count it (and whether the operator was in control) while running."""
        if self.status == "running":
            self._steps += 1
            self._intervention_steps += int(self.intervening)

    # -- views -------------------------------------------------------------------------------------

    def policy_episodes(self) -> list[EpisodeRecord]:
        """Episodes the policy took part in (demonstrations excluded)."""
        return [e for e in self.episodes if not e.demo]

    def rates(self, last: int | None = None) -> tuple[float, float]:
        """(success rate, intervention rate) over the policy's last ``last`` episodes (all when None)."""
        episodes = self.policy_episodes()
        episodes = episodes[-last:] if last else episodes
        if not episodes:
            return 0.0, 0.0
        success = sum(e.outcome == "success" for e in episodes) / len(episodes)
        steps = sum(e.steps for e in episodes)
        return success, (sum(e.intervention_steps for e in episodes) / steps if steps else 0.0)

    def status_line(self) -> str:
        n = len(self.policy_episodes())
        success, interventions = self.rates(self.window)
        demos = len(self.episodes) - n
        control = "demo" if self.demo and self.status == "running" else ("HUMAN" if self.intervening else "policy")
        return (f"[{self.session_mode}] ep {self._started} {self.status} ({control}) | policy episodes {n} "
                f"(+{demos} demos): success {success:.0%}, interventions {interventions:.0%} (last {self.window}) | "
                f"{self.device_line()} | learner {self.learner_updates} updates, {self.learner_env_steps} steps, "
                f"weights v{self.learner_weights_version} | policy on v{self.policy_weights_version} "
                f"({max(len(self.weights_versions_seen) - 1, 0)} swaps)")

    def device_line(self) -> str:
        name = self.device or "device"
        if self.device_healthy is None:
            return f"{name} not reported"
        return f"{name} ok" if self.device_healthy else f"{name} UNHEALTHY: {self.device_problem}"

    def episode_line(self, record: EpisodeRecord) -> str:
        kind = "demo" if record.demo else f"interventions {record.intervention_rate:.0%}"
        return (f"episode {record.index}: {record.outcome} in {record.steps} steps ({kind}, "
                f"weights v{record.weights_version})")

    def summary(self) -> dict[str, Any]:
        success, interventions = self.rates()
        return {"session_mode": self.session_mode, "episodes": len(self.episodes),
                "policy_episodes": len(self.policy_episodes()),
                "success_rate": success, "intervention_rate": interventions,
                "learner_updates": self.learner_updates, "learner_env_steps": self.learner_env_steps,
                "weights_versions_loaded": list(self.weights_versions_seen),
                "per_episode": [asdict(e) for e in self.episodes]}

    def write_report(self, directory: str | Path, stem: str) -> tuple[Path, Path] | None:
        """``<stem>.png`` (success and intervention rate per episode) and ``<stem>.json``; None without episodes."""
        if not self.episodes:
            return None
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        png, summary = out / f"{stem}.png", out / f"{stem}.json"
        summary.write_text(json.dumps(self.summary(), indent=2))
        plot_episodes(self.episodes, png, self.window, title=f"{self.session_mode} session")
        return png, summary


def rolling(values: Sequence[float], window: int) -> list[float]:
    return [sum(values[max(0, i + 1 - window):i + 1]) / len(values[max(0, i + 1 - window):i + 1])
            for i in range(len(values))]


def plot_episodes(episodes: Sequence[EpisodeRecord], path: Path, window: int, title: str = "") -> None:
    """Success (rolling mean) and intervention rate per episode; demonstrations shaded."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = [e.index for e in episodes]
    success = rolling([float(e.outcome == "success") for e in episodes], window)
    interventions = [e.intervention_rate for e in episodes]
    fig, ax = plt.subplots(figsize=(8, 4))
    for e in episodes:
        if e.demo:
            ax.axvspan(e.index - 0.5, e.index + 0.5, color="0.9", lw=0)
    ax.plot(x, success, "o-", label=f"success rate (last {window})")
    ax.plot(x, interventions, "s--", label="intervention rate (share of steps)")
    ax.set_xlabel("episode (grey: demonstration)")
    ax.set_ylim(-0.05, 1.05)
    ax.legend(loc="best")
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
