"""Memory budgets, each measured in a fresh process so nothing else in the bench counts:

- `loaded`: peak RSS with every mode built and each of its analysis stages run once, so every
  model is loaded, its tensors allocated and its weights packed (a gallery that has cycled
  through all modes is in this state: loaded models stay cached for the next visit).
- `soak`: RSS sampled every 100 frames over a long run that switches mode regularly; its slope
  (MB per 10,000 frames, fitted after the first full round of modes) should be flat.
- `startup`: process start to the first frame shown, for a given first mode.

`python -m appliance.bench_memory loaded|soak|startup [...]` prints one JSON object;
`appliance bench --all` runs them as subprocesses and keeps their results.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from appliance.config import load_config


def rss_mb(field: str = "VmRSS") -> float:
    """This process's resident memory (VmRSS) or its peak (VmHWM), from /proc."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024.0
    return 0.0


def loaded(config: Path | None) -> dict[str, Any]:
    from appliance.bench import clip_frames
    from appliance.frame import FrameMeta
    from appliance.modes import AnalysisContext, Mode
    from appliance.stats import StageTimes

    settings = load_config(config)
    before = rss_mb()
    frame = clip_frames(1, 40)[0]
    modes, stages = [], 0
    with tempfile.TemporaryDirectory() as state:
        context = AnalysisContext(settings, Path(state))
        for name, mode_settings in settings.modes.items():
            mode = Mode(name, mode_settings, context)
            for analyzer in mode.analyzers:
                analyzer.analyze(frame, FrameMeta(0, 0.0, 0.0))
                stages += 1
            mode.apply(frame.copy(), FrameMeta(0, 0.0, 0.0), StageTimes())
            modes.append(mode)
        loaded_models = sorted(context.store._loaded)
        return {"rss_before_models_mb": round(before, 1), "rss_mb": round(rss_mb(), 1),
                "peak_rss_mb": round(rss_mb("VmHWM"), 1), "modes": len(modes), "stages": stages,
                "models": loaded_models, "threads": settings.models.threads}


class RssSampler:
    """A pipeline observer: RSS every `every` frames, and a mode switch every `switch_every`."""

    def __init__(self, every: int, switch_every: int):
        self.every, self.switch_every = every, switch_every
        self.samples: list[tuple[int, float]] = []

    def frame_shown(self, pipeline: Any) -> None:
        n = pipeline.frames_out
        if n % self.every == 0:
            self.samples.append((n, round(rss_mb(), 2)))
        if self.switch_every and n % self.switch_every == 0:
            pipeline.switch_mode(1)

    def stopped(self, pipeline: Any) -> None:
        pass


def slope_per_10k(samples: list[tuple[int, float]]) -> float:
    frames, rss = np.array(samples, float).T
    return float(np.polyfit(frames, rss, 1)[0] * 10_000) if len(samples) >= 3 else 0.0


def soak(config: Path | None, frames: int) -> dict[str, Any]:
    from appliance.pipeline import PipelineOptions
    from appliance.runner import build_pipeline

    settings = load_config(config)
    settings.source.loop = True
    modes = len(settings.modes)
    switch_every = max(10, frames // (3 * modes))  # three rounds of every mode
    sampler = RssSampler(every=max(1, min(100, frames // 20)), switch_every=switch_every)
    options = PipelineOptions(realtime=False, wait_for_display=True, max_frames=frames)
    with tempfile.TemporaryDirectory() as state:
        pipeline = build_pipeline(settings, options, output_spec="null", state_dir=Path(state))
        pipeline.observers.append(sampler)
        summary = pipeline.run()
    settled = [s for s in sampler.samples if s[0] > switch_every * modes] or sampler.samples
    return {"frames": summary.frames_out, "seconds": round(summary.seconds, 1),
            "switch_every": switch_every, "modes": modes,
            "rss_after_first_round_mb": settled[0][1] if settled else 0.0,
            "rss_end_mb": sampler.samples[-1][1] if sampler.samples else 0.0,
            "peak_rss_mb": round(rss_mb("VmHWM"), 1),
            "slope_mb_per_10k_frames": round(slope_per_10k(settled), 2),
            "samples": sampler.samples}


def startup(config: Path | None, mode: str) -> dict[str, Any]:
    from appliance.bench import run_bench

    settings = load_config(config)
    settings.run.mode, settings.run.frames = mode, 1
    summary = run_bench(settings)["summary"]
    return {"mode": mode, "startup_s": summary["startup_s"], "peak_rss_mb": summary["peak_rss_mb"]}


def in_fresh_process(part: str, config: Path | None, *extra: str, timeout: float = 1800) -> dict[str, Any]:
    """Run one part in a new interpreter and return its JSON (or the error it died with)."""
    command = [sys.executable, "-m", "appliance.bench_memory", part, *extra]
    if config:
        command += ["--config", str(config)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"{part} exited with {done.returncode}: {tail}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m appliance.bench_memory")
    parser.add_argument("part", choices=("loaded", "soak", "startup"))
    parser.add_argument("--config", type=Path)
    parser.add_argument("--frames", type=int, default=10_000)
    parser.add_argument("--mode", default="")
    args = parser.parse_args(argv)
    if args.part == "loaded":
        result = loaded(args.config)
    elif args.part == "soak":
        result = soak(args.config, args.frames)
    else:
        result = startup(args.config, args.mode or load_config(args.config).run.mode)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
