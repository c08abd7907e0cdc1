"""Offline rendering and the contact sheet: the same result on any machine, every frame."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

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


def _full_disk_after(limit_bytes: int):
    """For the child: files may not grow past `limit_bytes` (writes fail as on a full disk)."""
    import resource
    import signal

    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with EFBIG instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))
    return apply


@pytest.mark.parametrize("name", ["film.mp4", "film.avi"])
def test_a_recording_that_fills_the_disk_fails_and_keeps_nothing(tmp_path, name):
    """OpenCV's writer says nothing when a write fails: the video is read back before it is
    given its name. The command exits non-zero with one line, and no file or temp is left."""
    video = tmp_path / name
    result = run_cli("render", "sample", "--mode", "passthrough", "--frames", "60", "-o", str(video),
                     preexec_fn=_full_disk_after(300_000))
    assert result.returncode != 0, result.stdout
    assert f"{video}: the video could not be written whole" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("where", ["a directory", "/proc"])
def test_a_still_that_cannot_be_written_fails_with_one_line(tmp_path, where):
    target = tmp_path / "shot.png"
    if where == "a directory":
        target.mkdir()
    else:
        target = Path("/proc/shot.png")
    result = run_cli("render", "sample", "--mode", "passthrough", "--frames", "3", "-o", str(target))
    assert result.returncode != 0 and f"{target}: cannot be written" in result.stderr, result.stderr
    assert "rendered" not in result.stdout and "Traceback" not in result.stderr


def test_temp_files_a_killed_writer_left_are_cleared_at_the_next_start(tmp_path):
    from appliance.atomic import remove_stale_temp_files
    (tmp_path / ".last-good.toml.abc123.tmp").write_text("torn")
    (tmp_path / ".film.partial.mp4").write_bytes(b"\0" * 100)
    (tmp_path / "last-good.toml").write_text("kept")
    (tmp_path / ".hidden-config").write_text("kept too")
    removed = remove_stale_temp_files(tmp_path)
    assert sorted(p.name for p in removed) == [".film.partial.mp4", ".last-good.toml.abc123.tmp"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".hidden-config", "last-good.toml"]
