"""Build a pipeline from settings and run it with clean shutdown on SIGINT/SIGTERM."""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from pathlib import Path
from typing import Iterator

from appliance.config import Settings
from appliance.errors import ApplianceError
from appliance.device.controls import attach_controls
from appliance.device.notify import Notifier, SystemdObserver
from appliance.modes import AnalysisContext
from appliance.outputs import create_output, parse_output_spec
from appliance.pipeline import Analyzer, Pipeline, PipelineOptions
from appliance.sources import create_source
from appliance.stats import RunSummary

log = logging.getLogger(__name__)


def build_pipeline(settings: Settings, options: PipelineOptions | None = None,
                   analyzers: list[Analyzer] | None = None, output_spec: str | None = None,
                   notifier: Notifier | None = None, state_dir: Path | None = None) -> Pipeline:
    """The pipeline settings describe. A file played into a file records every frame, unpaced:
    nobody watches it live, so there is no reason to drop frames or to wait for the clock."""
    s = settings.source
    source = create_source(s.spec, width=s.width, height=s.height, fps=s.fps, loop=s.loop)
    spec = output_spec or settings.output.spec
    o = settings.output
    output = create_output(spec, o.title, o.fit, o.rotation)
    if options is None:
        recording = parse_output_spec(spec).kind in ("video", "still") and not source.live
        options = PipelineOptions(realtime=s.realtime and not recording,
                                  wait_for_display=recording,
                                  max_frames=frame_limit(settings, spec),
                                  stats_every_s=settings.logging.stats_every_s)
    observers = []
    notifier = notifier or Notifier()
    if notifier.enabled:
        observers.append(SystemdObserver(notifier))
    analyzers = list(analyzers or [])
    context = AnalysisContext(settings, state_dir, pose_override=recorded_poses(source))
    pose_stage = pose_analyzer(settings, state_dir, context)
    if pose_stage is not None:
        analyzers.append(pose_stage)
    pipeline = Pipeline(source, output, settings.modes, settings.run.mode, analyzers, options,
                        observers, context)
    if pose_stage is not None and pose_stage.reactions is not None:
        pose_stage.reactions.on_action = pipeline.apply_action  # reactions act on this pipeline
    attach_controls(pipeline, settings.gpio)
    return pipeline


def recorded_poses(source):
    """For a recorded .jsonl source: the estimator that replays its poses; else None."""
    from appliance.sources.recording import PoseRecordingSource, RecordedPoses
    return RecordedPoses(source) if isinstance(source, PoseRecordingSource) else None


def pose_analyzer(settings: Settings, state_dir: Path | None, context: AnalysisContext) -> Analyzer | None:
    """The pose stage when [poses] is enabled, on the context's models (the pose model is then
    loaded once, whichever mode also draws poses); if its model or rules are broken, one error
    line and the artwork runs on without poses."""
    if not settings.poses.enabled:
        return None
    from appliance.poses.analyzer import create_pose_analyzer
    from appliance.service import default_state_dir
    try:
        return create_pose_analyzer(settings, state_dir or default_state_dir(),
                                    estimator=context.pose_estimator())
    except ApplianceError as exc:
        log.error("poses: %s; running without pose reactions", exc)
        return None


def frame_limit(settings: Settings, output_spec: str) -> int:
    """`--frames`, or 1 for a still-image output (a PNG holds one frame)."""
    if settings.run.frames:
        return settings.run.frames
    return 1 if parse_output_spec(output_spec).kind == "still" else 0


@contextlib.contextmanager
def stop_on_signals(pipeline: Pipeline) -> Iterator[None]:
    """SIGINT and SIGTERM ask the pipeline to stop; the previous handlers come back afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    names = {signal.SIGINT: "SIGINT", signal.SIGTERM: "SIGTERM"}
    previous = {sig: signal.getsignal(sig) for sig in names}
    for sig, name in names.items():
        signal.signal(sig, lambda *_ , n=name: pipeline.stop(n))
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_pipeline(pipeline: Pipeline) -> RunSummary:
    log.info("running: %s -> %s, mode %s", pipeline.source.description,
             pipeline.output.description, pipeline.mode_name)
    with stop_on_signals(pipeline):
        return pipeline.run()
