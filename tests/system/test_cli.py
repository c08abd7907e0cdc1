"""The real `appliance` command in a child process: exits, signals, files it writes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest

from appliance.sources.synthetic import decode_index

from conftest import run_cli


def start_cli(*args: str) -> subprocess.Popen:
    env = dict(os.environ, SDL_VIDEODRIVER="dummy", PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "appliance", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def wait_for_log(proc: subprocess.Popen, text: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if text in line:
            return
        if not line and proc.poll() is not None:
            break
    proc.kill()
    pytest.fail(f"never saw {text!r} from the appliance")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_a_live_run_cleanly_within_2_s(sig, tmp_path):
    out = tmp_path / "live.mp4"
    proc = start_cli("run", "--source", "synthetic", "--output", f"file:{out}")
    wait_for_log(proc, "running:")
    time.sleep(1.0)  # let frames flow
    sent = time.monotonic()
    proc.send_signal(sig)
    stdout, _ = proc.communicate(timeout=10)
    assert time.monotonic() - sent < 2.0
    assert proc.returncode == 0
    assert f"ended by {sig.name}" in stdout
    frames = int(stdout.split("out ")[1].split(",")[0])
    assert frames > 5
    cap = cv2.VideoCapture(str(out))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == frames  # the recording is complete


def test_end_of_file_ends_the_run_with_exit_0(tmp_path, sample_frames):
    clip = tmp_path / "short.mp4"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"mp4v"), 20, (768, 576))
    for frame in sample_frames[:8]:
        writer.write(frame)
    writer.release()
    result = run_cli("run", "--source", str(clip), "--output", "null")
    assert result.returncode == 0, result.stderr
    assert "ended by end of source" in result.stdout
    assert "frames in 8, out 8, dropped 0" in result.stdout


def test_a_source_that_cannot_open_gives_one_line_and_non_zero(tmp_path):
    bogus = tmp_path / "clip.mp4"
    bogus.write_bytes(b"\x00" * 1000)
    result = run_cli("run", "--source", str(bogus), "--output", "null")
    assert result.returncode == 3
    assert result.stderr.strip().splitlines()[-1].startswith(f"appliance: {bogus}: ")
    assert "Traceback" not in result.stderr
    missing = run_cli("run", "--source", "camera:63", "--output", "null")
    assert missing.returncode == 3 and "camera:63: cannot open /dev/video63" in missing.stderr


def test_bad_arguments_name_the_argument():
    result = run_cli("run", "--frames", "-2", "--mode", "nope")
    assert result.returncode == 2
    assert "--frames: -2 is out of range (expected a value >= 0)" in result.stderr
    assert "--mode: unknown mode 'nope'" in result.stderr


def test_png_output_holds_the_mirrored_frame(tmp_path, sample_png, sample_frames):
    out = tmp_path / "mirrored.png"
    result = run_cli("run", "--source", str(sample_png), "--mode", "mirror", "--output", f"file:{out}")
    assert result.returncode == 0, result.stderr
    assert np.array_equal(cv2.imread(str(out)), cv2.flip(sample_frames[3], 1))


def test_frames_limit_on_a_video_file(tmp_path):
    out = tmp_path / "twelve.mp4"
    result = run_cli("run", "--source", "synthetic", "--frames", "12", "--output", f"file:{out}")
    assert result.returncode == 0, result.stderr
    cap = cv2.VideoCapture(str(out))
    indices = []
    while (ok_frame := cap.read())[0]:
        indices.append(decode_index(ok_frame[1]))
    assert indices == list(range(12))


def test_window_output_runs_under_sdl_dummy():
    result = run_cli("run", "--source", "synthetic", "--output", "window", "--frames", "10")
    assert result.returncode == 0, result.stderr
    assert "out 10" in result.stdout


def test_bench_writes_json_with_per_stage_times(tmp_path):
    report_path = tmp_path / "bench.json"
    result = run_cli("bench", "--source", "sample", "--mode", "mirror", "--frames", "40",
                     "--json", str(report_path))
    assert result.returncode == 0, result.stderr
    report = json.loads(report_path.read_text())
    summary = report["summary"]
    assert summary["frames_out"] == 40 and summary["dropped"] == 0
    assert {"source", "effect:mirror", "output"} <= set(summary["stages"])
    assert summary["stages"]["effect:mirror"]["count"] == 40
    assert summary["peak_rss_mb"] > 10
    assert report["machine"]["cpus"] >= 1


def test_python_dash_m_and_version():
    result = run_cli("--version")
    assert result.returncode == 0 and result.stdout.startswith("appliance ")


def test_model_bench_times_every_runtime_installed(sample_frames):
    from appliance.bench.models import bench_models, model_lines
    from appliance.models.manifest import ModelStore
    from appliance.models.runtime import available_runtimes
    results = bench_models(ModelStore(), sample_frames[:2], threads=2, runs=3,
                           names=["movenet_lightning", "meet"])
    assert len(results) == len(available_runtimes())
    for per_model in results.values():
        assert set(per_model) == {"movenet_lightning", "meet"}
        for timings in per_model.values():
            assert set(timings) == {"1 thread", "2 threads"}
            assert all(t["median_ms"] > 0 and t["p95_ms"] >= t["median_ms"] for t in timings.values())
    assert any("movenet_lightning" in line for line in model_lines(results))
