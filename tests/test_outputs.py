"""Outputs: pixels that arrive are the pixels that were sent, in the order they were sent."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from appliance.outputs import create_output, parse_output_spec
from appliance.outputs.geometry import place
from appliance.outputs.screen import ScreenOutput
from appliance.sources.synthetic import SyntheticSource, decode_index


def frames_in(path) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    out = []
    while True:
        ok, image = cap.read()
        if not ok:
            return out
        out.append(image)


@pytest.mark.parametrize("suffix", [".mp4", ".avi"])
def test_video_file_holds_every_frame_in_order(tmp_path, suffix):
    path = tmp_path / f"out{suffix}"
    output = create_output(f"file:{path}")
    source = SyntheticSource(320, 240, 25)
    output.open(320, 240, 25)
    for i in range(37):
        output.show(source.render(i))
    assert not path.exists(), "the target name appears only when the file is complete"
    output.close()
    written = frames_in(path)
    assert [decode_index(f) for f in written] == list(range(37))
    assert cv2.VideoCapture(str(path)).get(cv2.CAP_PROP_FPS) == pytest.approx(25)


def test_png_output_is_lossless(tmp_path, sample_frames):
    path = tmp_path / "frame.png"
    output = create_output(f"file:{path}")
    output.open(768, 576, 10)
    output.show(sample_frames[0])
    output.show(sample_frames[1])
    output.close()
    assert np.array_equal(cv2.imread(str(path)), sample_frames[1])
    assert [p.name for p in tmp_path.iterdir()] == ["frame.png"]  # no temp file left behind


def test_window_output_shows_the_frame_letterboxed(sdl_dummy, sample_frames):
    screen = ScreenOutput.for_window(driver="dummy")
    screen.open(768, 576, 10)
    try:
        screen.show(sample_frames[0])
        assert np.array_equal(screen.pixels(), sample_frames[0])
        assert screen.commands() == []
    finally:
        screen.close()


@pytest.mark.parametrize("fit, rotation", [("fit", 0), ("fill", 0), ("stretch", 0), ("fit", 90),
                                           ("fit", 270), ("fill", 180)])
def test_placement_on_a_screen_of_another_shape(fit, rotation):
    image = np.zeros((100, 400, 3), np.uint8)
    image[:, :200] = (0, 0, 255)   # left half red
    image[:, 200:] = (255, 0, 0)   # right half blue
    out = place(image, 200, 200, fit, rotation)
    assert out.shape == (200, 200, 3)
    if rotation == 0 and fit == "fit":
        assert (out[:75] == 0).all() and (out[125:] == 0).all()      # bars above and below
        assert tuple(out[100, 10]) == (0, 0, 255) and tuple(out[100, 190]) == (255, 0, 0)
    if fit in ("fill", "stretch") and rotation == 0:
        assert (out.sum(axis=2) > 0).all()                            # no bars
    if rotation == 90:  # turned clockwise: the left half ends up on top
        assert tuple(out[10, 100]) == (0, 0, 255) and tuple(out[190, 100]) == (255, 0, 0)
    if rotation == 270:
        assert tuple(out[10, 100]) == (255, 0, 0) and tuple(out[190, 100]) == (0, 0, 255)
    if rotation == 180:  # filled and upside down: blue on the left now
        assert tuple(out[100, 10]) == (255, 0, 0)


def test_window_keys_become_commands(sdl_dummy, sample_frames):
    import pygame
    screen = ScreenOutput.for_window(driver="dummy")
    screen.open(320, 240, 10)
    try:
        for key in (pygame.K_RIGHT, pygame.K_LEFT, pygame.K_ESCAPE):
            pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=0))
        assert screen.commands() == ["next_mode", "previous_mode", "quit"]
    finally:
        screen.close()


def test_hdmi_without_a_screen_is_a_clear_error(sdl_dummy):
    from appliance.errors import OutputError
    hdmi = ScreenOutput.for_hdmi()  # kmsdrm: no DRM device with a connected screen here
    with pytest.raises(OutputError, match=r"hdmi \(kmsdrm\): cannot open the display"):
        hdmi.open(640, 480, 30)


@pytest.mark.parametrize("spec, message", [
    ("screen", "unknown output 'screen'"),
    ("file:out.gif", "cannot write 'out.gif'"),
])
def test_bad_output_specs(spec, message):
    with pytest.raises(ValueError, match=message):
        parse_output_spec(spec)


@pytest.mark.parametrize("fit, rotation, frame_size, picture_size", [
    ("fit", 0, (768, 576), (768, 576)),      # SDL letterboxes it on the screen
    ("fill", 0, (640, 360), (640, 360)),     # SDL's overscan crops it
    ("stretch", 0, (640, 360), (480, 360)),  # given the screen's 4:3 here, at the frame's scale
    ("fit", 90, (768, 576), (576, 768)),
])
def test_hdmi_hands_sdl_the_frame_sized_picture_and_lets_the_renderer_scale(sdl_dummy, sample_frames, fit, rotation,
                                                                             frame_size, picture_size):
    """The CPU never scales to 1080p: the screen is opened at the picture's size with SDL's
    SCALED flag (on a Pi the GPU scales); SDL's dummy driver has only its software renderer,
    and the output says so."""
    frame = cv2.resize(sample_frames[0], frame_size, interpolation=cv2.INTER_AREA)
    hdmi = ScreenOutput.for_hdmi(driver="dummy", fit=fit, rotation=rotation)
    hdmi.open(*frame_size, 30)
    try:
        hdmi.show(frame)
        shown = hdmi.pixels()
        assert shown.shape[1::-1] == picture_size
        expected = place(frame, *picture_size, "stretch", rotation)
        assert np.abs(shown.astype(int) - expected).mean() < 1.0
        assert hdmi.scaled_by.startswith("CPU")
    finally:
        hdmi.close()
