"""`appliance bench --all` and `appliance bench-table`: every budget from one run, on real frames
and the shipped models; ratios and structure are checked, never wall-clock limits."""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from appliance.bench.run import clip_frames
from appliance.bench.pose import allocations, pose_stage_bench
from appliance.bench.report import BEGIN, END, arm_counts_beside, budgets, markdown, projection, update_readme
from appliance.config import load_config
from appliance.analysis.pose import build_pose_stage, pose_estimator
from appliance.core.stages import AnalysisContext

from conftest import ROOT, run_cli

KEPT = ROOT / "tests" / "bench" / "all-x86_64.json"


def live_pose_stage(state_dir):
    """The [poses] stage as the runner builds it, on the configured model."""
    settings = load_config(None)
    return build_pose_stage(settings, state_dir, pose_estimator(AnalysisContext(settings, state_dir)),
                            lambda action: None)


@pytest.fixture(scope="module")
def walking() -> list[np.ndarray]:
    return clip_frames(30, 40)


def test_the_pose_stage_allocates_nothing_picture_sized_per_frame(walking, tmp_path):
    """Letterbox and outputs reuse their buffers: what a frame allocates (tracemalloc peak) is
    far below one model input; a per-frame resize or output copy would exceed a quarter of it."""
    analyzer = live_pose_stage(tmp_path)
    result = allocations(analyzer, walking, 15)
    assert not result["picture_sized_allocations"], result
    assert result["peak_bytes_per_frame_max"] < result["model_input_bytes"] // 4


def test_a_per_frame_copy_of_the_input_is_caught(walking, tmp_path):
    """The same measurement sees a picture-sized allocation when one is there."""
    analyzer = live_pose_stage(tmp_path)
    estimate = analyzer.estimator.estimate
    analyzer.estimator.estimate = lambda image, region=None: estimate(image.copy())
    assert allocations(analyzer, walking, 5)["picture_sized_allocations"]


def test_the_pose_stage_costs_at_least_its_bare_invoke(walking):
    """The stage runs the bare invoke plus pre/post-processing: its median cannot be below it."""
    result = pose_stage_bench(load_config(None), walking, runs=15)
    assert result["ratio"] >= 0.95  # timing noise only; the stage includes one invoke
    assert result["stage"]["median_ms"] > 0 and result["bare_invoke"]["median_ms"] > 0


class Freezes:
    """An effect that holds the picture `ms` on the frames listed (a stalled display loop)."""

    name = "freezes"

    @dataclass
    class Params:
        frames: tuple[int, ...] = ()
        ms: float = 0.0

    def __init__(self, params):
        self.p = params

    def stages(self, context):
        return []

    def process(self, image, meta):
        if meta.index in self.p.frames:
            time.sleep(self.p.ms / 1000)
        return image

    def close(self):
        pass


def test_stalls_are_display_intervals_50_ms_longer_than_the_sources(monkeypatch):
    """A camera-paced 20 fps clip (50 ms) with the picture held 120 ms on two frames and 20 ms
    on another: two stalls (held beyond 100 ms), not three."""
    from appliance.config import EffectSettings, ModeSettings
    from appliance.core.registry import EFFECTS
    from appliance.outputs import create_output
    from appliance.core.pipeline import Pipeline, PipelineOptions
    from appliance.sources.synthetic import SyntheticSource

    monkeypatch.setitem(EFFECTS, "freezes", Freezes)
    modes = {"freezing": ModeSettings("", [EffectSettings("freezes", Freezes.Params((10, 20), 120.0)),
                                           EffectSettings("freezes", Freezes.Params((15,), 20.0))])}
    pipeline = Pipeline(SyntheticSource(160, 120, 20), create_output("null"), modes, "freezing",
                        options=PipelineOptions(realtime=True, max_frames=30))
    pipeline.run()
    assert pipeline.stalls == 2


@pytest.fixture(scope="module")
def short_report() -> dict:
    """A short `bench --all` through the real command (what CI runs so the command never rots)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "all.json"
        result = run_cli("bench", "--all", "--frames", "4", "--soak-frames", "40", "--json", str(path),
                         timeout=600)
        assert result.returncode == 0, result.stderr[-2000:]
        return json.loads(path.read_text())


def test_one_run_holds_every_budget(short_report):
    config = load_config(None)
    assert set(short_report["modes"]) == set(config.modes)
    for summary in short_report["modes"].values():
        assert summary["frames_out"] == 4
        assert summary["display"]["source_interval_ms"] == pytest.approx(100.0, rel=0.01)
    assert "movenet_lightning" in next(iter(short_report["models"].values()))
    assert short_report["pose_stage"]["model"] == config.models.pose
    assert set(short_report["style"]) == {"keyframes", "carry_forward", "flicker"}
    loaded = short_report["memory"]["all_models_loaded"]
    assert "error" not in loaded, loaded
    assert loaded["peak_rss_mb"] >= loaded["rss_before_models_mb"] > 10
    assert {"meet", config.models.pose, "style_arbitrary_transform"} <= set(loaded["models"])
    soak = short_report["memory"]["soak"]
    assert soak["frames"] == 40 and len(soak["samples"]) >= 3
    assert all(0 < r["startup_s"] < 60 for r in short_report["startup"].values())
    paths = short_report["display_paths"]
    assert set(paths["modes"]) == set(config.modes) and set(paths["result_every"]) == {"pose", "mask", "style"}
    for d in paths["modes"].values():
        assert d["error"] is None and d["lightning_ms"] > 0 and d["over_lightning"] == pytest.approx(
            d["mean_ms"] / d["lightning_ms"], rel=0.01)


def test_budgets_say_met_only_when_the_number_is_within_its_limit(short_report):
    checks = {b["budget"]: b for b in budgets(short_report)}
    pose = short_report["pose_stage"]
    pose_check = next(b for name, b in checks.items() if name.startswith("pose stage /"))
    assert pose_check["met"] == ("yes" if pose["ratio"] <= 1.10 else "NO")
    flick = short_report["style"]["flicker"]
    assert checks["style flicker, carried / painted every frame"]["met"] == ("yes" if flick["ratio"] <= 0.5 else "NO")
    for mode, summary in short_report["modes"].items():
        stalls = summary["stalls"]
        assert checks[f"{mode}: stalls over 50 ms"]["met"] == ("yes" if stalls == 0 else "NO")
        ratio = short_report["display_paths"]["modes"][mode]["over_lightning"]
        display = next(b for name, b in checks.items() if name.startswith(f"{mode}: display path / bare Lightning"))
        assert display["met"] == ("yes" if ratio <= 1.25 else "NO")


def test_projection_uses_the_published_figures_and_measured_ratios(short_report):
    rows = {r["mode"]: r for r in projection(short_report)}
    assert set(rows) == set(short_report["modes"])
    pose = rows["skeleton"]["stages"]["pose"]
    assert pose["overhead_ratio"] >= 1.0
    assert pose["pi5_hz"] == pytest.approx(2.5 * pose["pi4_hz"])
    assert pose["coral_hz"] == pytest.approx(1000 / (20.9 * pose["overhead_ratio"]), rel=0.01)  # ratio rounded
    assert rows["passthrough"]["display_fps"]["pi4"] <= 60.0


def test_bench_table_rewrites_only_the_marked_part_of_a_readme(short_report, tmp_path):
    report = tmp_path / "all.json"
    report.write_text(json.dumps(short_report))
    readme = tmp_path / "README.md"
    readme.write_text(f"# title\n\nbefore\n{BEGIN}\nold table\n{END}\nafter\n")
    result = run_cli("bench-table", str(report), "--readme", str(readme))
    assert result.returncode == 0, result.stderr
    text = readme.read_text()
    assert text.startswith("# title\n\nbefore\n") and text.endswith(f"{END}\nafter\n")
    assert "old table" not in text and "| skeleton" in text


def test_bench_table_names_the_file_when_it_is_not_a_bench_json(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"modes": {}}')
    result = run_cli("bench-table", str(bad))
    assert result.returncode != 0
    assert str(bad) in result.stderr and "missing" in result.stderr
    readme = tmp_path / "README.md"
    readme.write_text("no markers")
    with pytest.raises(ValueError, match="markers"):
        update_readme(readme, "table")


@pytest.mark.skipif(not KEPT.is_file(), reason="no kept full bench yet")
def test_the_readme_table_is_the_one_generated_from_the_kept_bench():
    readme = (ROOT / "README.md").read_text()
    kept = json.loads(KEPT.read_text())
    generated = markdown(kept, KEPT.relative_to(ROOT).as_posix(), arm_counts_beside(KEPT))
    assert f"{BEGIN}\n{generated}{END}" in readme


def test_the_memory_bench_runs_with_the_services_malloc_settings():
    """The soak and the memory figures are measured as the service runs: same environment."""
    from appliance.bench.memory import SERVICE_ENVIRONMENT
    unit = (ROOT / "systemd" / "appliance.service").read_text()
    for name, value in SERVICE_ENVIRONMENT.items():
        assert f"Environment={name}={value}" in unit
