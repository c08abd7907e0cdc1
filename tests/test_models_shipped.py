"""Shipped models: verified against the manifest, run under every installed runtime, and their
keypoints land on the people in real footage."""

from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest

from appliance.errors import ModelError
from appliance.models.manifest import ModelStore, load_manifest
from appliance.paths import models_dir as default_models_dir
from appliance.models.pose import create_estimator, decode_movenet_multi, pose_models
from appliance.models.runtime import available_runtimes, load_runtime

from conftest import run_cli
from appliance.bench.truth import person_boxes, read_clip, walker_masks

RUNTIMES = available_runtimes()
MODELS = list(load_manifest(default_models_dir()))
POSE_MODELS = pose_models(ModelStore())


@pytest.fixture(scope="module", params=RUNTIMES)
def store(request) -> ModelStore:
    return ModelStore(runtime=load_runtime(request.param), threads=2)


@pytest.fixture(scope="module")
def clip() -> tuple[np.ndarray, ...]:
    return read_clip()


@pytest.fixture(scope="module")
def walkers(clip) -> np.ndarray:
    return walker_masks(clip)


def on_person_fraction(poses, mask, min_score=0.3) -> tuple[float, int]:
    hits = total = 0
    for pose in poses:
        for x, y, s in pose.keypoints:
            if s >= min_score:
                total += 1
                xi, yi = int(round(x)), int(round(y))
                inside = 0 <= yi < mask.shape[0] and 0 <= xi < mask.shape[1]
                hits += bool(inside and mask[yi, xi])
    return (hits / total if total else 0.0), total


def test_manifest_lists_the_promised_models():
    assert {"movenet_lightning", "movenet_thunder", "movenet_multipose", "posenet"} <= set(MODELS)


def test_both_runtimes_are_tried_here():
    assert RUNTIMES, "no TFLite runtime installed"


@pytest.mark.parametrize("name", MODELS)
def test_every_model_verifies_and_runs(store, name, clip):
    assert store.problem(name) is None
    model = store.load(name)
    inputs = {i.name: np.zeros(i.shape, i.dtype) for i in store.entries[name].inputs}
    outputs = model.run(inputs)
    assert set(outputs) == {o.name for o in store.entries[name].outputs}
    assert all(np.isfinite(v).all() for v in outputs.values())


@pytest.mark.parametrize("name", ["movenet_lightning", "movenet_thunder", "posenet"])
def test_single_person_keypoints_land_on_the_walker(store, name, clip, walkers):
    estimator = create_estimator(store, name)
    fractions, boxes_seen = [], 0
    for index in range(0, 150, 10):
        for box in person_boxes(walkers[index]):
            boxes_seen += 1
            poses = estimator.estimate(clip[index], region=box)
            fraction, total = on_person_fraction(poses, walkers[index])
            if total >= 5:
                fractions.append(fraction)
    assert boxes_seen >= 10 and len(fractions) >= 0.7 * boxes_seen
    assert np.mean(fractions) >= 0.85, f"{name}: only {np.mean(fractions):.0%} of keypoints on people"


def test_multipose_finds_walkers_and_their_keypoints_land_on_them(store, clip, walkers):
    estimator = create_estimator(store, "movenet_multipose")
    assert estimator.decode is decode_movenet_multi
    found, fractions = 0, []
    for index in range(0, 150, 5):
        poses = estimator.estimate(clip[index])
        found += len(poses)
        fraction, total = on_person_fraction(poses, walkers[index])
        if total:
            fractions.append(fraction)
    assert found >= 20
    assert np.mean(fractions) >= 0.85


@pytest.mark.parametrize("name", ["movenet_multipose", "movenet_thunder"])
def test_keypoints_are_right_for_any_aspect_ratio(store, name, clip, walkers):
    """The same person in the landscape frame, in a portrait strip cut from it, and in a padded
    canvas: after undoing the letterbox, the keypoints agree in source pixels."""
    estimator = create_estimator(store, name)
    index = 110  # a walker near the camera, found clearly by every pose model
    frame = clip[index]
    top = create_estimator(store, "movenet_multipose").estimate(frame)[0]
    cx, cy = top.keypoints[:, :2].mean(axis=0)
    (box,) = [b for b in person_boxes(walkers[index]) if b[0] <= cx <= b[2] and b[1] <= cy <= b[3]]
    single = name != "movenet_multipose"

    def nearest(poses, ref_box):
        centre = np.array([(ref_box[0] + ref_box[2]) / 2, (ref_box[1] + ref_box[3]) / 2])
        return min(poses, key=lambda p: np.hypot(*(p.keypoints[:, :2].mean(0) - centre))).keypoints

    def shifted(b, dx, dy):
        return (b[0] + dx, b[1] + dy, b[2] + dx, b[3] + dy)

    reference = nearest(estimator.estimate(frame, region=box if single else None), box)

    x0 = max(0, box[0] - 100)
    strip = np.ascontiguousarray(frame[:, x0:x0 + 320])  # 320x576: portrait
    in_strip = nearest(estimator.estimate(strip, region=shifted(box, -x0, 0) if single else None),
                       shifted(box, -x0, 0))

    pad_x, pad_y = 0, 160  # same scale, the person shifted and the padding now at the top
    canvas = np.zeros((frame.shape[0] + pad_y, frame.shape[1] + pad_x, 3), np.uint8)
    canvas[pad_y:, pad_x:] = frame
    in_canvas = nearest(estimator.estimate(canvas, region=shifted(box, pad_x, pad_y) if single else None),
                        shifted(box, pad_x, pad_y))

    seen = reference[:, 2] > 0.3
    assert seen.sum() >= 8
    height = box[3] - box[1]
    strip_error = np.hypot(in_strip[:, 0] + x0 - reference[:, 0], in_strip[:, 1] - reference[:, 1])
    canvas_error = np.hypot(in_canvas[:, 0] - pad_x - reference[:, 0],
                            in_canvas[:, 1] - pad_y - reference[:, 1])
    assert np.median(strip_error[seen]) < 0.08 * height
    assert np.median(canvas_error[seen]) < 0.08 * height


def test_a_flipped_byte_is_caught(tmp_path):
    models = tmp_path / "models"
    shutil.copytree(default_models_dir(), models, ignore=shutil.ignore_patterns("*.md"))
    entry = load_manifest(models)["movenet_lightning"]
    data = bytearray((models / entry.file).read_bytes())
    data[len(data) // 2] ^= 0x01
    (models / entry.file).write_bytes(bytes(data))
    config = tmp_path / "appliance.toml"
    config.write_text(f'[models]\ndir = "{models}"\n')
    result = run_cli("models", "verify", "--config", str(config))
    assert result.returncode == 5
    assert "FAIL movenet_lightning: " in result.stdout and "corrupt or replaced" in result.stdout
    assert "ok   movenet_thunder" in result.stdout


def test_a_missing_model_leaves_the_others_working(tmp_path, store):
    models = tmp_path / "models"
    shutil.copytree(default_models_dir(), models)
    (models / load_manifest(models)["posenet"].file).unlink()
    partial = ModelStore(models, store.runtime)
    with pytest.raises(ModelError, match=r"posenet: .* is missing"):
        create_estimator(partial, "posenet")
    assert partial.problem("movenet_lightning") is None
    assert create_estimator(partial, "movenet_lightning").estimate(np.zeros((480, 640, 3), np.uint8)) == []


def test_pose_command_prints_json_lines_in_source_pixels(tmp_path):
    import json
    result = run_cli("pose", "sample", "--model", "movenet_multipose", "--frames", "4", "--json")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["frame"] for line in lines] == [0, 1, 2, 3]
    assert [line["t"] for line in lines] == [0.0, 0.1, 0.2, 0.3]
    for line in lines:
        for pose in line["poses"]:
            assert len(pose["keypoints"]) == 17
            x0, y0, x1, y1 = pose["box"]
            assert 0 <= x0 < x1 <= 768 and 0 <= y0 < y1 <= 576
    assert sum(len(line["poses"]) for line in lines) >= 1


def test_unknown_pose_model_is_one_line():
    result = run_cli("pose", "sample", "--model", "openpose")
    assert result.returncode == 5
    assert result.stderr.strip() == ("appliance: openpose: not a pose model (expected one of: "
                                     + ", ".join(POSE_MODELS) + ")")


@pytest.mark.parametrize("name", ["meet"])
def test_segmentation_covers_a_nearby_walker_and_not_the_lawn(store, name, clip, walkers):
    """meet is made for a person close to a camera (video calls): it is judged on 16:9 views
    centred on the largest walker, the way a gallery camera sees a visitor, not on the tiny
    figures across the whole campus."""
    from appliance.models.segmentation import create_segmenter
    segmenter = create_segmenter(store, name)
    on_people, on_background = [], []
    for index in range(0, 150, 10):
        x0, y0, x1, y1 = max(person_boxes(walkers[index], min_height=100), key=lambda b: b[3] - b[1])
        height = y1 - y0
        width = height * 16 // 9
        cx = (x0 + x1) // 2
        left = min(max(0, cx - width // 2), clip[index].shape[1] - width)
        view = np.s_[y0:y1, left:left + width]
        probability = segmenter.mask(np.ascontiguousarray(clip[index][view]))
        core = cv2.erode(walkers[index].astype(np.uint8), np.ones((9, 9), np.uint8))[view] > 0
        near = cv2.dilate(walkers[index].astype(np.uint8), np.ones((41, 41), np.uint8))[view] > 0
        on_people.append(probability[core].mean())
        on_background.append(probability[~near].mean())
    assert np.median(on_people) >= 0.5, f"people covered only {np.median(on_people):.2f}"
    assert np.median(on_background) <= 0.1, f"background at {np.median(on_background):.2f}"


def _layout(rgb: np.ndarray) -> np.ndarray:
    """The scene's coarse light and dark layout: what survives a painting of it."""
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    return cv2.resize(grey, (32, 24), interpolation=cv2.INTER_AREA).astype(np.float32).ravel()


def test_multistyle_paints_the_scene_in_each_style(store, clip):
    """Two of the 26 styles on a real frame: the layout of the scene survives (it matches this
    frame far better than the mirrored frame), the two paintings differ, and each is a valid
    0-1 RGB picture that is not the photo."""
    entry = store.entries["style_multistyle26"]
    model = store.load("style_multistyle26")
    weights_name = next(i.name for i in entry.inputs if i.shape == (26,))
    image_name = next(i.name for i in entry.inputs if len(i.shape) == 4)
    frame = cv2.cvtColor(cv2.resize(clip[110], (384, 288), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)
    mirrored = frame[:, ::-1].copy()
    paintings = []
    for style in (0, 5):
        weights = np.zeros(26, np.float32)
        weights[style] = 1.0
        out = model.run({weights_name: weights, image_name: frame[None]})["stylized"][0]
        assert out.shape == (288, 384, 3) and out.min() >= -0.01 and out.max() <= 1.01
        painting = (np.clip(out, 0, 1) * 255).astype(np.uint8)
        own = np.corrcoef(_layout(painting), _layout(frame))[0, 1]
        other = np.corrcoef(_layout(painting), _layout(mirrored))[0, 1]
        assert own > 0.5 and own > other + 0.3, f"style {style}: layout lost ({own:.2f} vs {other:.2f})"
        assert np.abs(painting.astype(int) - frame).mean() > 20  # ... and it is not the photo
        paintings.append(out)
    assert np.abs(paintings[0] - paintings[1]).mean() > 0.05


def test_arbitrary_style_vector_depends_on_the_style_image(store, clip):
    predict = store.load("style_arbitrary_predict")
    def style_vector(index: int) -> np.ndarray:
        crop = cv2.resize(clip[index][:, 96:672], (256, 256), interpolation=cv2.INTER_AREA)
        return next(iter(predict.run(cv2.cvtColor(crop, cv2.COLOR_BGR2RGB)[None]).values())).ravel()

    vectors = [style_vector(0), style_vector(110)]
    other = np.dot(vectors[0], vectors[1]) / (np.linalg.norm(vectors[0]) * np.linalg.norm(vectors[1]))
    assert vectors[0].shape == (100,)
    assert np.array_equal(style_vector(0), vectors[0])  # the same picture, the same style (cacheable)
    # two frames of the same campus are similar styles, but not the same style
    assert 0.5 < other < 0.9999


def test_single_pose_following_the_person_beats_the_whole_frame(store, clip, walkers):
    """Lightning on the whole 768x576 frame sees a walker ~40 px tall in its 192 px input;
    following the person (cropping around the last pose) puts more keypoints on the person."""
    from appliance.models.pose import FollowingSinglePose
    whole = create_estimator(store, "movenet_lightning")
    follower = create_estimator(store, "movenet_lightning", follow=True)
    assert isinstance(follower, FollowingSinglePose)
    # start the follower on the walker nearest the camera, then let it follow on its own
    start = 100
    box = max(person_boxes(walkers[start]), key=lambda b: b[3])
    follower.region = box
    on_followed, seen_followed, seen_whole, followed_frames = [], [], [], 0
    for index in range(start, 130):
        followed = follower.estimate(clip[index])
        fraction, confident = on_person_fraction(followed, walkers[index])
        on_followed.append(fraction)
        seen_followed.append(confident)
        seen_whole.append(on_person_fraction(whole.estimate(clip[index]), walkers[index])[1])
        followed_frames += follower.region is not None
    assert followed_frames >= 25                     # it kept hold of its person
    assert np.mean(on_followed) >= 0.85              # ... and its keypoints are on people
    assert np.mean(seen_followed) >= 1.3 * np.mean(seen_whole)  # it sees more of the body (measured 1.49x)


def test_models_list_names_every_model_with_its_fidelity():
    result = run_cli("models", "list")
    assert result.returncode == 0
    for name in MODELS:
        line = next(l for l in result.stdout.splitlines() if l.split()[:1] == [name])
        assert line.endswith("vs float"), line
