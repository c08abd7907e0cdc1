"""How far each shipped (int8) model is from its float source, measured the way the appliance runs.

The float source models need TensorFlow / onnxruntime, which neither CI nor the device has. So
`models_tflite/build --reference-only` runs the float model once on a small reference set made
from the bundled sample clip and stores its outputs in `models_tflite/reference/<model>.npz`;
the tests then run the shipped file in every installed runtime and recompute the same metric
with the functions below. Both sides feed the model through the app's own preprocessing
(`Letterbox.fill`, the pose decoders, `Segmenter.mask`), so the number in the manifest is the
error a visitor sees, not the error on some other crop or resize.

Only numpy and OpenCV (which the app needs anyway): the module must import in the build's TF
venv, in the app venv (ai-edge-litert, numpy 2) and in the tflite-runtime venv (numpy < 2).

A "model" here is anything with the `TFLiteModel` surface used by the app: `input_shape`,
`inputs` (details with "name") and `run(array | {input name: array}) -> {output name: array}`.
"""

from __future__ import annotations

import zlib
from typing import Any, Callable, Iterator

import cv2
import numpy as np

from appliance.models.pose import Letterbox, decode_movenet_multi, decode_movenet_single, decode_posenet
from appliance.models.segmentation import Segmenter
from appliance.poses.keypoints import Pose

SCORE_THR = 0.3          # a keypoint counts when both models give it more than this
MULTI_MIN_SCORE = 0.3    # MultiPose person score the app uses (pose.DECODERS)
MASK_THR = 0.5
STYLE_SCALE = 2          # stylized outputs are stored and compared at 1/2 size, 8-bit

Model = Any
Reference = dict[str, np.ndarray]


# --------------------------------------------------------------------------- metrics
def keypoint_errors(a: np.ndarray, b: np.ndarray, min_score: float = SCORE_THR) -> np.ndarray:
    """Pixel distances between two (17, 3) [x, y, score] poses, over keypoints both trust.

    A keypoint one model is unsure of is not an error in position: it is hidden either way.
    """
    both = (a[:, 2] > min_score) & (b[:, 2] > min_score)
    return np.hypot(a[both, 0] - b[both, 0], a[both, 1] - b[both, 1])


def pose_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean distance of the keypoints both poses trust (inf when they share none)."""
    d = keypoint_errors(a, b)
    return float(d.mean()) if len(d) else float("inf")


def match_poses(ref: list[Pose], test: list[Pose]) -> list[tuple[int, int]]:
    """Greedy one-to-one matching, closest pairs first, by keypoint distance.

    A pair only counts when its distance is under half the reference person's box height, so
    two neighbours are never matched to each other.
    """
    pairs = sorted((pose_distance(r.keypoints, t.keypoints), i, j)
                   for i, r in enumerate(ref) for j, t in enumerate(test))
    used_r, used_t, out = set(), set(), []
    for dist, i, j in pairs:
        limit = max(8.0, 0.5 * (ref[i].box[3] - ref[i].box[1]))
        if i in used_r or j in used_t or not dist < limit:
            continue
        used_r.add(i)
        used_t.add(j)
        out.append((i, j))
    return out


def mask_iou(a: np.ndarray, b: np.ndarray, threshold: float = MASK_THR) -> float:
    """IoU of the two masks cut at `threshold`; two empty masks agree perfectly."""
    ma, mb = a > threshold, b > threshold
    union = np.count_nonzero(ma | mb)
    return 1.0 if union == 0 else np.count_nonzero(ma & mb) / union


def mean_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)).mean())


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Direction agreement of two style vectors: the transformer cares about direction more
    than magnitude, and blending two vectors works on it."""
    a, b = np.ravel(a).astype(np.float64), np.ravel(b).astype(np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))


def input_crc(buffer: np.ndarray) -> int:
    """A checksum of the exact uint8 model input: proves both sides fed the same pixels."""
    return zlib.crc32(np.ascontiguousarray(buffer).tobytes()) & 0xFFFFFFFF


# --------------------------------------------------------------------------- inputs
def person_region(box: tuple[float, float, float, float], frame_shape: tuple[int, ...],
                  grow: float = 1.3, min_side: float = 96.0) -> tuple[int, int, int, int]:
    """A square-ish x0,y0,x1,y1 region around a person box (what a tracker would hand the
    single-pose models), clipped to the frame."""
    x0, y0, x1, y1 = box
    side = max(min_side, grow * max(x1 - x0, y1 - y0))
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    h, w = frame_shape[:2]
    return (int(max(0, round(cx - side / 2))), int(max(0, round(cy - side / 2))),
            int(min(w, round(cx + side / 2))), int(min(h, round(cy + side / 2))))


def input_name(model: Model, part: str) -> str:
    """The model's input tensor whose name contains `part` (inputs are fed by name)."""
    return next(d["name"] for d in model.inputs if part in d["name"])


def style_content(frame_bgr: np.ndarray, height: int, width: int) -> np.ndarray:
    """A frame as the style networks' uint8 RGB [1,H,W,3] input (area resize: downscaling)."""
    small = cv2.resize(frame_bgr, (width, height), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(small, cv2.COLOR_BGR2RGB)[None]


def centre_square(frame_bgr: np.ndarray, size: int) -> np.ndarray:
    """Centre square crop resized to `size` (the arbitrary-style models' fixed inputs)."""
    h, w = frame_bgr.shape[:2]
    s = min(h, w)
    y, x = (h - s) // 2, (w - s) // 2
    return style_content(frame_bgr[y:y + s, x:x + s], size, size)


def to_8bit_small(stylized: np.ndarray) -> np.ndarray:
    """A stylized [1,H,W,3] 0-1 output as the 8-bit picture shown, at 1/STYLE_SCALE size."""
    img = np.clip(stylized[0], 0.0, 1.0).astype(np.float32)
    h, w = img.shape[:2]
    small = cv2.resize(img, (w // STYLE_SCALE, h // STYLE_SCALE), interpolation=cv2.INTER_AREA)
    return np.round(small * 255.0).astype(np.uint8)


# --------------------------------------------------------------------------- running a model
def pose_items(model: Model, frames: list[np.ndarray], ref: Reference) -> Iterator[tuple]:
    """(letterbox, input buffer, raw outputs) per reference item, through `Letterbox.fill`."""
    letterbox = Letterbox(model.input_shape[1])
    for index, region in zip(ref["frames"], ref["regions"]):
        region = tuple(int(v) for v in region) if region[0] >= 0 else None
        buffer = letterbox.fill(frames[int(index)], region)
        yield letterbox, buffer, model.run(buffer)


def single_pose(raw: np.ndarray, letterbox: Letterbox) -> np.ndarray:
    """MoveNet [1,1,17,3] -> (17,3) [x, y, score] in source pixels (no pose-score cut)."""
    return decode_movenet_single({"keypoints": raw}, letterbox, 0.0)[0].keypoints


def posenet_pose(outputs: dict[str, np.ndarray], letterbox: Letterbox) -> np.ndarray:
    return decode_posenet(outputs, letterbox, 0.0)[0].keypoints


def multi_poses(raw: np.ndarray, letterbox: Letterbox) -> list[Pose]:
    """The people the app would see (its score cut and duplicate removal)."""
    return decode_movenet_multi({"keypoints": raw}, letterbox, MULTI_MIN_SCORE)


# --------------------------------------------------------------------------- per kind
# Each kind has collect(model, frames, plan) -> reference arrays (run on the FLOAT model by the
# build) and measure(model, frames, reference) -> metrics (run on the shipped model).
def collect_movenet_single(model: Model, frames, plan: Reference) -> Reference:
    raw, crc = [], []
    for _, buffer, out in pose_items(model, frames, plan):
        raw.append(out["keypoints"].astype(np.float32))
        crc.append(input_crc(buffer))
    return dict(plan, float_raw=np.stack(raw), input_crc=np.array(crc, np.uint32))


collect_movenet_multi = collect_movenet_single


def collect_posenet(model: Model, frames, plan: Reference) -> Reference:
    kps, crc = [], []
    for letterbox, buffer, out in pose_items(model, frames, plan):
        kps.append(posenet_pose(out, letterbox))
        crc.append(input_crc(buffer))
    return dict(plan, float_keypoints=np.stack(kps).astype(np.float32),
                input_crc=np.array(crc, np.uint32))


def summarise_keypoints(errors: list[np.ndarray], found_ref: int, found_test: int) -> dict:
    e = np.concatenate(errors) if errors else np.zeros(0)
    return dict(mean_keypoint_error_px=float(e.mean()) if len(e) else float("nan"),
                p95_keypoint_error_px=float(np.percentile(e, 95)) if len(e) else float("nan"),
                keypoints=int(len(e)),
                people_found=found_test / max(found_ref, 1))


def seen(kp: np.ndarray) -> bool:
    """A single-pose result "finds" the person when at least 5 keypoints are trusted."""
    return int((kp[:, 2] > SCORE_THR).sum()) >= 5


def measure_single_like(model, frames, ref, float_pose: Callable, test_pose: Callable) -> dict:
    errors, n_ref, n_test, crc = [], 0, 0, []
    for i, (letterbox, buffer, out) in enumerate(pose_items(model, frames, ref)):
        a, b = float_pose(i, letterbox), test_pose(out, letterbox)
        errors.append(keypoint_errors(a, b))
        n_ref, n_test = n_ref + seen(a), n_test + seen(b)
        crc.append(input_crc(buffer))
    res = summarise_keypoints(errors, n_ref, n_test)
    res["items"], res["inputs_identical"] = len(crc), float(np.mean(np.array(crc) == ref["input_crc"]))
    return res


def measure_movenet_single(model: Model, frames, ref: Reference) -> dict:
    return measure_single_like(model, frames, ref,
                               lambda i, lb: single_pose(ref["float_raw"][i], lb),
                               lambda out, lb: single_pose(out["keypoints"], lb))


def measure_posenet(model: Model, frames, ref: Reference) -> dict:
    return measure_single_like(model, frames, ref, lambda i, lb: ref["float_keypoints"][i],
                               posenet_pose)


def measure_movenet_multi(model: Model, frames, ref: Reference) -> dict:
    errors, n_ref, n_test, n_match, crc = [], 0, 0, 0, []
    for i, (letterbox, buffer, out) in enumerate(pose_items(model, frames, ref)):
        a, b = multi_poses(ref["float_raw"][i], letterbox), multi_poses(out["keypoints"], letterbox)
        pairs = match_poses(a, b)
        errors += [keypoint_errors(a[p].keypoints, b[q].keypoints) for p, q in pairs]
        n_ref, n_test, n_match = n_ref + len(a), n_test + len(b), n_match + len(pairs)
        crc.append(input_crc(buffer))
    res = summarise_keypoints(errors, n_ref, n_test)
    res.update(people_matched=n_match / max(n_ref, 1), people_float=n_ref, items=len(crc),
               inputs_identical=float(np.mean(np.array(crc) == ref["input_crc"])))
    return res


def collect_segmentation(model: Model, frames, plan: Reference) -> Reference:
    """Float probabilities at the model's resolution, 8-bit (what `Segmenter.mask` resizes)."""
    seg = Segmenter("reference", model)
    probs, crc = [], []
    for i in plan["frames"]:
        buffer = _seg_fill(seg, frames[int(i)])
        crc.append(input_crc(buffer))
        probability = next(iter(model.run(buffer).values()))[0, :, :, 0]
        probs.append(np.round(probability.clip(0, 1) * 255).astype(np.uint8))
    return dict(plan, float_mask_u8=np.stack(probs), input_crc=np.array(crc, np.uint32))


def _seg_fill(seg: Segmenter, frame: np.ndarray) -> np.ndarray:
    """The exact buffer `Segmenter.mask` feeds (same resize, same colour conversion)."""
    small = cv2.resize(frame, (seg.width, seg.height), interpolation=cv2.INTER_AREA)
    cv2.cvtColor(small, cv2.COLOR_BGR2RGB, dst=seg.buffer[0])
    return seg.buffer


def measure_segmentation(model: Model, frames, ref: Reference) -> dict:
    """IoU and mean abs diff of the frame-size masks, as `Segmenter.mask` returns them."""
    seg = Segmenter("measured", model)
    ious, mads, crc = [], [], []
    for i, stored in zip(ref["frames"], ref["float_mask_u8"]):
        frame = frames[int(i)]
        test = seg.mask(frame)
        h, w = frame.shape[:2]
        want = cv2.resize(stored.astype(np.float32) / 255.0, (w, h), interpolation=cv2.INTER_LINEAR)
        ious.append(mask_iou(want, test))
        mads.append(mean_abs_diff(want, test))
        crc.append(input_crc(seg.buffer))
    return dict(iou=float(np.mean(ious)), iou_min=float(np.min(ious)), mean_abs_diff=float(np.mean(mads)),
                items=len(crc), inputs_identical=float(np.mean(np.array(crc) == ref["input_crc"])))


def style_feeds(kind: str, model: Model, frame: np.ndarray, ref: Reference, i: int) -> dict:
    """The named inputs of the two-input style networks for reference item `i`."""
    if kind == "multistyle":
        _, h, w, _ = model.input_shape
        return {input_name(model, "image"): style_content(frame, h, w),
                input_name(model, "style_weights"): ref["style_weights"][i].astype(np.float32)}
    return {input_name(model, "image"): centre_square(frame, model.input_shape[1]),
            input_name(model, "style_vector"): ref["style_vector"][i].astype(np.float32)}


def collect_style(kind: str) -> Callable:
    def collect(model: Model, frames, plan: Reference) -> Reference:
        outs, crc = [], []
        for i, index in enumerate(plan["frames"]):
            feeds = style_feeds(kind, model, frames[int(index)], plan, i)
            outs.append(to_8bit_small(model.run(feeds)["stylized"]))
            crc.append(input_crc(feeds[input_name(model, "image")]))
        return dict(plan, float_u8=np.stack(outs), input_crc=np.array(crc, np.uint32))
    return collect


def measure_style(kind: str) -> Callable:
    def measure(model: Model, frames, ref: Reference) -> dict:
        mads, crc = [], []
        for i, index in enumerate(ref["frames"]):
            feeds = style_feeds(kind, model, frames[int(index)], ref, i)
            test = to_8bit_small(model.run(feeds)["stylized"])
            mads.append(mean_abs_diff(test, ref["float_u8"][i]) / 255.0)
            crc.append(input_crc(feeds[input_name(model, "image")]))
        return dict(mean_abs_diff=float(np.mean(mads)), max_item_mean_abs_diff=float(np.max(mads)),
                    items=len(crc), inputs_identical=float(np.mean(np.array(crc) == ref["input_crc"])))
    return measure


def collect_predict(model: Model, frames, plan: Reference) -> Reference:
    vecs, crc = [], []
    for index in plan["frames"]:
        x = centre_square(frames[int(index)], model.input_shape[1])
        vecs.append(model.run(x)["style_vector"].reshape(-1).astype(np.float32))
        crc.append(input_crc(x))
    return dict(plan, float_vector=np.stack(vecs), input_crc=np.array(crc, np.uint32))


def measure_predict(model: Model, frames, ref: Reference) -> dict:
    mads, coss, crc = [], [], []
    for index, want in zip(ref["frames"], ref["float_vector"]):
        x = centre_square(frames[int(index)], model.input_shape[1])
        got = model.run(x)["style_vector"].reshape(-1)
        mads.append(mean_abs_diff(got, want))
        coss.append(cosine_similarity(got, want))
        crc.append(input_crc(x))
    return dict(mean_abs_diff=float(np.mean(mads)), cosine_similarity=float(np.mean(coss)),
                cosine_similarity_min=float(np.min(coss)), items=len(crc),
                inputs_identical=float(np.mean(np.array(crc) == ref["input_crc"])))


COLLECT: dict[str, Callable] = {
    "movenet_single": collect_movenet_single, "movenet_multi": collect_movenet_multi,
    "posenet": collect_posenet, "segmentation": collect_segmentation,
    "multistyle": collect_style("multistyle"), "arbitrary_transform": collect_style("arbitrary"),
    "arbitrary_predict": collect_predict,
}
MEASURE: dict[str, Callable] = {
    "movenet_single": measure_movenet_single, "movenet_multi": measure_movenet_multi,
    "posenet": measure_posenet, "segmentation": measure_segmentation,
    "multistyle": measure_style("multistyle"), "arbitrary_transform": measure_style("arbitrary"),
    "arbitrary_predict": measure_predict,
}
# The numbers written to the manifest and compared by the tests, per kind.
HEADLINE: dict[str, tuple[str, ...]] = {
    "movenet_single": ("mean_keypoint_error_px", "people_found"),
    "movenet_multi": ("mean_keypoint_error_px", "people_found", "people_matched"),
    "posenet": ("mean_keypoint_error_px", "people_found"),
    "segmentation": ("iou", "mean_abs_diff"),
    "multistyle": ("mean_abs_diff",),
    "arbitrary_transform": ("mean_abs_diff",),
    "arbitrary_predict": ("mean_abs_diff", "cosine_similarity"),
}


def load_reference(path) -> Reference:
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def reference_kind(ref: Reference) -> str:
    return str(ref["kind"])


def measure(model: Model, frames: list[np.ndarray], ref: Reference) -> dict:
    """The metrics of `model` against a stored float reference (frames: the whole sample clip, BGR)."""
    return MEASURE[reference_kind(ref)](model, frames, ref)


def collect(kind: str, model: Model, frames: list[np.ndarray], plan: Reference) -> Reference:
    """Run the (float) `model` on the plan's items; the arrays to store as the reference."""
    return dict(COLLECT[kind](model, frames, plan), kind=np.array(kind))


def read_clip(path) -> list[np.ndarray]:
    """Every frame of a video, BGR, as the app's sources read it."""
    cap = cv2.VideoCapture(str(path))
    frames = []
    while (got := cap.read())[0]:
        frames.append(got[1])
    cap.release()
    return frames
