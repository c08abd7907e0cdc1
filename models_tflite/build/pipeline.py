"""The full build: every requested model converted, measured (build_tfjs / style.build_style),
copied to the output dir and entered in manifest.toml; then the reference sets."""
from __future__ import annotations

import argparse
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np

from . import log
from .convert import MultiPoseDetector, TfFunction, convert, make_wrapper, postprocessing_nodes, run_float
from .fetch import NPM_PACKAGE, NPM_VERSION, fetch_npm, fetch_style, opencv_data, tfjs_to_saved
from .fidelity import Outputs, fidelity
from .frames import FrameSets, build_inputs
from .helpers import run_helper
from .manifest import entries_cache, manifest_entry, write_manifest
from .models import MODELS, STYLE_MODELS, all_names
from .references import reference_only
from .style import build_style

CLIP = "appliance/data/sample/vtest-520-670.mp4"
EVAL_FRAMES = {"pose_single": f"one person crop per frame (square, 1:1 source pixels) from {CLIP}",
               "posenet": f"one person crop per frame (square, 1:1 source pixels) from {CLIP}",
               "pose_multi": f"384x384 windows (1:1 source pixels) of {CLIP} frames",
               "segmentation": f"person-centred crops with the model aspect ratio from {CLIP}"}


@dataclass
class Build:
    """What every model of one run shares."""
    tf: ModuleType
    work: Path
    pkg: Path
    ocv: Path
    frames: FrameSets
    detector: MultiPoseDetector
    litert_py: str
    tflrt_py: str
    onnx_dir: Path | None = None


def save_tflite(work: Path, cfg: dict, tfl: bytes, name: str) -> Path:
    mdir = work / "models"
    mdir.mkdir(exist_ok=True)
    mpath = mdir / cfg["file"]
    mpath.write_bytes(tfl)
    log(name, "converted", len(tfl), "bytes")
    return mpath


def tfjs_sets(b: Build, cfg: dict, name: str) -> tuple[np.ndarray, np.ndarray, list, int]:
    """(calibration inputs, eval inputs, their square sides, size of the main eval set); pose_multi
    and segmentation append a secondary eval set of whole frames"""
    xc, _ = build_inputs(cfg, b.frames, "calib", b.detector)
    xe, meta = build_inputs(cfg, b.frames, "eval", b.detector)
    n_main = len(xe)
    if cfg["task"] in ("pose_multi", "segmentation"):  # secondary set: whole frames
        xf, metaf = build_inputs(cfg, b.frames, "eval_full", b.detector)
        xe, meta = np.concatenate([xe, xf]), list(meta) + list(metaf)
    log(name, "calib", xc.shape, "eval", xe.shape)
    return xc, xe, meta, n_main


def tfjs_convert(b: Build, f: TfFunction, cfg: dict, xc: np.ndarray) -> bytes:
    deny = None
    if cfg["quant"] == "int8-float-postprocessing":
        deny = postprocessing_nodes(b.tf, f, cfg, xc)
    return convert(b.tf, f, cfg, xc, denylist_nodes=deny)


def outputs_of(path: Path, keys: dict[str, int], n: int) -> Outputs:
    """the helper's --outputs .npz as per-input {output name: [1,...]}"""
    z = np.load(path)
    return [{k: z[str(idx)][i:i + 1] for k, idx in keys.items()} for i in range(n)]


def tfjs_fidelity(cfg: dict, ref: Outputs, q: Outputs, meta: list, n_main: int) -> dict:
    fid = fidelity(cfg["task"], ref[:n_main], q[:n_main], meta[:n_main], cfg["hw"])
    fid["reference"] = "float32 TF SavedModel (tfjs-graph-converter) with the same uint8 wrapper"
    fid["eval_frames"] = EVAL_FRAMES[cfg["task"]]
    if len(ref) > n_main:
        ff = fidelity(cfg["task"], ref[n_main:], q[n_main:], meta[n_main:], cfg["hw"])
        for k in ("mean_keypoint_error_px", "people_found", "people_matched", "iou", "mean_abs_diff"):
            if ff.get(k) is not None:
                fid["fullframe_" + k] = ff[k]
    return fid


def tflrt_check(b: Build, name: str, cfg: dict, mpath: Path, xe: np.ndarray, ref: Outputs, meta: list,
                keys: dict[str, int]) -> dict:
    """tflite-runtime 2.14 (numpy<2): load + run the same main eval set, fidelity vs float"""
    work = b.work
    np.savez(work / f"rt_in_{name}.npz", x=xe)
    tr = run_helper(b.tflrt_py, mpath, work / f"rt_in_{name}.npz", work / f"rt_out_{name}.npz", runs=10)
    if "error" not in tr:
        qt = outputs_of(work / f"rt_out_{name}.npz", keys, len(xe))
        ft = fidelity(cfg["task"], ref, qt, meta, cfg["hw"])
        tr["fid"] = ", ".join(f"{k} {ft[k]}" for k in ("mean_keypoint_error_px", "people_found", "iou")
                              if ft.get(k) is not None)
    return tr


def build_tfjs(b: Build, name: str, cfg: dict) -> tuple[Path, dict, dict, dict]:
    """convert one TF.js model, measure it in both runtimes; -> (file, litert run, tflite-runtime
    run, fidelity table)"""
    f = make_wrapper(b.tf, tfjs_to_saved(b.pkg, b.work, cfg["src"]), name, cfg)
    xc, xe, meta, n_main = tfjs_sets(b, cfg, name)
    mpath = save_tflite(b.work, cfg, tfjs_convert(b, f, cfg, xc), name)
    ref = run_float(f, xe)
    np.savez(b.work / f"eval_in_{name}.npz", x=xe)
    lr = run_helper(b.litert_py, mpath, b.work / f"eval_in_{name}.npz", b.work / f"eval_out_{name}.npz")
    if "error" in lr:
        raise SystemExit(f"{name}: ai-edge-litert failed: {lr}")
    keys = lr.get("signature_outputs") or {d["name"]: d["index"] for d in lr["outputs"]}
    q = outputs_of(b.work / f"eval_out_{name}.npz", keys, len(xe))
    fid = tfjs_fidelity(cfg, ref, q, meta, n_main)
    tr = tflrt_check(b, name, cfg, mpath, xe[:n_main], ref[:n_main], meta[:n_main], keys)
    log(name, json.dumps(fid))
    return mpath, lr, tr, fid


def build_one(b: Build, name: str) -> tuple[dict, Path, dict]:
    """-> (its table entry, the built file, its manifest entry)"""
    if name in STYLE_MODELS:
        cfg = STYLE_MODELS[name]
        b.onnx_dir = b.onnx_dir or fetch_style(b.work)
        mpath, lr, tr, fid, src = build_style(b.tf, name, b.onnx_dir, b.frames, b.ocv, b.work,
                                              b.litert_py, b.tflrt_py)
    else:
        cfg = MODELS[name]
        mpath, lr, tr, fid = build_tfjs(b, name, cfg)
        src = dict(source=f"npm {NPM_PACKAGE}@{NPM_VERSION}", source_path=f"models/{cfg['src']}.json")
    return cfg, mpath, manifest_entry(cfg, mpath, src, lr, tr, fid)


def start(tf: ModuleType, args: argparse.Namespace, work: Path, litert_py: str, tflrt_py: str) -> Build:
    pkg = fetch_npm(work)
    ocv = opencv_data(work, args.opencv_data)
    frames = FrameSets(work, ocv, Path(args.sample_clip))
    detector = MultiPoseDetector(tf, tfjs_to_saved(pkg, work, "movenet-multipose"))
    return Build(tf, work, pkg, ocv, frames, detector, litert_py, tflrt_py)


def build_all(args: argparse.Namespace, tf: ModuleType, work: Path, out_dir: Path, litert_py: str,
              tflrt_py: str) -> None:
    """Rebuild args.models into out_dir, rewrite manifest.toml, make their reference sets."""
    b = start(tf, args, work, litert_py, tflrt_py)
    # manifest entries of models not rebuilt in this run are kept (per output dir)
    ent_path = entries_cache(work, out_dir)
    entries = json.loads(ent_path.read_text()) if ent_path.exists() else {}
    for name in args.models.split(","):
        t0 = time.time()
        cfg, mpath, entries[name] = build_one(b, name)
        ent_path.write_text(json.dumps(entries, indent=1))
        shutil.copy2(mpath, out_dir / cfg["file"])
        log(name, f"done in {time.time() - t0:.0f}s")
    ordered = {k: entries[k] for k in all_names() if k in entries}
    write_manifest(out_dir, ordered)
    # the fidelity the tests re-measure: reference sets for the models just built
    reference_only(args, tf, [n for n in args.models.split(",") if n in ordered], work, out_dir)
