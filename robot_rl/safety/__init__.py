"""The safety filter core (no rclpy): every command to the arm passes through ``SafetyFilter.step``."""
from robot_rl.safety.filter import HOLD_REASONS, Decision, Reason, SafetyFilter, SafetyLimits

__all__ = ["HOLD_REASONS", "Decision", "Reason", "SafetyFilter", "SafetyLimits"]
