"""models_tflite/manifest.toml: what each shipped model is, and the check that it still is.

Start-up verifies every model against its entry (present, sha256, input/output shapes). A bad
model is named in one log line and only the modes that need it are affected.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tomllib
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance import paths
from appliance.errors import ModelError
from appliance.models.runtime import Runtime, TFLiteModel

log = logging.getLogger(__name__)

MANIFEST = "manifest.toml"
TASKS = ("pose_single", "pose_multi", "posenet", "segmentation", "style_transfer", "style_predict")
REQUIRED = ("file", "sha256", "task", "source", "licence", "quantization", "preprocess",
            "inputs", "outputs")


@dataclass(frozen=True)
class TensorSpec:
    name: str
    shape: tuple[int, ...]
    dtype: str
    tensor: str = ""


@dataclass
class ModelEntry:
    name: str
    file: str
    sha256: str
    task: str
    inputs: list[TensorSpec]
    outputs: list[TensorSpec]
    raw: dict[str, Any] = field(default_factory=dict)

    def output_names(self) -> dict[str, str]:
        """Runtime tensor name -> the name decoders use."""
        return {o.tensor: o.name for o in self.outputs if o.tensor}


def load_manifest(models_dir: Path) -> dict[str, ModelEntry]:
    path = Path(models_dir) / MANIFEST
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{path}: not found (expected the models folder, see [models] dir)") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError) as exc:
        raise ModelError(f"{path}: cannot read ({type(exc).__name__}: {exc})") from None
    models = raw.get("models")
    if not isinstance(models, dict) or not models:
        raise ModelError(f"{path}: models: expected [models.NAME] tables")
    return {name: _entry(path, name, table) for name, table in models.items()}


def _entry(path: Path, name: str, table: Any) -> ModelEntry:
    where = f"{path}: models.{name}"
    missing = [k for k in REQUIRED if not isinstance(table, dict) or k not in table]
    if missing:
        raise ModelError(f"{where}: missing {', '.join(missing)}")
    if table["task"] not in TASKS:
        raise ModelError(f"{where}.task: {table['task']!r} is not one of {', '.join(TASKS)}")
    try:
        inputs = [_tensor(t) for t in table["inputs"]]
        outputs = [_tensor(t) for t in table["outputs"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"{where}: inputs/outputs: expected {{name, shape, dtype}} tables ({exc})") from None
    return ModelEntry(name, table["file"], table["sha256"], table["task"], inputs, outputs, table)


def _tensor(table: dict) -> TensorSpec:
    return TensorSpec(str(table["name"]), tuple(int(v) for v in table["shape"]), str(table["dtype"]),
                      str(table.get("tensor", "")))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_file(entry: ModelEntry, models_dir: Path) -> str | None:
    """Why the model's file does not match its entry, or None. Reads the file once."""
    path = Path(models_dir) / entry.file
    if not path.is_file():
        return f"{entry.name}: {path} is missing"
    actual = sha256_of(path)
    if actual != entry.sha256:
        return f"{entry.name}: {path} is corrupt or replaced (sha256 {actual[:12]}..., manifest says {entry.sha256[:12]}...)"
    return None


def check_shapes(entry: ModelEntry, model: TFLiteModel) -> str | None:
    """Why the loaded model's tensors differ from the manifest, or None."""
    actual_in = sorted(tuple(int(v) for v in d["shape"]) for d in model.inputs)
    actual_out = sorted(tuple(int(v) for v in d["shape"]) for d in model.outputs)
    want_in = sorted(i.shape for i in entry.inputs)
    want_out = sorted(o.shape for o in entry.outputs)
    if actual_in != want_in or actual_out != want_out:
        return (f"{entry.name}: tensor shapes differ from the manifest "
                f"(inputs {actual_in} vs {want_in}, outputs {actual_out} vs {want_out})")
    return None


LOW_MEMORY_TASKS = ("style_transfer",)  # XNNPACK holds ~200 MB of activations for each
LOW_MEMORY_BELOW_MB = 1536  # "auto" low memory: boards with less RAM than this (a 1 GB Pi 4)


def total_memory_mb() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        pass
    return float("inf")


def resolve_threads(setting: int) -> int:
    """[models] threads: 0 means one fewer than the cores (3 on a Pi 4 or 5, 1 on 2 cores)."""
    return setting if setting > 0 else max(1, (os.cpu_count() or 2) - 1)


def resolve_low_memory(setting: str) -> bool:
    return setting == "on" or (setting == "auto" and total_memory_mb() < LOW_MEMORY_BELOW_MB)


class ModelStore:
    """The models folder as the appliance uses it: verified once, loaded on demand, shared.

    A loaded model is shared by every stage that asks for it while any of them holds it, and
    freed when the last lets go (the cache holds weak references): after a mode switch only
    the shown mode's models stay in memory, which is what lets a 1 GB Pi hold the artwork.
    """

    def __init__(self, models_dir: Path | None = None, runtime: Runtime | None = None,
                 threads: int = 2, edgetpu: str = "auto", low_memory: bool = False):
        self.dir = paths.models_dir(str(models_dir or ""))
        self.entries = load_manifest(self.dir)
        self._runtime = runtime
        self.threads = threads
        self.edgetpu = edgetpu
        self.low_memory = low_memory
        self._problems: dict[str, str | None] = {}
        self._loaded: weakref.WeakValueDictionary[str, TFLiteModel] = weakref.WeakValueDictionary()

    @classmethod
    def from_settings(cls, settings) -> "ModelStore":
        """From a config's [models] section (runtime imported lazily, on first load)."""
        from appliance.models.runtime import load_runtime
        runtime = None if settings.runtime == "auto" else load_runtime(settings.runtime)
        return cls(paths.models_dir(settings.dir), runtime,
                   resolve_threads(settings.threads), settings.edgetpu,
                   resolve_low_memory(settings.low_memory))

    def loaded_names(self) -> list[str]:
        return sorted(self._loaded.keys())

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            from appliance.models.runtime import load_runtime
            self._runtime = load_runtime()
        return self._runtime

    def problem(self, name: str) -> str | None:
        """Why `name` cannot be used (verified on first ask, then remembered), or None."""
        return self._verify(name)[0]

    def _verify(self, name: str) -> tuple[str | None, TFLiteModel | None]:
        """(problem, the model loaded to check its shapes, if it was loaded for that)."""
        if name not in self.entries:
            return f"{name}: not in {self.dir / MANIFEST} (known: {', '.join(self.entries)})", None
        if name in self._problems:
            return self._problems[name], None
        model = None
        problem = check_file(self.entries[name], self.dir)
        if problem is None:
            try:
                model = self._load(name)
                problem = check_shapes(self.entries[name], model)
            except ModelError as exc:
                problem = str(exc)
        if problem:
            log.error("model %s", problem)
        self._problems[name] = problem
        return problem, model

    def verify_all(self) -> dict[str, str | None]:
        return {name: self.problem(name) for name in self.entries}

    def load(self, name: str) -> TFLiteModel:
        """The loaded model, after verification; ModelError names what is wrong."""
        problem, model = self._verify(name)
        if problem:
            raise ModelError(problem)
        return model or self._load(name)

    def _load(self, name: str) -> TFLiteModel:
        model = self._loaded.get(name)
        if model is None:
            entry = self.entries[name]
            xnnpack = not (self.low_memory and entry.task in LOW_MEMORY_TASKS)
            model = TFLiteModel(self.dir / entry.file, self.runtime, self.threads, self.edgetpu,
                                entry.output_names(), xnnpack=xnnpack)
            self._loaded[name] = model
        return model
