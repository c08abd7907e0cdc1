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
    assert max(s[1] for s in last) <= max(s[1] for s in middle), samples  # no thread left behind
    assert max(s[2] for s in last) <= max(s[2] for s in middle) + 2, samples  # nor a file
    assert max(s[0] for s in last) <= max(s[0] for s in middle) + 25, samples  # nor memory
