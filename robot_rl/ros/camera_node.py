"""Camera node: RealSense color (and aligned depth) on the topics and frames realsense-ros uses.

Per camera ``<name>`` in ``cameras.names``:

    camera/<name>/color/image_raw                  sensor_msgs/Image rgb8, stamped with the capture time
    camera/<name>/color/camera_info                sensor_msgs/CameraInfo (calibration/ file, else the device's)
    camera/<name>/aligned_depth_to_color/image_raw sensor_msgs/Image 16UC1 (with ``depth: true``)

A camera that sends nothing for ``timeout_s`` is reported as ERROR on /diagnostics. The devices are
built in ``robot_rl.perception.sources`` (USB camera by serial, a recording, or the SDK's software
device for tests); this file only wires them to ROS.
"""
from __future__ import annotations

import functools
import time
import traceback
from typing import Any

from rclpy.lifecycle import State, TransitionCallbackReturn
from rclpy.publisher import Publisher
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header

from robot_rl.config import ConfigError
from robot_rl.config.schema import CameraConfig
from robot_rl.perception.camera_info import (
    CameraIntrinsics,
    check_matches,
    load_camera_info,
    resolve_calibration_path,
)
from robot_rl.perception.frames import CameraFrame
from robot_rl.perception.realsense import RealSenseError
from robot_rl.perception.sources import CameraSource, open_camera_source
from robot_rl.ros import qos
from robot_rl.ros.diagnostics import ERROR, OK
from robot_rl.ros.image_cdr import encode_image
from robot_rl.ros.messages import to_stamp
from robot_rl.ros.node_base import RobotRLLifecycleNode, run_node

WATCHDOG_PERIOD_S = 0.05  # with timeout_s <= 0.45 a stopped camera is reported within 0.5 s


class CameraNode(RobotRLLifecycleNode):
    def __init__(self) -> None:
        super().__init__("camera", hardware_id="realsense")
        self._sources: dict[str, CameraSource] = {}
        self._camera_pubs: dict[str, dict[str, Publisher]] = {}
        self._infos: dict[str, CameraInfo] = {}
        self._frame_ids: dict[str, str] = {}
        self._stalled: set[str] = set()
        self._watchdog: Any = None

    def _device(self, name: str) -> CameraConfig:
        devices = self.settings.cameras.devices
        if name not in devices:
            raise ConfigError(f"camera {name!r} is in cameras.names but has no cameras.devices.{name} entry")
        return devices[name]

    def on_configure(self, state: State) -> TransitionCallbackReturn:
        try:
            for name in self.settings.cameras.names:
                cfg = self._device(name)
                self._frame_ids[name] = cfg.frame_id or f"{name}_color_optical_frame"
                prefix = f"camera/{name}"
                self._camera_pubs[name] = {
                    "color": self.create_publisher(Image, f"{prefix}/color/image_raw", qos.SENSOR),
                    "info": self.create_publisher(CameraInfo, f"{prefix}/color/camera_info", qos.SENSOR),
                }
                if cfg.depth:
                    self._camera_pubs[name]["depth"] = self.create_publisher(
                        Image, f"{prefix}/aligned_depth_to_color/image_raw", qos.SENSOR)
                source = open_camera_source(name, cfg, functools.partial(self._on_frame, name))
                self._sources[name] = source
                self._infos[name] = self._camera_info(name, cfg, source.camera.intrinsics)
                self.get_logger().info(
                    f"camera {name}: {cfg.source} {source.camera.serial} {cfg.width}x{cfg.height}@{cfg.fps}"
                    + (" + aligned depth" if cfg.depth else ""))
        except (ConfigError, RealSenseError, FileNotFoundError, ValueError) as err:
            self._release()
            return self.refuse(f"cannot configure cameras: {err}")
        except Exception:  # rclpy would swallow it silently; say what broke
            self.get_logger().error(f"camera configure crashed:\n{traceback.format_exc()}")
            self._release()
            return TransitionCallbackReturn.ERROR
        self.diagnostics.report(OK, "configured", cameras=" ".join(self._sources))
        return TransitionCallbackReturn.SUCCESS

    def _camera_info(self, name: str, cfg: CameraConfig, device: CameraIntrinsics) -> CameraInfo:
        intrinsics = device
        if cfg.calibration:
            path = resolve_calibration_path(cfg.calibration)
            intrinsics = check_matches(load_camera_info(path), cfg.width, cfg.height, str(path))
        return CameraInfo(width=intrinsics.width, height=intrinsics.height,
                          distortion_model=intrinsics.distortion_model, d=list(intrinsics.distortion),
                          k=intrinsics.k, r=list(intrinsics.rectification), p=intrinsics.p)

    def on_activate(self, state: State) -> TransitionCallbackReturn:
        for source in self._sources.values():
            source.start()
        self._stalled.clear()
        self._watchdog = self.create_timer(WATCHDOG_PERIOD_S, self._check_cameras)
        self.diagnostics.report(OK, f"streaming {len(self._sources)} camera(s)")
        return super().on_activate(state)

    def on_deactivate(self, state: State) -> TransitionCallbackReturn:
        if self._watchdog is not None:
            self.destroy_timer(self._watchdog)
            self._watchdog = None
        for source in self._sources.values():
            source.stop()
        self.diagnostics.report(OK, "inactive")
        return super().on_deactivate(state)

    def on_cleanup(self, state: State) -> TransitionCallbackReturn:
        self._release()
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state: State) -> TransitionCallbackReturn:
        self._release()
        return TransitionCallbackReturn.SUCCESS

    def _release(self) -> None:
        if self._watchdog is not None:
            self.destroy_timer(self._watchdog)
            self._watchdog = None
        for source in self._sources.values():
            source.close()
        self._sources = {}
        for publishers in self._camera_pubs.values():
            for publisher in publishers.values():
                self.destroy_publisher(publisher)
        self._camera_pubs = {}

    def destroy_node(self) -> None:
        self._release()
        super().destroy_node()

    def _on_frame(self, name: str, frame: CameraFrame) -> None:
        """Runs on the SDK's thread: publish at once (the newest frame is the one that matters)."""
        publishers = self._camera_pubs.get(name)
        if publishers is None:
            return
        header = Header(stamp=to_stamp(frame.capture_time_s), frame_id=self._frame_ids[name])
        publishers["color"].publish(encode_image(frame.image, header.stamp.sec, header.stamp.nanosec, header.frame_id))
        info = self._infos[name]
        info.header = header
        publishers["info"].publish(info)
        if frame.depth is not None and "depth" in publishers:
            depth = Image(header=header, height=frame.depth.shape[0], width=frame.depth.shape[1],
                          encoding="16UC1", step=frame.depth.shape[1] * 2, data=frame.depth.tobytes())
            publishers["depth"].publish(depth)

    def _check_cameras(self) -> None:
        now = time.time()
        silent = {}
        for name, source in self._sources.items():
            quiet_s = source.camera.seconds_since_last_frame(now)
            if quiet_s > self._device(name).timeout_s:
                ended = " (recording ended)" if source.camera.playback_ended() else ""
                silent[name] = f"camera {name}: no frame for {quiet_s:.2f} s{ended}"
        frames = {f"{n}/frames": s.camera.frames_received for n, s in self._sources.items()}
        if set(silent) != self._stalled:
            self._stalled = set(silent)
            if silent:
                self.diagnostics.report(ERROR, "; ".join(silent.values()), stalled=" ".join(silent), **frames)
            else:
                self.diagnostics.report(OK, f"streaming {len(self._sources)} camera(s)", stalled="", **frames)
        else:
            self.diagnostics.set_values(**frames)


def main(args: list[str] | None = None) -> int:
    return run_node(CameraNode, args)


if __name__ == "__main__":
    raise SystemExit(main())
