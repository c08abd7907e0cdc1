"""int8 fidelity is re-measured by the tests and matches the manifest.

`models_tflite/build --reference-only` ran each float source model on a small reference set
from the sample clip (models_tflite/reference/<model>.npz) and wrote the shipped file's error
against it into [models.X.fidelity]. Here the shipped file runs again, in every installed
runtime, through the app's own preprocessing, and must land on the manifest's numbers.
"""

from __future__ import annotations

import numpy as np
import pytest

from appliance.models import fidelity
from appliance.models.manifest import ModelStore, load_manifest
from appliance.paths import models_dir as default_models_dir
from appliance.models.runtime import available_runtimes, load_runtime
from appliance.paths import SAMPLE_CLIP

MODELS_DIR = default_models_dir()
MANIFEST = load_manifest(MODELS_DIR)
WITH_REFERENCE = [name for name, e in MANIFEST.items()
                  if (MODELS_DIR / str(e.raw.get("fidelity", {}).get("reference", "-"))).is_file()]
RUNTIMES = available_runtimes()

# |measured - manifest| <= max(rel * manifest, abs). Chosen from the spread between the two
# runtimes on the build machine (ai-edge-litert 2.3.0 vs tflite-runtime 2.14.0, same file,
# same inputs): keypoint error 2-5% for MoveNet, 12% for PoseNet (a few argmax cells flip,
# 16 px each), MultiPose people counts 0.08 / 0.02 (a few int8 person scores sit at the 0.3
# cut), mask IoU 1e-4, style mean abs diff <= 1.6%, cosine 1e-5. Tolerances are ~2x that.
TOLERANCE = {
    "mean_keypoint_error_px": (0.15, 0.1),
    "people_found": (0.0, 0.05),
    "people_matched": (0.0, 0.05),
    "iou": (0.0, 0.002),
    "mean_abs_diff": (0.05, 0.0002),
    "cosine_similarity": (0.0, 0.0005),
}
TOLERANCE_BY_KIND = {
    ("posenet", "mean_keypoint_error_px"): (0.25, 0.1),
    ("movenet_multi", "people_found"): (0.0, 0.2),
    ("movenet_multi", "people_matched"): (0.0, 0.2),
}


def tolerance(kind: str, key: str, expected: float) -> float:
    rel, absolute = TOLERANCE_BY_KIND.get((kind, key), TOLERANCE[key])
    return max(rel * abs(expected), absolute)


@pytest.fixture(scope="module")
def clip() -> list[np.ndarray]:
    return fidelity.read_clip(SAMPLE_CLIP)


@pytest.fixture(scope="module", params=RUNTIMES)
def store(request) -> ModelStore:
    return ModelStore(runtime=load_runtime(request.param))


def reference_of(name: str) -> fidelity.Reference:
    return fidelity.load_reference(MODELS_DIR / MANIFEST[name].raw["fidelity"]["reference"])


def test_every_shipped_model_has_a_reference_set():
    """A model without one would silently drop out of the tests below."""
    assert sorted(WITH_REFERENCE) == sorted(MANIFEST)
    size = sum(p.stat().st_size for p in (MODELS_DIR / "reference").glob("*.npz"))
    assert size < 3_000_000


@pytest.mark.parametrize("name", WITH_REFERENCE)
def test_fidelity_matches_manifest(store, clip, name):
    ref = reference_of(name)
    kind = fidelity.reference_kind(ref)
    table = MANIFEST[name].raw["fidelity"]
    got = fidelity.measure(store.load(name), clip, ref)
    assert got["items"] == table["items"]
    assert got["inputs_identical"] == 1.0, (
        f"{name}: the app's preprocessing no longer gives the pixels the float model saw "
        f"({got['inputs_identical']:.0%} identical; OpenCV resize changed?) - rerun models_tflite/build --reference-only")
    for key in fidelity.HEADLINE[kind]:
        want = table[key]
        assert abs(got[key] - want) <= tolerance(kind, key, want), (
            f"{name} on {store.runtime.label}: {key} {got[key]:.5g}, manifest says {want}")


class ShiftedInput:
    """The shipped model fed an image moved 6 px right and down: what a preprocessing bug
    (a wrong crop origin, a stray border) does to it."""

    def __init__(self, model, shift: int = 6):
        self.model, self.shift = model, shift
        self.input_shape, self.inputs = model.input_shape, model.inputs

    def run(self, buffer: np.ndarray) -> dict[str, np.ndarray]:
        return self.model.run(np.roll(buffer, (self.shift, self.shift), axis=(1, 2)))


class NoisyOutput:
    """The shipped model with noise added to its outputs, as a worse quantization would."""

    def __init__(self, model, sigma: float):
        self.model, self.sigma = model, sigma
        self.input_shape, self.inputs = model.input_shape, model.inputs
        self.rng = np.random.default_rng(0)

    def run(self, inputs) -> dict[str, np.ndarray]:
        out = self.model.run(inputs)
        return {k: v + self.rng.normal(0, self.sigma, v.shape).astype(v.dtype) for k, v in out.items()}


@pytest.fixture(scope="module")
def fast_store() -> ModelStore:
    return ModelStore(runtime=load_runtime(RUNTIMES[0]))


def test_a_shifted_input_fails_the_keypoint_check(fast_store, clip):
    """The metric can fail: 6 px of the 192 px input is ~3-7 source pixels per keypoint."""
    ref = reference_of("movenet_lightning")
    want = MANIFEST["movenet_lightning"].raw["fidelity"]["mean_keypoint_error_px"]
    got = fidelity.measure(ShiftedInput(fast_store.load("movenet_lightning")), clip, ref)
    assert got["mean_keypoint_error_px"] > want + 3 * tolerance("movenet_single", "mean_keypoint_error_px", want)


def test_a_shifted_input_fails_the_mask_check(fast_store, clip):
    ref = reference_of("selfie")
    want = MANIFEST["selfie"].raw["fidelity"]["iou"]
    got = fidelity.measure(ShiftedInput(fast_store.load("selfie")), clip, ref)
    assert got["iou"] < want - 3 * tolerance("segmentation", "iou", want)


def test_noisier_style_vectors_fail_the_style_check(fast_store, clip):
    ref = reference_of("style_arbitrary_predict")
    table = MANIFEST["style_arbitrary_predict"].raw["fidelity"]
    got = fidelity.measure(NoisyOutput(fast_store.load("style_arbitrary_predict"), 0.05), clip, ref)
    assert got["mean_abs_diff"] > table["mean_abs_diff"] + 3 * tolerance(
        "arbitrary_predict", "mean_abs_diff", table["mean_abs_diff"])
    assert got["cosine_similarity"] < table["cosine_similarity"] - 3 * tolerance(
        "arbitrary_predict", "cosine_similarity", table["cosine_similarity"])


def test_matching_pairs_each_person_once():
    """Greedy matching by keypoint distance: the closest pairs win, a far one stays unmatched."""
    def pose(x: float) -> fidelity.Pose:
        kp = np.array([[x + i, 100.0 + 5 * i, 0.9] for i in range(17)], np.float32)
        return fidelity.Pose(kp, (x, 100.0, x + 16, 180.0), 0.9)
    ref = [pose(0), pose(50), pose(300)]
    test = [pose(52), pose(1), pose(600)]
    assert sorted(fidelity.match_poses(ref, test)) == [(0, 1), (1, 0)]
