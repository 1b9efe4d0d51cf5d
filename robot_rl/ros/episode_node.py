"""episode: owns the episode state machine, publishes episode boundaries for the replay writer.

| topic / service (relative) | type | QoS | |
|---|---|---|---|
| episode/status (pub) | String | LATCHED | exactly one of idle, running, success, failure, timeout, resetting |
| episode/start, reset, mark_success, mark_failure (srv) | Trigger | | refused with a reason when invalid |
| episode.success_topics (sub): success, robot/success | Bool | SENSOR | True ends a running episode: success (once the topic said False in it) |
| robot/reset (client) | Trigger | | called on reset, retried while refused, until episode.reset_timeout_s |

With ``episode.reset_on_start`` (and ``auto_start``: unattended simulation) the node resets once at
start-up, so the first episode starts on its own from a reset scene, like every later one.

Consecutive statuses are published at least STATUS_GAP_S apart, and subscribers queue what arrives while
they are busy (``qos.LATCHED_EVERY_CHANGE``): the publisher keeps only the newest status for late joiners,
so a subscriber with a depth of 1 could see an end replaced by the next status before it took it.
All rules are in ``robot_rl.teleop.EpisodeMachine``; time is ROS time (simulated seconds under /clock).
"""
from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from rclpy.task import Future
from std_msgs.msg import Bool, String
from std_srvs.srv import Trigger

from robot_rl.ros import qos
from robot_rl.ros.diagnostics import ERROR, OK
from robot_rl.ros.node_base import RobotRLNode, run_node
from robot_rl.teleop import EpisodeError, EpisodeMachine, EpisodeState
from robot_rl.teleop.episode import ENDED

STATUS_GAP_S = 0.05  # s between two consecutive episode/status messages
RESET_RETRY_S = 0.5  # s between robot/reset attempts while the robot refuses (e.g. still moving)


class EpisodeNode(RobotRLNode):
    def __init__(self) -> None:
        super().__init__("episode")
        self.episode_cfg = self.settings.episode
        self.machine = EpisodeMachine(time_limit_s=self.episode_cfg.time_limit_s,
                                      auto_start=self.episode_cfg.auto_start)
        self.status_pub = self.create_publisher(String, "episode/status", qos.LATCHED)
        self.pending: deque[str] = deque()
        self.last_publish = -1e9
        self.ended_at: float | None = None
        self.reset_started = 0.0
        self.reset_future: Future[Any] | None = None
        self.next_reset_try = 0.0
        self.reset_message = ""
        self.success_armed: set[str] = set()  # success topics that said False since the episode started
        self.started_up = False  # the first reset (auto_reset and auto_start) was requested
        self.reset_client: Any = self.create_client(Trigger, "robot/reset")
        for name, handler in (("start", self.on_start), ("reset", self.on_reset),
                              ("mark_success", self.on_mark_success), ("mark_failure", self.on_mark_failure)):
            self.create_service(Trigger, f"episode/{name}", handler)
        for topic in self.episode_cfg.success_topics:
            self.create_subscription(Bool, topic, lambda m, t=topic: self.on_success_signal(t, m), qos.SENSOR)
        self.create_timer(1.0 / self.settings.robot.control_hz, self.tick)
        self.announce(self.machine.state)

    def now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def on_start(self, request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        return self.request(response, lambda: self.machine.start(self.now()))

    def on_mark_success(self, request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        return self.request(response, self.machine.mark_success)

    def on_mark_failure(self, request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        return self.request(response, self.machine.mark_failure)

    def on_reset(self, request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        response = self.request(response, self.begin_reset)
        if response.success:
            response.message += ": calling robot/reset, watch episode/status"
        return response

    def request(self, response: Trigger.Response, transition: Callable[[], EpisodeState]) -> Trigger.Response:
        try:
            state = transition()
        except EpisodeError as err:
            self.get_logger().warning(str(err))
            response.success, response.message = False, str(err)
            return response
        self.announce(state)
        response.success, response.message = True, f"episode {self.machine.episode}: {state.value}"
        return response

    def on_success_signal(self, topic: str, msg: Bool) -> None:
        # A topic counts only after it said False in this episode: a True sent just before the reset
        # (the last episode's success, still in flight) must not end the new episode at its first step.
        if not msg.data:
            self.success_armed.add(topic)
        elif topic in self.success_armed and self.machine.state is EpisodeState.RUNNING:
            self.announce(self.machine.mark_success())

    def begin_reset(self) -> EpisodeState:
        state = self.machine.begin_reset()
        self.reset_started, self.next_reset_try, self.reset_future = self.now(), 0.0, None
        self.reset_message = "robot/reset is not offered: is the sim_robot node or the hardware driver running?"
        return state

    def tick(self) -> None:
        now = self.now()
        changed = self.machine.tick(now)
        if changed is not None:
            self.announce(changed)
        if self.machine.state is EpisodeState.RESETTING:
            self.drive_reset(now)
        elif (self.machine.state in ENDED and self.episode_cfg.auto_reset and self.ended_at is not None
              and now > self.ended_at):  # one tick after the end, so the end is announced first
            self.announce(self.begin_reset())
        elif (self.machine.state is EpisodeState.IDLE and self.machine.episode == 0 and not self.started_up
              and self.episode_cfg.reset_on_start):
            self.started_up = True  # unattended: the first episode starts from a reset scene, like every other
            self.announce(self.begin_reset())
        self.flush()

    def drive_reset(self, now: float) -> None:
        if self.reset_future is not None and self.reset_future.done():
            result: Any = self.reset_future.result()
            self.reset_future = None
            if result is not None and result.success:
                self.announce_reset(self.machine.finish_reset(True, now))
                return
            self.reset_message = f"robot/reset refused: {getattr(result, 'message', 'no answer')}"
            self.next_reset_try = now + RESET_RETRY_S
        if now - self.reset_started > self.episode_cfg.reset_timeout_s:
            self.reset_future = None
            self.announce_reset(self.machine.finish_reset(False, now, self.reset_message))
        elif self.reset_future is None and now >= self.next_reset_try and self.reset_client.service_is_ready():
            self.reset_future = self.reset_client.call_async(Trigger.Request())

    def announce_reset(self, state: EpisodeState) -> None:
        if self.machine.last_reset_error:
            self.get_logger().error(f"reset failed: {self.machine.last_reset_error}")
        if state is EpisodeState.RUNNING:
            self.announce(EpisodeState.IDLE)
        self.announce(state)

    def announce(self, state: EpisodeState) -> None:
        if state is EpisodeState.RUNNING:
            self.success_armed.clear()
        self.ended_at = self.now() if state in ENDED else None
        self.pending.append(state.value)
        self.get_logger().info(f"episode {self.machine.episode}: {state.value}")
        outcomes = self.machine.history
        values = dict(state=state.value, episode=self.machine.episode,
                      successes=outcomes.count(EpisodeState.SUCCESS), failures=outcomes.count(EpisodeState.FAILURE),
                      timeouts=outcomes.count(EpisodeState.TIMEOUT))
        if self.machine.last_reset_error:
            self.diagnostics.report(ERROR, f"reset failed: {self.machine.last_reset_error}", **values)
        else:
            self.diagnostics.report(OK, f"episode {self.machine.episode}: {state.value}", **values)
        self.flush()

    def flush(self) -> None:
        now = self.now()
        if self.pending and now - self.last_publish >= STATUS_GAP_S:
            self.status_pub.publish(String(data=self.pending.popleft()))
            self.last_publish = now


def main(args: list[str] | None = None) -> None:
    raise SystemExit(run_node(EpisodeNode, args))


if __name__ == "__main__":
    main()
