"""What `../shared/tools/arm-count` ran to size the motion-crop pose path on a Pi's own wheels.

    ../shared/tools/arm-count -- python /src/deploy/tools/arm_count_pose.py regions|crops|whole N

counts the aarch64 instructions of N frames of the sample clip (640x480) through: the motion
regions alone, the live pose estimator with motion crops, or MultiPose on the whole frame. Run
with N and 2N: the difference over N is one frame. The figures are kept in
tests/bench/pose-crops-arm64-count.json.
"""

import sys

import cv2

from appliance.analysis.motion import MotionRegions
from appliance.analysis.pose import pose_estimator
from appliance.bench.truth import read_clip
from appliance.core.stages import AnalysisContext
from appliance.models.pose import create_estimator

what, n = sys.argv[1], int(sys.argv[2])
frames = [cv2.resize(f, (640, 480), interpolation=cv2.INTER_AREA) for f in read_clip()[40:40 + n]]
if what == "regions":
    m = MotionRegions()
    for f in frames:
        m.regions(f)
elif what == "crops":
    est = pose_estimator(AnalysisContext())
    for f in frames:
        est.estimate(f)
else:
    est = create_estimator(AnalysisContext().store, "movenet_multipose")
    for f in frames:
        est.estimate(f)
print(what, n, "done")
