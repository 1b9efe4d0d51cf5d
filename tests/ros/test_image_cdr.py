"""Images as serialized CDR: the bytes match rclpy's serialization, and both kinds of publisher and
subscriber meet on a real DDS graph."""
from __future__ import annotations

import struct
from typing import Any

import numpy as np
import pytest
from builtin_interfaces.msg import Time
from rclpy.serialization import deserialize_message, serialize_message
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from robot_rl.perception.image import ImageFormatError
from robot_rl.ros import qos
from robot_rl.ros.image_cdr import WireImage, decode_image, encode_image, subscribe_images
from tests.ros_harness import RosProbe, wait_until


def rgb(height: int, width: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def image_message(pixels: np.ndarray, frame_id: str, step: int | None = None, encoding: str = "rgb8") -> Image:
    height, width = pixels.shape[:2]
    step = step or width * 3
    rows = np.zeros((height, step), np.uint8)
    rows[:, : width * 3] = pixels.reshape(height, width * 3)
    return Image(header=Header(stamp=Time(sec=1700000000, nanosec=123456789), frame_id=frame_id), height=height,
                 width=width, encoding=encoding, step=step, data=rows.tobytes())


# Frame ids of every length modulo 4 move the alignment of every later field.
@pytest.mark.parametrize("frame_id", ["", "a", "ab", "abc", "wrist", "front_camera_optical_frame", "caméra"])
@pytest.mark.parametrize("shape", [(480, 640), (3, 5), (1, 1)])
def test_encoded_bytes_deserialize_in_rclpy_to_the_same_message(frame_id: str, shape: tuple[int, int]) -> None:
    pixels = rgb(*shape)
    expected = image_message(pixels, frame_id)
    encoded = encode_image(pixels, 1700000000, 123456789, frame_id)
    assert len(encoded) == len(serialize_message(expected))  # padding bytes may differ: rclpy leaves them unset
    assert deserialize_message(encoded, Image) == expected


@pytest.mark.parametrize("frame_id", ["", "abc", "wrist"])
def test_decode_reads_what_rclpy_serialized(frame_id: str) -> None:
    pixels = rgb(48, 64, seed=1)
    image = decode_image(serialize_message(image_message(pixels, frame_id)))
    assert (image.sec, image.nanosec, image.frame_id) == (1700000000, 123456789, frame_id)
    assert image.stamp_s == pytest.approx(1700000000.123456789)
    assert (image.height, image.width, image.encoding, image.step) == (48, 64, "rgb8", 64 * 3)
    np.testing.assert_array_equal(image.rgb(), pixels)


def test_row_padding_is_skipped() -> None:
    pixels = rgb(10, 7, seed=2)
    image = decode_image(serialize_message(image_message(pixels, "cam", step=7 * 3 + 11)))
    assert image.step == 32
    np.testing.assert_array_equal(image.rgb(), pixels)


def test_the_pixels_are_a_view_of_the_received_buffer() -> None:
    raw = encode_image(rgb(4, 4), 0, 0, "cam")
    assert np.shares_memory(decode_image(raw).rgb(), np.frombuffer(raw, np.uint8))


def test_big_endian_cdr_is_read() -> None:
    pixels = rgb(2, 3, seed=3)
    frame = b"cam\x00"
    body = (struct.pack(">iI", 5, 6) + struct.pack(">I", len(frame)) + frame + struct.pack(">II", 2, 3)
            + struct.pack(">I", 5) + b"rgb8\x00" + b"\x00" + b"\x00\x00" + struct.pack(">II", 9, 18) + pixels.tobytes())
    image = decode_image(b"\x00\x00\x00\x00" + body)
    assert (image.sec, image.nanosec, image.frame_id, image.step) == (5, 6, "cam", 9)
    np.testing.assert_array_equal(image.rgb(), pixels)


@pytest.mark.parametrize("raw, message", [
    (b"", "encapsulation header"),
    (b"\x00\x07\x00\x00" + bytes(40), "encapsulation header 00070000"),
    (encode_image(rgb(8, 8), 0, 0, "cam")[:-1], "truncated"),
    (encode_image(rgb(8, 8), 0, 0, "cam")[:30], "truncated"),
])
def test_malformed_buffers_are_rejected_with_what_is_wrong(raw: bytes, message: str) -> None:
    with pytest.raises(ImageFormatError, match=message):
        decode_image(raw)


def test_data_that_does_not_match_height_and_step_is_rejected() -> None:
    message = image_message(rgb(4, 4), "cam")
    message.height = 5  # 5 rows of 12 bytes claimed, 4 carried
    with pytest.raises(ImageFormatError, match="48 bytes of data"):
        decode_image(serialize_message(message))


def test_other_encodings_decode_but_are_not_taken_as_rgb() -> None:
    image = decode_image(serialize_message(image_message(rgb(2, 2), "cam", encoding="bgr8")))
    assert image.encoding == "bgr8"
    with pytest.raises(ImageFormatError, match="bgr8"):
        image.rgb()


@pytest.mark.parametrize("bad", [np.zeros((4, 4), np.uint8), np.zeros((4, 4, 3), np.float32),
                                 np.zeros((4, 4, 4), np.uint8)])
def test_encode_takes_only_rgb_uint8(bad: np.ndarray) -> None:
    with pytest.raises(ImageFormatError, match="HxWx3 uint8"):
        encode_image(bad, 0, 0, "cam")


def test_raw_and_message_publishers_and_subscribers_meet_on_the_graph(ros_probe: RosProbe) -> None:
    node = ros_probe.node
    wire: list[WireImage] = []
    errors: list[ImageFormatError] = []
    subscribe_images(node, "cdr_test/image", wire.append, qos.SENSOR, errors.append)
    subscribe_images(node, "cdr_test/bad", wire.append, qos.SENSOR, errors.append)
    messages: list[Any] = ros_probe.subscribe(Image, "cdr_test/image")
    publisher = ros_probe.publisher(Image, "cdr_test/image", qos.SENSOR)
    bad_publisher = ros_probe.publisher(Image, "cdr_test/bad", qos.SENSOR)
    pixels = rgb(480, 640, seed=4)

    def publish_both() -> bool:
        publisher.publish(encode_image(pixels, 7, 8, "raw"))  # bytes: what the camera and sim nodes send
        publisher.publish(image_message(pixels, "message"))  # an rclpy message: what other drivers send
        bad_publisher.publish(b"\x00\x01\x00\x00 not an image")  # dropped with an error, the others go on
        return {w.frame_id for w in wire} >= {"raw", "message"} and bool(errors) and bool(messages)

    wait_until(publish_both, 10.0, "both images through subscribe_images and a plain Image subscription")
    for image in wire[:4]:
        np.testing.assert_array_equal(image.rgb(), pixels)
    assert "truncated" in str(errors[0])
    received = next(m for m in messages if m.header.frame_id == "raw")
    assert (received.header.stamp.sec, received.header.stamp.nanosec, received.height) == (7, 8, 480)
    np.testing.assert_array_equal(np.frombuffer(received.data, np.uint8).reshape(480, 640, 3), pixels)
