"""Crop/resize to the policy input, and the errors for images of the wrong shape or dtype."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from robot_rl.perception.image import ImageFormatError, center_crop_square, check_image, crop_resize


def test_center_crop_drops_the_sides_of_a_landscape_image() -> None:
    image = np.zeros((480, 640, 3), np.uint8)
    image[:, :80] = 255  # only the 80 columns on each side, which a center crop removes
    image[:, -80:] = 255
    out = crop_resize(image, 128)
    assert out.shape == (128, 128, 3) and out.dtype == np.uint8
    assert out.max() == 0


def test_crop_none_keeps_the_whole_field_of_view() -> None:
    image = np.zeros((480, 640, 3), np.uint8)
    image[:, :80] = 255
    out = crop_resize(image, 128, crop="none")
    assert out[:, 0].min() == 255  # the left strip is still there, squeezed
    assert out[:, 64].max() == 0


def test_inter_area_averages_blocks_when_shrinking() -> None:
    image = np.zeros((4, 4, 3), np.uint8)
    image[0::2, 0::2] = 200  # one bright pixel per 2x2 block
    out = crop_resize(image, 2)
    np.testing.assert_array_equal(out, np.full((2, 2, 3), 50, np.uint8))


def test_square_input_of_the_right_size_passes_through_unchanged() -> None:
    image = np.random.default_rng(0).integers(0, 256, (128, 128, 3), dtype=np.uint8)
    np.testing.assert_array_equal(crop_resize(image, 128), image)


def test_center_crop_of_a_portrait_image() -> None:
    image = np.arange(6 * 4).reshape(6, 4)
    np.testing.assert_array_equal(center_crop_square(image), image[1:5])


@pytest.mark.parametrize("image, message", [
    (np.zeros((480, 640, 3), np.float32), "dtype uint8"),
    (np.zeros((480, 640), np.uint8), "HxWx3"),
    (np.zeros((480, 640, 4), np.uint8), "HxWx3"),
    ([[1, 2, 3]], "numpy array"),
])
def test_bad_images_raise_image_format_error(image: object, message: str) -> None:
    with pytest.raises(ImageFormatError, match=message):
        crop_resize(image, 64)  # type: ignore[arg-type]
    assert issubclass(ImageFormatError, ValueError)


def test_check_image_names_the_expected_size() -> None:
    with pytest.raises(ImageFormatError, match="expected 640x480"):
        check_image(np.zeros((480, 320, 3), np.uint8), width=640, height=480)


def test_bad_arguments() -> None:
    image = np.zeros((8, 8, 3), np.uint8)
    with pytest.raises(ValueError, match="crop="):
        crop_resize(image, 4, crop="left")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="interpolation"):
        crop_resize(image, 4, interpolation="cubic")


@pytest.mark.parametrize("height, width, crop", [(480, 640, "center"), (720, 1280, "center"), (480, 640, "none")])
def test_one_pixel_detail_averages_out_instead_of_aliasing(height: int, width: int, crop: str) -> None:
    checker = ((np.indices((height, width)).sum(axis=0) % 2) * 255).astype(np.uint8)
    out = crop_resize(np.repeat(checker[..., None], 3, axis=2), 128, crop=crop)  # type: ignore[arg-type]
    assert out.shape == (128, 128, 3)
    assert np.abs(out.astype(float) - 127.5).max() <= 1.0  # a plain bilinear resize shows stripes


def test_the_fast_path_stays_close_to_a_single_inter_area_resize() -> None:
    rng = np.random.default_rng(0)
    rows, cols = np.indices((480, 640))
    image = (128 + 60 * np.sin(cols / 37.0)[..., None] + 50 * np.cos(rows / 23.0)[..., None]
             + rng.normal(0, 8, (480, 640, 3)))
    image = np.clip(image, 0, 255).astype(np.uint8)
    reference = cv2.resize(center_crop_square(image), (128, 128), interpolation=cv2.INTER_AREA)
    assert np.abs(crop_resize(image, 128).astype(float) - reference).mean() < 2.5
