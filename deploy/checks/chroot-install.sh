#!/bin/bash
# Run deploy/install.sh for real in a fresh Debian root made with debootstrap, never on this host:
# install, install again (must change nothing), a config edit survives, --uninstall (no unit, user
# or venv left, appliance.toml kept), --purge (appliance.toml gone, cmdline.txt restored).
#
#   sudo deploy/checks/chroot-install.sh [amd64|arm64] [bookworm|trixie]
#
# Needs root, debootstrap, and for arm64 qemu-user-static with binfmt_misc registered
# (apt install debootstrap qemu-user-static binfmt-support). The Debian mirror comes from $MIRROR or
# this host's apt sources. Roots live in $WORKDIR (default /work/deploy-test, outside the repo):
# base-ARCH-SUITE is debootstrapped once and reused; each run copies it to a fresh root-ARCH-SUITE.
# Timings here (2 cores): debootstrap amd64 ~25-60 s, arm64 ~2-3 min (once); a run amd64 ~35 s,
# arm64 under qemu 2.5-4 min bookworm, ~10 min trixie (apt and pip run emulated).
set -euo pipefail

ARCH=${1:-amd64}
SUITE=${2:-bookworm}
WORKDIR=${WORKDIR:-/work/deploy-test}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BASE=$WORKDIR/base-$ARCH-$SUITE
ROOTFS=$WORKDIR/root-$ARCH-$SUITE
LOG=$WORKDIR/chroot-install-$ARCH-$SUITE.log
CMDLINE='console=serial0,115200 console=tty1 root=PARTUUID=0a1b2c3d-02 rootfstype=ext4 fsck.repair=yes rootwait'
FAILED=0
T0=$(date +%s)

# shellcheck source=SCRIPTDIR/common.sh
source "$REPO/deploy/checks/common.sh"
in_root() { chroot "$ROOTFS" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }

unmount_all() {
    local m
    for m in dev/pts dev proc sys; do
        mountpoint -q "$ROOTFS/$m" && umount -l "$ROOTFS/$m"
    done
    return 0
}

prepare_root() {
    unmount_all
    rm -rf "$ROOTFS"
    cp -a "$BASE" "$ROOTFS"
    mount -t proc proc "$ROOTFS/proc"
    # Under qemu-user no /sys: with the host's x86 CPU list there, LiteRT's cpuinfo picks arm64
    # kernels that qemu mis-emulates (segfault); without it LiteRT falls back to generic ones.
    if [ "$ARCH" = "$(dpkg --print-architecture)" ]; then
        mount -t sysfs sysfs "$ROOTFS/sys"
    fi
    mount --bind /dev "$ROOTFS/dev"
    mount --bind /dev/pts "$ROOTFS/dev/pts"
    cp /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
    # this host's trust store and pip settings (a TLS-inspecting proxy needs its CA inside too)
    cp /etc/ssl/certs/ca-certificates.crt "$ROOTFS/etc/ssl/certs/ca-certificates.crt"
    if [ -f /etc/pip.conf ]; then cp /etc/pip.conf "$ROOTFS/etc/pip.conf"; fi
    # what a Raspberry Pi OS boot partition holds, as far as install.sh cares
    mkdir -p "$ROOTFS/boot/firmware" "$ROOTFS/src"
    printf '%s\n' "$CMDLINE" >"$ROOTFS/boot/firmware/cmdline.txt"
    tar -C "$REPO" --exclude=.git --exclude='.venv*' --exclude='*.egg-info' --exclude=__pycache__ \
        --exclude=.pytest_cache --exclude=demo-output -cf - . | tar -C "$ROOTFS/src" -xf -
}

# A listing of everything install.sh touches, with content digests and mtimes.
snapshot() {
    (cd "$ROOTFS" && find etc/systemd opt/appliance var/lib/appliance boot/firmware etc/passwd etc/group \
        -printf '%p %m %u %T@\n' 2>/dev/null | LC_ALL=C sort)
}

run_install() {  # run_install NAME ARGS...: time one run, keep its output
    local name=$1 start rc=0; shift
    start=$(date +%s)
    in_root bash /src/deploy/install.sh "$@" >"$WORKDIR/out-$ARCH-$SUITE-$name.txt" 2>&1 || rc=$?
    if [ "$rc" = 0 ]; then
        say "$name: exit 0 in $(($(date +%s) - start)) s (install.sh $*)"
    else
        fail "$name: exit $rc in $(($(date +%s) - start)) s (install.sh $*)"
    fi
    sed 's/^/    | /' "$WORKDIR/out-$ARCH-$SUITE-$name.txt" >>"$LOG"
}

check_installed() {
    check "unit installed" test -f "$ROOTFS/etc/systemd/system/appliance.service"
    check "unit enabled (multi-user.target.wants)" \
        test -L "$ROOTFS/etc/systemd/system/multi-user.target.wants/appliance.service"
    check "user appliance in video render gpio input" \
        sh -c "in=\$(chroot '$ROOTFS' id -nG appliance); for g in video render gpio input; do
               case \" \$in \" in *\" \$g \"*) ;; *) exit 1 ;; esac; done"
    check "venv has --system-site-packages" \
        grep -q 'include-system-site-packages = true' "$ROOTFS/opt/appliance/venv/pyvenv.cfg"
    check "models_tflite copied" test -f "$ROOTFS/opt/appliance/models_tflite/manifest.toml"
    check "numpy in the venv is the system one" \
        in_root /opt/appliance/venv/bin/python -c \
        'import numpy, sys; print(numpy.__version__, numpy.__file__); sys.exit(not numpy.__file__.startswith("/usr/lib/python3/"))'
    check "no test extras (pytest) in the venv" \
        sh -c "! chroot '$ROOTFS' /opt/appliance/venv/bin/python -c 'import pytest' 2>/dev/null"
    check "appliance imports and its config check passes on the boot config" \
        in_root /opt/appliance/venv/bin/appliance config check /boot/firmware/appliance.toml
    check "runtime wheels import (cv2, pygame, ai_edge_litert, gpiozero, pythonosc)" \
        in_root /opt/appliance/venv/bin/python -c \
        'import cv2, pygame, ai_edge_litert.interpreter, gpiozero, pythonosc; print(cv2.__version__, pygame.version.ver)'
    check_models
    check "appliance runs 30 synthetic frames to the null output" \
        in_root /opt/appliance/venv/bin/appliance run --source synthetic --output null --frames 30
    check "boot config says output hdmi" grep -q '^spec = "hdmi"' "$ROOTFS/boot/firmware/appliance.toml"
    check "cmdline.txt: one line, screen params added once" sh -c "
        f='$ROOTFS/boot/firmware/cmdline.txt'; [ \$(wc -l <\"\$f\") = 1 ] &&
        [ \$(grep -o consoleblank=0 \"\$f\" | wc -l) = 1 ] && grep -q 'video=HDMI-A-1:1920x1080@60D' \"\$f\" &&
        grep -q 'vt.global_cursor_default=0' \"\$f\" && grep -q rootwait \"\$f\""
}

# The models through the real runtime. Under qemu-user (a foreign ARCH) a crash by signal is
# reported as a warning: the emulator, not the device, is then what is being tested.
check_models() {
    local what="appliance models verify (sha256 and tensor shapes under ai-edge-litert)" rc=0
    in_root /opt/appliance/venv/bin/appliance models verify >>"$LOG" 2>&1 || rc=$?
    if [ "$rc" = 0 ]; then
        pass "$what"
    elif [ "$rc" -ge 128 ] && [ "$ARCH" != "$(dpkg --print-architecture)" ]; then
        say "WARN: $what: killed by signal $((rc - 128)) under qemu-user emulation; verify on a Pi"
    else
        fail "$what (exit $rc)"
    fi
}

main() {
    mkdir -p "$WORKDIR"
    : >"$LOG"
    say "chroot-install: $ARCH $SUITE, repo $REPO"
    trap unmount_all EXIT
    make_base
    prepare_root
    say "root: fresh copy in $ROOTFS"

    run_install first
    check_installed
    printf '\n# edited by the gallery\n' >>"$ROOTFS/boot/firmware/appliance.toml"
    local before after
    before=$(snapshot)
    run_install second
    after=$(snapshot)
    check "second run says nothing to change" grep -q 'nothing to change' "$WORKDIR/out-$ARCH-$SUITE-second.txt"
    check "second run changed no file (paths, modes, owners, mtimes)" test "$before" = "$after"
    check "edited boot config kept" grep -q 'edited by the gallery' "$ROOTFS/boot/firmware/appliance.toml"
    run_install dry-run --dry-run
    check "dry run on an installed root plans nothing" grep -q '0 action(s) planned' "$WORKDIR/out-$ARCH-$SUITE-dry-run.txt"

    run_install uninstall --uninstall
    check "no unit left" test ! -e "$ROOTFS/etc/systemd/system/appliance.service"
    check "no enablement symlink left" \
        test ! -e "$ROOTFS/etc/systemd/system/multi-user.target.wants/appliance.service"
    check "no user left" sh -c "! chroot '$ROOTFS' id appliance"
    check "no /opt/appliance (venv) left" test ! -e "$ROOTFS/opt/appliance"
    check "no state dir left" test ! -e "$ROOTFS/var/lib/appliance"
    check "boot config kept by --uninstall" test -f "$ROOTFS/boot/firmware/appliance.toml"
    run_install purge --uninstall --purge
    check "--purge removes the boot config" test ! -e "$ROOTFS/boot/firmware/appliance.toml"
    check "--purge restores cmdline.txt" test "$(cat "$ROOTFS/boot/firmware/cmdline.txt")" = "$CMDLINE"

    if [ "$FAILED" = 0 ]; then say "chroot-install: ALL PASSED ($ARCH $SUITE)"; else say "chroot-install: FAILED"; fi
    say "log: $LOG"
    return "$FAILED"
}

main
