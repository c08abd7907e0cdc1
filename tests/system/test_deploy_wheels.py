"""Every runtime dependency resolves to an aarch64 wheel for both Raspberry Pi OS targets
(Bookworm / Python 3.11 with numpy < 2, Trixie / Python 3.13): deploy/checks/wheels.py asks PyPI.

Needs the network; skipped (with the reason) when PyPI cannot be reached at all."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import ROOT

CHECK = ROOT / "deploy" / "checks" / "wheels.py"
OFFLINE_SIGNS = ("Could not fetch URL", "NewConnectionError", "Temporary failure in name resolution",
                 "Network is unreachable")


@pytest.fixture(scope="module")
def targets() -> dict[str, dict]:
    result = subprocess.run([sys.executable, str(CHECK), "--json"], capture_output=True, text=True,
                            timeout=120)
    rows = {row["target"]: row for row in map(json.loads, result.stdout.splitlines())}
    errors = " ".join(row["error"] for row in rows.values())
    if any(sign in errors for sign in OFFLINE_SIGNS) and not any(r["ok"] for r in rows.values()):
        pytest.skip(f"PyPI unreachable: {errors[:200]}")
    return rows


def names(row: dict) -> dict[str, str]:
    """wheel file names -> {normalised project name: version}"""
    out = {}
    for wheel in row["wheels"]:
        project, version = wheel.split("-")[:2]
        out[project.lower().replace("_", "-")] = version
    return out


@pytest.mark.parametrize("target", ["bookworm-py3.11", "trixie-py3.13"])
def test_every_runtime_dependency_has_an_aarch64_wheel(targets, target):
    row = targets[target]
    assert row["ok"], row["error"]
    got = names(row)
    for project in ("numpy", "opencv-python-headless", "pygame-ce", "ai-edge-litert", "gpiozero",
                    "python-osc"):
        assert project in got, f"{project} not resolved for {target}"
    for wheel in row["wheels"]:
        assert wheel.endswith(("-none-any.whl", "aarch64.whl")), wheel


def test_bookworm_keeps_numpy_1_and_gets_tflite_runtime(targets):
    got = names(targets["bookworm-py3.11"])
    assert got["numpy"].startswith("1.")
    assert "tflite-runtime" in got


def test_trixie_has_no_tflite_runtime_and_numpy_2(targets):
    got = names(targets["trixie-py3.13"])
    assert "tflite-runtime" not in got
    assert got["numpy"].split(".")[0] == "2"
