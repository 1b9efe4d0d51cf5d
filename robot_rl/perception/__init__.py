"""Pixels for the policy: camera sources, crop/resize, per-camera frame buffers and observation assembly.

No rclpy here; ``robot_rl.ros.camera_node`` wraps these. pyrealsense2 is imported only when a
RealSense source is used (``realsense``, ``software``, ``sources``).
"""
from robot_rl.perception.assembler import (
    Observation,
    ObservationAssembler,
    StaleObservation,
    StateFormatError,
    StateHistory,
)
from robot_rl.perception.frames import CameraFrame, FrameBuffer, FrameBuffers
from robot_rl.perception.image import ImageFormatError, check_image, crop_resize

__all__ = [
    "CameraFrame",
    "FrameBuffer",
    "FrameBuffers",
    "ImageFormatError",
    "Observation",
    "ObservationAssembler",
    "StaleObservation",
    "StateFormatError",
    "StateHistory",
    "check_image",
    "crop_resize",
]
