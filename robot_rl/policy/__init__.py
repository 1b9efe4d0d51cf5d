"""The policy runner core (no rclpy): state vector, tick trigger, double-buffered weights, latency telemetry.

``robot_rl.ros.policy_server_node`` wraps these; ``robot_rl.policy.runner`` imports torch.
"""
from robot_rl.policy.state import STATE_DIM, policy_state
from robot_rl.policy.telemetry import STAGES, LatencyStats
from robot_rl.policy.trigger import FrameSetTrigger

__all__ = ["STAGES", "STATE_DIM", "FrameSetTrigger", "LatencyStats", "policy_state"]
