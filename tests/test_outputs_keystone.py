"""The corner pin: a test card's corners land on the configured points within 1 px, on SDL's
screen (dummy driver, pixels read back) and on the framebuffer (a regular file); bad corners
are one config line naming the key."""

from __future__ import annotations

import numpy as np
import pytest

from appliance.config import load_config
from appliance.errors import ConfigError
from appliance.outputs.fbdev import FbdevOutput
from appliance.outputs.keystone import test_card as make_card
from appliance.outputs.screen import ScreenOutput
from conftest import run_cli
from test_outputs_hdmi import fake_framebuffer, read_back

PROJECTOR_AT_AN_ANGLE = [[0.08, 0.03], [0.95, 0.0], [1.0, 1.0], [0.0, 0.9]]
TILTED = [[0.2, 0.1], [0.85, 0.2], [0.8, 0.95], [0.1, 0.8]]
DIAGONALS = ((1, 1), (-1, 1), (-1, -1), (1, -1))  # the direction each corner is extreme against


def found_corners(shown: np.ndarray) -> list[tuple[int, int]]:
    """Each corner of the lit quadrilateral: its lit pixel furthest towards that corner."""
    ys, xs = np.nonzero(shown.max(axis=2) > 20)  # the card is never darker than 40; outside is black
    corners = []
    for dx, dy in DIAGONALS:
        k = np.argmin(dx * xs + dy * ys)
        corners.append((int(xs[k]), int(ys[k])))
    return corners


def shown_on(screen: ScreenOutput, image: np.ndarray) -> np.ndarray:
    """What `screen` shows after being opened for a 640x480 picture and given `image`."""
    screen.open(640, 480, 10)
    try:
        screen.show(image)
        return screen.pixels()
    finally:
        screen.close()


def assert_pinned(shown: np.ndarray, corners: list[list[float]], within: float = 1.0) -> None:
    h, w = shown.shape[:2]
    for (x, y), (fx, fy) in zip(found_corners(shown), corners):
        want = (fx * w - 0.5, fy * h - 0.5)  # the picture's outer edge, in pixel-centre coordinates
        assert abs(x - np.clip(want[0], 0, w - 1)) <= within and abs(y - np.clip(want[1], 0, h - 1)) <= within, \
            ((x, y), want)


@pytest.mark.parametrize("corners", [PROJECTOR_AT_AN_ANGLE, TILTED])
def test_the_screen_pins_the_cards_corners_to_the_configured_points(sdl_dummy, corners):
    screen = ScreenOutput.for_window(driver="dummy", corners=corners)
    shown = shown_on(screen, make_card(640, 480))
    assert_pinned(shown, corners)
    assert shown[240, 5].max() == 0 or corners[3][0] == 0.0  # outside the quadrilateral: black
    assert screen.scaled_by == "GPU (corner pin)"  # drawn by SDL's renderer, not warped on the CPU


def test_the_renderers_pin_shows_what_the_cpu_warp_shows(sdl_dummy):
    """The grid of quads SDL draws against the exact perspective warp, on a real frame: the
    same picture but for sampling at edges (the tests' software renderer samples nearest)."""
    from appliance.bench.run import clip_frames
    from appliance.outputs.keystone import CornerPin
    frame = clip_frames(1, 60, (640, 480))[0]
    screen = ScreenOutput.for_window(driver="dummy", corners=TILTED)
    shown = shown_on(screen, frame)
    warped = CornerPin(TILTED).apply(frame, 640, 480)
    difference = np.abs(shown.astype(int) - warped.astype(int))
    assert difference.mean() < 4.0, difference.mean()  # 1.9 measured; a misplaced grid is tens
    assert np.median(difference) <= 2


def test_full_screen_the_pin_is_in_fractions_of_the_screen(sdl_dummy):
    screen = ScreenOutput.for_hdmi(driver="dummy", corners=PROJECTOR_AT_AN_ANGLE)
    shown = shown_on(screen, make_card(640, 480))
    assert shown.shape[:2] != (480, 640)  # the whole (dummy) screen, not the picture's size
    # 1.5 px: the software renderer lights only pixels whose centre a triangle covers, so the
    # sharp tip of a corner stretched 1.6x loses up to a pixel (linear sampling on a Pi keeps it)
    assert_pinned(shown, PROJECTOR_AT_AN_ANGLE, within=1.5)


def test_the_framebuffer_pins_too(tmp_path):
    device, sysfs, stride = fake_framebuffer(tmp_path, width=320, height=240)
    out = FbdevOutput(device, sysfs, corners=TILTED)
    out.open(640, 480, 10)
    out.show(make_card(640, 480))
    out.close()
    assert_pinned(read_back(device, 320, 240, 32, stride), TILTED)


def test_without_corners_the_card_fills_the_screen(sdl_dummy):
    shown = shown_on(ScreenOutput.for_window(driver="dummy"), make_card(640, 480))
    assert found_corners(shown) == [(0, 0), (639, 0), (639, 479), (0, 479)]


@pytest.mark.parametrize("corners, problem", [
    ("[[0.1, 0.1]]", "1 corner(s) given"),
    ("[[0, 0], [1, 0], [1, 1], [0, 1, 2]]", "expected 4 [x, y] pairs"),
    ("[[0, 0], [1, 1], [1, 0], [0, 1]]", "convex shape clockwise"),
    ("[[0, 0], [0, 1], [1, 1], [1, 0]]", "convex shape clockwise"),
    ("[[0, 0], [1.2, 0], [1, 1], [0, 1]]", "off the screen"),
    ('"corners"', "expected a list"),
])
def test_bad_corners_are_one_line_naming_the_key(tmp_path, corners, problem):
    path = tmp_path / "appliance.toml"
    path.write_text(f"[output]\ncorners = {corners}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert len(caught.value.problems) == 1
    line = caught.value.problems[0]
    assert "output.corners" in line and problem in line and "\n" not in line, line


def test_the_test_pattern_command_writes_the_pinned_card(tmp_path):
    config = tmp_path / "appliance.toml"
    config.write_text(f"[output]\ncorners = {TILTED}\n")
    card = tmp_path / "card.png"
    done = run_cli("test-pattern", "--config", str(config), "--output", f"file:{card}", "--seconds", "0.1")
    assert done.returncode == 0, done.stderr
    import cv2
    assert_pinned(cv2.imread(str(card)), TILTED)
    done = run_cli("test-pattern", "--seconds", "-1")
    assert done.returncode != 0 and "--seconds" in done.stderr


def test_on_a_full_screen_the_pin_is_in_fractions_of_that_screen():
    """On a 16:9 screen a 4:3 frame is pinned at the screen's aspect (SDL then only scales it):
    the corners are fractions of the screen, not of a letterboxed picture."""
    from appliance.outputs.screen import ScreenPicture
    picture = ScreenPicture(corners=TILTED, screen=(1920, 1080))
    assert picture.size(640, 480) == (853, 480)
    shown = picture.convert(make_card(640, 480))
    assert shown.shape == (480, 853, 3)
    assert_pinned(shown, TILTED)


def test_without_sdls_renderer_the_cpu_pins_the_card(sdl_dummy, monkeypatch):
    """An SDL whose render API cannot open a window: the corners are warped on the CPU instead,
    and a screen reopened after the renderer worked warps too (its picture forgets the GPU)."""
    from pygame._sdl2 import video

    screen = ScreenOutput.for_window(driver="dummy", corners=TILTED)
    shown_on(screen, make_card(640, 480))  # first with the renderer
    assert screen.scaled_by == "GPU (corner pin)"

    def no_window(*args, **kwargs):
        raise RuntimeError("no render API here")
    monkeypatch.setattr(video, "Window", no_window)
    shown = shown_on(screen, make_card(640, 480))
    assert screen.scaled_by != "GPU (corner pin)"
    assert_pinned(shown, TILTED)
