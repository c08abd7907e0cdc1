#!/bin/bash -e
# pi-gen: bake the gallery install into the image with the same deploy/install.sh a technician
# runs on a live Pi. Inside pi-gen's chroot no systemd runs, so install.sh enables the unit
# offline (systemctl --root), exactly as deploy/checks/chroot-install.sh exercises it.
# APPLIANCE_SRC (the checkout to bake) and APPLIANCE_INSTALL_ARGS come from the pi-gen config
# that deploy/image/build.sh writes.
: "${APPLIANCE_SRC:?set by deploy/image/build.sh}"
rm -rf "${ROOTFS_DIR}/tmp/appliance-src"
mkdir -p "${ROOTFS_DIR}/tmp/appliance-src"
tar -C "${APPLIANCE_SRC}" --exclude=.git --exclude='.venv*' --exclude='*.egg-info' \
    --exclude=__pycache__ --exclude=.pytest_cache --exclude=demo-output -cf - . |
    tar -C "${ROOTFS_DIR}/tmp/appliance-src" -xf -
# on_chroot: pi-gen's own (exported by its build.sh), runs stdin inside ROOTFS_DIR
on_chroot <<CHROOT
bash /tmp/appliance-src/deploy/install.sh ${APPLIANCE_INSTALL_ARGS:-}
bash /tmp/appliance-src/deploy/install.sh ${APPLIANCE_INSTALL_ARGS:-} | tail -n 1
rm -rf /tmp/appliance-src
CHROOT
