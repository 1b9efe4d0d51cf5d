"""sensor_msgs/Image in its serialized form (CDR, as DDS carries it), encoded and decoded with numpy.

rclpy converts a message field by field between Python and C: for a 640x480 rgb8 frame, building the
``Image`` and serializing it cost ~1 ms in the publisher, and deserializing it ~0.6-1.4 ms in the
subscriber (most of it copying ``data`` into an ``array.array``). An image node publishes the bytes
from ``encode_image`` (``Publisher.publish`` takes bytes) and an image subscriber asks rclpy for the
raw bytes (``create_subscription(..., raw=True)``) and reads them with ``decode_image``: one copy of
the pixels each way, and the pixel array is a view of the received buffer. The bytes are the layout
``rclpy.serialization.serialize_message`` produces, field for field (only the alignment padding, which
rclpy leaves unset, may differ): tests/ros/test_image_cdr.py deserializes them with rclpy back to the same
message, so subscribers that take ``Image`` messages see no difference.

Layout (OMG CDR version 1, as Fast DDS serializes ROS 2 messages): a 4-byte encapsulation header
(``00 01``: little endian, ``00 00``: big endian), then each field aligned to its own size, counted
from the end of that header: ``int32 sec, uint32 nanosec, string frame_id, uint32 height, uint32
width, string encoding, uint8 is_bigendian, uint32 step, sequence<uint8> data``; a string is a
uint32 length that counts its terminating NUL, then the characters and the NUL.
"""
from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from rclpy.node import Node
from rclpy.qos import QoSProfile
from rclpy.subscription import Subscription
from sensor_msgs.msg import Image

from robot_rl.perception.image import ImageFormatError
from robot_rl.ros.cdr import BIG_ENDIAN, LITTLE_ENDIAN, pad, put_string


@dataclass(frozen=True)
class WireImage:
    """The fields of a decoded sensor_msgs/Image; ``data`` is a view of the received bytes."""

    sec: int
    nanosec: int
    frame_id: str
    height: int
    width: int
    encoding: str
    is_bigendian: int
    step: int
    data: npt.NDArray[np.uint8]

    @property
    def stamp_s(self) -> float:
        return float(self.sec) + float(self.nanosec) * 1e-9

    def rgb(self) -> npt.NDArray[np.uint8]:
        """HxWx3 uint8 view of an rgb8 image's pixels (no copy; row padding skipped)."""
        if self.encoding != "rgb8":
            raise ImageFormatError(f"image encoding {self.encoding!r}: robot_rl needs rgb8 images")
        rows = self.data.reshape(self.height, self.step)
        return rows[:, : self.width * 3].reshape(self.height, self.width, 3)


def encode_image(image: npt.NDArray[np.uint8], sec: int, nanosec: int, frame_id: str) -> bytes:
    """HxWx3 uint8 RGB -> the serialized rgb8 sensor_msgs/Image (little-endian CDR)."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ImageFormatError(f"image of shape {image.shape} and dtype {image.dtype}: encode_image takes "
                               "HxWx3 uint8 RGB")
    height, width = image.shape[:2]
    out = bytearray(LITTLE_ENDIAN)
    out += struct.pack("<iI", sec, nanosec)
    put_string(out, frame_id)
    pad(out, 4)
    out += struct.pack("<II", height, width)
    put_string(out, "rgb8")
    out += b"\x00"  # is_bigendian
    pad(out, 4)
    out += struct.pack("<II", width * 3, height * width * 3)
    return b"".join((out, np.ascontiguousarray(image).data))  # one copy of the pixels


def subscribe_images(node: Node, topic: str, on_image: Callable[[WireImage], None], qos_profile: QoSProfile,
                     on_error: Callable[[ImageFormatError], None] | None = None) -> Subscription:
    """Subscribe to a sensor_msgs/Image topic and hand each message to ``on_image`` as a ``WireImage``,
    decoded from the raw bytes. A malformed message is dropped and goes to ``on_error`` (default: logged,
    throttled)."""
    def on_raw(raw: bytes) -> None:
        try:
            image = decode_image(raw)
        except ImageFormatError as err:
            if on_error is None:
                node.get_logger().error(f"{topic}: {err}", throttle_duration_sec=5.0)
            else:
                on_error(err)
            return
        on_image(image)

    return node.create_subscription(Image, topic, on_raw, qos_profile, raw=True)


def decode_image(raw: bytes | bytearray | memoryview) -> WireImage:
    """Serialized sensor_msgs/Image -> ``WireImage``; ``ImageFormatError`` says what is wrong with a
    truncated, inconsistent or non-CDR buffer."""
    reader = _Reader(raw)
    sec, nanosec = reader.take("i"), reader.take("I")
    frame_id = reader.string()
    height, width = reader.take("I"), reader.take("I")
    encoding = reader.string()
    is_bigendian, step, size = reader.take("B"), reader.take("I"), reader.take("I")
    data = reader.array(size)
    if height * step != size or step < width:
        raise ImageFormatError(f"serialized image {width}x{height} with step {step} carries {size} bytes of data "
                               f"(expected step >= width and height * step = {height * step})")
    return WireImage(sec, nanosec, frame_id, height, width, encoding, is_bigendian, step, data)


class _Reader:
    """Reads CDR fields in order, aligned, with bounds checks."""

    def __init__(self, raw: bytes | bytearray | memoryview) -> None:
        self.buffer = memoryview(raw).cast("B")
        header = bytes(self.buffer[:4])
        if header not in (LITTLE_ENDIAN, BIG_ENDIAN):
            raise ImageFormatError(f"not a CDR-serialized message: encapsulation header {header.hex()} (expected "
                                   f"{LITTLE_ENDIAN.hex()} or {BIG_ENDIAN.hex()})")
        self.order = "<" if header == LITTLE_ENDIAN else ">"
        self.offset = 4

    def take(self, code: str) -> int:
        size = struct.calcsize(code)
        self.offset += -(self.offset - 4) % size
        self._need(size)
        (value,) = struct.unpack_from(self.order + code, self.buffer, self.offset)
        self.offset += size
        return int(value)

    def string(self) -> str:
        length = self.take("I")
        if length == 0:
            raise ImageFormatError("serialized image has a string of length 0 (CDR strings end with a NUL)")
        text = self.array(length)
        try:
            return text[:-1].tobytes().decode()
        except UnicodeDecodeError as err:
            raise ImageFormatError(f"serialized image has a string that is not UTF-8: {err}") from None

    def array(self, size: int) -> npt.NDArray[np.uint8]:
        self._need(size)
        view = np.frombuffer(self.buffer, dtype=np.uint8, count=size, offset=self.offset)
        self.offset += size
        return view

    def _need(self, size: int) -> None:
        if self.offset + size > len(self.buffer):
            raise ImageFormatError(f"serialized image truncated: {len(self.buffer)} bytes, a field at byte "
                                   f"{self.offset} needs {size} more")
