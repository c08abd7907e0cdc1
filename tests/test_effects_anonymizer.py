"""Privacy mode on the real clip and the real meet mask: the room, never the visitors' pixels."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from appliance.core.stages import AnalysisContext
from appliance.effects.anonymizer import Anonymizer
from appliance.errors import ApplianceError
from appliance.paint.bodies import people
from appliance.paint.palette import DARK, named_colour

from test_analysis_stages import empty_room, frames, masks, meta, pose_results, save, walkers

MASK = "mask"  # meta()'s name for meet's mask

LAG = 2  # live, the newest mask is from a frame or two ago


def run(effect: Anonymizer, lag: int = LAG, upto: int | None = None, pose: bool = False):
    """Show the clip with masks `lag` frames old; yield (index, output) per frame."""
    for i, frame in enumerate(frames()[:upto]):
        source = max(0, i - lag)
        results = {MASK: (masks()[source], source)}
        if pose:
            results["pose"] = (pose_results()[source], source)
        yield i, effect.process(frame, meta(i, **results))


def own_paint(out: np.ndarray) -> np.ndarray:
    """Pixels the effect paints flat: dark (unlearned), silhouette colour, outline black (the
    outline's antialiased edge is a mix of the two: near the line between them)."""
    o = out.astype(int)
    d = np.array(DARK)
    k = np.clip((o * d).sum(axis=2) / (d * d).sum(), 0, 1)
    dark = (np.abs(o - k[..., None] * d) <= 2).all(axis=2)
    colour = np.array(named_colour("blue"))
    k = np.clip((o * colour).sum(axis=2) / (colour * colour).sum(), 0, 1)
    on_line = (np.abs(o - k[..., None] * colour) <= 3).all(axis=2)
    return dark | on_line


@pytest.fixture(scope="module")
def whole_clip():
    effect = Anonymizer(Anonymizer.Params())
    outputs = {i: out.copy() for i, out in run(effect) if i % 10 == 0 or i == 149}
    return effect, outputs


def test_inside_the_mask_only_the_silhouette_colour_is_shown():
    effect = Anonymizer(Anonymizer.Params())
    checked = 0
    for i, out in run(effect, lag=0):
        person = masks()[i] >= 0.5
        if person.sum() > 200:
            checked += 1
            outline = out.max(axis=2) < 40  # the black edge's antialiasing, drawn on the edge
            flat = (own_paint(out) | outline)[person]  # the silhouette colour, or its black outline
            assert flat.all(), f"frame {i}: the frame shows through the silhouette"
    assert checked > 100


def test_people_never_show_even_where_a_lagging_or_weak_mask_misses_them(whole_clip):
    """Where a person walks, the output is not the frame: it is the silhouette, or the
    learned room, which never learned the person (meet misses some distant walkers here).
    A walker is where the frame differs strongly from the median room AND from the frames
    1 s before and after (a pixel merely revealed, or crossed by others before and after,
    matches one of them)."""
    _, outputs = whole_clip
    room = empty_room().astype(int)
    leaks = []
    for i, out in outputs.items():
        if not 10 <= i < 140:
            continue
        frame = frames()[i].astype(int)
        person = np.abs(frame - room).max(axis=2) > 50
        for j in (i - 10, i + 10):
            person &= np.abs(frame - frames()[j]).max(axis=2) > 50
        same = np.abs(out.astype(int) - frame).max(axis=2) < 12
        same &= ~own_paint(out)  # a black coat may match the dark screen: that is not a leak
        leaks.append((person & same).sum() / max(1, person.sum()))
    save("anonymizer-lag-070", outputs[70])
    assert len(leaks) == 13 and max(leaks) < 0.01, leaks


def test_the_learned_room_is_the_empty_room_where_nobody_walked(whole_clip):
    effect, _ = whole_clip
    nobody = ~walkers().any(axis=0)
    learned = effect.room.count >= effect.p.learn_views
    assert (learned & nobody).sum() / nobody.sum() > 0.9  # meet's false alarms stay covered
    diff = np.abs(effect.room.shown.astype(int) - empty_room().astype(int)).max(axis=2)[learned & nobody]
    assert diff.mean() < 4 and np.percentile(diff, 99) < 15
    save("anonymizer-room", effect.room.shown)


def test_before_the_room_is_learned_the_screen_is_dark_with_silhouettes():
    effect = Anonymizer(Anonymizer.Params())
    out = effect.process(frames()[0], meta(0, mask=(masks()[0], 0)))
    cover = effect.cover.astype(bool)
    outline = cv2.dilate(effect.cover, np.ones((5, 5), np.uint8)).astype(bool)  # the black edge
    assert cover.any()
    assert (out[~outline] == np.array(DARK)).all()  # not one pixel of the camera
    assert own_paint(out).all()
    save("anonymizer-first-frame", out)


def test_without_a_mask_the_raw_frame_is_never_shown(whole_clip):
    effect = Anonymizer(Anonymizer.Params())
    for i in range(10):  # no mask yet (the model is starting): dark
        out = effect.process(frames()[i], meta(i))
        assert (out == np.array(DARK)).all()
    learned, _ = whole_clip
    for i in (100, 120, 140):  # the mask stage stops answering: the room, not the frame
        out = learned.process(frames()[i], meta(200 + i))
        assert np.array_equal(out, learned.room.shown)


def test_the_room_learns_from_the_frame_the_mask_was_made_on():
    effect = Anonymizer(Anonymizer.Params(learn_views=1))
    nobody = np.zeros((480, 640), np.float32)
    for i in range(6):
        results = {}
        if i == 2:
            results[MASK] = (nobody, 0)
        if i in (4, 5):
            results[MASK] = (nobody, 1)
        effect.process(frames()[i], meta(i, **results))
    seen = effect.room.count >= 1
    assert seen.mean() > 0.5
    assert np.allclose(effect.room.mean[seen], frames()[1][seen], atol=0.01)  # frame 1, not 4 or 5
    moved = (np.abs(frames()[1].astype(int) - frames()[0]).max(axis=2) > 40)
    assert not (seen & moved).any()  # what moved between the learned frames stays unlearned
    stale = Anonymizer(Anonymizer.Params(learn_views=1))
    for i in range(20):
        stale.process(frames()[i], meta(i, mask=(nobody, i - 10)) if i >= 10 else meta(i))  # 10 old
    assert stale.room.count.max() == 0  # frame 0 had left the ring: nothing learned


def test_someone_the_mask_misses_but_the_pose_model_finds_is_never_learned():
    """The clip's man in black stands still for seconds; meet hardly sees him, so neither the
    mask nor the motion check keeps him out of the room. The pose model finds him."""
    nobody = np.zeros((480, 640), np.float32)  # a mask that misses everyone
    standing = []
    for i in range(20, 60):
        for track_id, kp in people(pose_results()[i]):
            standing.append((i, track_id, kp[[11, 12], :2].mean(0)))
    first = {tid: p for _, tid, p in standing}
    still = [(i, p) for i, tid, p in standing if np.hypot(*(p - first[tid])) < 5]
    assert still, "the standing man is tracked"
    last, hips = still[-1]
    x, y = np.round(hips).astype(int)
    counts = {}
    for use_pose in (True, False):
        effect = Anonymizer(Anonymizer.Params(use_pose=use_pose))
        for i in range(last + 1):
            out = effect.process(frames()[i], meta(i, mask=(nobody, i), pose=(pose_results()[i], i)))
        counts[use_pose] = effect.room.count[y, x]
        if use_pose:
            assert (out[y, x] == np.array(named_colour("blue"))).all()  # covered on screen too
            save("anonymizer-pose-covers", out)
    assert counts[True] == 0 and counts[False] > 10, counts


def test_uncertain_pixels_and_a_margin_around_people_are_covered():
    """A margin, for masks that have none of their own (meet alone: `person_masks = "model"`)."""
    effect = Anonymizer(Anonymizer.Params(threshold=0.2, margin=0.025))
    i = 60
    out = effect.process(frames()[i], meta(i, mask=(masks()[i], i)))
    unsure = masks()[i] >= effect.p.threshold
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * effect.radius - 3,) * 2)
    near = cv2.dilate(unsure.astype(np.uint8), disc) > 0
    assert effect.cover[near].all()
    assert (masks()[i] >= 0.5).sum() < 0.5 * effect.cover.sum()  # margin: generous, not tight
    save("anonymizer-silhouettes", out)


def test_show_both_draws_skeletons_on_the_room():
    effect = Anonymizer(Anonymizer.Params(show="both"))
    outs = {i: out.copy() for i, out in run(effect, pose=True) if i in (40, 75, 140)}
    for i, out in outs.items():
        save(f"anonymizer-both-{i:03d}", out)
    shown = []
    for colour in ("blue", "yellow"):  # no silhouettes: their colour changes nothing
        only = Anonymizer(Anonymizer.Params(show="skeleton", colour=colour))
        for i, out in run(only, pose=True, upto=60):
            pass
        shown.append(out.copy())
    assert np.array_equal(shown[0], shown[1]) and shown[0].any()


def test_odd_input_never_raises_and_never_shows_the_frame():
    effect = Anonymizer(Anonymizer.Params())
    frame = frames()[30]
    weird = [np.full((240, 320), 0.9, np.float32), np.full((480, 640), np.nan, np.float32),
             np.zeros((0, 0), np.float32), "garbage", np.zeros((480, 640, 2), np.float32)]
    for k, mask in enumerate(weird):
        out = effect.process(frame, meta(k, mask=(mask, k)))
        assert out.shape == frame.shape
    assert (effect.process(frame, meta(9, mask=(weird[1], 9))) == named_colour("blue")).all(axis=2).mean() > 0.9
    small = cv2.resize(frame, (320, 240))
    out = effect.process(small, meta(10, mask=(masks()[30], 30)))  # size changed, old mask
    assert out.shape == small.shape and (out == np.array(DARK)).all(axis=2).mean() > 0.5
    grey = effect.process(frame[..., 0], meta(11))
    assert grey.shape == frame.shape[:2] and grey.max() == 0
    effect.close()


def test_declared_stages_and_a_missing_model_is_an_error():
    from appliance.core.modes import stage_recipe
    ctx = AnalysisContext()
    keys = [r.key for r in Anonymizer(Anonymizer.Params(show="both")).stages(ctx)]
    assert keys == ["mask:meet", "pose"]
    assert [r.key for r in Anonymizer(Anonymizer.Params()).stages(ctx)] == ["mask:meet", "pose"]
    assert [r.key for r in Anonymizer(Anonymizer.Params(use_pose=False)).stages(ctx)] == ["mask:meet"]
    with pytest.raises(ApplianceError):
        for request in Anonymizer(Anonymizer.Params(model="movenet_thunder")).stages(ctx):
            stage_recipe(request, ctx)()


def test_from_its_first_seconds_the_room_is_shown_where_nobody_is(whole_clip):
    """Away from the walkers, from 3 s in, the screen is the empty room: nothing covered, no
    dark patch where someone walked before the room was seen empty (it is filled in from the
    learned room around it), and no person learned into it."""
    _, outputs = whole_clip
    room = empty_room().astype(int)
    for i in (30, 60, 100, 149):
        nobody = cv2.dilate(walkers()[i].astype(np.uint8), np.ones((41, 41), np.uint8)) == 0
        out = outputs[i]
        dark = (out == np.array(DARK)).all(axis=2)[nobody].mean()
        off = np.abs(out.astype(int) - room).max(axis=2)[nobody]
        assert dark < 0.002 and off.mean() < 8 and np.percentile(off, 99) < 40, (i, dark, off.mean())
