"""The runtime seam: which runtime, which delegate, and the fallback to the CPU when the Edge
TPU is absent or fails. The interpreter and delegate here are fakes that record their calls;
the real runtimes are exercised with the real models in test_models.py."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from appliance.errors import ModelError
from appliance.models.runtime import Runtime, TFLiteModel, load_runtime


class FakeInterpreter:
    opened: list[tuple[str, list]] = []

    def __init__(self, model_path, num_threads, experimental_delegates):
        FakeInterpreter.opened.append((model_path, experimental_delegates))

    def allocate_tensors(self):
        pass

    def get_input_details(self):
        return [{"index": 0, "name": "image", "shape": np.array([1, 4, 4, 3]), "dtype": np.uint8}]

    def get_output_details(self):
        return [{"index": 1, "name": "PartitionedCall:0", "shape": np.array([1, 2]),
                 "quantization": (0.5, 10)}]

    def set_tensor(self, index, value):
        self.value = value

    def invoke(self):
        pass

    def get_tensor(self, index):
        return np.array([[12, 14]], np.uint8)


FAKE = Runtime("ai_edge_litert", "0-test", FakeInterpreter, load_delegate=lambda name: None)


@pytest.fixture
def model_files(tmp_path):
    (tmp_path / "pose.tflite").write_bytes(b"cpu")
    (tmp_path / "pose_edgetpu.tflite").write_bytes(b"tpu")
    FakeInterpreter.opened = []
    return tmp_path


def test_edgetpu_model_runs_on_the_delegate_when_a_coral_answers(model_files):
    delegate = object()
    model = TFLiteModel(model_files / "pose.tflite", FAKE, delegate_loader=lambda rt: delegate)
    assert model.accelerator == "edgetpu"
    assert FakeInterpreter.opened == [(str(model_files / "pose_edgetpu.tflite"), [delegate])]


@pytest.mark.parametrize("error", [OSError("libedgetpu.so.1: cannot open shared object file"),
                                   ValueError("Failed to load delegate from libedgetpu.so.1")])
def test_no_coral_falls_back_to_the_cpu_model_and_says_why(model_files, error, caplog):
    def absent(runtime):
        raise error
    with caplog.at_level(logging.WARNING):
        model = TFLiteModel(model_files / "pose.tflite", FAKE, delegate_loader=absent)
    assert model.accelerator == "cpu"
    assert FakeInterpreter.opened == [(str(model_files / "pose.tflite"), None)]
    assert "Edge TPU unavailable" in caplog.text and str(error) in caplog.text


def test_edgetpu_off_never_touches_the_delegate(model_files):
    def must_not_load(runtime):
        raise AssertionError("delegate loaded although edgetpu = off")
    model = TFLiteModel(model_files / "pose.tflite", FAKE, edgetpu="off", delegate_loader=must_not_load)
    assert model.accelerator == "cpu"


def test_quantized_outputs_are_dequantized_and_named(model_files):
    model = TFLiteModel(model_files / "pose.tflite", FAKE, edgetpu="off",
                        output_names={"PartitionedCall:0": "keypoints"})
    out = model.run(np.zeros((1, 4, 4, 3), np.uint8))
    assert list(out) == ["keypoints"]
    assert np.allclose(out["keypoints"], [[1.0, 2.0]])  # (12 - 10) * 0.5, (14 - 10) * 0.5


def test_a_runtime_that_cannot_be_imported_is_named():
    with pytest.raises(ModelError, match="tflite-runtime: "):
        load_runtime("tflite_runtime") if _absent("tflite_runtime") else pytest.skip("installed")


def _absent(module: str) -> bool:
    try:
        __import__(f"{module}.interpreter")
        return False
    except Exception:
        return True
