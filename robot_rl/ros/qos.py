"""The QoS profiles of the graph; every publisher and subscriber picks one of these."""
from rclpy.qos import (
    DurabilityPolicy,
    HistoryPolicy,
    QoSProfile,
    ReliabilityPolicy,
    qos_profile_sensor_data,
)

# Camera frames and robot state: newest wins, a lost frame is never resent (realsense-ros uses the same).
SENSOR = qos_profile_sensor_data

# Commands and actions: delivered reliably, only the newest matters.
COMMAND = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=1,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.VOLATILE,
)

# State a late joiner must see (estop, intervening, weights version): the last value is kept for it.
LATCHED = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=1,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.TRANSIENT_LOCAL,
)

# Subscribing to latched state whose every change matters (episode/status): a late joiner still gets only the
# publisher's last value, but values that arrive while the subscriber's executor is busy queue up instead of
# replacing each other. With LATCHED's depth 1, a replay writer busy for 21 ms under CI load saw an episode
# go from running straight to resetting, missed its success, and aborted a recorded demonstration.
LATCHED_EVERY_CHANGE = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=16,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.TRANSIENT_LOCAL,
)

# Events that must all arrive (episode boundaries, diagnostics).
EVENTS = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=50,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.VOLATILE,
)
