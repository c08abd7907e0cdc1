"""Offline rendering and the contact sheet: the same result on any machine, every frame."""

from __future__ import annotations

import cv2
import numpy as np

from conftest import run_cli


def test_render_waits_for_every_frame_and_is_repeatable(tmp_path):
    video = tmp_path / "film.mp4"
    result = run_cli("render", "sample", "--mode", "aged-film", "-o", str(video))
    assert result.returncode == 0, result.stderr
    cap = cv2.VideoCapture(str(video))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 150  # every frame of the clip, none dropped
    stills = []
    for name in ("a.png", "b.png"):
        result = run_cli("render", "sample", "--mode", "aged-film", "--frames", "90",
                         "-o", str(tmp_path / name))
        assert result.returncode == 0, result.stderr
        stills.append(cv2.imread(str(tmp_path / name)))
    assert np.array_equal(stills[0], stills[1])


def test_contact_sheet_shows_each_mode_by_name(tmp_path, sample_frames):
    sheet_path = tmp_path / "sheet.png"
    result = run_cli("contact-sheet", "--frames", "3", "--modes", "passthrough,mirror",
                     "-o", str(sheet_path))
    assert result.returncode == 0, result.stderr
    sheet = cv2.imread(str(sheet_path))
    tile_w, tile_h = 384, 288
    assert sheet.shape == (tile_h, 2 * tile_w + 6, 3)  # two tiles side by side, a gap between
    expected = cv2.resize(sample_frames[2], (tile_w, tile_h), interpolation=cv2.INTER_AREA)
    passthrough = sheet[:tile_h - 28, :tile_w]            # above the name bar
    assert np.abs(passthrough.astype(int) - expected[:tile_h - 28]).mean() < 1.0
    mirror = sheet[:tile_h - 28, tile_w + 6:2 * tile_w + 6]
    assert np.abs(mirror.astype(int) - expected[:tile_h - 28, ::-1]).mean() < 1.0
    assert (sheet[:, tile_w:tile_w + 6] == 255).all()


def test_unknown_mode_in_the_sheet_is_named():
    result = run_cli("contact-sheet", "--frames", "1", "--modes", "disco")
    assert result.returncode == 2 and "--modes: unknown mode 'disco'" in result.stderr
