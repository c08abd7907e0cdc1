"""Entry point: `python build ...` in models_tflite/ (or `python models_tflite/build ...`).

Run as a directory, Python puts build/ itself first on sys.path; it is replaced by models_tflite/
so that `build` is this package (not the PyPI package of that name, if installed) and its
modules are not also importable under bare names. The build modules are imported only by the
mode that needs them: the helper modes run in venvs without TensorFlow, onnx or OpenCV.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

BUILD_DIR = Path(__file__).resolve().parent


def use_this_package() -> None:
    """sys.path: models_tflite/ first, build/ not at all; fail if another `build` is loaded."""
    top = str(BUILD_DIR.parent)
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() not in (BUILD_DIR, BUILD_DIR.parent)]
    sys.path.insert(0, top)
    loaded = sys.modules.get("build")
    if loaded is not None and Path(getattr(loaded, "__file__", "") or "").resolve().parent != BUILD_DIR:
        raise SystemExit(f"another package named build is already imported: {loaded}")


use_this_package()

import build  # noqa: E402  (models_tflite/build, after the sys.path fix)
from build.models import all_names  # noqa: E402


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="build", description=build.__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work-dir", default=str(build.REPO.parent / "modelbuild"))
    ap.add_argument("--out-dir", default=str(build.HERE))
    ap.add_argument("--models", default=",".join(all_names()))
    ap.add_argument("--sample-clip", default=str(build.SAMPLE_CLIP), help="held-out evaluation clip (repo sample)")
    ap.add_argument("--opencv-data", default=None, help="dir with vtest.avi, messi5.jpg (Debian opencv-doc)")
    ap.add_argument("--litert-python", default=None, help="python of a venv with ai-edge-litert (numpy 2)")
    ap.add_argument("--tflrt-python", default=None, help="python of a venv with tflite-runtime 2.14 (numpy<2)")
    ap.add_argument("--reference-only", action="store_true",
                    help="rebuild no .tflite: make reference/<model>.npz from the float models and "
                         "rewrite only the [models.X.fidelity] tables, measured in the app venvs")
    ap.add_argument("--app-python", default=str(build.REPO / ".venv/bin/python"),
                    help="python of the app venv with ai-edge-litert (measures against the references)")
    ap.add_argument("--app-tflite-python", default=str(build.REPO / ".venv-tflite/bin/python"),
                    help="python of the app venv with tflite-runtime (second measurement; skipped if absent)")
    ap.add_argument("--measure-references", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--runtime", default="auto", help=argparse.SUPPRESS)
    # helper mode
    ap.add_argument("--run-tflite", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--inputs", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--outputs", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--warmup", type=int, default=5, help=argparse.SUPPRESS)
    ap.add_argument("--runs", type=int, default=50, help=argparse.SUPPRESS)
    return ap


def run_build(args: argparse.Namespace) -> None:
    """The full build, or --reference-only; in the TF venv."""
    t_start = time.time()
    work = Path(args.work_dir).resolve()
    out_dir = Path(args.out_dir).resolve()
    work.mkdir(parents=True, exist_ok=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    litert_py = args.litert_python or str(work / "venv-litert/bin/python")
    tflrt_py = args.tflrt_python or str(work / "venv-tflrt/bin/python")

    import tensorflow as tf
    from build.references import reference_only
    if args.reference_only:
        return reference_only(args, tf, args.models.split(","), work, out_dir)
    from build.pipeline import build_all
    build_all(args, tf, work, out_dir, litert_py, tflrt_py)
    build.log(f"all done in {time.time() - t_start:.0f}s; manifest {out_dir / 'manifest.toml'}")


def main() -> None:
    args = parser().parse_args()
    if args.run_tflite:
        from build.helpers import run_tflite_helper
        return run_tflite_helper(args)
    if args.measure_references:
        from build.helpers import measure_helper
        return measure_helper(args)
    run_build(args)


if __name__ == "__main__":
    main()
