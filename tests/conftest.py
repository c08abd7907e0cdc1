"""Shared fixtures: real frames from the bundled clip, and seams swapped per test."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from appliance.paths import SAMPLE_CLIP

ROOT = Path(__file__).resolve().parent.parent
ART = ROOT.parent / "shared" / "art"


@pytest.fixture(scope="session")
def sample_frames() -> list[np.ndarray]:
    """The first 10 frames of the bundled clip (real footage of people walking)."""
    cap = cv2.VideoCapture(str(SAMPLE_CLIP))
    frames = []
    while len(frames) < 10:
        ok, frame = cap.read()
        assert ok, "the bundled sample clip could not be decoded"
        frames.append(frame)
    cap.release()
    return frames


@pytest.fixture
def sample_png(tmp_path, sample_frames) -> Path:
    path = tmp_path / "walkers.png"
    cv2.imwrite(str(path), sample_frames[3])
    return path


@pytest.fixture
def sdl_dummy(monkeypatch):
    """SDL's dummy video driver: a real SDL display with no screen attached."""
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)


def run_cli(*args: str, timeout: float = 60, **kwargs) -> subprocess.CompletedProcess:
    """Run the real `appliance` command (python -m appliance) in a child process."""
    env = dict(os.environ, SDL_VIDEODRIVER="dummy")
    env.pop("DISPLAY", None)
    return subprocess.run([sys.executable, "-m", "appliance", *args], capture_output=True,
                          text=True, timeout=timeout, env=env, **kwargs)
