"""The helper modes, run in other venvs by the build (`python <models_tflite/build> --run-tflite
...` / `--measure-references ...`), and the calls that start them.

--run-tflite runs inside a runtime venv (numpy + ai-edge-litert or tflite-runtime only):
this module imports nothing else at import time. --measure-references runs inside an app venv
and imports the appliance package when called."""
from __future__ import annotations

import argparse
import json
import subprocess
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from . import BUILD_DIR

RESULT = "RESULT_JSON "


# --------------------------------------------------------------------------- --run-tflite
def load_interpreter() -> tuple[type, str]:
    """(Interpreter class, "name version") of ai-edge-litert, else tflite-runtime"""
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
    return Interpreter, rt


def tensor_details(details: list[dict]) -> list[dict]:
    return [dict(name=d["name"], shape=[int(s) for s in d["shape"]], dtype=np.dtype(d["dtype"]).name,
                 scale=float(d["quantization"][0]), zero_point=int(d["quantization"][1]),
                 index=int(d["index"])) for d in details]


def signature_info(Interpreter: type, path: str, interp: Any) -> dict:
    """the signatures and the tensor index of each serving_default output"""
    res: dict[str, Any] = {}
    try:
        sig = interp.get_signature_list()
        res["signatures"] = {k: {kk: list(vv) for kk, vv in v.items()} for k, v in sig.items()}
        if "serving_default" in sig:
            r = Interpreter(model_path=path).get_signature_runner("serving_default")
            od = r.get_output_details()
            res["signature_outputs"] = {k: v["index"] for k, v in od.items()}
    except Exception as e:  # noqa
        res["signatures_error"] = repr(e)
    return res


def input_feeds(Interpreter: type, path: str, ind: list[dict], inputs: str) -> list[tuple[dict, np.ndarray]]:
    """(input detail, [N, *shape] array) pairs from the --inputs .npz: "x" = the only input,
    "in_<signature name>" = several inputs"""
    z = np.load(inputs)
    if "x" in z.files:
        return [(ind[0], z["x"])]
    sin = Interpreter(model_path=path).get_signature_runner("serving_default").get_input_details()
    byidx = {d["index"]: d for d in ind}
    return [(byidx[sin[k[3:]]["index"]], z[k]) for k in z.files]


def run_outputs(interp: Any, feed: Callable[[int], None], n: int, outd: list[dict], outputs: str) -> None:
    """every input once; the outputs, keyed by tensor index, to the --outputs .npz"""
    outs = {str(d["index"]): [] for d in outd}
    for i in range(n):
        feed(i)
        interp.invoke()
        for d in outd:
            outs[str(d["index"])].append(interp.get_tensor(d["index"]).copy())
    np.savez_compressed(outputs, **{k: np.concatenate(v) for k, v in outs.items()})


def latency(interp: Any, feed: Callable[[int], None], args: argparse.Namespace) -> dict:
    t = []
    for i in range(args.warmup + args.runs):
        feed(i)
        t0 = time.perf_counter()
        interp.invoke()
        t1 = time.perf_counter()
        if i >= args.warmup:
            t.append((t1 - t0) * 1000)
    return dict(median=round(float(np.median(t)), 2),
                p95=round(float(np.percentile(t, 95)), 2), runs=len(t), threads=args.threads)


def run_tflite_helper(args: argparse.Namespace) -> None:
    """--run-tflite mode: runs inside a runtime venv; numpy + interpreter only."""
    Interpreter, rt = load_interpreter()
    interp = Interpreter(model_path=args.run_tflite, num_threads=args.threads)
    interp.allocate_tensors()
    ind = interp.get_input_details()
    outd = interp.get_output_details()
    res = {"runtime": rt, "numpy": np.__version__, "inputs": tensor_details(ind), "outputs": tensor_details(outd)}
    res.update(signature_info(Interpreter, args.run_tflite, interp))
    if args.inputs:
        feeds = input_feeds(Interpreter, args.run_tflite, ind, args.inputs)
        n = len(feeds[0][1])

        def feed(i: int) -> None:
            for d, arr in feeds:
                interp.set_tensor(d["index"], arr[i % n].reshape(d["shape"]))
        run_outputs(interp, feed, n, outd, args.outputs)
        res["latency_ms"] = latency(interp, feed, args)
    print(RESULT + json.dumps(res))


def result_of(stdout: str) -> dict | None:
    for line in stdout.splitlines():
        if line.startswith(RESULT):
            return json.loads(line[len(RESULT):])
    return None


def run_helper(python: str, model: Path, inputs: Path | None = None, outputs: Path | None = None,
               threads: int = 1, runs: int = 50) -> dict:
    """--run-tflite in the venv of `python`: tensor details, signatures, outputs, latency"""
    cmd = [python, str(BUILD_DIR), "--run-tflite", str(model), "--threads", str(threads),
           "--runs", str(runs)]
    if inputs:
        cmd += ["--inputs", str(inputs), "--outputs", str(outputs)]
    p = subprocess.run(cmd, capture_output=True, text=True)
    res = result_of(p.stdout)
    if res is not None:
        return res
    return {"error": (p.stderr or p.stdout).strip().splitlines()[-1:]}


# --------------------------------------------------------------------------- --measure-references
def measure_helper(args: argparse.Namespace) -> None:
    """--measure-references mode, inside an app venv: the shipped files through ModelStore (sha256
    checked) and the app's runtime, measured against reference/*.npz. Prints RESULT_JSON."""
    from appliance.models import fidelity as fid
    from appliance.models.manifest import ModelStore
    from appliance.models.runtime import load_runtime
    out_dir = Path(args.out_dir)
    store = ModelStore(out_dir, runtime=load_runtime(args.runtime))
    frames = fid.read_clip(args.sample_clip)
    res = {"_runtime": store.runtime.label}
    for name in args.models.split(","):
        ref = fid.load_reference(out_dir / "reference" / f"{name}.npz")
        res[name] = fid.measure(store.load(name), frames, ref)
    print(RESULT + json.dumps(res))


def measure_in(python: str, runtime: str, out_dir: Path, models: list[str], clip: str) -> dict:
    cmd = [python, str(BUILD_DIR), "--measure-references", "--runtime", runtime,
           "--out-dir", str(out_dir), "--models", ",".join(models), "--sample-clip", clip]
    p = subprocess.run(cmd, capture_output=True, text=True)
    res = result_of(p.stdout)
    if res is not None:
        return res
    raise SystemExit(f"measuring in {python} failed:\n{p.stderr[-3000:]}")
