"""Masks on people: the mask stage's moving shapes against the learned room, with the network
for near visitors who stand still; and the bench that holds each masked mode against where
the clip's people walk."""

from __future__ import annotations

import functools

import cv2
import numpy as np
import pytest

from appliance.analysis.mask import build
from appliance.bench.far import cutouts, paste, room
from appliance.bench.masks import blobs_on_nobody, far_mask_match, mask_match
from appliance.bench.truth import read_clip
from appliance.config import Settings
from appliance.core.frame import FrameMeta
from appliance.core.results import MaskResult
from appliance.core.stages import AnalysisContext, mask_request

RATE = 10.0  # analysed frames a second, about a Pi 4's mask stage


@functools.cache
def clip():
    return read_clip()


def stage(person_masks: str = "motion"):
    settings = Settings()
    settings.models.person_masks = person_masks
    return build(mask_request("meet"), AnalysisContext(settings))


def test_every_masked_mode_changes_the_walkers_and_little_else():
    """The issue's goal, on the whole clip: precision and recall >= 0.8 and no blob on the
    van, the building or the lamp post, in the three masked modes."""
    result = mask_match(Settings(), clip())
    for name in ("kandinsky-people", "kandinsky-room", "anonymizer"):
        assert result[name]["precision"] >= 0.8, (name, result[name])
        assert result[name]["recall"] >= 0.8, (name, result[name])
        assert result[name]["blobs_on_nobody"] == 0, (name, result[name])


def test_far_visitors_alone_and_in_pairs_are_masked_and_little_else():
    """People 90 px tall at 640x480 (6-8 m from a Pi camera): the motion masks find them where
    the network, seeing them ~20 px tall, cannot."""
    motion = far_mask_match(Settings(), clip())
    assert motion["precision"] >= 0.8 and motion["recall"] >= 0.8, motion
    settings = Settings()
    settings.models.person_masks = "model"
    network = far_mask_match(settings, clip())
    assert network["recall"] < 0.6 and network["precision"] < 0.5, network


def test_the_network_alone_misses_most_walkers_and_paints_still_things():
    """Why the motion masks: the segmentation network at 256x144 alone (person_masks = "model")."""
    settings = Settings()
    settings.models.person_masks = "model"
    result = mask_match(settings, clip(), ("kandinsky-people",))["kandinsky-people"]
    assert result["recall"] < 0.5 and result["blobs_on_nobody"] > 10


def test_a_blob_counts_only_where_it_touches_no_walker():
    truth = np.zeros((100, 100), bool)
    truth[10:40, 10:20] = True
    region = np.zeros((100, 100), bool)
    region[12:38, 12:18] = True      # on the walker
    region[60:90, 60:90] = True      # on nothing
    region[0:2, 98:100] = True       # too small to be a blob
    assert blobs_on_nobody(region, truth) == 1


@pytest.fixture(scope="module")
def near_visitor():
    """The tallest walker of the clip, cut out: they walk in (200 px tall at 640x480, about
    2 m from the camera) and then stand still for a minute."""
    cut = max(cutouts(clip(), count=3), key=lambda c: c.image.shape[0])
    return room(clip()), cut


def scene_with(background, cut, x: float) -> tuple[np.ndarray, np.ndarray]:
    scene = background.copy()
    marker = np.zeros_like(background)
    paste(scene, cut, x, 440, height=200)
    paste(marker, type(cut)(np.full_like(cut.image, 255), cut.mask, cut.keypoints), x, 440, height=200)
    return scene, marker[..., 0] > 0


def covered(result, person: np.ndarray) -> tuple[float, float]:
    """(share of the person masked, masked pixels away from them as a share of their size)."""
    mask = result.at(person.shape[1], person.shape[0]) >= 0.5
    grown = np.zeros_like(person)
    ys, xs = np.nonzero(person)
    grown[max(0, ys.min() - 12):ys.max() + 13, max(0, xs.min() - 12):xs.max() + 13] = True
    away = mask & ~grown
    return float(mask[person].mean()), float(away.sum() / person.sum())


def test_a_visitor_who_stops_stays_masked_and_leaves_no_ghost(near_visitor):
    """Walking, the moving shape covers them; a minute standing still (long after the learned
    room has taken them in) the network keeps them; once gone, nothing stays behind."""
    background, cut = near_visitor
    motion, silhouettes_only = stage(), stage()
    frames = [(background, None)] * 30
    frames += [scene_with(background, cut, 150 + 10 * step) for step in range(20)]
    standing = scene_with(background, cut, 150 + 10 * 20)
    frames += [standing] * 600
    for index, (image, person) in enumerate(frames):
        meta = FrameMeta(index, index / RATE, 0.0)
        result = motion.analyze(image, meta)
        alone = silhouettes_only.silhouettes.shapes(image)
        if index == 45:
            assert covered(result, person)[0] >= 0.8  # walking
    share, away = covered(result, standing[1])
    assert share >= 0.7 and away < 0.1, (share, away)
    assert covered(MaskResult(alone.astype(np.float32)), standing[1])[0] < 0.3  # the room took them in
    for index in range(len(frames), len(frames) + 50):
        result = motion.analyze(background, FrameMeta(index, index / RATE, 0.0))
    assert (result.probability >= 0.5).mean() < 0.002  # gone: no ghost where they stood


def test_visitors_who_stop_near_or_far_keep_their_pose(near_visitor):
    """The pose stage looks where the room moves. In a room watched for a while (1,500 frames:
    its learning has slowed to 1/3000 a frame), two visitors, one near (200 px) and one far
    (90 px), walk in and stand still for 25 s at 10 frames a second: both still carry a pose.
    (After about 300 still frames a far visitor joins the room; a near one, whose pose is
    confident, is kept in the crops by it for as long as they stand.)"""
    from appliance.analysis.pose import pose_estimator
    from appliance.poses.keypoints import coverage
    background, cut = near_visitor
    estimator = pose_estimator(AnalysisContext(Settings()))
    for _ in range(1500):
        estimator.motion.room.apply(background)
    places = ((300, 440, 200), (520, 260, 90))  # feet x, feet y, height
    for step in range(20 + 250):
        scene, boxes = background.copy(), []
        for x, y, height in places:
            x = x - 6 * max(0, 20 - step)
            paste(scene, cut, x, y, height=height)
            boxes.append((x - height / 4, y - height, x + height / 4, y))
        poses = estimator.estimate(scene)
    for box in boxes:
        assert any(coverage(box, p.box) >= 0.25 for p in poses), (box, [p.box for p in poses])


def test_when_the_light_changes_the_room_is_learned_again_within_seconds():
    """A long memory keeps a stopped visitor, but must not keep a whole room whose light was
    switched up as "moving" for as long: that is relearned within a few frames."""
    from appliance.analysis.motion import Silhouettes
    room = cv2.resize(clip()[0], (640, 480), interpolation=cv2.INTER_AREA)
    silhouettes = Silhouettes()
    for _ in range(300):
        silhouettes.shapes(room)
    brighter = cv2.convertScaleAbs(room, alpha=1.25, beta=20)
    shares = [silhouettes.shapes(brighter).mean() for _ in range(40)]
    assert shares[0] > 0.3            # the change is seen at first ...
    assert max(shares[-10:]) < 0.01   # ... and gone within 30 frames (3 s at 10 a second)


def test_a_mode_switch_keeps_the_learned_room_so_standing_visitors_stay_masked(near_visitor):
    """Staff change the mode while a visitor stands in front of the screen: the new mode's mask
    stage shares the run's learned room, so the visitor is still masked; a room learned afresh
    would take them in as part of it."""
    background, cut = near_visitor
    context = AnalysisContext(Settings())
    before = build(mask_request("meet"), context)
    for _ in range(1500):  # a gallery's room, watched for a while
        before.silhouettes.room.apply(background)
    standing = scene_with(background, cut, 350)
    frames = [(background, None)] * 30 + [scene_with(background, cut, 150 + 10 * s) for s in range(20)]
    frames += [standing] * 400  # 40 s standing: past the learned room's memory of them
    for index, (image, _) in enumerate(frames):
        before.analyze(image, FrameMeta(index, index / RATE, 0.0))
    before.close()
    after, fresh = build(mask_request("meet"), context), stage()
    for index in range(len(frames), len(frames) + 30):
        kept = after.analyze(standing[0], FrameMeta(index, index / RATE, 0.0))
        learned_afresh = fresh.analyze(standing[0], FrameMeta(index, index / RATE, 0.0))
    assert covered(kept, standing[1])[0] >= 0.7
    assert covered(learned_afresh, standing[1])[0] < 0.3
