"""int8 vs float on the build's own evaluation sets (person crops, windows, whole frames):
the numbers of the full build kept in the manifest as crop_* / heldout_*. (The numbers the tests
re-measure come from references.py and appliance.models.fidelity.)"""
from __future__ import annotations

import numpy as np
from appliance.models.pose import Letterbox, decode_posenet

from . import SCORE_THR

Outputs = list[dict[str, np.ndarray]]   # per input, {output name: [1,...] array}


def error_stats(errs: list[float], nerr: list[float]) -> dict:
    """keypoint error in source pixels (mean, p95) and relative to the square side (None: no
    keypoint seen by both)"""
    if not errs:
        return dict(mean_keypoint_error_px=None, p95_keypoint_error_px=None, mean_keypoint_error_rel=None)
    return dict(mean_keypoint_error_px=round(float(np.mean(errs)), 2),
                p95_keypoint_error_px=round(float(np.percentile(errs, 95)), 2),
                mean_keypoint_error_rel=round(float(np.mean(nerr)), 4))


def both_seen(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a[:, 2] > SCORE_THR) & (b[:, 2] > SCORE_THR)


def is_person(kp: np.ndarray) -> int:
    return int((kp[:, 2] > SCORE_THR).sum() >= 5)


def pose_single(ref: Outputs, q: Outputs, meta: list, hw: tuple[int, int]) -> dict:
    errs, nf, nq, nerr = [], 0, 0, []
    for r, o, side in zip(ref, q, meta):
        a, b = r["keypoints"][0, 0], o["keypoints"][0, 0]
        m = both_seen(a, b)
        d = np.hypot(*(a[m, :2] - b[m, :2]).T) * side
        errs += list(d)
        nerr += list(d / side)
        nf += is_person(a)
        nq += is_person(b)
    score_diff = np.mean([np.abs(r["keypoints"][..., 2] - o["keypoints"][..., 2]).mean() for r, o in zip(ref, q)])
    return dict(**error_stats(errs, nerr), people_found=round(nq / max(nf, 1), 3), people_found_float=nf,
                mean_abs_score_diff=round(float(score_diff), 4))


def box_centre(p: np.ndarray) -> np.ndarray:
    return np.array([(p[51] + p[53]) / 2, (p[52] + p[54]) / 2])


def match_people(A: list[np.ndarray], B: list[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
    """greedy match by box centre distance (< 0.1 of the input side), in the order of A"""
    used, pairs = set(), []
    for a in A:
        ca = box_centre(a)
        best, bd = None, 1e9
        for j, b in enumerate(B):
            if j in used:
                continue
            dd = np.hypot(*(ca - box_centre(b)))
            if dd < bd:
                best, bd = j, dd
        if best is None or bd > 0.1:
            continue
        used.add(best)
        pairs.append((a, B[best]))
    return pairs


def pose_multi(ref: Outputs, q: Outputs, meta: list, hw: tuple[int, int]) -> dict:
    errs, nerr, nf, nq, nm = [], [], 0, 0, 0
    for r, o, side in zip(ref, q, meta):
        A = [p for p in r["keypoints"][0] if p[55] > SCORE_THR]
        B = [p for p in o["keypoints"][0] if p[55] > SCORE_THR]
        nf += len(A)
        nq += len(B)
        for a, b in match_people(A, B):
            nm += 1
            ka, kb = a[:51].reshape(17, 3), b[:51].reshape(17, 3)
            m = both_seen(ka, kb)
            d = np.hypot(*(ka[m, :2] - kb[m, :2]).T)
            errs += list(d * side)
            nerr += list(d)
    score_diff = np.mean([np.abs(r["keypoints"][0, :, 55] - o["keypoints"][0, :, 55]).mean() for r, o in zip(ref, q)])
    return dict(**error_stats(errs, nerr), people_found=round(nq / max(nf, 1), 3), people_found_float=nf,
                people_found_quant=nq, people_matched=round(nm / max(nf, 1), 3),
                mean_abs_person_score_diff=round(float(score_diff), 4))


def posenet_keypoints(out: dict[str, np.ndarray], size: int) -> np.ndarray:
    """(17, 3) [x, y, score] in model-input pixels: the app's single-pose decoder (argmax +
    offset, sigmoid scores) through an identity letterbox, every pose kept."""
    return decode_posenet(out, Letterbox(size), float("-inf"))[0].keypoints


def posenet(ref: Outputs, q: Outputs, meta: list, hw: tuple[int, int]) -> dict:
    errs, nerr, nf, nq = [], [], 0, 0
    mad = {k: [] for k in ref[0]}
    for r, o, side in zip(ref, q, meta):
        a, b = posenet_keypoints(r, hw[0]), posenet_keypoints(o, hw[0])
        m = both_seen(a, b)
        d = np.hypot(*(a[m, :2] - b[m, :2]).T) / hw[0]
        errs += list(d * side)
        nerr += list(d)
        nf += is_person(a)
        nq += is_person(b)
        for k in r:
            mad[k].append(float(np.abs(r[k] - o[k]).mean()))
    res = dict(**error_stats(errs, nerr), people_found=round(nq / max(nf, 1), 3), people_found_float=nf,
               decode="single-pose argmax+offset (scores = sigmoid(heatmap))")
    for k in mad:
        res[f"mean_abs_diff_{k}"] = round(float(np.mean(mad[k])), 4)
    return res


def segmentation(ref: Outputs, q: Outputs, meta: list, hw: tuple[int, int]) -> dict:
    ious, mads = [], []
    for r, o in zip(ref, q):
        a, b = r["mask"] > 0.5, o["mask"] > 0.5
        u = (a | b).sum()
        ious.append(1.0 if u == 0 else (a & b).sum() / u)
        mads.append(np.abs(r["mask"] - o["mask"]).mean())
    return dict(iou=round(float(np.mean(ious)), 4), iou_min=round(float(np.min(ious)), 4),
                mean_abs_diff=round(float(np.mean(mads)), 4),
                mask_area_float=round(float(np.mean([(r["mask"] > 0.5).mean() for r in ref])), 4))


BY_TASK = {"pose_single": pose_single, "pose_multi": pose_multi, "posenet": posenet,
           "segmentation": segmentation}


def fidelity(task: str, ref: Outputs, q: Outputs, meta: list, hw: tuple[int, int]) -> dict:
    """float outputs `ref` vs quantized outputs `q` of the same inputs; meta = square side of
    each input in source pixels (pose tasks)"""
    res = {"frames": len(ref)}
    if task in BY_TASK:
        res.update(BY_TASK[task](ref, q, meta, hw))
    return res
