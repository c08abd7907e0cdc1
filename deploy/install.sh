#!/bin/bash
# Provision a Raspberry Pi (Raspberry Pi OS Lite Bookworm or Trixie, arm64) as the gallery box.
#
#   sudo deploy/install.sh                 install or update; a second run changes nothing and says so
#   sudo deploy/install.sh --dry-run       print the plan, change nothing (needs no root)
#   sudo deploy/install.sh --coral         also the Coral USB Accelerator runtime (libedgetpu1-std)
#   sudo deploy/install.sh --uninstall     remove unit, user, /opt/appliance and state; keep
#                                          /boot/firmware/appliance.toml (--purge removes it too)
#   sudo deploy/install.sh --overlay on|off   read-only root through raspi-config (reboot to apply)
#
# Runs on a live Pi, in a chroot (deploy/checks/chroot-install.sh) and inside an image build
# (deploy/image/): without a running systemd it enables the unit offline (systemctl --root).
# Environment (for tests and image builds): APPLIANCE_PREFIX (/opt/appliance),
# APPLIANCE_BOOT (/boot/firmware), APPLIANCE_STATE (/var/lib/appliance), APPLIANCE_ROOT (/).
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROOT=${APPLIANCE_ROOT:-/}
PREFIX=${APPLIANCE_PREFIX:-/opt/appliance}
BOOT=${APPLIANCE_BOOT:-/boot/firmware}
STATE=${APPLIANCE_STATE:-/var/lib/appliance}
UNIT_DIR=${ROOT%/}/etc/systemd/system
UNIT=appliance.service
USER_NAME=appliance
GROUPS_NEEDED=(video render gpio input)
# From the Debian archive (Raspberry Pi OS has them too).
APT_DEBIAN=(python3 python3-venv python3-pip python3-numpy python3-systemd ca-certificates)
# From Raspberry Pi's archive (Debian trixie has python3-libcamera only): detected, not assumed.
APT_RPI=(python3-picamera2 python3-libcamera python3-lgpio rpicam-apps-lite raspi-config raspi-utils)
CORAL_PKG=libedgetpu1-std
# The interpreter apt's python3-picamera2 and python3-numpy belong to.
PY=${APPLIANCE_PYTHON:-/usr/bin/python3}
SOURCE_PARTS=(pyproject.toml README.md LICENSE appliance models_tflite systemd)

DRY_RUN=0
CHANGES=0
MISSING_RPI=()

say() { printf '%s\n' "$*"; }
warn() { printf 'install.sh: %s\n' "$*" >&2; }
die() { warn "$*"; exit 1; }

# run CMD...: do it (and count a change), or with --dry-run print it.
run() {
    CHANGES=$((CHANGES + 1))
    if [ "$DRY_RUN" = 1 ]; then
        say "  would run: $*"
    else
        say "  run: $*"
        "$@"
    fi
}

# A live systemd we may talk to: not in a chroot (an image build may see the host's /run).
systemd_running() {
    [ -d /run/systemd/system ] && [ "$ROOT" = / ] && ! systemd-detect-virt --chroot --quiet 2>/dev/null
}

usage() {
    sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit "${1:-0}"
}

# --- checks -----------------------------------------------------------------------------------

check_platform() {
    local codename arch
    codename=$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release 2>/dev/null)
    arch=$(dpkg --print-architecture 2>/dev/null || uname -m)
    say "platform: ${codename:-unknown} ${arch}, $("$PY" --version 2>/dev/null || echo "no $PY yet")"
    case "$codename" in
        bookworm|trixie) ;;
        *) warn "untested release '$codename' (made for Raspberry Pi OS bookworm and trixie)" ;;
    esac
    [ "$arch" = arm64 ] || warn "architecture $arch: a Raspberry Pi runs arm64; continuing (a test root?)"
    if [ ! -f /proc/device-tree/model ] || ! grep -qa 'Raspberry Pi' /proc/device-tree/model; then
        say "platform: not running on a Raspberry Pi (a chroot, image build or test machine)"
    fi
}

pkg_installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }

# available PKG...: print those any configured archive offers (one apt-cache call: it is slow).
available() {
    apt-cache policy "$@" 2>/dev/null | awk '
        /^[^ ].*:$/ { pkg = substr($0, 1, length($0) - 1) }
        /^ +Candidate:/ { if ($2 != "(none)") print pkg }'
}

# --- steps ------------------------------------------------------------------------------------

step_apt() {
    local missing=() absent=() offered pkg
    for pkg in "${APT_DEBIAN[@]}" "${APT_RPI[@]}"; do pkg_installed "$pkg" || absent+=("$pkg"); done
    if [ "${#absent[@]}" = 0 ]; then
        say "apt: ok, every package is installed"
        return
    fi
    refresh_apt_lists
    offered=" $(available "${absent[@]}" | tr '\n' ' ') "
    for pkg in "${absent[@]}"; do
        case " ${APT_DEBIAN[*]} $offered " in
            *" $pkg "*) missing+=("$pkg") ;;
            *) MISSING_RPI+=("$pkg") ;;
        esac
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        say "apt: installing ${missing[*]}"
        # --no-install-recommends: python3-picamera2 otherwise pulls in the Qt/desktop preview stack
        run env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
    fi
    report_missing_rpi
}

# Images ship with empty or old package lists: refresh them (not counted as a change) unless
# they are less than a day old, before asking which packages exist.
refresh_apt_lists() {
    if find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -1440 2>/dev/null | grep -q .; then
        return
    fi
    if [ "$DRY_RUN" = 1 ]; then
        say "  would run: apt-get update (package lists older than a day; the plan below uses them as they are)"
    else
        say "  run: apt-get update -q"
        apt-get update -q
    fi
}

report_missing_rpi() {
    [ "${#MISSING_RPI[@]}" = 0 ] && return 0
    # A package missing only because apt-get update never ran shows up here on the dry run.
    warn "NOT AVAILABLE from the configured apt archives: ${MISSING_RPI[*]}"
    warn "  these come from Raspberry Pi's archive (Raspberry Pi OS has it configured); without them:"
    warn "  no Pi camera (source falls back to the sample clip), gpiozero without lgpio, no raspi-config"
}

step_groups_and_user() {
    local group have
    for group in "${GROUPS_NEEDED[@]}"; do
        if getent group "$group" >/dev/null; then continue; fi
        say "groups: '$group' is missing here; creating it as a system group"
        run groupadd --system "$group"
    done
    if ! id "$USER_NAME" >/dev/null 2>&1; then
        say "user: creating system user $USER_NAME (groups ${GROUPS_NEEDED[*]})"
        run useradd --system --user-group --home-dir "$STATE" --no-create-home \
            --shell /usr/sbin/nologin --comment "appliance gallery artwork" \
            --groups "$(IFS=,; echo "${GROUPS_NEEDED[*]}")" "$USER_NAME"
        return
    fi
    for group in "${GROUPS_NEEDED[@]}"; do
        have=$(id -nG "$USER_NAME")
        case " $have " in *" $group "*) continue ;; esac
        run usermod --append --groups "$group" "$USER_NAME"
    done
    say "user: ok, $USER_NAME exists in groups $(id -nG "$USER_NAME")"
}

# A digest of the source tree that goes to $PREFIX: unchanged digest, nothing to copy or reinstall.
source_digest() {
    (cd "$SRC" && find "${SOURCE_PARTS[@]}" -type f ! -path '*/__pycache__/*' ! -name '*.pyc' -print0 |
        LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
}

step_copy_app() {
    local digest part
    digest=$(source_digest)
    if [ -f "$PREFIX/.source-sha256" ] && [ "$(cat "$PREFIX/.source-sha256")" = "$digest" ]; then
        say "app: ok, $PREFIX holds this source tree (${digest:0:12})"
        return
    fi
    say "app: copying ${SOURCE_PARTS[*]} to $PREFIX"
    run install -d -m 0755 "$PREFIX"
    for part in "${SOURCE_PARTS[@]}"; do
        run rm -rf "${PREFIX:?}/$part"
        run cp -R --no-preserve=ownership "$SRC/$part" "$PREFIX/$part"
    done
    run find "$PREFIX" -path "$PREFIX/venv" -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
    run chmod -R u=rwX,go=rX "${SOURCE_PARTS[@]/#/$PREFIX/}"
    run sh -c "echo $digest > '$PREFIX/.source-sha256'"
}

# numpy stays the system one (picamera2 from apt is built against it): pin its major version.
numpy_constraint() {
    local major
    major=$("$PY" -c 'import numpy; print(numpy.__version__.split(".")[0])' 2>/dev/null) || {
        echo "numpy>=1.24"; return; }
    echo "numpy>=${major}.0,<$((major + 1))"
}

step_venv() {
    local venv=$PREFIX/venv stamp=$PREFIX/venv/.installed want constraint
    want="$(cat "$PREFIX/.source-sha256" 2>/dev/null || source_digest) $(numpy_constraint)"
    if [ ! -x "$venv/bin/python" ]; then
        say "venv: creating $venv with --system-site-packages (picamera2, libcamera, lgpio come from apt)"
        run "$PY" -m venv --system-site-packages "$venv"
    fi
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        say "venv: ok, appliance installed ($(numpy_constraint), system numpy)"
        return
    fi
    constraint=$(numpy_constraint)
    say "venv: pip install --editable $PREFIX (no extras) with constraint $constraint"
    run sh -c "echo '$constraint' > '$PREFIX/constraints.txt'"
    # Editable: the package stays at $PREFIX/appliance, so the app finds $PREFIX/models_tflite
    # beside it (appliance/inference/manifest.py) and `appliance doctor` shows the install's files.
    run "$venv/bin/python" -m pip install --quiet --no-cache-dir --disable-pip-version-check \
        --constraint "$PREFIX/constraints.txt" --editable "$PREFIX"
    # The unit's ProtectSystem=strict keeps the service from writing .pyc files: compile them now.
    run "$venv/bin/python" -m compileall -q "$PREFIX/appliance"
    run sh -c "echo '$want' > '$stamp'"
}

step_state_dir() {
    if [ -d "$STATE" ] && [ "$(stat -c %U "$STATE")" = "$USER_NAME" ]; then
        say "state: ok, $STATE"
        return
    fi
    say "state: $STATE for last-good config and taught poses (systemd StateDirectory= too)"
    run install -d -o "$USER_NAME" -g "$USER_NAME" -m 0750 "$STATE"
}

step_unit() {
    local wants=$UNIT_DIR/multi-user.target.wants/$UNIT
    if cmp -s "$SRC/systemd/$UNIT" "$UNIT_DIR/$UNIT"; then
        say "unit: ok, $UNIT_DIR/$UNIT is current"
    else
        say "unit: installing $UNIT_DIR/$UNIT"
        run install -D -m 0644 "$SRC/systemd/$UNIT" "$UNIT_DIR/$UNIT"
        systemd_running && run systemctl daemon-reload
    fi
    if [ -L "$wants" ]; then
        say "unit: ok, $UNIT enabled"
    elif systemd_running; then
        run systemctl enable "$UNIT"
    else
        say "unit: systemd is not running here (chroot or image build): enabling offline"
        run systemctl --root="$ROOT" enable "$UNIT"
    fi
}

step_boot() {
    local out dry=()
    [ "$DRY_RUN" = 1 ] && dry=(--dry-run)
    if [ ! -d "$BOOT" ]; then
        warn "boot: $BOOT not found (Raspberry Pi OS before Bookworm used /boot): config and cmdline skipped"
        return
    fi
    for out in "$("$PY" "$SRC/deploy/bootcfg.py" config "$SRC/appliance/data/appliance.example.toml" \
                    "$BOOT/appliance.toml" "${dry[@]}")" \
               "$("$PY" "$SRC/deploy/bootcfg.py" cmdline "$BOOT/cmdline.txt" "${dry[@]}")"; do
        say "boot: $out"
        case "$out" in changed:*|would*) CHANGES=$((CHANGES + 1)) ;; esac
    done
}

step_coral() {
    # Coral's own apt repository; its address is not kept in this repository: set
    # CORAL_APT_LINE ("deb [signed-by=/usr/share/keyrings/coral-edgetpu.gpg] URL coral-edgetpu-stable main")
    # and CORAL_KEY_URL from Coral's "Get started with the USB Accelerator" guide.
    local list=/etc/apt/sources.list.d/coral-edgetpu.list key=/usr/share/keyrings/coral-edgetpu.gpg tool
    step_coral_unit
    if pkg_installed "$CORAL_PKG"; then
        say "coral: ok, $CORAL_PKG installed"
        return
    fi
    if [ -z "${CORAL_APT_LINE:-}" ] || [ -z "${CORAL_KEY_URL:-}" ]; then
        die "coral: set CORAL_APT_LINE and CORAL_KEY_URL (see deploy/README.md, 'Coral USB Accelerator')"
    fi
    say "coral: adding Coral's apt repository and installing $CORAL_PKG"
    for tool in curl gpg; do
        pkg_installed "$tool" || run env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$tool"
    done
    if [ ! -f "$key" ]; then
        run sh -c "curl -fsSL '$CORAL_KEY_URL' | gpg --dearmor > '$key'"
    fi
    if [ "$(cat "$list" 2>/dev/null)" != "$CORAL_APT_LINE" ]; then
        run sh -c "printf '%s\n' '$CORAL_APT_LINE' > '$list'"
    fi
    run apt-get update -q
    run env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$CORAL_PKG"
    say "coral: replug the Accelerator so the udev rule gives plugdev access"
}

# The unit allows no USB devices (DevicePolicy=closed): a drop-in lets the service reach the
# Accelerator (/dev/bus/usb, group plugdev from libedgetpu's udev rule).
step_coral_unit() {
    local dropin=$UNIT_DIR/$UNIT.d/coral.conf want
    want=$'# written by deploy/install.sh --coral: the Coral USB Accelerator\n[Service]\nSupplementaryGroups=plugdev\nDeviceAllow=char-usb_device rw\n'
    if [ "$(cat "$dropin" 2>/dev/null; echo x)" = "${want}x" ]; then
        say "coral: ok, $dropin"
        return
    fi
    say "coral: unit drop-in $dropin (USB device access, group plugdev)"
    run install -d -m 0755 "$UNIT_DIR/$UNIT.d"
    run sh -c "printf '%s' '$want' > '$dropin'"
    if systemd_running; then run systemctl daemon-reload; fi
}

# --- other actions ----------------------------------------------------------------------------

do_overlay() {
    local value
    case "$1" in
        on) value=0 ;;   # raspi-config nonint: 0 means "enable"
        off) value=1 ;;
        *) die "--overlay takes on or off" ;;
    esac
    command -v raspi-config >/dev/null ||
        die "overlay: raspi-config not found (Raspberry Pi OS only; apt install raspi-config from Raspberry Pi's archive)"
    say "overlay: read-only root $1 (state in $STATE lives in RAM while on; see deploy/README.md)"
    run raspi-config nonint do_overlayfs "$value"
    say "overlay: reboot to apply"
}

do_uninstall() {
    local purge=$1
    if systemd_running && systemctl is-enabled --quiet "$UNIT" 2>/dev/null; then
        run systemctl disable --now "$UNIT"
    elif [ -L "$UNIT_DIR/multi-user.target.wants/$UNIT" ]; then
        run systemctl --root="$ROOT" disable "$UNIT"
    fi
    if [ -d "$UNIT_DIR/$UNIT.d" ]; then run rm -rf "$UNIT_DIR/$UNIT.d"; fi
    if [ -e "$UNIT_DIR/$UNIT" ]; then
        run rm -f "$UNIT_DIR/$UNIT"
        if systemd_running; then run systemctl daemon-reload; fi
    fi
    if [ -d "$PREFIX" ]; then run rm -rf "$PREFIX"; fi
    if [ -d "$STATE" ]; then run rm -rf "$STATE"; fi
    if id "$USER_NAME" >/dev/null 2>&1; then run userdel "$USER_NAME"; fi
    if getent group "$USER_NAME" >/dev/null; then run groupdel "$USER_NAME"; fi
    if [ "$purge" = 1 ]; then
        if [ -f "$BOOT/appliance.toml" ]; then run rm -f "$BOOT/appliance.toml"; fi
        local dry=()
        [ "$DRY_RUN" = 1 ] && dry=(--dry-run)
        if [ -f "$BOOT/cmdline.txt" ]; then
            say "boot: $("$PY" "$SRC/deploy/bootcfg.py" cmdline "$BOOT/cmdline.txt" --remove "${dry[@]}")"
        fi
    elif [ -f "$BOOT/appliance.toml" ]; then
        say "kept: $BOOT/appliance.toml (the gallery's config; --uninstall --purge removes it)"
    fi
    say "kept: apt packages, the groups ${GROUPS_NEEDED[*]} and the screen settings in cmdline.txt"
}

finish() {  # finish ACTION
    if [ "$DRY_RUN" = 1 ]; then
        say "dry run: $CHANGES action(s) planned, nothing changed"
    elif [ "$CHANGES" = 0 ]; then
        say "done: nothing to change, already $([ "$1" = uninstall ] && echo removed || echo 'installed and up to date')"
    elif [ "$1" != install ]; then
        say "done: $CHANGES action(s)"
    else
        say "done: $CHANGES action(s); reboot (or: systemctl restart $UNIT) to start the artwork"
    fi
}

main() {
    local action=install coral=0 purge=0 overlay=""
    while [ $# -gt 0 ]; do
        case "$1" in
            --dry-run) DRY_RUN=1 ;;
            --coral) coral=1 ;;
            --uninstall) action=uninstall ;;
            --purge) purge=1; action=uninstall ;;
            --overlay) action=overlay; overlay=${2:-}; shift ;;
            -h|--help) usage 0 ;;
            *) warn "unknown option $1"; usage 2 ;;
        esac
        shift
    done
    if [ "$DRY_RUN" = 0 ] && [ "$(id -u)" != 0 ]; then
        die "run as root (sudo), or with --dry-run to see the plan"
    fi
    case "$action" in
        overlay) do_overlay "$overlay" ;;
        uninstall) do_uninstall "$purge" ;;
        install)
            check_platform
            step_apt
            step_groups_and_user
            step_copy_app
            step_venv
            step_state_dir
            step_unit
            step_boot
            if [ "$coral" = 1 ]; then step_coral; fi
            ;;
    esac
    finish "$action"
}

main "$@"
