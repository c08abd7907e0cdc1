"""The pose effects in the real pipeline: their declared stages run, and their results arrive.

The modes are built here from the effects' classes, not from the default config, so the test
holds for any mode made of them.
"""

from __future__ import annotations

import numpy as np
import pytest

from appliance.config import EffectSettings, ModeSettings
from appliance.analysis.pose import build
from appliance.core.stages import POSE, AnalysisContext
from appliance.effects.anonymizer import Anonymizer
from appliance.effects.skeleton import Skeleton
from appliance.effects.trails import Trails
from appliance.core.pipeline import Pipeline, PipelineOptions
from appliance.paths import SAMPLE_CLIP
from appliance.sources.video import VideoFileSource

from test_analysis_stages import clip, save


class KeepingOutput:
    description = "keeping"

    def __init__(self):
        self.images: list[np.ndarray] = []

    def open(self, width, height, fps):
        pass

    def show(self, image):
        self.images.append(image.copy())

    def commands(self):
        return []

    def close(self):
        pass


@pytest.fixture
def registered():
    return {
        "skeleton": ModeSettings("skeletons", [EffectSettings("skeleton", Skeleton.Params())]),
        "motion-painting": ModeSettings("paint", [EffectSettings("trails", Trails.Params()),
                                                  EffectSettings("skeleton", Skeleton.Params())]),
        "anonymizer": ModeSettings("privacy", [EffectSettings("anonymizer", Anonymizer.Params(show="both"))]),
    }


def show(modes, mode: str, frames: int = 40, stages=None) -> tuple[Pipeline, KeepingOutput]:
    output = KeepingOutput()
    options = PipelineOptions(realtime=False, inline_analysis=True, max_frames=frames)
    pipeline = Pipeline(VideoFileSource(SAMPLE_CLIP), output, modes, mode, stages or [], options)
    pipeline.run()
    return pipeline, output


@pytest.mark.parametrize("mode", ["skeleton", "motion-painting", "anonymizer"])
def test_each_mode_runs_its_stages_and_draws_from_them(registered, mode):
    pipeline, output = show(registered, mode)
    assert pipeline.mode.error == ""
    assert len(output.images) == 40
    changed = [not np.array_equal(img, raw) for img, raw in zip(output.images, clip())]
    assert sum(changed) >= 20  # the model finds nobody in some of the clip's first frames
    if mode == "anonymizer":
        assert all(changed)  # never the camera picture
    save(f"pipeline-{mode}", output.images[-1])


def test_the_pose_stage_is_shared_with_the_pipelines_own(registered):
    pipeline, output = show(registered, "motion-painting", frames=10,
                            stages=[lambda: build(POSE, AnalysisContext())])
    assert [w.key for w in pipeline.workers] == ["pose"]
    assert all(w.key != "pose" for w in pipeline.mode_workers)
    assert any(not np.array_equal(img, raw) for img, raw in zip(output.images, clip()))
