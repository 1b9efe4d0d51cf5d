"""Teleop devices, the intervention arbiter and the episode state machine (no ROS here).

    device = make_device(cfg.teleop); device.open()
    processor = make_input_processor(device, cfg.teleop)
    arbiter = Arbiter(takeover=cfg.teleop.takeover, control_hz=cfg.robot.control_hz, ...)
    result = arbiter.tick(now, processor.process(device.read(now)))   # at the control rate
    executed = arbiter.on_policy_twist(policy_twist)                  # for every policy action
"""
from robot_rl.teleop.arbiter import Arbiter, TickResult
from robot_rl.teleop.device import (
    Action,
    DeviceError,
    DeviceReading,
    InputProcessor,
    TeleopDevice,
    TeleopInput,
    apply_deadband,
    make_processor,
)
from robot_rl.teleop.episode import EpisodeError, EpisodeMachine, EpisodeState
from robot_rl.teleop.factory import make_device, make_input_processor
from robot_rl.teleop.health import Health, HealthMonitor
from robot_rl.teleop.scripted import CorrectingOperator, ScriptedCommand, ScriptedDevice, guard_rule

__all__ = [
    "Action", "Arbiter", "CorrectingOperator", "DeviceError", "DeviceReading", "EpisodeError", "EpisodeMachine", "EpisodeState",
    "Health", "HealthMonitor", "InputProcessor", "ScriptedCommand", "ScriptedDevice", "TeleopDevice",
    "TeleopInput", "TickResult", "apply_deadband", "guard_rule", "make_device", "make_input_processor",
    "make_processor",
]
