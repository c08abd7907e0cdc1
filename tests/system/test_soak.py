"""A soak as a gallery lives it: modes switched by visitors' poses (reactions) for a minute,
through the real pipeline and every built-in mode, watching what must stay flat over months:
resident memory, threads and open files."""

from __future__ import annotations

import os
import threading
import time

from appliance.app.runner import build_pipeline
from appliance.config import ReactionSettings, Settings
from appliance.core.pipeline import PipelineOptions
from appliance.core.stats import rss_mb
from appliance.poses.recording import PoseRecorder

from test_poses_data import FPS
from test_poses_recording import performance

SOAK_S = 60.0
SAMPLE_S = 1.0


def open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


def threads_back_to(count: int, wait_s: float = 10.0) -> int:
    """A stopped stage's thread finishes the frame it is on before it ends: give it time."""
    deadline = time.monotonic() + wait_s
    while threading.active_count() > count and time.monotonic() < deadline:
        time.sleep(0.1)
    return threading.active_count()


def test_a_minute_of_pose_reactions_switching_modes_leaves_memory_threads_and_files_flat(tmp_path):
    show = tmp_path / "show.jsonl"
    with PoseRecorder(show) as recorder:
        for index, poses in enumerate(performance()):
            recorder.write(index, index / FPS, poses)
    settings = Settings()
    settings.source.spec, settings.source.loop = str(show), True
    settings.poses.enabled = True
    settings.poses.reactions = [ReactionSettings(pose=p, people=1, action="next_mode")
                                for p in ("arms_up", "t_pose", "crouch")]
    threads_before = threading.active_count()
    pipeline = build_pipeline(settings, PipelineOptions(realtime=True), output_spec="null", state_dir=tmp_path)
    modes, samples = [], []
    runner = threading.Thread(target=pipeline.run)
    runner.start()
    started = time.monotonic()
    try:
        while time.monotonic() - started < SOAK_S and runner.is_alive():
            time.sleep(SAMPLE_S)
            samples.append((rss_mb(), threading.active_count(), open_files()))
            if not modes or modes[-1] != pipeline.mode_name:
                modes.append(pipeline.mode_name)
    finally:
        pipeline.stop("test")
        runner.join(30)
    assert not runner.is_alive()
    assert len(modes) >= 8 and len(set(modes)) >= 6, modes  # switched by the poses, round the modes
    third = len(samples) // 3
    middle, last = samples[third:2 * third], samples[2 * third:]
    # A mode switch stops one stage while the next starts, so a sample can catch one more thread
    # for a moment; a thread left behind on every switch lifts even the fewest threads seen.
    assert min(s[1] for s in last) <= max(s[1] for s in middle), samples
    assert threads_back_to(threads_before) == threads_before, [t.name for t in threading.enumerate()]
    assert max(s[2] for s in last) <= max(s[2] for s in middle) + 2, samples  # nor a file
    assert max(s[0] for s in last) <= max(s[0] for s in middle) + 25, samples  # nor memory
