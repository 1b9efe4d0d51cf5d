"""The robot interface (observe, command, reset, success) and the hardware command adapters."""
from robot_rl.robot.interface import (
    CommandBuffer,
    CommandFrame,
    InvalidCommandError,
    InvalidObservationError,
    NonFiniteCommandError,
    RobotCommand,
    RobotInterface,
    RobotMovingError,
    RobotObservation,
    UnknownFrameError,
)

__all__ = [
    "CommandBuffer",
    "CommandFrame",
    "InvalidCommandError",
    "InvalidObservationError",
    "NonFiniteCommandError",
    "RobotCommand",
    "RobotInterface",
    "RobotMovingError",
    "RobotObservation",
    "UnknownFrameError",
]
