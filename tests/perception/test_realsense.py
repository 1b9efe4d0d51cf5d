"""The RealSense source driven through pyrealsense2's own software_device: what goes in comes out.

No mocks: frames are injected with ``software_sensor.on_video_frame`` and read back through the same
``RealSenseCamera`` code that streams a USB camera.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

rs = pytest.importorskip("pyrealsense2")

from robot_rl.perception.assembler import (  # noqa: E402
    ObservationAssembler,
    StaleObservation,
    StateHistory,
)
from robot_rl.perception.frames import CameraFrame, FrameBuffers  # noqa: E402
from robot_rl.perception.realsense import (  # noqa: E402
    RealSenseCamera,
    RealSenseError,
    UnknownSerialError,
    UnsupportedProfileError,
    find_device,
    open_recording,
)
from robot_rl.perception.software import (  # noqa: E402
    SoftwareCamera,
    SyntheticFeeder,
    decode_synthetic,
    record_synthetic,
    synthetic_depth,
    synthetic_frame,
)

W, H, FPS = 640, 480, 30


class Collector:
    def __init__(self) -> None:
        self.frames: list[CameraFrame] = []
        self.event = threading.Event()

    def __call__(self, frame: CameraFrame) -> None:
        self.frames.append(frame)
        self.event.set()

    def wait(self, count: int, timeout_s: float = 5.0) -> None:
        deadline = time.monotonic() + timeout_s
        while len(self.frames) < count:
            assert time.monotonic() < deadline, f"got {len(self.frames)} of {count} frames"
            time.sleep(0.005)


def started(camera: SoftwareCamera, collector: Collector, depth: bool = False, size: tuple[int, int] = (W, H)
            ) -> RealSenseCamera:
    source = RealSenseCamera("wrist", camera.device, size[0], size[1], FPS, collector, depth=depth)
    source.open()
    source.start()
    return source


def test_frames_out_equal_frames_in_with_their_timestamps() -> None:
    software, got = SoftwareCamera("100000000001"), Collector()
    camera = started(software, got)
    try:
        sent = []
        for n in range(5):
            timestamp_ms = 1_790_000_000_000.0 + 33.3 * n
            image = synthetic_frame(n, timestamp_ms, W, H)
            software.push(image, FPS, n, timestamp_ms, "global_time")
            sent.append((image, timestamp_ms))
        got.wait(5)
    finally:
        camera.close()
    for n, (frame, (image, timestamp_ms)) in enumerate(zip(got.frames, sent)):
        np.testing.assert_array_equal(frame.image, image)
        assert frame.image.shape == (H, W, 3) and frame.image.dtype == np.uint8
        assert frame.frame_number == n and frame.hardware_timestamp_ms == timestamp_ms
        assert frame.timestamp_domain == "global_time"
        assert frame.capture_time_s == pytest.approx(timestamp_ms / 1000.0, abs=1e-6)
        assert frame.receive_time_s >= frame.capture_time_s or frame.receive_time_s < 1.0e9
        assert frame.metadata["frame_counter"] == n
        assert decode_synthetic(frame.image) == (n, timestamp_ms)


def test_hardware_clock_frames_are_mapped_to_host_time() -> None:
    software, got = SoftwareCamera("100000000002"), Collector()
    camera = started(software, got)
    start = time.monotonic()
    try:
        for n in range(3):
            device_ms = 12_000.0 + (time.monotonic() - start) * 1000.0  # a device clock that started earlier
            software.push(synthetic_frame(n, 0.0, W, H), FPS, n, device_ms, "hardware_clock")
            time.sleep(0.033)
        got.wait(3)
    finally:
        camera.close()
    frames = got.frames
    assert [f.timestamp_domain for f in frames] == ["hardware_clock"] * 3
    # on the host clock, each capture lies just before its receipt (the offset comes from the fastest frame)
    captures = [f.capture_time_s for f in frames]
    assert captures == sorted(captures)
    for f in frames:
        assert 0.0 <= f.receive_time_s - f.capture_time_s < 0.25
    assert frames[-1].receive_time_s - frames[-1].capture_time_s < 0.02


def test_feeder_stream_and_a_camera_that_stops_is_seen_within_half_a_second() -> None:
    software, got = SoftwareCamera("100000000003"), Collector()
    camera = started(software, got)
    feeder = SyntheticFeeder(software, W, H, FPS, stop_after_frames=6)
    buffers = FrameBuffers(["wrist"])
    states = StateHistory(1)
    assembler = ObservationAssembler(buffers, states, ["wrist"], max_frame_age_s=0.2, image_size=64)
    try:
        feeder.start()
        got.wait(6)
        for frame in got.frames:
            buffers.put(frame)
            states.put(frame.capture_time_s, [0.0])
            n, timestamp_ms = decode_synthetic(frame.image)
            np.testing.assert_array_equal(frame.image, synthetic_frame(n, timestamp_ms, W, H))
        assert not assembler.assemble(time.time()).stale
        stopped_at = got.frames[-1].receive_time_s
        while camera.seconds_since_last_frame() <= 0.25:
            time.sleep(0.01)
        assert time.time() - stopped_at < 0.5
        obs = assembler.assemble(time.time())
        assert isinstance(obs, StaleObservation) and "wrist" in obs.ages_s
    finally:
        feeder.stop()
        camera.close()
    assert [f.frame_number for f in got.frames] == list(range(6))


def test_aligned_depth_comes_with_the_color_frame() -> None:
    software, got = SoftwareCamera("100000000004", depth=True), Collector()
    camera = started(software, got, depth=True)
    try:
        for n in range(3):
            software.push(synthetic_frame(n, 1e12 + n, W, H), FPS, n, 1e12 + n, depth=synthetic_depth(n, W, H))
        got.wait(3)
    finally:
        camera.close()
    for n, frame in enumerate(got.frames):
        assert frame.depth is not None
        np.testing.assert_array_equal(frame.depth, synthetic_depth(n, W, H))  # identity extrinsics
    assert camera.depth_units_m == pytest.approx(0.001)


def test_unknown_serial_lists_the_connected_ones() -> None:
    devices = [SoftwareCamera("111").device, SoftwareCamera("222").device]
    with pytest.raises(UnknownSerialError, match=r"serial '333'; connected: 111, 222"):
        find_device(devices, "333")
    assert isinstance(UnknownSerialError("x"), ValueError)


def test_unsupported_profile_lists_the_supported_ones() -> None:
    software = SoftwareCamera("444")
    with pytest.raises(UnsupportedProfileError, match=r"cannot stream color 640x480@45 rgb8; it supports: .*640x480@30 rgb8"):
        RealSenseCamera("wrist", software.device, 640, 480, 45, lambda f: None)
    with pytest.raises(UnsupportedProfileError, match="no depth stream"):
        RealSenseCamera("wrist", software.device, 640, 480, 30, lambda f: None, depth=True)


def test_a_recording_plays_back_the_frames_it_recorded(tmp_path: Path) -> None:
    path = tmp_path / "session.db3"
    sent = [synthetic_frame(n, timestamp_ms, W, H) for n, timestamp_ms in record_synthetic(path, 4, W, H, FPS)]

    got = Collector()
    camera = RealSenseCamera("wrist", open_recording(path, real_time=False), W, H, FPS, got)
    assert camera.serial == "555" and camera.is_playback
    camera.start()
    try:
        got.wait(4)
        deadline = time.monotonic() + 5.0
        while not camera.playback_ended():
            assert time.monotonic() < deadline, "playback did not end"
            time.sleep(0.01)
    finally:
        camera.close()
    assert len(got.frames) == 4
    for n, frame in enumerate(got.frames):
        np.testing.assert_array_equal(frame.image, sent[n])
        assert decode_synthetic(frame.image)[1] == frame.hardware_timestamp_ms


def test_a_file_that_is_no_realsense_recording_is_refused_with_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "notes.bag"
    path.write_text("not a bag")
    with pytest.raises(RealSenseError, match="cannot convert .*notes.bag.*cameras.devices.<name>.recording"):
        open_recording(path)
