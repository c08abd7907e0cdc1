"""The evening's painting on disk: kept canvases and saved paintings survive a writer killed
between its steps, read back as they were written, and a file that is not a canvas says so."""

from __future__ import annotations

import os
import time

import cv2
import numpy as np
import pytest

from appliance.errors import PaintingError
from appliance.paint import album


def canvas(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (48, 64, 4), dtype=np.uint8)


def test_a_kept_canvas_reads_back_with_its_date(tmp_path):
    path = album.canvas_path(tmp_path)
    album.write_canvas(path, canvas(1), 1_800_000_000.5)
    image, when = album.read_canvas(path)
    assert np.array_equal(image, canvas(1)) and when == pytest.approx(1_800_000_000.5)
    assert album.read_canvas(tmp_path / "none.png") is None


@pytest.mark.parametrize("step", ["write", "fsync", "replace"])
def test_a_writer_killed_between_steps_leaves_the_old_canvas_whole(tmp_path, monkeypatch, step):
    path = album.canvas_path(tmp_path)
    album.write_canvas(path, canvas(1), 1_800_000_000.0)

    def killed(*args, **kwargs):
        raise KeyboardInterrupt("power cut")

    target = {"write": (album, "_png"), "fsync": (os, "fsync"), "replace": (os, "replace")}[step]
    monkeypatch.setattr(*target, killed)
    with pytest.raises(KeyboardInterrupt):
        album.write_canvas(path, canvas(2), 1_800_000_100.0)
    monkeypatch.undo()
    image, when = album.read_canvas(path)
    assert np.array_equal(image, canvas(1)) and when == pytest.approx(1_800_000_000.0)
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no temp file left behind


def test_paintings_are_named_by_local_time_and_never_overwrite(tmp_path):
    when = 1_800_000_000.0
    first = album.save_painting(tmp_path / "paintings", canvas(1)[..., :3].copy(), when)
    second = album.save_painting(tmp_path / "paintings", canvas(2)[..., :3].copy(), when)
    stamp = time.strftime("%Y-%m-%dT%H-%M-%S", time.localtime(when))
    assert first.name == f"evening-{stamp}.png" and second.name == f"evening-{stamp}_2.png"
    assert np.array_equal(cv2.imread(str(second)), canvas(2)[..., :3])
    assert album.saved_paintings(tmp_path) == [first, second]


def test_a_painting_from_the_kept_canvas_and_none_without_one(tmp_path):
    with pytest.raises(PaintingError, match="^no painting to save: no canvas kept in"):
        album.save_from_canvas(tmp_path, 1_800_000_000.0)
    album.write_canvas(album.canvas_path(tmp_path), canvas(3), 1_800_000_000.0)
    path = album.save_from_canvas(tmp_path, 1_800_000_000.0)
    assert path.parent == tmp_path / "paintings"
    assert np.array_equal(cv2.imread(str(path), cv2.IMREAD_UNCHANGED), canvas(3)[..., :3])  # opaque


@pytest.mark.parametrize("content", [b"not a png", None])
def test_a_file_that_is_not_a_kept_canvas_says_so(tmp_path, content):
    path = album.canvas_path(tmp_path)
    if content is None:
        cv2.imwrite(str(path), canvas(1)[..., :3])  # a PNG, but without the coverage
    else:
        path.write_bytes(content)
    with pytest.raises(PaintingError, match="not a kept canvas"):
        album.read_canvas(path)
