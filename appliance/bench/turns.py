"""The display loop's throughput two ways, measured in turns in one run (`bench --all`'s figures
for the technician's page and for a show): a ratio of medians taken side by side, because on
a shared machine two runs minutes apart differ more than the effect being measured."""

from __future__ import annotations

import statistics
from typing import Any, Callable

from appliance.config import Settings


def loop_fps(settings: Settings, holder: Any = None) -> float:
    """The display loop's throughput over `settings.run.frames` frames (null output, capture
    waiting for the display). `holder.pipeline` is the pipeline while it runs (the page's view)."""
    from appliance.app.runner import build_pipeline, run_pipeline  # `bench-table` needs none of it
    from appliance.core.pipeline import PipelineOptions
    options = PipelineOptions(realtime=False, wait_for_display=True, max_frames=settings.run.frames)
    pipeline = build_pipeline(settings, options, output_spec="null")
    if holder is not None:
        holder.pipeline = pipeline
    try:
        summary = run_pipeline(pipeline)
    finally:
        if holder is not None:
            holder.pipeline = None
    return summary.frames_out / max(summary.seconds, 1e-6)


def in_turns(first: Callable[[], float], second: Callable[[], float], rounds: int,
             names: tuple[str, str]) -> dict[str, Any]:
    """`first` and `second` alternated `rounds` times after one warm-up run of `first` (it loads
    and learns); their medians as `NAME_fps`, every run as `NAME_runs`, and second / first."""
    first()
    runs: tuple[list[float], list[float]] = ([], [])
    for _ in range(rounds):
        runs[0].append(first())
        runs[1].append(second())
    a, b = statistics.median(runs[0]), statistics.median(runs[1])
    return {f"{names[0]}_fps": round(a, 2), f"{names[1]}_fps": round(b, 2), "ratio": round(b / a, 3),
            f"{names[0]}_runs": [round(v, 2) for v in runs[0]], f"{names[1]}_runs": [round(v, 2) for v in runs[1]],
            "rounds": rounds}
