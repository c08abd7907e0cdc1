"""One loader for both TFLite runtimes, with the Edge TPU where it is really there.

ai-edge-litert is LiteRT, the successor of tflite-runtime: it hands int8 graphs to XNNPACK and
works with numpy 2, so it is preferred. tflite-runtime 2.14 (its last release, no wheel past
Python 3.11, numpy < 2 only) still runs every shipped model and is the fallback. Which one ran,
with which delegate and how many threads, is logged once per model.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from appliance.errors import ModelError

log = logging.getLogger(__name__)

RUNTIMES = {"ai_edge_litert": "ai-edge-litert", "tflite_runtime": "tflite-runtime"}
EDGETPU_LIBRARY = "libedgetpu.so.1"
_stage = threading.local()  # per thread: the event that says its analysis stage was stopped


class Cancelled(Exception):
    """The stage that asked for this run was stopped while it waited for the model."""


def cancel_runs_when(stopped: threading.Event) -> None:
    """Runs asked for by this thread are skipped once `stopped` is set (an analysis worker
    calls it): after quick mode switches, stopped stages queued on a shared model give up
    instead of each painting a keyframe nobody will see, holding its frame meanwhile."""
    _stage.stopped = stopped


@dataclass(frozen=True)
class Runtime:
    name: str
    version: str
    interpreter: Callable[..., Any]
    load_delegate: Callable[..., Any]
    without_default_delegates: Any = None  # OpResolverType: builtin kernels, no XNNPACK

    @property
    def label(self) -> str:
        return f"{RUNTIMES[self.name]} {self.version}"


def _import_runtime(name: str) -> Runtime:
    module = importlib.import_module(f"{name}.interpreter")
    resolver = getattr(module, "OpResolverType", None)
    return Runtime(name, importlib.metadata.version(RUNTIMES[name]), module.Interpreter,
                   module.load_delegate,
                   getattr(resolver, "BUILTIN_WITHOUT_DEFAULT_DELEGATES", None))


def load_runtime(preferred: str = "auto") -> Runtime:
    """The runtime named, or for "auto" the first of ai-edge-litert, tflite-runtime that imports."""
    order = list(RUNTIMES) if preferred == "auto" else [preferred]
    reasons = []
    for name in order:
        try:
            return _import_runtime(name)
        except Exception as exc:  # tflite-runtime under numpy 2 fails with AttributeError
            reasons.append(f"{RUNTIMES[name]}: {type(exc).__name__}: {exc}")
    raise ModelError("no TFLite runtime can be imported (" + "; ".join(reasons) +
                     "); pip install ai-edge-litert")


def available_runtimes() -> list[str]:
    found = []
    for name in RUNTIMES:
        try:
            _import_runtime(name)
            found.append(name)
        except Exception:
            pass
    return found


def load_edgetpu_delegate(runtime: Runtime) -> Any:
    """The Edge TPU delegate; OSError when libedgetpu is absent, ValueError when no Coral answers.

    The library is opened with ctypes first: where it is absent, the runtime's own
    load_delegate would fail the same way but leave a half-built object whose destructor
    prints a traceback.
    """
    import ctypes
    ctypes.CDLL(EDGETPU_LIBRARY)
    return runtime.load_delegate(EDGETPU_LIBRARY)


class TFLiteModel:
    """One loaded .tflite file: `run(array)` returns its outputs by name, dequantized.

    Where `NAME_edgetpu.tflite` sits beside the model and libedgetpu loads, that compiled
    model runs on the Edge TPU; otherwise the CPU model runs and the reason is logged.
    With `xnnpack=False` the CPU model runs on the builtin kernels: XNNPACK plans no memory
    reuse across the style networks' big activations (~200 MB each at 384 px), the builtin
    kernels do, at about half the speed. One interpreter is never run by two threads at once
    (`lock`, re-entrant, is held around every run; a mode switch can leave an old worker
    finishing a frame on a model the new mode shares).
    """

    def __init__(self, path: Path, runtime: Runtime, threads: int = 2, edgetpu: str = "auto",
                 output_names: dict[str, str] | None = None,
                 delegate_loader: Callable[[Runtime], Any] | None = None, xnnpack: bool = True):
        self.path = Path(path)
        self._load_delegate = delegate_loader or load_edgetpu_delegate
        self.runtime = runtime
        self.threads = threads
        self.xnnpack = xnnpack or runtime.without_default_delegates is None
        self.lock = threading.RLock()
        self.accelerator = "cpu"
        self.interpreter = self._open_edgetpu() if edgetpu == "auto" else None
        if self.interpreter is None:
            self.interpreter = self._open(self.path)
        self.interpreter.allocate_tensors()
        self._read_details()
        self._names = output_names or {}
        self.output_names = [self._names.get(d["name"], d["name"]) for d in self.outputs]
        self._reused: dict[str, np.ndarray] | None = None  # output buffers for run(reuse_outputs=True)
        log.info("model %s: %s, %d threads, on %s%s", self.path.name, runtime.label, threads,
                 self.accelerator, "" if self.xnnpack else " (builtin kernels, no XNNPACK: low memory)")

    def _open(self, path: Path, delegates: list | None = None) -> Any:
        options = {} if self.xnnpack else {"experimental_op_resolver_type": self.runtime.without_default_delegates}
        try:
            return self.runtime.interpreter(model_path=str(path), num_threads=self.threads,
                                            experimental_delegates=delegates, **options)
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"{path}: {self.runtime.label} cannot load it ({exc})") from None

    def _open_edgetpu(self) -> Any | None:
        compiled = self.path.with_name(f"{self.path.stem}_edgetpu.tflite")
        if not compiled.is_file():
            log.debug("model %s: no %s beside it, running on the CPU", self.path.name, compiled.name)
            return None
        try:
            delegate = self._load_delegate(self.runtime)
        except (OSError, ValueError) as exc:  # OSError: library absent; ValueError: no device
            log.warning("model %s: Edge TPU unavailable (%s), running on the CPU", self.path.name, exc)
            return None
        self.accelerator = "edgetpu"
        return self._open(compiled, [delegate])

    def _read_details(self) -> None:
        self.inputs = self.interpreter.get_input_details()
        self.outputs = self.interpreter.get_output_details()
        images = [d for d in self.inputs if len(d["shape"]) == 4 and d["dtype"] == np.uint8]
        self.input = images[0] if images else self.inputs[0]  # the picture, for one-input callers

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(int(v) for v in self.input["shape"])

    def resize_input(self, name: str, shape: tuple[int, ...]) -> None:
        """Give a dynamic-size input (the multistyle network's image) a new shape."""
        detail = next(d for d in self.inputs if d["name"] == name)
        with self.lock:
            self.interpreter.resize_tensor_input(detail["index"], list(shape))
            self.interpreter.allocate_tensors()
            self._read_details()
            self._reused = None

    def run(self, inputs: np.ndarray | dict[str, np.ndarray],
            reuse_outputs: bool = False) -> dict[str, np.ndarray]:
        """Outputs for one array (one-input models) or arrays by input tensor name.

        With `reuse_outputs` the outputs are dequantized into float32 buffers allocated once
        and overwritten by the next run (the pose stage's hot path allocates nothing big per
        frame); the caller must be done with them before it runs the model again.
        """
        with self.lock:
            stopped = getattr(_stage, "stopped", None)
            if stopped is not None and stopped.is_set():
                raise Cancelled(self.path.name)
            if isinstance(inputs, np.ndarray):
                self.interpreter.set_tensor(self.input["index"], inputs)
            else:
                by_name = {d["name"]: d["index"] for d in self.inputs}
                for name, value in inputs.items():
                    self.interpreter.set_tensor(by_name[name], value)
            self.interpreter.invoke()
            if reuse_outputs:
                return self._outputs_into_buffers()
            return {name: _dequantize(self.interpreter.get_tensor(d["index"]), d)
                    for name, d in zip(self.output_names, self.outputs)}

    def _outputs_into_buffers(self) -> dict[str, np.ndarray]:
        if self._reused is None:
            self._reused = {name: np.empty(tuple(d["shape"]), np.float32)
                            for name, d in zip(self.output_names, self.outputs)}
        for name, detail in zip(self.output_names, self.outputs):
            _dequantize(self.interpreter.tensor(detail["index"])(), detail, self._reused[name])  # a view, no copy
        return self._reused


def _dequantize(values: np.ndarray, detail: dict, out: np.ndarray | None = None) -> np.ndarray:
    """Float outputs of a quantized tensor; into `out` (float32, same shape) when given."""
    scale, zero_point = detail.get("quantization", (0.0, 0))
    quantized = bool(scale) and values.dtype != np.float32
    if out is None:
        return (values.astype(np.float32) - zero_point) * scale if quantized else values
    if quantized:
        np.subtract(values, zero_point, out=out, dtype=np.float32)
        out *= scale
    else:
        np.copyto(out, values)
    return out
