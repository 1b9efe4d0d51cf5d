"""What every robot_rl node shares: its configuration, diagnostics and a clean start and stop.

A node receives its configuration as two ROS parameters, never as individual defaults:

    config     name of a top-level config (sim, robot, teleop)
    overrides  hydra overrides, space separated ("robot.control_hz=20 sim.seed=3")

so launch files select and override, and the defaults live only in ``robot_rl/config``.
"""
from __future__ import annotations

import shlex
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import rclpy
from omegaconf import DictConfig
from rclpy.executors import Executor, ExternalShutdownException, SingleThreadedExecutor
from rclpy.lifecycle import LifecycleNode, TransitionCallbackReturn
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.signals import SignalHandlerOptions

from robot_rl.config import ConfigError, RobotRLConfig, load_config, to_object
from robot_rl.ros.diagnostics import ERROR, Diagnostics
from robot_rl.ros.process_memory import keep_large_buffers

DEFAULT_CONFIG = "sim"
# s a recording node keeps taking messages after SIGINT/SIGTERM (run_node's drain_s): Ctrl-C reaches every node
# of the graph at once, and an episode end published just before it is still on its way
IN_FLIGHT_S = 0.5
STOP_POLL_S = 0.1  # s the executor waits at most at a time, so a stop signal is seen that soon
# s before a repeated signal counts as asked again: under ros2 launch, Ctrl-C reaches a node from the terminal
# and again from launch, milliseconds apart; a person's second Ctrl-C or launch's SIGTERM (after 5 s) come later
REPEAT_S = 1.0


class NodeStartError(RuntimeError):
    """A lifecycle node could not configure or activate; the message says why and how to fix it."""


def _configure(node: Node, hardware_id: str, sim_time: bool) -> tuple[DictConfig, RobotRLConfig, Diagnostics]:
    """Declare ``config``/``overrides``, compose the tree, follow the sim clock if asked, start diagnostics."""
    name = str(node.declare_parameter("config", DEFAULT_CONFIG).value)
    overrides = shlex.split(str(node.declare_parameter("overrides", "").value or ""))
    cfg = load_config(name, overrides)
    settings = to_object(cfg)
    node.get_logger().info(f"config {name!r} overrides {overrides}")
    if sim_time and uses_sim_clock(settings):
        node.set_parameters([Parameter("use_sim_time", Parameter.Type.BOOL, True)])
    return cfg, settings, Diagnostics(node, hardware_id=hardware_id)


def uses_sim_clock(settings: RobotRLConfig) -> bool:
    """The simulated arm steps as fast as it can and publishes /clock (``sim.realtime=false``).

    Then the control-loop nodes run on that clock (``use_sim_time``), so their timers, time limits and
    message ages count control periods of the simulation however slowly it runs: one recorded step per
    simulated step. Derived from the config, so no launch file has to repeat it.
    """
    return settings.robot.driver == "sim" and not settings.sim.realtime


class RobotRLNode(Node):
    """Base of the plain (non-lifecycle) nodes: ``self.cfg`` (DictConfig), ``self.settings`` (typed).

    ``sim_time=False`` keeps a node on the wall clock even when the simulation publishes /clock (the
    simulator itself, the learner, the console monitor).
    """

    def __init__(self, node_name: str, hardware_id: str = "", sim_time: bool = True) -> None:
        super().__init__(node_name)
        self.cfg, self.settings, self.diagnostics = _configure(self, hardware_id, sim_time)


class RobotRLLifecycleNode(LifecycleNode):
    """Base of nodes whose state matters (cameras, policy server, intervention).

    Subclasses allocate in ``on_configure``, start in ``on_activate``, stop in ``on_deactivate`` and
    free in ``on_cleanup``. With the ``autostart`` parameter (default true) the node configures and
    activates itself, so it runs under a plain process supervisor as under ``ros2 launch``.
    """

    def __init__(self, node_name: str, hardware_id: str = "") -> None:
        super().__init__(node_name)
        self.cfg, self.settings, self.diagnostics = _configure(self, hardware_id, sim_time=True)
        self.autostart = bool(self.declare_parameter("autostart", True).value)
        self.transition_error: str | None = None

    def start(self) -> None:
        if not self.autostart:
            return
        for transition, trigger in (("configure", self.trigger_configure), ("activate", self.trigger_activate)):
            if trigger() != TransitionCallbackReturn.SUCCESS:
                reason = self.transition_error or "see the log above"
                raise NodeStartError(f"{self.get_name()} could not {transition}: {reason}")

    def refuse(self, error: Exception | str) -> TransitionCallbackReturn:
        """Fail a transition because of a user's mistake: logged, on /diagnostics, one line from run_node."""
        self.transition_error = str(error)
        self.get_logger().error(self.transition_error)
        self.diagnostics.report(ERROR, self.transition_error)
        return TransitionCallbackReturn.FAILURE


NodeT = TypeVar("NodeT", bound=Node)


class StopSignal:
    """SIGINT and SIGTERM set a flag that the spin loop reads between two waits; nothing else happens.

    rclpy's own handlers shut the context down the moment a signal lands, and then a node can take nothing
    more from DDS: when Ctrl-C reached every node of the graph at once, an episode end already on its way
    to the replay writer was lost, while the console monitor, quicker to take it, counted the episode.
    Python runs this handler in the main thread once the executor's wait returns (within STOP_POLL_S), so
    no KeyboardInterrupt lands half way through a callback (one inside rclpy building a ``Task`` printed a
    traceback from its ``__del__``). A first version woke the wait at once from a watcher thread
    (``signal.set_wakeup_fd`` and a guard condition); in one main-job run of nine, the safety node and
    the learner then outlived SIGINT and SIGTERM, cause not found. This one has no thread. A signal
    REPEAT_S or more after the first interrupts a constructor or a callback that does not return
    (KeyboardInterrupt, exit code 130); a node past its spin (draining, or finishing in ``destroy_node``)
    is left to finish.
    """

    def __init__(self) -> None:
        self.requested = False
        self._first = 0.0  # time.monotonic() of the first signal
        self.interruptible = True  # while the node is built and spins; never in a drain or destroy_node (final commits)
        if threading.current_thread() is threading.main_thread():  # a node spun elsewhere is stopped by its owner
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, self._on_signal)

    def _on_signal(self, signum: int, frame: object) -> None:
        if not self.requested:
            self.requested, self._first = True, time.monotonic()
        elif self.interruptible and time.monotonic() - self._first >= REPEAT_S:  # a second Ctrl-C, launch's SIGTERM
            raise KeyboardInterrupt


def run_node(
    make_node: Callable[[], NodeT],
    args: list[str] | None = None,
    executor_factory: Callable[[], Executor] = SingleThreadedExecutor,
    drain_s: float = 0.0,
) -> int:
    """Initialise rclpy, build the node, spin until SIGINT/SIGTERM or shutdown; return an exit code.

    A signal ends the spin between two callbacks (``StopSignal``); the context is shut down after the node
    is destroyed, so ``destroy_node`` can still publish. With ``drain_s`` the node then takes, for that
    long, what was already on its way (its timers stopped): an episode end that Ctrl-C overtook still
    reaches the replay writer. A node that commands the arm keeps ``drain_s`` 0.
    A configuration mistake is reported as one line (exit 2), not a traceback.
    """
    keep_large_buffers()  # before rclpy allocates its first message buffers (robot_rl.ros.process_memory)
    stop = StopSignal()
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    node: Node | None = None
    try:
        node = make_node()
        if isinstance(node, RobotRLLifecycleNode):
            node.start()
        executor = executor_factory()
        executor.add_node(node)
        while not stop.requested:
            executor.spin_once(timeout_sec=STOP_POLL_S)
        stop.interruptible = False
        if drain_s > 0:
            drain(node, executor, drain_s)
    except (ConfigError, NodeStartError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except ExternalShutdownException:  # the context was shut down by other means than a signal
        pass
    except KeyboardInterrupt:  # a second signal interrupted the constructor or a callback
        return 130
    finally:
        stop.interruptible = False  # also when a callback raised
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
    return 0


def drain(node: Node, executor: Executor, seconds: float) -> None:
    """Stop the node's timers, then serve what arrives for ``seconds`` (wall time)."""
    for timer in list(node.timers):
        timer.cancel()
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        executor.spin_once(timeout_sec=left)
