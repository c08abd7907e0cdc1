"""The frames the build sees: calibration (vtest.avi + stills), held-out evaluation (the
repo's sample clip), person boxes/crops from the float MultiPose model, and the model inputs
made from them (build_inputs). OpenCV is imported inside the functions that use it."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from . import N_CALIB, N_EVAL, SCORE_THR, log

Detector = Callable[[np.ndarray], np.ndarray]   # [1,512,512,3] uint8 -> [1,6,56] float MultiPose
Box = tuple[float, float, float, float, float]  # frame index, centre y, centre x, box h, box w


def read_video(path: Path, idx: set[int] | None = None) -> list[np.ndarray]:
    """The frames of a video (those numbered in `idx`, or all), RGB."""
    import cv2
    cap = cv2.VideoCapture(str(path))
    frames, i = [], 0
    while True:
        ok, f = cap.read()
        if not ok:
            break
        if idx is None or i in idx:
            frames.append(f[:, :, ::-1].copy())  # BGR -> RGB
        i += 1
    return frames


def pad_and_resize(img: np.ndarray, size: int) -> tuple[np.ndarray, int]:
    """pad bottom/right with 0 to a square, resize (bilinear) to size x size. returns (out, side)

    Not the app's `Letterbox.fill` (resize, then pad): the two give the same pixels for square
    images and for 768x576 frames at 192/256/512, but not for other shapes (the OpenCV stills
    in the calibration sets, 385 for PoseNet): the bilinear resize here blends the black padding
    into the last row/column and scales both axes by exactly size/side. Kept so the calibration
    (and so the shipped files) stay what they are."""
    import cv2
    h, w = img.shape[:2]
    s = max(h, w)
    sq = np.zeros((s, s, 3), np.uint8)
    sq[:h, :w] = img
    return cv2.resize(sq, (size, size), interpolation=cv2.INTER_LINEAR), s


def stretch(img: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    import cv2
    return cv2.resize(img, (hw[1], hw[0]), interpolation=cv2.INTER_LINEAR)


def square_crop(img: np.ndarray, cy: float, cx: float, side: float) -> np.ndarray:
    """square crop centred at (cy,cx), zero padded outside the frame"""
    side = int(round(side))
    y0, x0 = int(round(cy - side / 2)), int(round(cx - side / 2))
    out = np.zeros((side, side, 3), np.uint8)
    h, w = img.shape[:2]
    ys, xs = max(0, y0), max(0, x0)
    ye, xe = min(h, y0 + side), min(w, x0 + side)
    if ye > ys and xe > xs:
        out[ys - y0:ye - y0, xs - x0:xe - x0] = img[ys:ye, xs:xe]
    return out


class FrameSets:
    """calibration: vtest.avi (frames 520-670 excluded) + stills; eval: repo sample clip."""

    def __init__(self, work: Path, ocv: Path, clip: Path) -> None:
        self.work, self.ocv = work, ocv
        cache = work / "frames.npz"
        if cache.exists():
            self._load(cache)
        else:
            self._read(clip)
            np.savez_compressed(cache, calib_full=np.array(self.calib_full), eval_full=np.array(self.eval_full),
                                stills=np.array(self.stills, dtype=object), allow_pickle=True)
        log(f"frames: calib {len(self.calib_full)} eval {len(self.eval_full)} stills {len(self.stills)}")
        self._crops: dict[str, list[Box]] = {}

    def _load(self, cache: Path) -> None:
        z = np.load(cache, allow_pickle=True)
        self.calib_full = list(z["calib_full"])
        self.eval_full = list(z["eval_full"])
        self.stills = list(z["stills"])

    def _read(self, clip: Path) -> None:
        import cv2
        ocv = self.ocv
        n_total = int(cv2.VideoCapture(str(ocv / "vtest.avi")).get(cv2.CAP_PROP_FRAME_COUNT)) or 795
        pool = [i for i in range(n_total) if not (515 <= i <= 675)]
        idx = set(pool[int(k)] for k in np.linspace(0, len(pool) - 1, N_CALIB))
        self.calib_full = read_video(ocv / "vtest.avi", idx)
        ev = read_video(clip)
        if not ev:
            raise SystemExit(f"cannot read {clip}")
        self.eval_full = [ev[int(k)] for k in np.linspace(0, len(ev) - 1, N_EVAL)]
        self.stills = [cv2.imread(str(ocv / n))[:, :, ::-1].copy()
                       for n in ("messi5.jpg", "basketball1.png", "basketball2.png")]

    def person_boxes(self, which: str, detector: Detector) -> list[Box]:
        """one person per frame (rotating through the people found by the float MultiPose
        model at 512x512): (frame index, centre y, centre x, box h, box w) in frame pixels"""
        if which in self._crops:
            return self._crops[which]
        cache = self.work / f"boxes_{which}.npy"
        if cache.exists():
            self._crops[which] = [tuple(b) for b in np.load(cache)]
            return self._crops[which]
        frames = self.calib_full if which == "calib" else self.eval_full
        boxes = []
        for i, f in enumerate(frames):
            x, side = pad_and_resize(f, 512)
            out = detector(x[None])[0]  # [6,56]
            dets = [d for d in out if d[55] > SCORE_THR]
            if not dets:
                continue
            dets.sort(key=lambda d: -d[55])
            d = dets[i % len(dets)]
            ymin, xmin, ymax, xmax = d[51:55] * side
            boxes.append((i, (ymin + ymax) / 2, (xmin + xmax) / 2, ymax - ymin, xmax - xmin))
        np.save(cache, np.array(boxes, np.float64))
        self._crops[which] = boxes
        return boxes

    def person_crops(self, which: str, detector: Detector, aspect: float = 1.0) -> list[np.ndarray]:
        """crops around one person per frame, 1:1 source pixels, zero padded.  aspect = w/h;
        square crops are 1.3x the larger box side, wider crops are 1.5x the box height"""
        frames = self.calib_full if which == "calib" else self.eval_full
        crops = []
        for i, cy, cx, bh, bw in self.person_boxes(which, detector):
            f = frames[int(i)]
            if aspect == 1.0:
                crops.append(square_crop(f, cy, cx, max(96.0, 1.3 * max(bh, bw))))
            else:
                h = max(96.0, 1.5 * bh)
                w = h * aspect
                sq = square_crop(f, cy, cx, w)
                o = int(round((w - h) / 2))
                crops.append(sq[o:o + int(round(h))])
        if which == "calib":
            crops += list(self.stills)
        return crops


# --------------------------------------------------------------------------- model inputs
def squares(imgs: list[np.ndarray], size: int) -> tuple[list[np.ndarray], list[int]]:
    """pad_and_resize every image; -> (inputs, square side in source pixels of each)"""
    out = [pad_and_resize(im, size) for im in imgs]
    return [x for x, _ in out], [side for _, side in out]


def multipose_images(frames: FrameSets, which: str) -> list[np.ndarray]:
    """vtest people are tiny in the whole frame (~35 px tall at 256): also use 384x384
    sub-windows (people ~1.5x larger), for calibration and for the held-out evaluation"""
    if which == "eval_full":
        return frames.eval_full
    src = frames.calib_full if which == "calib" else frames.eval_full
    wins = [square_crop(im, 96 + 192, (i % 3) * 192 + 192, 384) for i, im in enumerate(src)]
    return (src + wins[::2] + frames.stills) if which == "calib" else wins


def segmentation_images(frames: FrameSets, which: str, detector: Detector,
                        hw: tuple[int, int]) -> list[np.ndarray]:
    """person crops with the model's aspect ratio (meet/selfie are made for people filling a
    good part of the frame); "eval_full" = whole frames (tiny people)"""
    h, w = hw
    crops = frames.person_crops("calib" if which == "calib" else "eval", detector, aspect=w / h)
    if which == "calib":
        return frames.calib_full[::2] + crops
    if which == "eval":
        return crops
    return frames.eval_full


def build_inputs(cfg: dict, frames: FrameSets, which: str,
                 detector: Detector) -> tuple[np.ndarray, list[int | None]]:
    """uint8 model inputs [N,h,w,3] for `which` in calib / eval / eval_full, and per input the
    square side in source pixels (None for the stretched segmentation inputs)"""
    h, w = cfg["hw"]
    task = cfg["task"]
    if task in ("pose_single", "posenet"):
        xs, meta = squares(frames.person_crops(which, detector), h)
    elif task == "pose_multi":
        xs, meta = squares(multipose_images(frames, which), h)
    else:
        xs = [stretch(im, (h, w)) for im in segmentation_images(frames, which, detector, (h, w))]
        meta = [None] * len(xs)
    return np.stack(xs).astype(np.uint8), meta
