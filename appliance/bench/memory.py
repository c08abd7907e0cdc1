"""Memory budgets, each measured in a fresh process so nothing else in the bench counts:

- `loaded`: peak RSS with every mode built and each of its analysis stages run once and kept,
  so every model is loaded, its tensors allocated and its weights packed. Each mode's effects
  are closed before the next mode is built, as a mode switch does (the service never holds two
  modes' effects); a second figure keeps every mode's effects alive as well.
- `soak`: RSS sampled every 100 frames while the run goes round every mode (as gallery staff
  pressing the button would): two warm-up rounds (caches, rings and the heap fill up), then the
  measured frames, five rounds. RSS rises and falls with each mode's models, so the slope (MB
  per 10,000 frames) is fitted over the measured frames with one level per mode plus one
  common trend: a flat trend means nothing accumulates from visit to visit.
- `startup`: process start to the first frame shown, for a given first mode.

`python -m appliance.bench.memory loaded|soak|startup [...]` prints one JSON object;
`appliance bench --all` runs them as subprocesses and keeps their results.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from appliance.config import load_config
from appliance.core.stats import peak_rss_mb, release_free_memory, rss_mb
from appliance.models.manifest import resolve_threads


def loaded(config: Path | None, low_memory: str = "") -> dict[str, Any]:
    """Every mode built and run once with all their analysis stages (so all models) kept
    alive. The service holds one mode's effects at a time, so each mode's effects are closed
    before the next is built: `peak_rss_mb`. Then, stricter, every mode's effects at once
    too: `peak_rss_every_effect_mb`."""
    from appliance.bench.run import clip_frames
    from appliance.core.modes import Mode
    from appliance.core.stages import AnalysisContext

    settings = load_config(config)
    settings.models.low_memory = low_memory or settings.models.low_memory
    before = rss_mb()
    frame = clip_frames(1, 40)[0]
    with tempfile.TemporaryDirectory() as state:
        context = AnalysisContext(settings, Path(state))
        held = []
        for name, mode_settings in settings.modes.items():
            held.append(_run_once(Mode(name, mode_settings, context), frame))
            held[-1].close()  # its effects go, as at a mode switch; its analysis stages (models) stay
            release_free_memory()
        peak = peak_rss_mb()
        every = [_run_once(Mode(name, ms, context), frame) for name, ms in settings.modes.items()]
        return {"rss_before_models_mb": round(before, 1), "peak_rss_mb": round(peak, 1),
                "peak_rss_every_effect_mb": round(peak_rss_mb(), 1), "modes": len(every),
                "stages": sum(len(m.analyzers) for m in held), "models": context.store.loaded_names(),
                "threads": resolve_threads(settings.models.threads), "low_memory": context.store.low_memory}


def _run_once(mode: Any, frame: np.ndarray) -> Any:
    from appliance.core.frame import FrameMeta
    from appliance.core.stats import StageTimes

    for analyzer in mode.analyzers:
        analyzer.analyze(frame, FrameMeta(0, 0.0, 0.0))
    mode.apply(frame.copy(), FrameMeta(0, 0.0, 0.0), StageTimes())
    return mode


class RssSampler:
    """A pipeline observer: RSS every `every` frames, and a mode switch every `switch_every`."""

    def __init__(self, every: int, switch_every: int):
        self.every, self.switch_every = every, switch_every
        self.samples: list[tuple[int, float, str]] = []  # frame, RSS MB, mode shown

    def frame_shown(self, pipeline: Any) -> None:
        n = pipeline.frames_out
        if n % self.every == 0:
            self.samples.append((n, round(rss_mb(), 2), pipeline.mode_name))
        if n % self.switch_every == 0:
            pipeline.switch_mode(1)

    def stopped(self, pipeline: Any) -> None:
        pass


ROUNDS = 5  # times the soak goes round every mode while measuring
WARMUP_ROUNDS = 2  # rounds before it measures
SERVICE_ENVIRONMENT = {"MALLOC_ARENA_MAX": "2"}  # as systemd/appliance.service sets it


def trend_per_10k(samples: list[tuple[int, float, str]]) -> tuple[float, float]:
    """MB per 10,000 frames of RSS ~ level[mode] + trend * frame (least squares), and the
    trend's standard error: how far apart two runs' trends may land by noise alone."""
    modes = sorted({mode for _, _, mode in samples})
    if len(samples) < len(modes) + 3:
        return 0.0, 0.0
    columns = np.array([[frame] + [float(mode == m) for m in modes] for frame, _, mode in samples])
    rss = np.array([value for _, value, _ in samples])
    solution, _, rank, _ = np.linalg.lstsq(columns, rss, rcond=None)
    residual = rss - columns @ solution
    variance = float(residual @ residual) / max(1, len(rss) - rank)
    covariance = np.linalg.pinv(columns.T @ columns) * variance
    return float(solution[0] * 10_000), float(np.sqrt(covariance[0, 0]) * 10_000)


def round_extremes(samples: list[tuple[int, float, str]], round_frames: int) -> list[tuple[float, float, float]]:
    """(middle frame, lowest RSS, highest RSS) of each complete round of modes."""
    rounds: dict[int, list[float]] = {}
    for frame, rss, _ in samples:
        rounds.setdefault((frame - 1) // round_frames, []).append(rss)
    complete = samples[-1][0] // round_frames if samples else 0
    return [((r + 0.5) * round_frames, min(v), max(v)) for r, v in sorted(rounds.items()) if r < complete]


def soak(config: Path | None, frames: int) -> dict[str, Any]:
    from appliance.app.runner import build_pipeline
    from appliance.core.pipeline import PipelineOptions

    settings = load_config(config)
    settings.source.loop = True
    modes = len(settings.modes)
    switch_every = max(10, frames // (ROUNDS * modes))
    warmup = WARMUP_ROUNDS * switch_every * modes
    sampler = RssSampler(max(1, min(100, frames // 20)), switch_every)
    options = PipelineOptions(realtime=False, wait_for_display=True, max_frames=warmup + frames)
    with tempfile.TemporaryDirectory() as state:
        pipeline = build_pipeline(settings, options, output_spec="null", state_dir=Path(state))
        pipeline.observers.append(sampler)
        summary = pipeline.run()
    rounds = round_extremes(sampler.samples, switch_every * modes)
    measured = [s for s in sampler.samples if s[0] > warmup]
    slope, error = trend_per_10k(measured)
    return {"frames": summary.frames_out - warmup, "warmup_frames": warmup,
            "seconds": round(summary.seconds, 1), "switch_every": switch_every, "modes": modes, "rounds": rounds,
            "rss_end_mb": sampler.samples[-1][1] if sampler.samples else 0.0,
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "slope_mb_per_10k_frames": round(slope, 2), "slope_standard_error": round(error, 2),
            "samples": sampler.samples}


def startup(config: Path | None, mode: str) -> dict[str, Any]:
    from appliance.bench.run import run_bench

    settings = load_config(config)
    settings.run.mode, settings.run.frames = mode, 1
    summary = run_bench(settings)["summary"]
    return {"mode": mode, "startup_s": summary["startup_s"], "peak_rss_mb": summary["peak_rss_mb"]}


def in_fresh_process(part: str, config: Path | None, *extra: str, timeout: float = 1800) -> dict[str, Any]:
    """Run one part in a new interpreter and return its JSON (or the error it died with)."""
    command = [sys.executable, "-m", "appliance.bench.memory", part, *extra]
    if config:
        command += ["--config", str(config)]
    env = dict(os.environ, **SERVICE_ENVIRONMENT)
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"{part} exited with {done.returncode}: {tail}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m appliance.bench.memory")
    parser.add_argument("part", choices=("loaded", "soak", "startup"))
    parser.add_argument("--config", type=Path)
    parser.add_argument("--frames", type=int, default=10_000)
    parser.add_argument("--mode", default="")
    parser.add_argument("--low-memory", choices=("auto", "on", "off"), default="")
    args = parser.parse_args(argv)
    if args.part == "loaded":
        result = loaded(args.config, args.low_memory)
    elif args.part == "soak":
        result = soak(args.config, args.frames)
    else:
        result = startup(args.config, args.mode or load_config(args.config).run.mode)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
