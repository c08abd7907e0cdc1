"""The evening's painting on disk: the canvas kept in the state folder, and the paintings saved from it.

- The canvas, `evening-canvas.png` in the state folder: the painting on its ground, as the
  screen shows it, with its coverage as alpha (a BGRA PNG, so an installer can simply copy it
  off and look). Its modification time is the moment it was painted up to, set by the writer
  from its own clock: the next start learns from it whether the daily clear hour passed while
  nothing ran.
- Saved paintings, `paintings/evening-2026-11-30T21-04-05.png`: opaque PNGs named by local time.

Every write is atomic (`appliance.atomic`): a power cut leaves the old file or the new one,
never a torn one. Nothing here holds a camera picture: a kept painting shows no visitor.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from appliance import paths
from appliance.atomic import atomic_path
from appliance.core.lazy import cv2
from appliance.errors import PaintingError

PNG_COMPRESSION = 3  # zlib level: a flat painting packs small at a fraction of level 9's time
PREFIX = "evening-"


def canvas_path(state_dir: Path) -> Path:
    return Path(state_dir) / paths.EVENING_CANVAS


def _png(image: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, PNG_COMPRESSION])
    if not ok:
        raise PaintingError("the painting could not be encoded as PNG")
    return data.tobytes()


def write_canvas(path: Path, bgra: np.ndarray, when: float) -> None:
    """Keep the canvas (atomically), dated `when` (seconds since the epoch)."""
    png = _png(bgra)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        tmp.write_bytes(png)
        os.utime(tmp, (when, when))


def read_canvas(path: Path) -> tuple[np.ndarray, float] | None:
    """The kept canvas (BGRA) and when it was painted up to; None when none is kept.
    PaintingError for a file that cannot be read or is not a kept canvas."""
    try:
        when = path.stat().st_mtime
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise PaintingError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None or image.ndim != 3 or image.shape[2] != 4 or image.dtype != np.uint8:
        raise PaintingError(f"{path}: not a kept canvas (expected a PNG with an alpha channel)")
    return image, when


def forget_canvas(path: Path) -> None:
    """The canvas was cleared: no painting is kept until something is painted again."""
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass  # a read-only folder: the old canvas stays, and the next start clears it by its date


def save_painting(folder: Path, painting: np.ndarray, when: float) -> Path:
    """Write `painting` (BGR) atomically as a PNG named by the local time `when`; its path."""
    name = PREFIX + time.strftime("%Y-%m-%dT%H-%M-%S", time.localtime(when))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path, n = folder / f"{name}.png", 2
        while path.exists():  # two saves in one second
            path, n = folder / f"{name}_{n}.png", n + 1
        with atomic_path(path) as tmp:
            tmp.write_bytes(_png(painting))
    except OSError as exc:
        raise PaintingError(f"{folder}: cannot write a painting ({exc.strerror or exc})") from None
    return path


def save_from_canvas(state_dir: Path, when: float) -> Path:
    """A painting from the kept canvas, when nothing is painting it right now."""
    kept = read_canvas(canvas_path(state_dir))
    if kept is None:
        raise PaintingError(f"no painting to save: no canvas kept in {state_dir} (the evening "
                            "mode has painted nothing here since it was last cleared)")
    return save_painting(paths.paintings_dir(state_dir), np.ascontiguousarray(kept[0][..., :3]), when)


def saved_paintings(state_dir: Path) -> list[Path]:
    """Every painting saved in the state folder, oldest first (by name: the time, then the
    count of saves within that second)."""
    folder = paths.paintings_dir(state_dir)
    try:
        found = list(folder.glob(f"{PREFIX}*.png"))
    except OSError:
        return []
    def order(path: Path) -> tuple[str, int]:
        stamp, _, count = path.stem.partition("_")
        return stamp, int(count) if count.isdigit() else 0
    return sorted(found, key=order)
