"""TF side of the TF.js models: the SavedModel behind a uint8 RGB input, TFLiteConverter with
int8 calibration (optionally keeping ops in float), and the float reference run.
`tf` (the tensorflow module) is passed in: nothing here imports it at import time."""
from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterator

import numpy as np

TfFunction = Any   # a tf.function with .get_concrete_function() and the SavedModel in ._sm


def pose_wrapper(tf: ModuleType, fn: Callable, in_key: str, spec: Any) -> TfFunction:
    @tf.function(input_signature=[spec])
    def f(image: Any) -> dict:
        out = fn(**{in_key: tf.cast(image, tf.int32)})
        return {"keypoints": list(out.values())[0]}
    return f


def posenet_wrapper(tf: ModuleType, fn: Callable, in_key: str, spec: Any) -> TfFunction:
    @tf.function(input_signature=[spec])
    def f(image: Any) -> dict:
        x = tf.cast(image, tf.float32) / 127.5 - 1.0
        out = fn(**{in_key: x})
        g = {k.split("/")[1]: v for k, v in out.items()}
        return {"heatmaps": g["heatmap_2"], "offsets": g["offset_2"],
                "displacement_fwd": g["displacement_fwd_2"], "displacement_bwd": g["displacement_bwd_2"]}
    return f


def segmentation_wrapper(tf: ModuleType, fn: Callable, in_key: str, spec: Any) -> TfFunction:
    @tf.function(input_signature=[spec])
    def f(image: Any) -> dict:
        x = tf.cast(image, tf.float32) / 255.0
        out = list(fn(**{in_key: x}).values())[0]
        if out.shape[-1] == 2:
            out = tf.nn.softmax(out, axis=-1)[..., 1:2]
        return {"mask": out}
    return f


WRAPPERS = {"pose_single": pose_wrapper, "pose_multi": pose_wrapper,
            "posenet": posenet_wrapper, "segmentation": segmentation_wrapper}


def make_wrapper(tf: ModuleType, saved_dir: Path, name: str, cfg: dict) -> TfFunction:
    """The SavedModel behind a [1,h,w,3] uint8 "image" input, normalisation inside."""
    sm = tf.saved_model.load(str(saved_dir))
    fn = sm.signatures["serving_default"]
    in_key = list(fn.structured_input_signature[1].keys())[0]
    h, w = cfg["hw"]
    spec = tf.TensorSpec([1, h, w, 3], tf.uint8, name="image")
    if cfg["task"] not in WRAPPERS:
        raise ValueError(cfg["task"])
    f = WRAPPERS[cfg["task"]](tf, fn, in_key, spec)
    f._sm = sm  # keep alive
    return f


def run_float(f: TfFunction, x: np.ndarray) -> list[dict[str, np.ndarray]]:
    return [{k: v.numpy() for k, v in f(x[i:i + 1]).items()} for i in range(len(x))]


def convert(tf: ModuleType, f: TfFunction, cfg: dict, calib: np.ndarray,
            denylist_ops: list[str] | None = None, denylist_nodes: list[str] | None = None) -> bytes:
    conv = tf.lite.TFLiteConverter.from_concrete_functions([f.get_concrete_function()], f._sm)
    if cfg["quant"] == "float32":
        return conv.convert()
    conv.optimizations = [tf.lite.Optimize.DEFAULT]

    def rep() -> Iterator[list[np.ndarray]]:
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


def postprocessing_nodes(tf: ModuleType, f: TfFunction, cfg: dict, xc: np.ndarray) -> list[str]:
    """names of TFLite ops after the last head convolutions (kept in float)."""
    conv = tf.lite.TFLiteConverter.from_concrete_functions([f.get_concrete_function()], f._sm)
    flt = conv.convert()
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


class MultiPoseDetector:
    """The float MultiPose SavedModel as the person detector of FrameSets.person_boxes:
    [1,512,512,3] uint8 -> [1,6,56]."""

    def __init__(self, tf: ModuleType, saved_dir: Path) -> None:
        self.tf = tf
        self.sm = tf.saved_model.load(str(saved_dir))   # kept: the signature needs its variables
        self.fn = self.sm.signatures["serving_default"]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return list(self.fn(input=self.tf.constant(x, self.tf.int32)).values())[0].numpy()[0:1]
