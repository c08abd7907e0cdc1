"""ONNX -> TF, op by op, for the style models (no onnx2tf: it baked resize shapes and
mis-converted the QDQ graphs). 4D activations are kept NHWC inside; the ops the three style
graphs use are in OPS, one small converter each. onnx/onnxsim are imported where used."""
from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Optional

import numpy as np

Result = Optional[tuple[Any, bool]]   # (tf tensor, is a 4D NHWC activation), or nothing to store


class State:
    """One evaluation of the graph: tensors by name and which of them are 4D NHWC."""

    def __init__(self, tf: ModuleType, init: dict[str, np.ndarray]) -> None:
        self.tf = tf
        self.init = init           # initializers (+ Constant outputs), shared between runs
        self.V: dict[str, Any] = {}     # name -> tf tensor
        self.F: set[str] = set()        # names that are 4D NHWC activations

    def val(self, n: str) -> Any:
        if n in self.V:
            return self.V[n]
        return self.tf.constant(self.init[n])

    def const(self, n: str) -> np.ndarray | None:
        return self.init[n] if n in self.init else None

    def opt_const(self, ins: list[str], i: int) -> np.ndarray | None:
        """the constant of optional input i (None when absent or empty)"""
        return self.const(ins[i]) if len(ins) > i and ins[i] else None


Converter = Callable[[State, dict, list[str], bool, str], Any]


def onnx_dequantize(src: Path) -> Any:
    """QDQ graph -> plain float graph: constant DequantizeLinear folded into float weights,
    activation Quantize/Dequantize pairs become identities (onnx2tf/TFLite mis-handle the QDQ)."""
    import onnx
    from onnx import helper, numpy_helper
    m = onnx.load(str(src))
    g = m.graph
    init = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    nodes, new_inits = [], []
    for n in g.node:
        if n.op_type == "DequantizeLinear" and n.input[0] in init:
            new_inits.append(numpy_helper.from_array(dequantized(n, init), n.output[0]))
        elif n.op_type in ("DequantizeLinear", "QuantizeLinear"):
            nodes.append(helper.make_node("Identity", [n.input[0]], [n.output[0]]))
        else:
            nodes.append(n)
    g2 = helper.make_graph(nodes, g.name, list(g.input), list(g.output), list(g.initializer) + new_inits)
    m2 = helper.make_model(g2, opset_imports=[o for o in m.opset_import if o.domain in ("", "ai.onnx")])
    m2.ir_version = m.ir_version
    return m2


def dequantized(n: Any, init: dict[str, np.ndarray]) -> np.ndarray:
    """the float weights of a DequantizeLinear node on a constant"""
    x, s = init[n.input[0]], np.asarray(init[n.input[1]], np.float32)
    z = np.asarray(init[n.input[2]]) if len(n.input) > 2 and n.input[2] else np.zeros_like(s)
    axis = next((a.i for a in n.attribute if a.name == "axis"), 1)
    if s.ndim == 1 and s.size > 1:
        shp = [1] * x.ndim
        shp[axis] = -1
        s, z = s.reshape(shp), z.reshape(shp)
    return ((x.astype(np.float32) - z.astype(np.float32)) * s).astype(np.float32)


def onnx_simplify(m: Any) -> Any:
    import onnxsim
    s, ok = onnxsim.simplify(m)
    if not ok:
        raise SystemExit("onnxsim check failed")
    return s


# --------------------------------------------------------------------------- converters
def op_constant(s: State, a: dict, ins: list[str], is4: bool, out: str) -> None:
    from onnx import numpy_helper
    s.init[out] = numpy_helper.to_array(a["value"])


def op_pad(s: State, a: dict, ins: list[str], is4: bool, out: str) -> Result:
    p = s.const(ins[1])
    mode = a.get("mode", b"constant").decode().upper()
    if is4:   # NCHW-logical tensor stored NHWC
        pads = [[p[0], p[4]], [p[2], p[6]], [p[3], p[7]], [p[1], p[5]]]
    else:
        r = len(p) // 2
        pads = [[p[i], p[i + r]] for i in range(r)]
    return s.tf.pad(s.val(ins[0]), pads, mode="REFLECT" if mode == "REFLECT" else "CONSTANT"), is4


def op_conv(s: State, a: dict, ins: list[str], is4: bool, out: str) -> Result:
    tf = s.tf
    w = s.const(ins[1])
    grp = a.get("group", 1)
    s_ = a.get("strides", [1, 1])
    pd = a.get("pads", [0, 0, 0, 0])
    x = s.val(ins[0])
    if any(pd):
        x = tf.pad(x, [[0, 0], [pd[0], pd[2]], [pd[1], pd[3]], [0, 0]])
    if grp == 1:
        y = tf.nn.conv2d(x, tf.constant(w.transpose(2, 3, 1, 0)), strides=[1, s_[0], s_[1], 1], padding="VALID")
    else:
        assert w.shape[1] == 1 and w.shape[0] == grp, (out, w.shape, grp)
        y = tf.nn.depthwise_conv2d(x, tf.constant(w.transpose(2, 3, 0, 1)), strides=[1, s_[0], s_[1], 1],
                                   padding="VALID")
    if len(ins) > 2 and ins[2]:
        y = y + tf.constant(s.const(ins[2]))
    return y, True


def op_transpose(s: State, a: dict, ins: list[str], is4: bool, out: str) -> Result:
    perm = list(a["perm"])
    if perm == [0, 3, 1, 2] and not is4:
        return s.val(ins[0]), True     # to NCHW: the NHWC tensor, flagged
    if perm == [0, 2, 3, 1] and is4:
        return s.val(ins[0]), False    # back to plain NHWC, not flagged
    raise NotImplementedError(("Transpose", perm, is4))


def op_global_average_pool(s: State, a: dict, ins: list[str], is4: bool, out: str) -> Result:
    return s.tf.reduce_mean(s.val(ins[0]), axis=[1, 2], keepdims=True), is4


def op_clip(s: State, a: dict, ins: list[str], is4: bool, out: str) -> Result:
    lo = s.const(ins[1]) if len(ins) > 1 and ins[1] else a.get("min")
    hi = s.const(ins[2]) if len(ins) > 2 and ins[2] else a.get("max")
    y = s.val(ins[0])
    if float(lo) == 0.0 and float(hi) == 6.0:
        return s.tf.nn.relu6(y), is4
    return s.tf.clip_by_value(y, float(lo), float(hi)), is4


def op_reciprocal(s: State, a: dict, ins: list[str], is4: bool, out: str) -> Result:
    return 1.0 / s.val(ins[0]), is4


def op_unsqueeze(s: State, a: dict, ins: list[str], is4: bool, out: str) -> Result:
    y = s.val(ins[0])
    axes = s.const(ins[1]) if len(ins) > 1 else a["axes"]
    for ax in sorted(int(x) for x in np.atleast_1d(axes)):
        y = s.tf.expand_dims(y, ax)
    return y, is4


def op_reduce(s: State, a: dict, ins: list[str], is4: bool, out: str, fn_name: str) -> Result:
    axes = s.const(ins[1]) if len(ins) > 1 and ins[1] else a.get("axes")
    axes = [int(x) for x in np.atleast_1d(axes)]
    if is4:
        axes = [{0: 0, 1: 3, 2: 1, 3: 2}[x] for x in axes]
    fn = getattr(s.tf, fn_name)
    return fn(s.val(ins[0]), axis=axes, keepdims=bool(a.get("keepdims", 1))), is4


def op_reduce_sum(s: State, a: dict, ins: list[str], is4: bool, out: str) -> Result:
    return op_reduce(s, a, ins, is4, out, "reduce_sum")


def op_reduce_mean(s: State, a: dict, ins: list[str], is4: bool, out: str) -> Result:
    return op_reduce(s, a, ins, is4, out, "reduce_mean")


def op_reshape(s: State, a: dict, ins: list[str], is4: bool, out: str) -> Result:
    shp = [int(x) for x in s.const(ins[1])]
    x = s.val(ins[0])
    if len(shp) == 4 and shp[2:] == [1, 1] and shp[0] == 1 and not is4:
        return s.tf.reshape(x, [1, 1, 1, shp[1]]), True   # to NCHW [1,C,1,1] -> internal NHWC
    if is4:
        assert x.shape[1] == 1 and x.shape[2] == 1, (out, x.shape)
        return s.tf.reshape(x, shp), False                 # 1x1 spatial: same element order
    return s.tf.reshape(x, shp), is4


def op_pow(s: State, a: dict, ins: list[str], is4: bool, out: str) -> Result:
    e = s.const(ins[1])
    assert e is not None and float(e) == 2.0
    return s.tf.square(s.val(ins[0])), is4


def op_resize(s: State, a: dict, ins: list[str], is4: bool, out: str) -> Result:
    sc = s.opt_const(ins, 2)
    assert a.get("mode", b"nearest") == b"nearest" and sc is not None, a
    x = s.val(ins[0])
    if list(sc) == [1, 1, 1, 1]:
        return x, is4
    assert list(sc) == [1, 1, 2, 2], sc
    # nearest 2x upsample as concat + depth_to_space: no shape is baked in
    return s.tf.nn.depth_to_space(s.tf.concat([x, x, x, x], axis=-1), 2), is4


def tf_op(path: str, arity: int) -> Converter:
    """An ONNX op that is one TF function of its first `arity` inputs, e.g. "nn.relu"."""
    def convert(s: State, a: dict, ins: list[str], is4: bool, out: str) -> Result:
        fn: Any = s.tf
        for part in path.split("."):
            fn = getattr(fn, part)
        return fn(*[s.val(i) for i in ins[:arity]]), is4
    return convert


def op_identity(s: State, a: dict, ins: list[str], is4: bool, out: str) -> Result:
    return s.val(ins[0]), is4


OPS: dict[str, Converter] = {
    "Identity": op_identity, "Constant": op_constant, "Pad": op_pad, "Conv": op_conv,
    "Transpose": op_transpose, "GlobalAveragePool": op_global_average_pool, "Clip": op_clip,
    "Reciprocal": op_reciprocal, "Unsqueeze": op_unsqueeze, "ReduceSum": op_reduce_sum,
    "ReduceMean": op_reduce_mean, "Reshape": op_reshape, "Pow": op_pow, "Resize": op_resize,
    "Add": tf_op("add", 2), "Sub": tf_op("subtract", 2), "Mul": tf_op("multiply", 2),
    "Div": tf_op("divide", 2), "Sqrt": tf_op("sqrt", 1), "Relu": tf_op("nn.relu", 1),
    "Sigmoid": tf_op("sigmoid", 1),
}


def eval_node(s: State, node: Any) -> None:
    import onnx
    a = {x.name: onnx.helper.get_attribute_value(x) for x in node.attribute}
    ins, out = list(node.input), node.output[0]
    if node.op_type not in OPS:
        raise NotImplementedError(node.op_type)
    res = OPS[node.op_type](s, a, ins, any(i in s.F for i in ins), out)
    if res is None:
        return
    s.V[out], nhwc = res
    if nhwc:
        s.F.add(out)


def onnx_to_tf(tf: ModuleType, model: Any, input_map: Callable[[dict], dict]) -> Callable[..., list]:
    """Returns f(**inputs) -> list of outputs, evaluating the ONNX graph with TF ops.
    4D activations are kept NHWC; input_map(feeds): onnx input name -> (tf tensor, is_4d_nhwc)."""
    from onnx import numpy_helper
    g = model.graph
    init = {i.name: numpy_helper.to_array(i) for i in g.initializer}

    def run(**feeds: Any) -> list:
        s = State(tf, init)
        for k, (t, is4) in input_map(feeds).items():
            s.V[k] = t
            if is4:
                s.F.add(k)
        for node in g.node:
            eval_node(s, node)
        return [s.V[o.name] for o in g.output]
    return run
