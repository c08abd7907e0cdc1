"""The sample clip's ground truth, for the tests (it lives with the bench, which reports it too)."""

from appliance.bench.truth import person_boxes, read_clip, walker_masks, walkers  # noqa: F401
