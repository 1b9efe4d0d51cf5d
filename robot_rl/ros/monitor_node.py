"""monitor: the session's status line on the console, and a plot of it when the graph shuts down.

| topic (relative) | type | QoS | |
|---|---|---|---|
| episode/status (sub) | std_msgs/String | LATCHED_EVERY_CHANGE | episode boundaries and outcomes |
| teleop/intervening, teleop/demo (sub) | std_msgs/Bool | LATCHED | who is in control |
| policy/weights_version (sub) | std_msgs/String JSON {version, ...} | LATCHED | weights the policy server uses |
| /diagnostics (sub) | diagnostic_msgs/DiagnosticArray | EVENTS | the learner's updates, env_steps, weights_version; the intervention node's device health |

Prints one line per ended episode and a status line every STATUS_PERIOD_S of wall time; on shutdown
writes ``<run_dir>/monitor/session-<time>.png`` (success and intervention rate per episode) and a
``.json`` summary. Steps are counted on the control-rate timer (the sim clock under /clock). All
bookkeeping is in ``robot_rl.teleop.monitor.SessionMonitor``.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from diagnostic_msgs.msg import DiagnosticArray
from rclpy.clock import Clock, ClockType
from std_msgs.msg import Bool, String

from robot_rl.ros import qos
from robot_rl.ros.diagnostics import OK
from robot_rl.ros.node_base import IN_FLIGHT_S, RobotRLNode, run_node
from robot_rl.teleop.monitor import SessionMonitor

STATUS_PERIOD_S = 5.0  # wall seconds between status lines


class MonitorNode(RobotRLNode):
    def __init__(self) -> None:
        super().__init__("monitor", hardware_id="console")
        self.monitor = SessionMonitor(session_mode=self.settings.teleop.mode, device=self.settings.teleop.device)
        self.stem = time.strftime("session-%Y%m%d-%H%M%S")
        sub = self.create_subscription
        sub(String, "episode/status", self.on_status, qos.LATCHED_EVERY_CHANGE)
        sub(Bool, "teleop/intervening", lambda m: setattr(self.monitor, "intervening", bool(m.data)), qos.LATCHED)
        sub(Bool, "teleop/demo", lambda m: self.monitor.on_demo(bool(m.data)), qos.LATCHED)
        sub(String, "policy/weights_version", self.on_weights_version, qos.LATCHED)
        sub(DiagnosticArray, "/diagnostics", self.on_diagnostics, qos.EVENTS)
        self.create_timer(1.0 / self.settings.robot.control_hz, self.monitor.tick)
        self.create_timer(STATUS_PERIOD_S, self.print_status, clock=Clock(clock_type=ClockType.STEADY_TIME))
        self.diagnostics.report(OK, "watching")

    def on_status(self, msg: String) -> None:
        record = self.monitor.on_status(msg.data)
        if record is not None:
            self.get_logger().info(self.monitor.episode_line(record))
            self.print_status()

    def on_weights_version(self, msg: String) -> None:
        try:
            self.monitor.on_policy_weights(int(json.loads(msg.data)["version"]))
        except (ValueError, KeyError, TypeError):
            self.get_logger().warning(f"unreadable policy/weights_version: {msg.data!r}")

    def on_diagnostics(self, msg: DiagnosticArray) -> None:
        for status in msg.status:
            if status.name.split("/")[-1] == "intervention":
                healthy = {v.key: v.value for v in status.values}.get("healthy")
                if healthy is not None:
                    was = self.monitor.device_healthy
                    self.monitor.on_device(healthy == "True", status.message)
                    if was is not None and was != self.monitor.device_healthy:
                        self.print_status()  # the operator learns of a dead device at once, not in 5 s
            if status.name.split("/")[-1] == "learner":
                values = {v.key: v.value for v in status.values}
                try:
                    self.monitor.on_learner(int(values.get("updates", 0)), int(values.get("env_steps", 0)),
                                            int(values.get("weights_version", -1)))
                except ValueError:
                    pass

    def print_status(self) -> None:
        line = self.monitor.status_line()
        print(line, flush=True)
        success, interventions = self.monitor.rates(self.monitor.window)
        self.diagnostics.set_values(episodes=len(self.monitor.episodes), success_rate=round(success, 3),
                                    intervention_rate=round(interventions, 3))

    def destroy_node(self) -> None:
        written = self.monitor.write_report(Path(self.settings.run_dir) / "monitor", self.stem)
        if written is not None:
            print(f"session: {json.dumps({k: v for k, v in self.monitor.summary().items() if k != 'per_episode'})}",
                  flush=True)
            print(f"session plot: {written[0]}", flush=True)
        super().destroy_node()


def main(args: list[str] | None = None) -> int:
    return run_node(MonitorNode, args, drain_s=IN_FLIGHT_S)  # counts the episode ends the replay writer commits


if __name__ == "__main__":
    raise SystemExit(main())
