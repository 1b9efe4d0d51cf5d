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
from collections.abc import Callable
from typing import TypeVar

import rclpy
from omegaconf import DictConfig
from rclpy.executors import Executor, ExternalShutdownException, SingleThreadedExecutor
from rclpy.lifecycle import LifecycleNode, TransitionCallbackReturn
from rclpy.node import Node
from rclpy.parameter import Parameter

from robot_rl.config import ConfigError, RobotRLConfig, load_config, to_object
from robot_rl.ros.diagnostics import ERROR, Diagnostics
from robot_rl.ros.process_memory import keep_large_buffers

DEFAULT_CONFIG = "sim"


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


def stop_on_sigint_through_rclpy_only() -> None:
    """SIGINT stops a node through rclpy's handler alone: it shuts the context down and the executor returns.

    rclpy's handler (installed by ``rclpy.init``) also calls the Python handler it finds. Python's default
    raises KeyboardInterrupt at whatever bytecode is running; once it landed half way through rclpy building
    a ``Task`` (one per callback in ``SingleThreadedExecutor``), whose ``__del__`` then printed a traceback
    as the node stopped. Call before ``rclpy.init``, from the main thread.
    """
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, lambda signum, frame: None)


def run_node(
    make_node: Callable[[], NodeT],
    args: list[str] | None = None,
    executor_factory: Callable[[], Executor] = SingleThreadedExecutor,
) -> int:
    """Initialise rclpy, build the node, spin until SIGINT/SIGTERM or shutdown; return an exit code.

    A configuration mistake is reported as one line (exit 2), not a traceback.
    """
    keep_large_buffers()  # before rclpy allocates its first message buffers (robot_rl.ros.process_memory)
    stop_on_sigint_through_rclpy_only()
    rclpy.init(args=args)
    node: Node | None = None
    try:
        node = make_node()
        if isinstance(node, RobotRLLifecycleNode):
            node.start()
        executor = executor_factory()
        executor.add_node(node)
        executor.spin()
    except (ConfigError, NodeStartError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except Exception:
        if rclpy.ok():
            raise
        # SIGINT/SIGTERM landed mid-callback: the context is gone and publishing raised; that is a clean stop.
    finally:
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
    return 0
