#!/bin/bash
# Bake the gallery install into a flashable Raspberry Pi OS Lite (arm64) image with pi-gen.
#
#   sudo FIRST_USER_PASS='...' deploy/image/build.sh PI_GEN_DIR [--coral]
#
# PI_GEN_DIR is a clone of Raspberry Pi's pi-gen on its 64-bit branch for the release you want
# (see deploy/README.md, "Build the image"). This writes PI_GEN_DIR/config-appliance and runs
# pi-gen's stages 0-2 (Lite) and then deploy/image/stage-appliance, which runs deploy/install.sh
# in the image's chroot. The image lands in PI_GEN_DIR/deploy/ as *-appliance.img.xz (or .zip).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
PIGEN=${1:?usage: deploy/image/build.sh PI_GEN_DIR [--coral]}
shift
INSTALL_ARGS=""
for arg in "$@"; do
    case "$arg" in
        --coral) INSTALL_ARGS="--coral" ;;
        *) echo "build.sh: unknown option $arg" >&2; exit 2 ;;
    esac
done

[ -x "$PIGEN/build.sh" ] || { echo "build.sh: $PIGEN is not a pi-gen checkout" >&2; exit 2; }
[ -n "${FIRST_USER_PASS:-}" ] || {
    echo "build.sh: set FIRST_USER_PASS (the technician's login; no default password ships)" >&2
    exit 2
}

write_config() {
    cat >"$PIGEN/config-appliance" <<CONFIG
IMG_NAME=appliance
RELEASE=${RELEASE:-bookworm}
TARGET_HOSTNAME=${TARGET_HOSTNAME:-appliance}
FIRST_USER_NAME=${FIRST_USER_NAME:-gallery}
FIRST_USER_PASS='${FIRST_USER_PASS}'
DISABLE_FIRST_BOOT_USER_RENAME=1
ENABLE_SSH=${ENABLE_SSH:-0}
LOCALE_DEFAULT=${LOCALE_DEFAULT:-en_GB.UTF-8}
TIMEZONE_DEFAULT=${TIMEZONE_DEFAULT:-Europe/London}
DEPLOY_COMPRESSION=xz
STAGE_LIST="stage0 stage1 stage2 $HERE/stage-appliance"
export APPLIANCE_SRC='$REPO'
export APPLIANCE_INSTALL_ARGS='$INSTALL_ARGS'
CONFIG
    if [ -n "$INSTALL_ARGS" ]; then
        printf "export CORAL_APT_LINE='%s'\nexport CORAL_KEY_URL='%s'\n" \
            "${CORAL_APT_LINE:?--coral needs CORAL_APT_LINE}" "${CORAL_KEY_URL:?--coral needs CORAL_KEY_URL}" \
            >>"$PIGEN/config-appliance"
    fi
}

write_config
echo "build.sh: pi-gen config written to $PIGEN/config-appliance (stages 0-2 + appliance)"
cd "$PIGEN"
exec ./build.sh -c config-appliance
