"""What `../shared/tools/arm-count` ran to size the motion-crop pose path on a Pi's own wheels.

    ../shared/tools/arm-count -- python /src/deploy/tools/arm_count_pose.py WHAT N

counts the aarch64 instructions of N frames of the sample clip (640x480) through WHAT: the
motion regions alone ("regions"), the live pose estimator with motion crops ("crops"), MultiPose
on the whole frame ("whole"), the whole pose stage with tracking and named poses ("stage"), the
mask stage as configured by default ("mask-motion": moving shapes, the network every third
frame) or the network alone ("mask-model"). Run with N and 2N: the difference over N is one
frame. The figures are kept in tests/bench/pose-crops-arm64-count.json.
"""

import sys

import cv2

from appliance.analysis.mask import build as build_mask_stage
from appliance.analysis.motion import MotionRegions
from appliance.analysis.pose import pose_estimator
from appliance.bench.truth import read_clip
from appliance.config import Settings
from appliance.core.frame import FrameMeta
from appliance.core.stages import AnalysisContext, mask_request
from appliance.models.pose import create_estimator

what, n = sys.argv[1], int(sys.argv[2])
frames = [cv2.resize(f, (640, 480), interpolation=cv2.INTER_AREA) for f in read_clip()[40:40 + n]]
if what == "regions":
    m = MotionRegions()
    for f in frames:
        m.regions(f)
elif what.startswith("mask-"):
    settings = Settings()
    settings.models.person_masks = what.removeprefix("mask-")
    stage = build_mask_stage(mask_request("meet"), AnalysisContext(settings))
    for i, f in enumerate(frames):
        stage.analyze(f, FrameMeta(i, i / 10, 0.0))
elif what == "stage":
    from appliance.analysis.pose import build_pose_stage
    settings = Settings()
    stage = build_pose_stage(settings, None, pose_estimator(AnalysisContext(settings)), lambda action: None)
    for i, f in enumerate(frames):
        stage.analyze(f, FrameMeta(i, i / 10, 0.0))
elif what == "crops":
    est = pose_estimator(AnalysisContext())
    for f in frames:
        est.estimate(f)
else:
    est = create_estimator(AnalysisContext().store, "movenet_multipose")
    for f in frames:
        est.estimate(f)
print(what, n, "done")
