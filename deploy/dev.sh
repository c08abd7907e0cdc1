#!/bin/sh
# Rehearse and test on a laptop or build machine (for a Raspberry Pi use deploy/install.sh).
#
#   sh deploy/dev.sh demo    set up .venv, play the bundled clip through the default mode:
#                            in a window when a desktop is present, else into a video file
#   sh deploy/dev.sh test    set up .venv and run the whole test suite (extra args go to pytest),
#                            then the model tests again under tflite-runtime in .venv-tflite
#   sh deploy/dev.sh bench   every performance budget in one run (`appliance bench --all`, ~10 min,
#                            in .venv-tflite to compare both runtimes), then the README's tables
#
# Needs only Python >= 3.11 (Debian: python3 and python3-venv; installed here when run as root).
set -eu
cd "$(dirname "$0")/.."
VENV=.venv

find_python() {
    for candidate in ${PYTHON:-} python3 python3.13 python3.12 python3.11; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return
        fi
    done
    echo "dev.sh: Python 3.11 or newer is needed (Debian: apt install python3)" >&2
    exit 1
}

make_venv() {  # make_venv DIR [PYTHON]
    python=${2:-$(find_python)}
    if "$python" -m venv "$1" 2>/dev/null; then
        return
    fi
    rm -rf "$1"
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "dev.sh: installing python3-venv with apt" >&2
        apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
        "$python" -m venv "$1" && return
    fi
    echo "dev.sh: cannot create a virtual environment (Debian: sudo apt install python3-venv)" >&2
    exit 1
}

needs_install() {  # needs_install STAMP: no stamp yet, or pyproject.toml changed since
    [ ! -f "$1" ] || [ -n "$(find pyproject.toml -newer "$1")" ]
}

ensure_venv() {
    [ -x "$VENV/bin/python" ] || make_venv "$VENV"
    stamp="$VENV/.installed"
    if needs_install "$stamp"; then
        echo "dev.sh: installing appliance and its dependencies into $VENV" >&2
        "$VENV/bin/python" -m pip install -q --upgrade pip
        "$VENV/bin/python" -m pip install -q -e '.[test]'
        if command -v pkg-config >/dev/null 2>&1 && pkg-config --exists libsystemd; then
            # the real sd_notify path (systemd-python builds against libsystemd-dev)
            "$VENV/bin/python" -m pip install -q -e '.[test,device]'
        fi
        touch "$stamp"
    fi
}

# tflite-runtime 2.14 is the older runtime some devices still have: wheels only up to Python 3.11,
# and numpy < 2 only. Its own venv holds it beside ai-edge-litert on numpy 1.x (what Raspberry Pi
# OS bookworm ships) and runs the model tests under both, so both runtimes are proven, and
# `appliance bench --all` there compares them on the same files in one run (`dev.sh bench`).
TFLITE_VENV=.venv-tflite
TFLITE_DEPS="numpy<2 ml-dtypes<0.6 opencv-python-headless pygame-ce gpiozero python-osc paho-mqtt aiohttp pytest tflite-runtime==2.14.0 ai-edge-litert==2.3.0"

ensure_tflite_venv() {  # fails (status 1) where there is no Python 3.11
    python311=""
    for candidate in python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
            python311=$candidate
            break
        fi
    done
    [ -n "$python311" ] || return 1
    [ -x "$TFLITE_VENV/bin/python" ] || make_venv "$TFLITE_VENV" "$python311"
    if needs_install "$TFLITE_VENV/.installed"; then
        echo "dev.sh: installing tflite-runtime into $TFLITE_VENV" >&2
        "$TFLITE_VENV/bin/python" -m pip install -q --upgrade pip
        # shellcheck disable=SC2086 # TFLITE_DEPS is a list of requirements
        "$TFLITE_VENV/bin/python" -m pip install -q $TFLITE_DEPS
        "$TFLITE_VENV/bin/python" -m pip install -q --no-deps -e .
        touch "$TFLITE_VENV/.installed"
    fi
}

test_tflite_runtime() {
    if ! ensure_tflite_venv; then
        echo "dev.sh: SKIPPED the tflite-runtime pass: it needs Python 3.11 (no tflite-runtime wheel for newer)" >&2
        return 0
    fi
    echo "dev.sh: model tests under tflite-runtime and ai-edge-litert on numpy 1.x" >&2
    "$TFLITE_VENV/bin/python" -m pytest -q tests/test_models_shipped.py tests/test_models_fidelity.py
}

run_tests() {
    ensure_venv
    status=0
    "$VENV/bin/python" -m pytest "$@" || status=$?
    test_tflite_runtime || status=$?
    return $status
}

demo() {
    ensure_venv
    if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
        echo "dev.sh: playing the sample in a window (Esc or q quits, arrow keys change mode)" >&2
        exec "$VENV/bin/appliance" run --source sample --mode kandinsky --output window --loop "$@"
    fi
    mkdir -p demo-output
    out="demo-output/appliance-demo.mp4"
    "$VENV/bin/appliance" run --source sample --mode kandinsky --output "file:$out" "$@"
    echo "dev.sh: no desktop here, so the demo was recorded to $(pwd)/$out, paced like the camera" \
         "(as it runs live on this machine: the paintings arrive at this machine's keyframe rate)"
}

bench() {  # every budget in one run (both runtimes where Python 3.11 allows), then the README tables
    ensure_venv
    python="$VENV/bin/python"
    if ensure_tflite_venv; then python="$TFLITE_VENV/bin/python"; fi
    out="tests/bench/all-$(uname -m).json"
    "$python" -m appliance bench --all --json "$out" "$@"
    "$python" -m appliance bench-table "$out" --readme README.md
}

case "${1:-}" in
    demo) shift; demo "$@" ;;
    test) shift; run_tests "$@" ;;
    bench) shift; bench "$@" ;;
    *) echo "usage: sh deploy/dev.sh demo|test|bench [args]" >&2; exit 2 ;;
esac
