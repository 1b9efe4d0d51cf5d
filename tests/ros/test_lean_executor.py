"""LeanExecutor on a real DDS graph: every kind of entity is served as rclpy's SingleThreadedExecutor serves it."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, cast

import pytest
import rclpy
from lifecycle_msgs.msg import Transition
from lifecycle_msgs.srv import ChangeState
from rclpy.context import Context
from rclpy.executors import ExternalShutdownException
from rclpy.lifecycle import LifecycleNode, State, TransitionCallbackReturn
from rclpy.node import Node
from rclpy.serialization import deserialize_message
from rclpy.timer import TimerInfo
from std_msgs.msg import String
from std_srvs.srv import Trigger

from robot_rl.ros.lean_executor import LeanExecutor

DEPTH_10 = 10  # reliable, keep the last 10: every message of a burst is delivered


@pytest.fixture
def graph() -> Iterator[tuple[Node, LeanExecutor]]:
    context = Context()
    rclpy.init(context=context)
    node = Node("lean_executor_test", context=context)
    executor = LeanExecutor(context=context)
    executor.add_node(node)
    yield node, executor
    executor.shutdown()
    node.destroy_node()
    rclpy.try_shutdown(context=context)


def spin_until(executor: LeanExecutor, condition: Callable[[], bool], what: str, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        executor.spin_once(timeout_sec=0.05)


def test_typed_raw_and_message_info_subscriptions_receive_every_message(graph: tuple[Node, LeanExecutor]) -> None:
    node, executor = graph
    typed: list[str] = []
    raw: list[bytes] = []
    with_info: list[tuple[str, Any]] = []
    node.create_subscription(String, "chatter", lambda m: typed.append(m.data), DEPTH_10)
    node.create_subscription(String, "chatter", raw.append, DEPTH_10, raw=True)
    node.create_subscription(String, "chatter", lambda m, info: with_info.append((m.data, info)), DEPTH_10)
    publisher = node.create_publisher(String, "chatter", DEPTH_10)
    spin_until(executor, lambda: publisher.get_subscription_count() == 3, "discovery")
    for i in range(5):
        publisher.publish(String(data=f"m{i}"))
    spin_until(executor, lambda: len(typed) == len(raw) == len(with_info) == 5, "5 messages on each subscription")
    expected = [f"m{i}" for i in range(5)]
    assert typed == expected
    assert [deserialize_message(r, String).data for r in raw] == expected
    assert [m for m, _ in with_info] == expected
    assert all(info["source_timestamp"] > 0 for _, info in with_info)


def test_timers_fire_with_and_without_timer_info(graph: tuple[Node, LeanExecutor]) -> None:
    node, executor = graph
    plain: list[float] = []
    infos: list[TimerInfo] = []

    def with_info(info: TimerInfo) -> None:
        infos.append(info)

    with_info.__annotations__["info"] = TimerInfo  # rclpy compares the class itself, not this module's string

    node.create_timer(0.01, lambda: plain.append(time.monotonic()))
    node.create_timer(0.01, with_info)
    spin_until(executor, lambda: len(plain) >= 3 and len(infos) >= 3, "3 calls of each timer")
    assert all(isinstance(i, TimerInfo) and i.actual_call_time.nanoseconds >= i.expected_call_time.nanoseconds
               for i in infos)


def test_a_cancelled_timer_stays_quiet(graph: tuple[Node, LeanExecutor]) -> None:
    node, executor = graph
    calls: list[int] = []
    timer = node.create_timer(0.01, lambda: calls.append(1))
    spin_until(executor, lambda: len(calls) >= 1, "a first timer call")
    timer.cancel()
    count = len(calls)
    for _ in range(10):
        executor.spin_once(timeout_sec=0.02)
    assert len(calls) == count


def answer_pong(request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
    response.success, response.message = True, "pong"
    return response


def test_a_service_answers_a_client_whose_done_callback_runs(graph: tuple[Node, LeanExecutor]) -> None:
    node, executor = graph
    node.create_service(Trigger, "ping", answer_pong)
    client: Any = node.create_client(Trigger, "ping")
    spin_until(executor, client.service_is_ready, "the service")
    answers: list[str] = []
    future = client.call_async(Trigger.Request())
    future.add_done_callback(lambda f: answers.append(f.result().message))
    spin_until(executor, lambda: answers == ["pong"], "the answer and its done callback")


def test_coroutine_callbacks_run_as_tasks(graph: tuple[Node, LeanExecutor]) -> None:
    node, executor = graph
    received: list[str] = []

    async def on_message(msg: String) -> None:
        received.append(msg.data)

    node.create_subscription(String, "go", cast(Any, on_message), DEPTH_10)  # rclpy's stubs omit coroutines
    publisher = node.create_publisher(String, "go", DEPTH_10)
    spin_until(executor, lambda: publisher.get_subscription_count() == 1, "discovery")
    publisher.publish(String(data="go"))
    spin_until(executor, lambda: received == ["go"], "the coroutine's message")


def test_a_callback_error_propagates_out_of_spin_once(graph: tuple[Node, LeanExecutor]) -> None:
    node, executor = graph

    def fail() -> None:
        raise RuntimeError("boom")

    node.create_timer(0.01, fail)
    with pytest.raises(RuntimeError, match="boom"):
        spin_until(executor, lambda: False, "never")


def test_a_subscription_destroyed_in_its_own_callback_leaves_the_executor_working(
        graph: tuple[Node, LeanExecutor]) -> None:
    node, executor = graph
    received: list[str] = []
    subscription: Any = None

    def once(msg: String) -> None:
        received.append(msg.data)
        node.destroy_subscription(subscription)

    subscription = node.create_subscription(String, "once", once, DEPTH_10)
    ticks: list[int] = []
    node.create_timer(0.01, lambda: ticks.append(1))
    publisher = node.create_publisher(String, "once", DEPTH_10)
    spin_until(executor, lambda: publisher.get_subscription_count() == 1, "discovery")
    publisher.publish(String(data="a"))
    spin_until(executor, lambda: received == ["a"], "the message")
    publisher.publish(String(data="b"))
    count = len(ticks)
    spin_until(executor, lambda: len(ticks) >= count + 3, "the timer after the destroy")
    assert received == ["a"]


class Configurable(LifecycleNode):
    def __init__(self, context: Context) -> None:
        super().__init__("configurable", context=context)
        self.configured = False

    def on_configure(self, state: State) -> TransitionCallbackReturn:
        self.configured = True
        return TransitionCallbackReturn.SUCCESS


def test_a_lifecycle_node_changes_state_through_its_services(graph: tuple[Node, LeanExecutor]) -> None:
    node, executor = graph
    lifecycle = Configurable(node.context)
    executor.add_node(lifecycle)
    client: Any = node.create_client(ChangeState, "configurable/change_state")
    spin_until(executor, client.service_is_ready, "the change_state service")
    future = client.call_async(ChangeState.Request(transition=Transition(id=Transition.TRANSITION_CONFIGURE)))
    spin_until(executor, future.done, "the transition")
    assert future.result().success and lifecycle.configured
    executor.remove_node(lifecycle)
    lifecycle.destroy_node()


def test_spin_ends_when_the_context_shuts_down() -> None:
    context = Context()
    rclpy.init(context=context)
    node = Node("lean_executor_shutdown", context=context)
    executor = LeanExecutor(context=context)
    executor.add_node(node)
    outcome: list[str] = []

    def spin() -> None:
        try:
            executor.spin()
            outcome.append("returned")
        except ExternalShutdownException:
            outcome.append("external shutdown")

    thread = threading.Thread(target=spin)
    thread.start()
    time.sleep(0.2)
    rclpy.try_shutdown(context=context)
    thread.join(timeout=5.0)
    assert not thread.is_alive() and outcome in (["returned"], ["external shutdown"])
    node.destroy_node()
