"""Build the camera a ``CameraConfig`` describes: a USB RealSense, a recording, or a software device.

The only place that knows the three sources apart; everything after it is one ``RealSenseCamera``.
"""
from __future__ import annotations

from dataclasses import dataclass

from robot_rl.config.schema import CameraConfig
from robot_rl.perception.realsense import (
    FrameCallback,
    RealSenseCamera,
    connected_devices,
    find_device,
    open_recording,
)
from robot_rl.perception.software import SoftwareCamera, SyntheticFeeder


@dataclass
class CameraSource:
    """A camera and, for ``source=software``, the feeder that plays the part of the sensor."""

    camera: RealSenseCamera
    feeder: SyntheticFeeder | None = None

    def start(self) -> None:
        self.camera.start()
        if self.feeder is not None:
            self.feeder.start()

    def stop(self) -> None:
        if self.feeder is not None:
            self.feeder.stop()
        self.camera.stop()

    def close(self) -> None:
        self.stop()
        self.camera.close()


def open_camera_source(name: str, cfg: CameraConfig, on_frame: FrameCallback) -> CameraSource:
    """Find or create the device for camera ``name``, choose its profiles and claim it (``open``)."""
    feeder = None
    if cfg.source == "realsense":
        device = find_device(connected_devices(), cfg.serial)
    elif cfg.source == "recording":
        device = open_recording(cfg.recording)
    else:
        software = SoftwareCamera(cfg.serial or f"software-{name}", depth=cfg.depth)
        device = software.device
        feeder = SyntheticFeeder(software, cfg.width, cfg.height, cfg.fps, cfg.stop_after_frames, cfg.depth)
    camera = RealSenseCamera(name, device, cfg.width, cfg.height, cfg.fps, on_frame, depth=cfg.depth)
    camera.open()
    return CameraSource(camera, feeder)
