#!/bin/sh
# Rehearse and test on a laptop or build machine (for a Raspberry Pi use deploy/install.sh).
#
#   sh deploy/dev.sh demo    set up .venv, play the bundled clip through the default mode:
#                            in a window when a desktop is present, else into a video file
#   sh deploy/dev.sh test    set up .venv and run the whole test suite (extra args go to pytest)
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

make_venv() {
    python=$(find_python)
    if "$python" -m venv "$VENV" 2>/dev/null; then
        return
    fi
    rm -rf "$VENV"
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "dev.sh: installing python3-venv with apt" >&2
        apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
        "$python" -m venv "$VENV" && return
    fi
    echo "dev.sh: cannot create a virtual environment (Debian: sudo apt install python3-venv)" >&2
    exit 1
}

ensure_venv() {
    [ -x "$VENV/bin/python" ] || make_venv
    stamp="$VENV/.installed"
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        echo "dev.sh: installing appliance and its dependencies into $VENV" >&2
        "$VENV/bin/python" -m pip install -q --upgrade pip
        "$VENV/bin/python" -m pip install -q -e '.[test]'
        touch "$stamp"
    fi
}

demo() {
    ensure_venv
    if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
        echo "dev.sh: playing the sample in a window (Esc or q quits, arrow keys change mode)" >&2
        exec "$VENV/bin/appliance" run --source sample --output window --loop "$@"
    fi
    mkdir -p demo-output
    out="demo-output/appliance-demo.mp4"
    "$VENV/bin/appliance" run --source sample --output "file:$out" "$@"
    echo "dev.sh: no desktop here, so the demo was recorded to $(pwd)/$out"
}

case "${1:-}" in
    demo) shift; demo "$@" ;;
    test) shift; ensure_venv; exec "$VENV/bin/python" -m pytest "$@" ;;
    *) echo "usage: sh deploy/dev.sh demo|test [args]" >&2; exit 2 ;;
esac
