"""Build a pipeline from settings and run it with clean shutdown on SIGINT/SIGTERM."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import signal
import threading
from pathlib import Path
from typing import Callable, Iterator

from appliance import paths
from appliance.app.paintings import PaintingSaves
from appliance.config import Settings
from appliance.core.pipeline import Pipeline, PipelineOptions
from appliance.core.stages import POSE, AnalysisContext, Analyzer
from appliance.core.stats import RunSummary
from appliance.device.controls import attach_controls
from appliance.device.notify import Notifier, SystemdObserver
from appliance.errors import ApplianceError
from appliance.outputs import create_output, parse_output_spec
from appliance.sources import Source, create_source

log = logging.getLogger(__name__)


class ActionRelay:
    """Hands reactions' actions to the pipeline, which is built after the pose stage, and,
    when the box plays in a show (`appliance.show`), show-wide ones and pose events to it."""

    def __init__(self) -> None:
        self.target: Callable[[str], None] = lambda action: log.warning("action %s before start", action)
        self.show = None  # the pipeline's ShowBox, with a [show]

    def send(self, action: str) -> None:
        self.target(action)

    def send_show(self, action: str) -> None:
        """Done here, and by every other box of the show (when there is one)."""
        self.target(action)
        if self.show is not None:
            self.show.publish_action(action)

    def pose_event(self, event) -> None:
        if self.show is not None:
            self.show.publish_pose(event)


def build_pipeline(settings: Settings, options: PipelineOptions | None = None,
                   stages: list[Callable[[], Analyzer]] | None = None, output_spec: str | None = None,
                   notifier: Notifier | None = None, state_dir: Path | None = None,
                   wait_for_source: bool = False, saves: PaintingSaves | None = None,
                   awake: Callable[[], None] | None = None) -> Pipeline:
    """The pipeline settings describe. A file played into a file records every frame, unpaced:
    nobody watches it live, so there is no reason to drop frames or to wait for the clock.
    `wait_for_source`: a source that cannot be read is waited for, whatever it is (the service).
    `saves`: where requests to save the painting go (the service keeps one across reloads, for
    its SIGUSR1); the previous button's long press and OSC `/painting/save` ask it too.
    `awake`: told of every button press and of OSC `/awake` (the opening hours' keep-awake)."""
    s = settings.source
    source = create_source(s.spec, width=s.width, height=s.height, fps=s.fps, loop=s.loop)
    spec = output_spec or settings.output.spec
    o = settings.output
    output = create_output(spec, o.title, o.fit, o.rotation, o.corners)
    options = options or pipeline_options(settings, spec, source.live)
    if wait_for_source:
        options = dataclasses.replace(options, wait_for_source=True)  # the caller's options stay as they are
    notifier = notifier or Notifier()
    observers = [SystemdObserver(notifier)] if notifier.enabled else []
    context = AnalysisContext(settings, state_dir, recorded_poses=is_pose_recording(source))
    relay = ActionRelay()
    pose_stage = pose_recipe(settings, context, relay)
    stages = list(stages or []) + ([pose_stage] if pose_stage else [])
    pipeline = Pipeline(source, output, settings.modes, settings.run.mode, stages, options,
                        observers, context)
    relay.target = pipeline.apply_action  # reactions act on this pipeline
    if settings.show.enabled:
        from appliance.show.box import attach_show  # paho-mqtt only with a show
        relay.show = attach_show(pipeline, settings.show)
    saves = saves or PaintingSaves()
    pipeline.observers.append(saves)
    attach_controls(pipeline, settings.gpio, PoseTeacher(pipeline), saves.request, pressed=awake)
    commands = {"/painting/save": saves.request, **({"/awake": awake} if awake else {})}
    attach_osc_listener(pipeline, settings.poses.osc, commands)
    return pipeline


def attach_osc_listener(pipeline: Pipeline, osc, commands: dict[str, Callable[[], object]]) -> None:
    """OSC commands when `listen_port` is set; a port that cannot be bound (in use, an address
    not on this box) is one error line, and the artwork runs on without them."""
    if not osc.listen_port:
        return
    from appliance.poses.osc import OscListener  # python-osc only when listening
    try:
        listener = OscListener(osc.listen_host, osc.listen_port, commands)
    except OSError as exc:
        log.error("OSC: cannot listen on %s:%d (%s); running without OSC commands",
                  osc.listen_host, osc.listen_port, exc)
        return
    pipeline.observers.append(listener)


def pipeline_options(settings: Settings, output_spec: str, live: bool) -> PipelineOptions:
    """A recording of a file source is paced like the camera it stands for (as `source.realtime`
    says), so the video shows what a visitor would see, keyframe rate included, and keeps every
    frame (capture waits for the display). `render` is the offline path: every frame analysed."""
    recording = parse_output_spec(output_spec).kind in ("video", "still") and not live
    return PipelineOptions(realtime=settings.source.realtime,
                           wait_for_display=recording,
                           max_frames=frame_limit(settings, output_spec),
                           stats_every_s=settings.logging.stats_every_s)


def is_pose_recording(source: Source) -> bool:
    """A recorded .jsonl source brings its own poses: no pose model is loaded for it."""
    from appliance.sources.recording import PoseRecordingSource
    return isinstance(source, PoseRecordingSource)


def pose_recipe(settings: Settings, context: AnalysisContext,
                relay: ActionRelay) -> Callable[[], Analyzer] | None:
    """The [poses] stage's recipe when it is enabled and can be built (the pose model is then
    loaded once, whichever mode also draws poses); if its model or rules are broken, one error
    line and the artwork runs on without poses."""
    if not settings.poses.enabled:
        return None
    from appliance.analysis.pose import build_pose_stage, pose_estimator

    def build() -> Analyzer:
        return build_pose_stage(settings, paths.state_dir(context.state_dir),
                                pose_estimator(context), relay.send, relay.send_show, relay.pose_event)
    try:
        first = build()
    except ApplianceError as exc:
        log.error("poses: %s; running without pose reactions", exc)
        return None
    built = [first]
    return lambda: built.pop() if built else build()  # the first one checked, then fresh ones


class PoseTeacher:
    """The long press's seam: teach the [poses] stage a pose, and say whether it is learning.
    Asks the pipeline each time, as the supervisor may have rebuilt the stage."""

    def __init__(self, pipeline: Pipeline):
        self.pipeline = pipeline

    def _stage(self):
        from appliance.analysis.pose import PoseStage
        stage = self.pipeline.stage(POSE.key)
        return stage if isinstance(stage, PoseStage) and stage.examples_path is not None else None

    def teach(self) -> bool:
        """False when there is no [poses] stage to teach."""
        stage = self._stage()
        if stage is None:
            return False
        stage.teach()
        return True

    @property
    def teaching(self) -> bool:
        stage = self._stage()
        return stage is not None and stage.teaching


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
