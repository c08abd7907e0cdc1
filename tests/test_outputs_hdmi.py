"""The HDMI path without HDMI: fbdev against a regular file with a fake sysfs tree, and the
fallback chain kmsdrm -> fbdev -> retrying, pixels read back."""

from __future__ import annotations

import logging

import cv2
import numpy as np
import pytest

from appliance.outputs import create_hdmi_output
from appliance.outputs.fallback import FallbackOutput
from appliance.outputs.fbdev import FbdevOutput
from appliance.outputs.geometry import place


def fake_framebuffer(tmp_path, width=320, height=240, bpp=32, pad=0):
    sysfs = tmp_path / "sys" / "fb0"
    sysfs.mkdir(parents=True)
    stride = width * bpp // 8 + pad
    (sysfs / "virtual_size").write_text(f"{width},{height}\n")
    (sysfs / "bits_per_pixel").write_text(f"{bpp}\n")
    (sysfs / "stride").write_text(f"{stride}\n")
    device = tmp_path / "fb0"
    device.write_bytes(b"\0" * stride * height)
    return device, sysfs, stride


def read_back(device, width, height, bpp, stride) -> np.ndarray:
    raw = np.frombuffer(device.read_bytes(), np.uint8).reshape(height, stride)[:, :width * bpp // 8]
    if bpp == 32:
        return raw.reshape(height, width, 4)[:, :, :3].copy()
    if bpp == 16:
        return cv2.cvtColor(raw.reshape(height, width, 2).copy(), cv2.COLOR_BGR5652BGR)
    return raw.reshape(height, width, 3).copy()


@pytest.mark.parametrize("bpp, pad", [(32, 0), (16, 0), (24, 64)])
def test_fbdev_pixels_land_in_the_framebuffer(tmp_path, sample_frames, bpp, pad):
    device, sysfs, stride = fake_framebuffer(tmp_path, bpp=bpp, pad=pad)
    out = FbdevOutput(device, sysfs)
    out.open(768, 576, 10)
    out.show(sample_frames[2])
    out.close()
    shown = read_back(device, 320, 240, bpp, stride)
    expected = place(sample_frames[2], 320, 240)
    tolerance = 8 if bpp == 16 else 0  # RGB565 keeps 5-6 bits per channel
    assert np.abs(shown.astype(int) - expected.astype(int)).max() <= tolerance
    # independently of `place`: a 4:3 frame on a 4:3 screen is simply the frame scaled down
    scaled = cv2.resize(sample_frames[2], (320, 240), interpolation=cv2.INTER_AREA)
    assert np.abs(shown.astype(int) - scaled.astype(int)).mean() <= tolerance / 2 + 0.5


def test_fbdev_rotated_for_a_portrait_screen(tmp_path, sample_frames):
    device, sysfs, stride = fake_framebuffer(tmp_path, width=240, height=320)
    out = FbdevOutput(device, sysfs, rotation=90)
    out.open(768, 576, 10)
    out.show(sample_frames[0])
    out.close()
    shown = read_back(device, 240, 320, 32, stride)
    assert np.array_equal(shown, place(sample_frames[0], 240, 320, "fit", 90))
    assert shown.mean() > 40  # a 4:3 picture turned upright fills a 3:4 screen


def test_hdmi_falls_back_to_fbdev_when_kmsdrm_cannot_open(tmp_path, sample_frames, sdl_dummy, caplog):
    device, sysfs, stride = fake_framebuffer(tmp_path)
    hdmi = create_hdmi_output(fbdev=str(device), sysfs=str(sysfs))
    with caplog.at_level(logging.WARNING):
        hdmi.open(768, 576, 10)
    assert hdmi.description == f"fbdev {device}"
    assert "kmsdrm" in caplog.text  # the reason kmsdrm was passed over is logged
    hdmi.show(sample_frames[1])
    hdmi.close()
    assert np.array_equal(read_back(device, 320, 240, 32, stride), place(sample_frames[1], 320, 240))


def test_no_screen_at_start_keeps_running_and_finds_the_screen_later(tmp_path, sample_frames, sdl_dummy, caplog):
    missing_device, sysfs = tmp_path / "fb0", tmp_path / "sys" / "fb0"
    now = [0.0]
    hdmi = FallbackOutput([lambda: FbdevOutput(missing_device, sysfs)], retry_s=10,
                          clock=lambda: now[0])
    with caplog.at_level(logging.WARNING):
        hdmi.open(768, 576, 10)
        for _ in range(50):  # frames keep coming: discarded, and only one warning
            hdmi.show(sample_frames[0])
            now[0] += 0.1
    assert hdmi.active is None
    assert caplog.text.count("hdmi: no screen") == 1
    device, sysfs, stride = fake_framebuffer(tmp_path)  # the projector is switched on
    now[0] += 10
    hdmi.show(sample_frames[3])
    assert hdmi.description == f"fbdev {device}"
    assert np.array_equal(read_back(device, 320, 240, 32, stride), place(sample_frames[3], 320, 240))


def test_bad_framebuffer_geometry_is_named(tmp_path):
    from appliance.errors import OutputError
    device, sysfs, _ = fake_framebuffer(tmp_path)
    (sysfs / "bits_per_pixel").write_text("8\n")
    with pytest.raises(OutputError, match="8 bits per pixel is not supported"):
        FbdevOutput(device, sysfs).open(640, 480, 30)
