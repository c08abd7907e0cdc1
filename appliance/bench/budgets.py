"""`appliance bench --all`: every performance budget measured in one run, one JSON.

Every mode paced like a camera, the bare models, the pose stage against its bare invoke, the
style budgets, and (each in a fresh process, so one part's memory does not colour another's)
peak memory with every model loaded, a long soak, and start-up to the first frame.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

from appliance.bench.far import far_lines, far_visitors
from appliance.bench.generations import empty_room, generation_figures, generation_lines
from appliance.bench.masks import far_mask_match, mask_lines, mask_match
from appliance.bench.memory import in_fresh_process
from appliance.bench.models import bench_models, model_lines
from appliance.bench.people import people_lines, pose_recall
from appliance.bench.pose import pose_stage_bench, pose_stage_lines
from appliance.bench.run import clip_frames, machine_info, run_bench, sample_frames
from appliance.bench.display import CAMERA_FPS, display_paths
from appliance.bench.report import PI5_SPEEDUP, model_ms, pi4_keyframe_ms, pi4_model_ms
from appliance.bench.style import keyframe_every, pi_rate_lines, style_at_pi_rate, style_bench, style_lines
from appliance.bench.truth import read_clip, walker_masks
from appliance.bench.show import show_bench
from appliance.bench.web import web_page_bench
from appliance.config import Settings
from appliance.models.manifest import ModelStore, resolve_threads


def pi4_result_every(report: dict[str, Any]) -> dict[str, int]:
    """Frames of a 30 fps camera between two results of each analysis stage on a Pi 4: the
    pose and mask stages' projected rates (published model time x the stage's measured
    overhead) and the projected keyframe time."""
    pi4 = pi4_model_ms(report)
    stage = report["pose_stage"]
    ms = {"pose": pi4[report["pose_model"]] * stage["ratio"],
          "mask": pi4["meet"] * stage["mask_stage"]["median_ms"] / model_ms(report)["meet"],
          "style": pi4_keyframe_ms(report)}
    return {kind: max(1, round(CAMERA_FPS * t / 1000.0)) for kind, t in ms.items()}


def run_all(settings: Settings, config: Path | None, frames: int, soak_frames: int,
            say: Callable[[str], None] = print) -> dict[str, Any]:
    """Every budget of the performance issue from one run: every mode paced like a camera,
    the bare models, the pose stage against its bare invoke, the style budgets, and (each in a
    fresh process) peak memory with every model loaded, a long soak, and start-up."""
    runs = max(3, min(30, frames // 10))
    report: dict[str, Any] = {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                              "machine": machine_info(), "frames": frames,
                              "threads": resolve_threads(settings.models.threads),
                              "pose_model": settings.models.pose, "modes": {}}
    first_mode = settings.run.mode
    settings.run.frames = frames
    for name in settings.modes:
        settings.run.mode = name
        summary = run_bench(settings, realtime=True)["summary"]
        report["modes"][name] = summary
        say(f"mode {name}: {summary['fps']} fps, display interval p99 "
            f"{summary['stages'].get('display interval', {}).get('p99_ms', 0):.0f} ms, "
            f"{summary['stalls']} stalls, dropped {summary['dropped']}")
    settings.run.mode = first_mode
    report["models"] = bench_models(ModelStore.from_settings(settings.models), sample_frames(),
                                    resolve_threads(settings.models.threads), runs)
    for line in model_lines(report["models"]):
        say(line)
    report["pose_stage"] = pose_stage_bench(settings, clip_frames(60, 40), max(runs, 20))
    for line in pose_stage_lines(report["pose_stage"]):
        say(line)
    clip = read_clip()
    report["people"] = pose_recall(settings, clip)
    report["far_visitors"] = far_visitors(settings, clip)
    report["masks"] = {**mask_match(settings, clip), "far_visitors": far_mask_match(settings, clip)}
    for line in people_lines(report["people"]) + far_lines(report["far_visitors"]) + mask_lines(report["masks"]):
        say(line)
    report["generation_loss"] = generation_figures(empty_room(clip))
    for line in generation_lines(report["generation_loss"]):
        say(line)
    report["style"] = style_bench(settings, clip_frames(max(8, min(20, frames)), 40), runs=max(3, runs // 3))
    keyframe_ms = pi4_keyframe_ms(report)
    every = {"Pi 4": keyframe_every(1000.0 / keyframe_ms), "Pi 5": keyframe_every(PI5_SPEEDUP * 1000.0 / keyframe_ms)}
    report["style_at_pi_rate"] = style_at_pi_rate(settings, list(clip[40:100]), list(walker_masks(clip)[40:100]), every)
    for line in style_lines(report["style"]) + pi_rate_lines(report["style_at_pi_rate"]):
        say(line)
    report["display_paths"] = display_paths(settings, clip_frames(max(20, min(60, frames)), 40, (640, 480)),
                                            pi4_result_every(report), say)
    report["web_page"] = web_page_bench(settings, max(100, 8 * frames), say=say)
    report["show"] = show_bench(settings, max(100, 8 * frames), say=say)
    report["memory"] = {"all_models_loaded": in_fresh_process("loaded", config),
                        "all_models_loaded_low_memory": in_fresh_process("loaded", config, "--low-memory", "on"),
                        "soak": in_fresh_process("soak", config, "--frames", str(soak_frames))}
    report["startup"] = {mode: in_fresh_process("startup", config, "--mode", mode)
                         for mode in dict.fromkeys([first_mode, "kandinsky-people"]) if mode in settings.modes}
    for part, result in report["memory"].items():
        say(f"memory, {part}: {result.get('error') or str(result['peak_rss_mb']) + ' MB peak RSS'}")
    if "slope_mb_per_10k_frames" in report["memory"]["soak"]:
        say(f"memory, soak trend: {report['memory']['soak']['slope_mb_per_10k_frames']} MB per 10k frames")
    for mode, result in report["startup"].items():
        say(f"start-up to first frame, first mode {mode}: {result.get('startup_s', result.get('error'))} s")
    return report
