"""The frame pipeline: source -> (analysis beside it) -> mode's effects -> output.

Three kinds of thread, joined by one-frame mailboxes (`LatestSlot`) so nothing queues:

- the capture thread reads the source (pacing files to their frame rate when `realtime`) and
  puts each frame in the display mailbox; frames the display had no time for are dropped and
  counted;
- one worker per analysis stage (pose, segmentation, style keyframes ...) takes the newest
  frame it was handed, works as long as it needs, and publishes its newest result; a worker
  whose thread died or hung is replaced by the supervisor (`appliance.core.workers`);
- the display loop, on the calling (main) thread because SDL wants it there, takes the newest
  frame, attaches the newest analysis results, runs the mode's effects and shows the picture.

`wait_for_display=True` makes capture wait for the display instead of dropping (throughput
benchmarks); `inline_analysis=True` also runs every analysis stage on every frame before it is
shown (offline renders, where the result must not depend on the machine's speed).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Protocol

from appliance.config import ModeSettings
from appliance.core.attract import Attract
from appliance.core.capture import Backoff, Capture
from appliance.core.cards import message_card
from appliance.core.frame import Frame, FrameMeta
from appliance.core.modes import Mode, stage_recipe
from appliance.core.slots import LatestSlot
from appliance.core.stages import POSE, AnalysisContext, Analyzer
from appliance.core.stats import (
    RunSummary,
    StageTimes,
    Stopwatch,
    peak_rss_mb,
    process_age_s,
    release_free_memory,
)
from appliance.core.workers import AnalysisWorker, Supervisor
from appliance.errors import ApplianceError, SourceError
from appliance.outputs import Output
from appliance.sources import Source

log = logging.getLogger(__name__)

JOIN_SECONDS = 0.8
WORKER_JOIN_SECONDS = 3.0
STALL_S = 0.050  # a picture held this much longer than the source's frame interval is a stall
POLL_SECONDS = 0.1  # the display loop's wait for a frame
CARD_SECONDS = 0.5


class PipelineObserver(Protocol):
    """Told about the display loop from its own thread (systemd watchdog, status LED ...)."""

    def frame_shown(self, pipeline: "Pipeline") -> None: ...

    def stopped(self, pipeline: "Pipeline") -> None: ...


@dataclass
class PipelineOptions:
    realtime: bool = True           # pace non-live sources at their own frame rate
    wait_for_display: bool = False  # never drop: capture waits until the display took the frame
                                    # (paced still, when `realtime`: a recording of a live run)
    inline_analysis: bool = False   # analyse every frame before showing it (offline renders)
    reconnect: Backoff = field(default_factory=Backoff)  # a lost camera is retried this way
    wait_for_source: bool = False   # a source that cannot be opened or read is retried, a file
                                    # too (the service: a camera not plugged in yet)
    max_frames: int = 0       # stop after this many shown frames (0: never)
    stats_every_s: float = 0.0
    hang_floor_s: float = 10.0  # an analysis stage busy this long on one frame (and 10x its
                                # usual time) is stuck: the supervisor rebuilds it


class Pipeline:
    def __init__(self, source: Source, output: Output, modes: dict[str, ModeSettings], mode: str,
                 stages: list[Callable[[], Analyzer]] | None = None,
                 options: PipelineOptions | None = None,
                 observers: list[PipelineObserver] | None = None,
                 context: AnalysisContext | None = None):
        self.source = source
        self.output = output
        self.modes = modes
        self.options = options or PipelineOptions()
        self.times = StageTimes()
        self.frames: LatestSlot[Frame] = LatestSlot()
        self.context = context or AnalysisContext()
        self.workers = [AnalysisWorker(build, self.times) for build in stages or []]  # every mode's
        self.mode_workers: list[AnalysisWorker] = []  # the shown mode's own analysis stages
        self._retired: list[AnalysisWorker] = []  # stopped stages still finishing a frame
        self.observers = list(observers or [])
        self.mode_name = mode
        self.mode: Mode | None = None
        self.attract = self._attract_for(mode)  # the empty room's mode, while it plays
        self.frames_out = 0
        self._stop = threading.Event()
        self._ended_by = ""
        waits = self.options.wait_for_display or self.options.inline_analysis
        self.capture = Capture(source, self.frames, self.times, self._stop,
                               pace=self.options.realtime and not self.options.inline_analysis,
                               wait_for_display=waits,
                               backoff=self.options.reconnect,
                               retry_any=self.options.wait_for_source)
        self._output_open = False
        self._output_size = (640, 480)
        self.output_error = ""  # the output could not finish its file (set at shutdown)
        self._opened_for_card = False  # the output was opened for a card, at a guessed size
        self._pending_mode: str | None = None  # set from any thread, applied by the display loop
        self._started = 0.0
        self._last_shown_at = 0.0
        self.stalls = 0  # display intervals more than STALL_S longer than the source's
        self._last_card_at = 0.0
        self.cards_shown = 0
        self.last_shown = None  # the last picture shown (the technician's page previews it)
        self.startup_s = 0.0
        self._pending_events: list[str] = []  # effect events from reactions, for the next frame
        self.supervisor = Supervisor(self.options.hang_floor_s)
        self.show_clock: Callable[[FrameMeta], float] | None = None  # a frame's show time ([show])

    # -- control, callable from any thread (signal handlers, buttons) --------------------
    @property
    def ended_by(self) -> str:
        """Why the run is stopping or stopped ("" while it runs)."""
        return self._ended_by

    def stop(self, reason: str = "stop requested") -> None:
        if not self._stop.is_set():
            self._ended_by = reason
            self._stop.set()

    def switch_mode(self, step: int) -> str:
        """Ask for the mode `step` places on (wrapping); the display loop switches to it."""
        names = list(self.modes)
        self._pending_mode = names[(names.index(self.mode_name) + step) % len(names)]
        return self._pending_mode

    def apply_action(self, action: str) -> None:
        """A reaction's action, from any thread: next_mode, previous_mode, mode:NAME, or
        effect:NAME (an event the mode's effects see in the next frame's meta.events)."""
        if action == "next_mode":
            self.switch_mode(1)
        elif action == "previous_mode":
            self.switch_mode(-1)
        elif action.startswith("mode:") and action[5:] in self.modes:
            self._pending_mode = action[5:]
        elif action.startswith("effect:") and action[7:]:
            self._pending_events.append(action[7:])  # list.append is atomic: any thread may call
        else:
            log.error("unknown action %r", action)

    # -- the run ------------------------------------------------------------------------
    def run(self) -> RunSummary:
        """Run until the source ends, max_frames are shown, or stop() is called."""
        missing = self._open_source()
        self._started = time.monotonic()
        try:
            self.mode = Mode(self.mode_name, self.modes[self.mode_name], self.context)
            self.capture.start(missing)
            if not self.options.inline_analysis:
                for worker in self.workers:
                    worker.start()
            self._start_mode_workers()
            self._display_loop()
        finally:
            self._shutdown()
        summary = self._summary()
        if self.capture.error is not None:
            summary.error = str(self.capture.error)
        if self.output_error:
            summary.error = self.output_error
        return summary

    def _open_source(self) -> str | None:
        """Open the source. Where the options say to wait for it (the service), a source that
        cannot be opened (a camera not plugged in yet, a video still being copied) is not a
        reason to exit: the capture keeps trying with backoff while a card says so (returns
        why). Elsewhere (`appliance run` at a terminal) it is a mistake to report at once."""
        try:
            self.source.open()
        except SourceError as exc:
            if not self.options.wait_for_source:
                raise
            return str(exc)
        return None

    def _display_loop(self) -> None:
        last_stats = time.monotonic()
        while not self._stop.is_set():
            frame = self.frames.take(timeout=POLL_SECONDS)
            if frame is None:
                if self.frames.closed:
                    self.stop("end of source" if self.capture.error is None else "source error")
                elif self.capture.lost:
                    self._show_card("camera lost - reconnecting", self.capture.lost)
                    self._handle_commands()
                self._supervise()
                continue
            if self._pending_mode:  # a switch asked for while waiting shows on this very frame
                self._handle_commands()
            self._show(frame)
            self._supervise()
            self._handle_commands()
            if self.options.max_frames and self.frames_out >= self.options.max_frames:
                self.stop(f"{self.frames_out} frames shown")
            if self.options.stats_every_s and time.monotonic() - last_stats >= self.options.stats_every_s:
                last_stats = time.monotonic()
                log.info("stats: %s", self._summary().lines()[1])

    def _start_mode_workers(self) -> None:
        """Start the mode's stages, except those the pipeline already runs for every mode
        (the [poses] stage is "pose" for reactions and for effects alike)."""
        running = {w.key for w in self.workers}
        self.mode_workers = []
        for analyzer, build in zip(self.mode.analyzers, self.mode.builds):
            if analyzer.name in running:
                analyzer.close()
            else:
                self.mode_workers.append(AnalysisWorker(build, self.times, analyzer))
        self._add_person_signal()
        if not self.options.inline_analysis:
            for worker in self.mode_workers:
                worker.start()

    def _attract_for(self, mode: str) -> Attract:
        return Attract(mode, self.modes, self.context, self.times, self.options.inline_analysis)

    def _add_person_signal(self) -> None:
        """A mode that attracts when the room is empty needs to see people: a pose stage of its
        own when neither [poses] nor its effects run one."""
        if not self.attract.enabled or POSE.key in {w.key for w in self.workers + self.mode_workers}:
            return
        try:
            self.mode_workers.append(AnalysisWorker(stage_recipe(POSE, self.context), self.times))
        except ApplianceError as exc:
            self.attract.enabled = False
            log.error("attract: no pose stage to find visitors with (%s); %s stays on", exc, self.mode_name)

    def _supervise(self) -> None:
        """Replace stages whose thread died or hung (not in offline renders, which analyse
        inline on the display thread)."""
        if not self.options.inline_analysis:
            self.workers = self.supervisor.check(self.workers)
            self.mode_workers = self.supervisor.check(self.mode_workers)
            self.attract.workers = self.supervisor.check(self.attract.workers)

    def stage(self, key: str) -> Analyzer | None:
        """The running stage publishing `key` (it changes when the supervisor rebuilds one)."""
        return next((w.analyzer for w in self.workers + self.mode_workers if w.key == key), None)

    def _stop_mode_workers(self) -> None:
        """Stop the old mode's stages without waiting for them: a model busy on a keyframe
        must not hold the display loop; the thread ends when its frame is done."""
        for worker in self.mode_workers:
            worker.stop()
        self._retired = [w for w in self._retired + self.mode_workers if w.alive]  # joined at shutdown
        self.mode_workers = []

    def _show(self, frame: Frame) -> None:
        meta = frame.meta
        if self.show_clock is not None:
            meta.show_t = self.show_clock(meta)
        while self._pending_events:
            meta.events.append(self._pending_events.pop(0))
        for worker in self.workers + self.mode_workers:
            if self.options.inline_analysis:
                worker.run_inline(frame)
            else:
                worker.inbox.put(frame)
            self._take_result(worker, meta)
        image = self._paint(frame)
        h, w = image.shape[:2]
        if self._opened_for_card and (w, h) != self._output_size:  # the size was a guess: now it is known
            self.output.close()
            self._output_open = False
        if not self._output_open:
            self.output.open(w, h, self.source.fps)
            self._output_open, self._output_size = True, (w, h)
        self._opened_for_card = False
        with Stopwatch(self.times, "output"):
            self.output.show(image)
        self.last_shown = image
        shown_at = time.monotonic()
        self.times.record("frame age", shown_at - meta.captured_at)
        if self._last_shown_at:
            interval = shown_at - self._last_shown_at
            self.times.record("display interval", interval)
            fps = self.source.fps
            if interval > (1.0 / fps if fps > 0 else 0.0) + STALL_S:
                self.stalls += 1
        self._last_shown_at = shown_at
        self.frames_out += 1
        if self.frames_out == 1:
            self.startup_s = process_age_s()
        for observer in self.observers:
            observer.frame_shown(self)

    def _take_result(self, worker: AnalysisWorker, meta) -> None:
        """The stage's newest result into the frame's record."""
        latest = worker.latest()
        if latest is not None:
            result, index, captured_at = latest
            meta.results.put(worker.key, result, index)
            self.times.record(f"{worker.key} age", time.monotonic() - captured_at)

    def _paint(self, frame: Frame):
        """The shown mode's picture, or the attract mode's while the room is empty (the shown
        mode's stages ran on this frame all the same: a visitor found brings it straight back)."""
        meta = frame.meta
        if self.attract.update(meta, {w.key for w in self.workers + self.mode_workers}):
            self.attract.analyse(frame, lambda worker: self._take_result(worker, meta))
            return self.attract.mode.apply(frame.image, meta, self.times)
        return self.mode.apply(frame.image, meta, self.times)

    @property
    def attracting(self) -> str:
        """The attract mode playing instead of the shown mode ("" when none is)."""
        return self.attract.name if self.attract.playing else ""

    def _show_card(self, title: str, detail: str) -> None:
        """Put a message on screen (twice a second at most) while there are no frames."""
        now = time.monotonic()
        if now - self._last_card_at < CARD_SECONDS:
            return
        if not self._output_open:  # no frame yet (no camera since start): at the camera's size
            self._output_size = getattr(self.source, "size", self._output_size)
            self.output.open(*self._output_size, self.source.fps)
            self._output_open = self._opened_for_card = True
        self._last_card_at = now
        self.output.show(message_card(*self._output_size, title, detail))
        self.cards_shown += 1
        for observer in self.observers:
            observer.frame_shown(self)  # the loop is alive: the watchdog must not fire

    def _handle_commands(self) -> None:
        for command in self.output.commands():
            if command == "quit":
                self.stop("viewer quit")
            elif command in ("next_mode", "previous_mode"):
                self.switch_mode(1 if command == "next_mode" else -1)
        if self._pending_mode and self._pending_mode != self.mode_name:
            self._set_mode(self._pending_mode)
        self._pending_mode = None

    def _set_mode(self, name: str) -> None:
        """Let the old mode go before the new one loads its models, so two modes' models are
        never in memory together (models both use are kept: the store shares them). If the
        new mode cannot be built, the old one is built again."""
        self._stop_mode_workers()
        self._end_attract(f"a switch to {name}")
        old_name = self.mode_name
        self.mode.close()
        self.mode = None
        release_free_memory()
        try:
            self.mode, self.mode_name = Mode(name, self.modes[name], self.context), name
            log.info("mode: %s", name)
        except ApplianceError as exc:
            log.error("mode %s cannot start: %s; staying in %s", name, exc, old_name)
            self.mode = Mode(old_name, self.modes[old_name], self.context)
        self.attract = self._attract_for(self.mode_name)  # its idle time starts now
        self._start_mode_workers()

    def _end_attract(self, why: str = "") -> None:
        if self.attract.playing and why:
            log.info("attract: ended by %s", why)
        self.attract.close()
        self._retired += self.attract.retired
        self.attract.retired = []

    def recent_fps(self) -> float:
        """Frames per second over the recent display intervals (0 before two frames)."""
        interval = self.times.summary().get("display interval")
        return 1000.0 / interval["median_ms"] if interval and interval["median_ms"] > 0 else 0.0

    def _shutdown(self) -> None:
        self.stop(self._ended_by or "error")
        for observer in self.observers:
            observer.stopped(self)
        self.frames.close()
        self._end_attract()
        self.workers += self.mode_workers + self._retired
        self.mode_workers, self._retired = [], []
        for worker in self.workers:
            worker.stop()
        deadline = time.monotonic() + JOIN_SECONDS
        self.capture.join(max(0.0, deadline - time.monotonic()))
        deadline = time.monotonic() + WORKER_JOIN_SECONDS  # a keyframe in hand may take ~1 s on a Pi
        for worker in self.workers:
            worker.join(max(0.0, deadline - time.monotonic()))
        try:
            self.output.close()
        except ApplianceError as exc:  # a recording that could not be written whole: the run failed
            log.error("%s", exc)
            self.output_error = str(exc)
        except Exception:
            log.exception("error while closing the output")
            self.output_error = f"{self.output.description}: could not be closed"
        for closer in (self.source.close, self._close_mode):
            try:
                closer()
            except Exception:
                log.exception("error while closing")

    def _close_mode(self) -> None:
        if self.mode is not None:
            self.mode.close()

    def _summary(self) -> RunSummary:
        return RunSummary(
            source=self.source.description, output=self.output.description, mode=self.mode_name,
            frames_in=self.frames.put_count, frames_out=self.frames_out,
            dropped=self.frames.dropped, seconds=time.monotonic() - self._started, stages=self.times.summary(),
            analysis={w.key: w.counts() for w in self.workers},
            restarts=dict(self.supervisor.restarts.count),
            peak_rss_mb=peak_rss_mb(), ended_by=self._ended_by, startup_s=self.startup_s,
            stalls=self.stalls)
