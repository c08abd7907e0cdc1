"""Painting in motion: strokes follow real keypoints, fade at the set rate, never join people."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from appliance.paint.palette import track_colour
from appliance.paint.bodies import people, visible
from appliance.effects.trails import Trails, stroke_width

from test_analysis_stages import SIZE, frames, meta, pose_results, real_skeleton, result_of, save
from test_poses_data import K, set_arm, transform

BLACK = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)  # over black, the output is the paint itself
WRIST = K["right_wrist"]


def visitor(shift=(0.0, 0.0)) -> np.ndarray:
    """A real skeleton twice its size in the clip (a visitor near the camera), facing us."""
    kp = transform(real_skeleton(0), scale=2.0, shift=(0.0, -140.0))
    return transform(kp, shift=shift)


def sweep(n: int = 20) -> list[np.ndarray]:
    """The right arm, held straight, sweeping from down to up: the wrist draws a half circle."""
    return [set_arm(visitor(), "right", a, a) for a in np.linspace(10, 170, n)]


def paint(effect: Trails, results, dt: float = 0.1, picture=BLACK, t0: float = 0.0) -> np.ndarray:
    out = picture
    for i, result in enumerate(results):
        out = effect.process(picture, meta(i, t=t0 + i * dt, pose=(result, i)))
    return out


def zone_along(paths: list[np.ndarray], shape, reach: int) -> np.ndarray:
    zone = np.zeros(shape, np.uint8)
    for path in paths:
        pts = np.round(path).astype(np.int32)
        cv2.polylines(zone, [pts.reshape(-1, 1, 2)], False, 1, 2 * reach + 1)
        for x, y in pts:
            cv2.circle(zone, (int(x), int(y)), reach, 1, -1)
    return zone.astype(bool)


def brightness(out: np.ndarray, xy) -> int:
    x, y = int(round(xy[0])), int(round(xy[1]))
    return int(out[y - 1:y + 2, x - 1:x + 2].max())


def test_a_stroke_follows_the_moving_wrist_newest_part_brightest():
    poses = sweep()
    effect = Trails(Trails.Params(points=["right_wrist"], fade_s=1.0))
    out = paint(effect, [result_of((1, kp)) for kp in poses])
    save("trails-sweep", out)
    path = np.array([kp[WRIST, :2] for kp in poses])
    reach = stroke_width(180.0 * 2, 0.0, 1.0)  # wider than any stroke of this body
    painted = out.max(axis=2) > 0
    assert painted.sum() > 500
    assert not (painted & ~zone_along([path], painted.shape, reach)).any()  # only along the path
    assert all(brightness(out, p) > 0 for p in path)                         # all along it
    levels = [brightness(out, p) for p in path]
    assert levels[-1] == max(levels) and levels[-1] > 2.5 * levels[0]       # newest brightest
    colour = np.array(track_colour(1), float)
    last = out[int(path[-1, 1]), int(path[-1, 0])].astype(float)
    assert np.allclose(last, colour * 0.9, atol=3)                           # the track's colour


def test_paint_fades_with_the_configured_half_life():
    effect = Trails(Trails.Params(points=["right_wrist"], fade_s=2.0, opacity=1.0))
    poses = sweep(5)
    results = [result_of((1, kp)) for kp in poses]
    paint(effect, results)
    tip = poses[-1][WRIST, :2]
    levels = []
    for k in range(41):  # the last result shown again for 4 s more: nothing new, only fading
        out = effect.process(BLACK, meta(100 + k, t=0.4 + 0.1 * k, pose=(results[-1], 4)))
        levels.append(brightness(out, tip))
    assert levels[0] >= 150
    assert abs(levels[20] / levels[0] - 0.5) < 0.03   # one half-life
    assert abs(levels[40] / levels[0] - 0.25) < 0.03  # two


def test_strokes_never_join_different_tracks():
    """One visitor leaves as another arrives across the room: two strokes, no line between."""
    left, right = visitor((-180.0, 0.0)), visitor((180.0, 0.0))
    results = [result_of((1, transform(left, shift=(0, 8.0 * i)))) for i in range(5)]
    results += [result_of((2, transform(right, shift=(0, 8.0 * i)))) for i in range(5)]
    results += [result_of((3, transform(left, shift=(0, 40 - 8.0 * i))), (4, transform(right, shift=(0, -8.0 * i))))
                for i in range(5)]
    effect = Trails(Trails.Params(points=["right_wrist"], fade_s=60.0))
    out = paint(effect, results)
    save("trails-two-tracks", out)
    lx, rx = left[WRIST, 0], right[WRIST, 0]
    middle = out[:, int(lx + 60):int(rx - 60)]
    assert middle.max() == 0
    assert out[:, :int(lx + 60)].max() > 0 and out[:, int(rx - 60):].max() > 0


def test_a_track_that_disappears_ends_its_stroke():
    kp = visitor()
    before = [result_of((1, transform(kp, shift=(-150 + 10.0 * i, 0)))) for i in range(4)]
    after = [result_of((1, transform(kp, shift=(60 + 10.0 * i, 0)))) for i in range(4)]
    effect = Trails(Trails.Params(points=["right_wrist"], fade_s=60.0, max_jump=5.0))
    out = paint(effect, before + [result_of()] + after)  # one result without the track
    gap_from, gap_to = before[-1].smoothed[1][WRIST, :2], after[0].smoothed[1][WRIST, :2]
    y = int(round(gap_from[1]))
    assert out[y - 3:y + 4, int(gap_from[0]) + 25:int(gap_to[0]) - 25].max() == 0
    lost = [result_of((1, kp.copy()))]
    lost[0].smoothed[1][WRIST, 2] = 0.05  # a lost keypoint lifts the brush too
    out = paint(Trails(Trails.Params(points=["right_wrist"], fade_s=60.0, max_jump=5.0)),
                before + lost + after)
    assert out[y - 3:y + 4, int(gap_from[0]) + 25:int(gap_to[0]) - 25].max() == 0


def test_real_clip_strokes_stay_on_each_tracks_own_path():
    """On the clip's real, lagging results: every painted pixel lies on the path of a wrist
    or ankle of one track, between consecutive results of that same track."""
    effect = Trails(Trails.Params(fade_s=60.0))
    results, frames_of = pose_results(), []
    paths: dict[tuple[int, int], list[list[np.ndarray]]] = {}
    out = None
    for i in range(len(results)):
        source = max(0, i - 3 + i % 2)  # the newest result is 2-3 frames old, as live
        out = effect.process(BLACK, meta(i, pose=(results[source], source)))
        frames_of.append(source)
    for source in sorted(set(frames_of)):
        ids = set()
        for track_id, kp in people(results[source]):
            ids.add(track_id)
            seen = visible(kp, 0.3)
            for point in (9, 10, 15, 16):
                runs = paths.setdefault((track_id, point), [[]])
                runs[-1].append(kp[point, :2]) if seen[point] else runs.append([])
        for key, runs in paths.items():
            if key[0] not in ids and runs[-1]:
                runs.append([])
    zone = zone_along([np.array(r) for runs in paths.values() for r in runs if r], out.shape[:2], 12)
    painted = out.max(axis=2) > 0
    assert painted.sum() > 300
    assert not (painted & ~zone).any()
    save("trails-real-black", out)


def test_same_results_give_the_same_painting_and_repeats_add_nothing():
    results = [result_of((1, kp)) for kp in sweep(8)]
    a = paint(Trails(Trails.Params()), results).copy()
    b = paint(Trails(Trails.Params()), results).copy()
    assert np.array_equal(a, b)
    effect = Trails(Trails.Params(fade_s=600.0))
    paint(effect, results[:3])
    once = effect.process(BLACK, meta(50, t=0.3, pose=(results[2], 2))).copy()
    for k in range(5):  # the display repeating the newest result
        again = effect.process(BLACK, meta(51 + k, t=0.3, pose=(results[2], 2)))
    assert np.array_equal(once, again)


def test_faster_strokes_are_thinner_and_bigger_bodies_paint_wider():
    assert stroke_width(300, 0.0, 1.0) > stroke_width(300, 3.0, 1.0)
    assert stroke_width(400, 1.0, 1.0) > stroke_width(200, 1.0, 1.0)


def test_over_the_picture_and_odd_input():
    effect = Trails(Trails.Params())
    picture = frames()[40]
    assert effect.process(picture, meta(0)) is picture  # nothing painted: the picture as is
    results = [result_of((1, kp)) for kp in sweep(6)]
    out = paint(effect, results, picture=picture)
    changed = (out != picture).any(axis=2)
    assert 0 < changed.mean() < 0.1
    save("trails-over-picture", out)
    broken = visitor()
    broken[WRIST, :2] = np.nan
    for k, odd in enumerate([result_of(), None, "garbage", result_of((1, broken)), result_of((2, np.zeros((17, 3))))]):
        effect.process(picture, meta(10 + k, pose=(odd, 10 + k)))
    small = cv2.resize(picture, (320, 240))
    assert effect.process(small, meta(20, pose=(results[0], 0))).shape == small.shape
    assert effect.process(picture, meta(21, t=0.0, pose=(results[1], 1))).shape == picture.shape
    effect.close()


@pytest.mark.parametrize("bad", [["left_wrist", "tail"], []])
def test_unknown_points_are_config_errors(bad):
    from appliance.config.schema import build
    problems: list[str] = []
    build(Trails.Params, {"points": bad}, "modes.x.effects[0]", problems)
    assert problems and "points" in problems[0]
