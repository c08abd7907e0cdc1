"""Pose models in, one `Pose` type out: 17 COCO keypoints in frame pixels, a box and a score.

MoveNet (single and multi) and PoseNet each want a square RGB input; `Letterbox` scales any
frame (or a region of it) to fit, pads bottom/right with black, and maps the model's
coordinates back to frame pixels, so poses are right for any aspect ratio. The model input
buffer is allocated once and reused every frame.
"""

from __future__ import annotations

from typing import Callable, Protocol

import cv2
import numpy as np

from appliance.errors import ModelError
from appliance.models.manifest import ModelEntry, ModelStore
from appliance.models.runtime import TFLiteModel
from appliance.poses.keypoints import Pose, box_iou, box_of


class Letterbox:
    """A reusable square uint8 RGB model input, and the way back to frame pixels."""

    def __init__(self, size: int):
        self.size = size
        self.buffer = np.zeros((1, size, size, 3), np.uint8)
        self.scale = 1.0
        self.origin = (0.0, 0.0)
        self._filled = (size, size)
        self._resized = np.zeros((size, size, 3), np.uint8)  # reused while the geometry holds
        self.frame_size = (size, size)

    def fill(self, image_bgr: np.ndarray, region: tuple[int, int, int, int] | None = None) -> np.ndarray:
        """Put `image_bgr` (or its x0,y0,x1,y1 `region`) into the buffer; return the buffer."""
        self.frame_size = (image_bgr.shape[1], image_bgr.shape[0])
        if region is not None:
            x0, y0, x1, y1 = region
            image_bgr = image_bgr[y0:y1, x0:x1]
            self.origin = (float(x0), float(y0))
        else:
            self.origin = (0.0, 0.0)
        h, w = image_bgr.shape[:2]
        self.scale = self.size / max(h, w)
        nw, nh = min(self.size, round(w * self.scale)), min(self.size, round(h * self.scale))
        if (nw, nh) != self._filled:
            self.buffer[:] = 0  # clear the padding only when the geometry changes
            self._filled = (nw, nh)
            self._resized = np.empty((nh, nw, 3), np.uint8)
        view = self.buffer[0, :nh, :nw]
        cv2.resize(image_bgr, (nw, nh), dst=self._resized, interpolation=cv2.INTER_LINEAR)
        cv2.cvtColor(self._resized, cv2.COLOR_BGR2RGB, dst=view)
        return self.buffer

    def to_frame(self, x_input: np.ndarray, y_input: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Model-input pixels -> source-frame pixels."""
        return x_input / self.scale + self.origin[0], y_input / self.scale + self.origin[1]

    def clip_box(self, box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        """A box clipped to the source frame (models may reach into the black padding)."""
        w, h = self.frame_size
        x0, y0, x1, y1 = box
        return (min(max(x0, 0.0), w), min(max(y0, 0.0), h), min(max(x1, 0.0), w), min(max(y1, 0.0), h))


class PoseEstimator(Protocol):
    name: str

    def estimate(self, image_bgr: np.ndarray) -> list[Pose]: ...


def without_duplicates(poses: list[Pose], max_iou: float = 0.6) -> list[Pose]:
    """Drop a pose whose box mostly overlaps a higher-scored one (poses sorted by score).

    The int8 MultiPose model, with its post-processing kept in float, sometimes reports the
    same person twice with nearly equal boxes; one visitor must be one track.
    """
    kept: list[Pose] = []
    for pose in poses:
        if all(box_iou(pose.box, other.box) <= max_iou for other in kept):
            kept.append(pose)
    return kept


Decoder = Callable[[dict[str, np.ndarray], Letterbox, float], list[Pose]]


def decode_movenet_single(outputs: dict[str, np.ndarray], letterbox: Letterbox,
                          min_score: float) -> list[Pose]:
    """MoveNet Lightning/Thunder: one person, [1,1,17,3] of [y, x, score] in 0-1 of the input."""
    raw = next(iter(outputs.values())).reshape(17, 3)
    size = letterbox.size
    x, y = letterbox.to_frame(raw[:, 1] * size, raw[:, 0] * size)
    keypoints = np.stack([x, y, raw[:, 2]], axis=1).astype(np.float32)
    score = float(raw[:, 2].mean())
    if score < min_score:
        return []
    return [Pose(keypoints, letterbox.clip_box(box_of(keypoints)), score)]


def decode_movenet_multi(outputs: dict[str, np.ndarray], letterbox: Letterbox,
                         min_score: float) -> list[Pose]:
    """MoveNet MultiPose: [1,6,56] = 6 x (17 x [y, x, score], ymin, xmin, ymax, xmax, score)."""
    size = letterbox.size
    poses = []
    for person in next(iter(outputs.values())).reshape(-1, 56):
        score = float(person[55])
        if score < min_score:
            continue
        kp = person[:51].reshape(17, 3)
        x, y = letterbox.to_frame(kp[:, 1] * size, kp[:, 0] * size)
        bx0, by0 = letterbox.to_frame(person[52] * size, person[51] * size)
        bx1, by1 = letterbox.to_frame(person[54] * size, person[53] * size)
        keypoints = np.stack([x, y, kp[:, 2]], axis=1).astype(np.float32)
        box = letterbox.clip_box((float(bx0), float(by0), float(bx1), float(by1)))
        poses.append(Pose(keypoints, box, score))
    return without_duplicates(sorted(poses, key=lambda p: -p.score))


POSENET_STRIDE = 16


def decode_posenet(outputs: dict[str, np.ndarray], letterbox: Letterbox,
                   min_score: float) -> list[Pose]:
    """PoseNet MobileNetV1, single-pose decoding: per keypoint the heatmap's best cell + offset.

    Output stride 16; heatmaps are logits (sigmoid gives the score); offsets are input pixels,
    channels 0-16 dy and 17-33 dx. (Multi-person decoding with the displacement maps is not
    implemented: MoveNet MultiPose is the multi-person model.)
    """
    heatmaps, offsets = outputs["heatmaps"][0], outputs["offsets"][0]
    _, cols, count = heatmaps.shape
    best = heatmaps.reshape(-1, count).argmax(axis=0)
    gy, gx = np.divmod(best, cols)
    k = np.arange(count)
    y = gy * POSENET_STRIDE + offsets[gy, gx, k]
    x = gx * POSENET_STRIDE + offsets[gy, gx, k + count]
    scores = 1.0 / (1.0 + np.exp(-heatmaps[gy, gx, k]))
    fx, fy = letterbox.to_frame(x, y)
    keypoints = np.stack([fx, fy, scores], axis=1).astype(np.float32)
    score = float(scores.mean())
    if score < min_score:
        return []
    return [Pose(keypoints, letterbox.clip_box(box_of(keypoints)), score)]


# manifest task -> (decoder, default minimum pose score)
DECODERS: dict[str, tuple[Decoder, float]] = {
    "pose_single": (decode_movenet_single, 0.2),
    "pose_multi": (decode_movenet_multi, 0.3),
    "posenet": (decode_posenet, 0.2),
}


class PoseModel:
    """A pose model with its square letterboxed input and the decoder for its outputs.

    The decoders are plain functions of (outputs, letterbox) so the model build script can run
    them on the float source model's outputs and measure int8 fidelity the same way.
    """

    def __init__(self, name: str, model: TFLiteModel, decode: Decoder, min_score: float):
        self.name = name
        self.model = model
        self.decode = decode
        self.letterbox = Letterbox(model.input_shape[1])
        self.min_score = min_score

    def estimate(self, image_bgr: np.ndarray, region=None) -> list[Pose]:
        """Poses in `image_bgr` (or in its x0,y0,x1,y1 `region`), in source pixels."""
        with self.model.lock:  # the reused outputs stay ours until decoded
            outputs = self.model.run(self.letterbox.fill(image_bgr, region), reuse_outputs=True)
            return self.decode(outputs, self.letterbox, self.min_score)


def pose_models(store: ModelStore) -> list[str]:
    return [name for name, entry in store.entries.items() if entry.task in DECODERS]


def create_estimator(store: ModelStore, name: str, follow: bool = False) -> PoseEstimator:
    """The pose model `name`; with `follow`, single-person models crop around their person."""
    entry: ModelEntry | None = store.entries.get(name)
    if entry is None or entry.task not in DECODERS:
        raise ModelError(f"{name}: not a pose model (expected one of: {', '.join(pose_models(store))})")
    decode, min_score = DECODERS[entry.task]
    model = PoseModel(name, store.load(name), decode, min_score)
    return FollowingSinglePose(model) if follow and entry.task != "pose_multi" else model


def crop_around(pose: Pose, frame_w: int, frame_h: int, margin: float = 0.35) -> tuple[int, int, int, int]:
    """A square region around a pose's confident keypoints, grown by `margin` of its size on
    every side (as MoveNet's reference cropping does), kept inside the frame."""
    seen = pose.keypoints[pose.keypoints[:, 2] >= 0.2]
    points = seen if len(seen) >= 4 else pose.keypoints
    x0, y0 = points[:, :2].min(axis=0)
    x1, y1 = points[:, :2].max(axis=0)
    side = max(x1 - x0, y1 - y0) * (1 + 2 * margin)
    side = min(max(side, 64.0), float(max(frame_w, frame_h)))
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    left = int(round(min(max(cx - side / 2, 0), max(frame_w - side, 0))))
    top = int(round(min(max(cy - side / 2, 0), max(frame_h - side, 0))))
    return left, top, min(frame_w, left + int(side)), min(frame_h, top + int(side))


class FollowingSinglePose:
    """A single-person model that follows its person: each frame is cropped around the last
    pose found, so the person fills the model's input instead of a corner of it. When the
    person is lost (no pose, or too few confident keypoints) it looks at the whole frame again."""

    def __init__(self, model: PoseModel, min_keypoints: int = 6):
        self.model = model
        self.name = model.name
        self.min_keypoints = min_keypoints
        self.region: tuple[int, int, int, int] | None = None

    def estimate(self, image_bgr: np.ndarray, region=None) -> list[Pose]:
        poses = self.model.estimate(image_bgr, region or self.region)
        if not poses and self.region is not None and region is None:
            self.region = None
            poses = self.model.estimate(image_bgr)
        confident = poses and int((poses[0].keypoints[:, 2] >= 0.3).sum()) >= self.min_keypoints
        h, w = image_bgr.shape[:2]
        self.region = crop_around(poses[0], w, h) if confident else None
        return poses
