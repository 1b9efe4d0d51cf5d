"""A single-threaded executor that serves subscriptions and timers straight from the wait.

rclpy's ``SingleThreadedExecutor`` gathers every entity through Python filters and an ``ExitStack``,
builds a new wait set, wraps each ready callback in a ``Task`` coroutine and triggers its own guard
condition twice per callback, so the next wait returns at once and the wait set is built again.

``LeanExecutor`` waits on the same entities, then takes each ready subscription's message and calls its
callback, and calls each ready timer, in the executor's thread: no task, no guard trigger. Services,
clients, node guard conditions and waitables (QoS events) go through rclpy's own handlers
(``Executor._make_handler`` and its ``_take_*`` methods), and coroutine callbacks become tasks
(``create_task``), as in ``SingleThreadedExecutor``. It is meant for one spinning thread: callback
groups are not consulted, since with one thread no two callbacks overlap anyway.

Measured on the 2-core VM (rclpy 9.1.2):
- a lifecycle node with 5 subscriptions and 2 timers, 1000 queued messages: 190-213 us a message
  against 340-460 us with ``SingleThreadedExecutor``. Of a pass, ~80 us is the wait itself (rmw) and ~45 us
  holding the handles;
- the policy server (two 640x480 cameras at 10 Hz): node CPU 11.1-11.5 -> 9.4-9.7 ms a tick.

It uses rclpy's internal handle API (``take_message``, ``call_timer_with_info``, ``_rclpy.WaitSet``), the
calls ``SingleThreadedExecutor`` itself makes. ``tests/ros/test_lean_executor.py`` pins the behaviour and
passes against ``SingleThreadedExecutor`` too.
"""
from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rclpy.executors import ExternalShutdownException, NumberOfEntities, SingleThreadedExecutor
from rclpy.impl.implementation_singleton import rclpy_implementation as _rclpy
from rclpy.node import Node
from rclpy.subscription import Subscription
from rclpy.timer import Timer, TimerInfo
from rclpy.utilities import timeout_sec_to_nsec


class LeanExecutor(SingleThreadedExecutor):
    """``SingleThreadedExecutor`` with subscriptions and timers dispatched inline (see the module docstring)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._timer_info_parameter: weakref.WeakKeyDictionary[Timer, tuple[Callable[..., Any], str | None]] = (
            weakref.WeakKeyDictionary())

    def spin_once(self, timeout_sec: float | None = None) -> None:
        self._resume_tasks()
        nodes = self.get_nodes()
        entities = self._entities(nodes)
        if entities.context_handle is None:
            return
        held: list[Any] = []
        try:  # entered handles cannot be destroyed by another thread during the wait
            for handle in entities.handles:
                handle.__enter__()
                held.append(handle)
            wait_set = self._build_wait_set(entities)
            wait_set.wait(timeout_sec_to_nsec(timeout_sec))
            if self._is_shutdown:
                return
            if not self._context.ok():
                raise ExternalShutdownException()
            self._dispatch(nodes, wait_set, entities.waitables)
        finally:
            for handle in reversed(held):
                handle.__exit__(None, None, None)

    # --- the wait ----------------------------------------------------------------------------------

    def _entities(self, nodes: list[Node]) -> _Entities:
        guards = [g for n in nodes for g in n.guards] + [g for g in (self._guard, self._sigint_gc) if g]
        return _Entities([s for n in nodes for s in n.subscriptions], [t for n in nodes for t in n.timers],
                         [c for n in nodes for c in n.clients], [s for n in nodes for s in n.services], guards,
                         [w for n in nodes for w in n.waitables], self._context.handle)

    def _build_wait_set(self, entities: _Entities) -> Any:
        counts = NumberOfEntities(len(entities.subscriptions), len(entities.guards), len(entities.timers),
                                  len(entities.clients), len(entities.services))
        for waitable in entities.waitables:
            counts += waitable.get_num_entities()
        wait_set = _rclpy.WaitSet(counts.num_subscriptions, counts.num_guard_conditions, counts.num_timers,
                                  counts.num_clients, counts.num_services, counts.num_events,
                                  entities.context_handle)
        for subscription in entities.subscriptions:
            wait_set.add_subscription(subscription.handle)
        for timer in entities.timers:
            wait_set.add_timer(timer.handle)
        for client in entities.clients:
            wait_set.add_client(client.handle)
        for service in entities.services:
            wait_set.add_service(service.handle)
        for guard in entities.guards:
            wait_set.add_guard_condition(guard.handle)
        for waitable in entities.waitables:
            waitable.add_to_wait_set(wait_set)
        return wait_set

    # --- the callbacks -----------------------------------------------------------------------------

    def _dispatch(self, nodes: list[Node], wait_set: Any, waited_on: list[Any]) -> None:
        timers_ready = set(wait_set.get_ready_entities("timer"))
        subscriptions_ready = set(wait_set.get_ready_entities("subscription"))
        clients_ready = set(wait_set.get_ready_entities("client"))
        services_ready = set(wait_set.get_ready_entities("service"))
        guards_ready = set(wait_set.get_ready_entities("guard_condition"))
        for node in nodes:  # in rclpy's order: waitables, timers, subscriptions, guards, clients, services
            for waitable in node.waitables:
                if waitable in waited_on and waitable.is_ready(wait_set):  # one added by a callback was not
                    self._run_handler(waitable, node, self._take_waitable)
            for timer in node.timers:
                if timer.handle.pointer in timers_ready and timer.handle.is_timer_ready():
                    self._call_timer(timer)
            for subscription in node.subscriptions:
                if subscription.handle.pointer in subscriptions_ready:
                    self._call_subscription(subscription)
            for guard in node.guards:
                if guard.handle.pointer in guards_ready:
                    self._run_handler(guard, node, self._take_guard_condition)
            for client in node.clients:
                if client.handle.pointer in clients_ready:
                    self._run_handler(client, node, self._take_client)
            for service in node.services:
                if service.handle.pointer in services_ready:
                    self._run_handler(service, node, self._take_service)

    def _call_subscription(self, subscription: Subscription[Any]) -> None:
        taken = subscription.handle.take_message(subscription.msg_type, subscription.raw)
        if taken is None:
            return
        message_only = subscription._callback_type is Subscription.CallbackType.MessageOnly
        self._call(subscription.callback, *(taken[:1] if message_only else taken))

    def _call_timer(self, timer: Timer) -> None:
        info = timer.handle.call_timer_with_info()
        callback = timer.callback
        if callback is None:
            return
        cached = self._timer_info_parameter.get(timer)
        if cached is None or cached[0] is not callback:  # rclpy too allows swapping the callback at run time
            cached = self._timer_info_parameter[timer] = (callback, timer_info_parameter(callback))
        if cached[1] is None:
            self._call(callback)
        else:
            self._call(callback, **{cached[1]: TimerInfo(expected_call_time=info["expected_call_time"],
                                                         actual_call_time=info["actual_call_time"],
                                                         clock_type=timer.clock.clock_type)})

    def _call(self, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        if inspect.iscoroutinefunction(callback):
            self.create_task(callback, *args, **kwargs)  # run from the next spin_once, as rclpy runs it
        else:
            callback(*args, **kwargs)

    # --- rclpy's own path for everything else ------------------------------------------------------

    def _run_handler(self, entity: Any, node: Node, take: Callable[[Any], Any]) -> None:
        handler = self._make_handler(entity, node, take)
        handler()
        exception = handler.exception()
        if exception is not None:
            raise exception

    def _resume_tasks(self) -> None:
        """Run new tasks and resume those awaiting a future, as rclpy's wait does before it waits."""
        with self._tasks_lock:
            self._tasks = [t for t in self._tasks if not t[0].done()]
            tasks = list(self._tasks)
        for task, _, _ in tasks:
            if not task.executing():
                task()
                exception = task.exception() if task.done() else None
                if exception is not None:
                    raise exception


@dataclass
class _Entities:
    subscriptions: list[Subscription[Any]]
    timers: list[Timer]
    clients: list[Any]
    services: list[Any]
    guards: list[Any]
    waitables: list[Any]
    context_handle: Any

    @property
    def handles(self) -> list[Any]:
        """Everything the wait uses, to hold for its duration (the context last, as rclpy enters it)."""
        return [e.handle for group in (self.subscriptions, self.timers, self.clients, self.services, self.guards)
                for e in group] + self.waitables + [self.context_handle]


def timer_info_parameter(callback: Callable[..., Any]) -> str | None:
    """The parameter of ``callback`` annotated as ``TimerInfo`` (the class, as rclpy checks), or None."""
    for parameter in inspect.signature(callback).parameters.values():
        if parameter.annotation is TimerInfo:
            return parameter.name
    return None
