#!/bin/bash
# What deploy/checks/chroot-install.sh and ansible-chroot.sh share: the log helpers and the
# debootstrapped Debian base they copy their roots from. Sourced after LOG, T0, BASE, ARCH and
# SUITE are set; FAILED is set to 1 by a failed check.

say() { printf '[%4ss] %s\n' "$(($(date +%s) - T0))" "$*" | tee -a "$LOG"; }
pass() { say "PASS: $*"; }
# shellcheck disable=SC2034 # FAILED is read by the script that sources this
fail() { say "FAIL: $*"; FAILED=1; }
check() {  # check DESCRIPTION CMD...: pass when CMD succeeds
    local what=$1; shift
    if "$@" >>"$LOG" 2>&1; then pass "$what"; else fail "$what"; fi
}

host_mirror() {
    sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n1 |
        cut -d' ' -f1
    grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null | grep -v security | head -n1 | awk '{print $2}'
}

make_base() {  # debootstrap SUITE for ARCH into BASE once; later runs reuse it
    [ -x "$BASE/usr/bin/apt-get" ] && { say "base: reusing $BASE"; return; }
    local mirror=${MIRROR:-$(host_mirror | head -n1)}
    [ -n "$mirror" ] || { echo "set MIRROR to a Debian mirror URL" >&2; exit 2; }
    say "base: debootstrap $SUITE $ARCH into $BASE"
    rm -rf "$BASE"
    debootstrap --arch="$ARCH" --variant=minbase --include=systemd,systemd-sysv,ca-certificates \
        "$SUITE" "$BASE" "$mirror" >>"$LOG" 2>&1
    say "base: done"
}
