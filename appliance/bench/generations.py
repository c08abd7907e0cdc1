"""Generation loss, measured: how much of the room each decay -> restoration cycle keeps.

The room is the bundled clip's empty room (the per-pixel median of frames spread over the clip,
as the `generation-loss` mode gathers its still), at 640x480. Each generation decays the one
before into film damage and restores it from the damaged print alone
(`appliance.effects.generations.generation_loss`); the figure is the structural similarity
(SSIM, grey, Gaussian window) of each restoration to the room, for a few film seeds. The
restoration's own time is reported too: it runs beside the display, never in a frame.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from appliance.core.lazy import cv2

SEEDS = (1, 2, 3, 4, 5)  # one film burns more than another: the mean of five is what a room loses
GENERATIONS = 8
SIZE = (640, 480)


def empty_room(frames: list[np.ndarray] | tuple[np.ndarray, ...]) -> np.ndarray:
    """The room without its walkers: the median of 7 frames spread over the clip, at SIZE."""
    from appliance.effects.generations import median
    picks = [frames[int(i)] for i in np.linspace(0, len(frames) - 1, 7)]
    return median([cv2.resize(f, SIZE, interpolation=cv2.INTER_AREA) for f in picks])


def generation_figures(room: np.ndarray, generations: int = GENERATIONS,
                       seeds: tuple[int, ...] = SEEDS) -> dict[str, Any]:
    """SSIM to the room after each generation, per seed and their mean; a restoration's time."""
    from appliance.effects.generations import Generations, damaged_print, film_for
    from appliance.paint.repair import repair
    per_seed = {}
    for seed in seeds:
        per_seed[str(seed)] = _series(room, generations, seed)
    film = film_for(Generations.Params(seed=seeds[0]), 0, (room.shape[1], room.shape[0]))
    damaged, defects = damaged_print(film, room, 0)
    times = []
    for _ in range(5):
        started = time.perf_counter()
        repair(damaged, defects)
        times.append((time.perf_counter() - started) * 1000.0)
    mean = [round(float(np.mean([s[g] for s in per_seed.values()])), 3) for g in range(generations)]
    return {"size": list(SIZE), "generations": generations, "seeds": list(seeds), "ssim_mean": mean,
            "ssim_per_seed": per_seed, "repair_ms_median": round(float(np.median(times)), 1),
            "falls_every_generation": all(b < a for a, b in zip([1.0] + mean, mean))}


def _series(room: np.ndarray, generations: int, seed: int) -> list[float]:
    from appliance.effects.generations import generation_loss
    return [round(float(v), 3) for v in generation_loss(room, generations, seed)]


def generation_lines(figures: dict[str, Any]) -> list[str]:
    series = ", ".join(f"{v:.3f}" for v in figures["ssim_mean"])
    return [f"generation loss: SSIM to the room after generations 1-{figures['generations']} "
            f"(mean of seeds {figures['seeds']}): {series}; a restoration takes "
            f"{figures['repair_ms_median']} ms here, beside the display"]


def generation_table(figures: dict[str, Any]) -> str:
    """The figures as the README's Markdown table: one row per generation."""
    seeds = figures["seeds"]
    lines = ["| generation | " + " | ".join(f"seed {s}" for s in seeds) + " | mean |",
             "|---|" + "---|" * (len(seeds) + 1)]
    for g in range(figures["generations"]):
        cells = [f"{figures['ssim_per_seed'][str(s)][g]:.3f}" for s in seeds]
        lines.append(f"| {g + 1} | " + " | ".join(cells) + f" | {figures['ssim_mean'][g]:.3f} |")
    return "\n".join(lines) + "\n"


def print_generation_loss(json_path: Path | None) -> int:
    """`appliance bench --generation-loss`: the table, and the figures kept as JSON if asked."""
    from appliance.atomic import atomic_write_text
    from appliance.bench.truth import read_clip

    figures = generation_figures(empty_room(read_clip()))
    print(generation_table(figures) + "\n" + "\n".join(generation_lines(figures)))
    if json_path:
        atomic_write_text(json_path, json.dumps(figures, indent=2) + "\n")
        print(f"wrote {json_path}")
    return 0
