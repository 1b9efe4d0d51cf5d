"""Per-camera latest-frame buffers: newest wins, capture/receive stamps kept, safe across threads."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from robot_rl.perception.frames import CameraFrame, FrameBuffer, FrameBuffers
from robot_rl.perception.image import ImageFormatError


def frame(n: int, capture: float, camera: str = "wrist", size: tuple[int, int] = (8, 6)) -> CameraFrame:
    image = np.full((size[1], size[0], 3), n % 256, np.uint8)
    return CameraFrame(camera=camera, image=image, capture_time_s=capture, receive_time_s=capture + 0.01,
                       frame_number=n)


def test_latest_and_newest_at() -> None:
    buffer = FrameBuffer("wrist", capacity=3)
    assert buffer.latest() is None and buffer.newest_at(10.0) is None
    for n in range(5):
        buffer.put(frame(n, 1.0 + 0.1 * n))
    assert buffer.latest().frame_number == 4  # type: ignore[union-attr]
    assert buffer.newest_at(1.25).frame_number == 2  # type: ignore[union-attr]
    assert buffer.newest_at(1.0) is None  # frames 0 and 1 fell out of the 3-frame buffer
    assert buffer.count == 5
    assert buffer.seconds_since_receive(now=1.41 + 0.5) == pytest.approx(0.5)


def test_wrong_size_is_rejected_where_it_enters() -> None:
    buffer = FrameBuffer("wrist", expected_size=(640, 480))
    with pytest.raises(ImageFormatError, match="camera 'wrist'.*expected 640x480"):
        buffer.put(frame(0, 0.0))


def test_unknown_camera_names_the_known_ones() -> None:
    buffers = FrameBuffers(["wrist", "front"])
    with pytest.raises(KeyError, match="wrist"):
        buffers.put(frame(0, 0.0, camera="side"))


def test_concurrent_writer_and_reader_see_whole_frames() -> None:
    buffer = FrameBuffer("wrist", capacity=2)
    stop = threading.Event()
    torn: list[int] = []

    def write() -> None:
        n = 0
        while not stop.is_set():
            buffer.put(frame(n, float(n)))
            n += 1

    writer = threading.Thread(target=write)
    writer.start()
    try:
        for _ in range(2000):
            latest = buffer.latest()
            if latest is not None and int(latest.image[0, 0, 0]) != latest.frame_number % 256:
                torn.append(latest.frame_number)
    finally:
        stop.set()
        writer.join()
    assert buffer.count > 0 and not torn
