#!/bin/bash
# Run the show playbook (deploy/ansible/show.yml) for real against two fresh Debian roots made
# with debootstrap, through Ansible's chroot connection, never on this host:
#   1. first run: both boxes installed (deploy/install.sh) and configured, each with its own config;
#   2. second run: nothing changes (PLAY RECAP changed=0, no file touched, no restart);
#   3. one box's config changed: only that box changes and is "restarted";
#   4. one box at an older version: only that box is updated (install.sh) and "restarted";
#   5. one box's inventory config broken: that box fails at `appliance config check`, its
#      appliance.toml stays byte for byte; the other box runs on and changes nothing;
#   6. the same with an older version on that box: the version goes in, the box is restarted
#      (force_handlers) with its old config.
#
#   sudo deploy/checks/ansible-chroot.sh [amd64|arm64] [bookworm|trixie]
#
# Needs root, debootstrap, git, python3-venv (and for arm64 qemu-user-static). Ansible comes from
# PyPI into $ANSIBLE_VENV (default /var/tmp/ansible-venv, outside the repo), pinned below: the
# `ansible` package, because its community.general collection has the chroot connection (and
# Galaxy may be out of reach). Roots live in $WORKDIR (default /work/deploy-test), beside
# deploy/checks/chroot-install.sh's, whose debootstrapped base-ARCH-SUITE (same debootstrap call)
# is reused. The mirror is $MIRROR or this host's apt source. The committed HEAD is deployed.
# In a chroot no systemd runs: the playbook reports its restarts as skipped, and says so.
set -euo pipefail

ARCH=${1:-amd64}
SUITE=${2:-bookworm}
ANSIBLE_PIN=ansible==12.3.0   # ansible-core 2.19 (controller Python 3.11+)
WORKDIR=${WORKDIR:-/work/deploy-test}
ANSIBLE_VENV=${ANSIBLE_VENV:-/var/tmp/ansible-venv}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PLAYBOOK_DIR=$REPO/deploy/ansible
BASE=$WORKDIR/base-$ARCH-$SUITE
BOXES=(box1 box2)
LOG=$WORKDIR/ansible-chroot-$ARCH-$SUITE.log
INVENTORY=$WORKDIR/ansible-inventory-$ARCH-$SUITE.yml
CMDLINE='console=serial0,115200 console=tty1 root=PARTUUID=0a1b2c3d-02 rootfstype=ext4 fsck.repair=yes rootwait'
FAILED=0
T0=$(date +%s)

# shellcheck source=SCRIPTDIR/common.sh
source "$REPO/deploy/checks/common.sh"
root_of() { echo "$WORKDIR/ansible-$1-$ARCH-$SUITE"; }
in_box() { local root; root=$(root_of "$1"); shift
    chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }

unmount_box() {
    local m root
    root=$(root_of "$1")
    for m in dev/pts dev sys proc; do
        if mountpoint -q "$root/$m"; then umount -l "$root/$m"; fi
    done
    return 0
}

unmount_all() {
    local box
    for box in "${BOXES[@]}"; do unmount_box "$box"; done
}

# A fresh copy of the base per box: /proc, /sys and /dev as install.sh and pip need them, this
# host's DNS, trust store and pip settings, and what a Raspberry Pi OS boot partition holds.
prepare_box() {
    local root
    root=$(root_of "$1")
    unmount_box "$1"
    rm -rf "$root"
    cp -a "$BASE" "$root"
    mount -t proc proc "$root/proc"
    if [ "$ARCH" = "$(dpkg --print-architecture)" ]; then
        mount -t sysfs sysfs "$root/sys"   # not under qemu-user: see chroot-install.sh
    fi
    mount --bind /dev "$root/dev"
    mount --bind /dev/pts "$root/dev/pts"
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
    if [ -f /etc/pip.conf ]; then cp /etc/pip.conf "$root/etc/pip.conf"; fi
    mkdir -p "$root/boot/firmware"
    printf '%s\n' "$CMDLINE" >"$root/boot/firmware/cmdline.txt"
}

# --- Ansible ------------------------------------------------------------------------------------

ensure_ansible() {
    local want=${ANSIBLE_PIN#*==} have
    have=$("$ANSIBLE_VENV/bin/python" -m pip show ansible 2>/dev/null | sed -n 's/^Version: //p') || true
    if [ "$have" = "$want" ]; then
        say "ansible: reusing $ANSIBLE_VENV ($ANSIBLE_PIN)"
    else
        say "ansible: pip install $ANSIBLE_PIN into $ANSIBLE_VENV"
        /usr/bin/python3 -m venv "$ANSIBLE_VENV"
        "$ANSIBLE_VENV/bin/python" -m pip install -q --disable-pip-version-check "$ANSIBLE_PIN" >>"$LOG" 2>&1
    fi
    have=$("$ANSIBLE_VENV/bin/ansible" --version)
    say "ansible: ${have%%$'\n'*}"
}

# write_inventory FILE BOX2_MODE BOX1_ROTATION: the two boxes, as a show's inventory would have them
write_inventory() {
    cat >"$1" <<YAML
all:
  children:
    show:
      vars:
        ansible_connection: community.general.chroot
        ansible_become: false
        ansible_python_interpreter: /usr/bin/python3
        appliance_show_config:
          logging: {stats_every_s: 300.0}
          poses:
            enabled: true
            osc: {enabled: true, host: 192.168.1.10, port: 9000}
      hosts:
        box1:
          ansible_host: $(root_of box1)
          appliance_config:
            run: {mode: aged-film}
            source: {spec: synthetic}
            output: {rotation: $3}
        box2:
          ansible_host: $(root_of box2)
          appliance_config:
            run: {mode: $2}
            source: {spec: "camera:0"}
            output: {rotation: 270, fit: fill}
            modes:
              painted-visitors:
                description: Visitors in style 5, the room as it is.
                effects:
                  - {effect: style, style: "builtin:5", strength: 0.9}
                  - {effect: mask, keep: room}
                  - {effect: mirror}
YAML
}

# play NAME INVENTORY: run the playbook, keep its output in $WORKDIR/ansible-NAME.txt; prints the exit code
play() {
    local name=$1 inventory=$2 start rc=0 out=$WORKDIR/ansible-$1-$ARCH-$SUITE.txt
    start=$(date +%s)
    (cd "$PLAYBOOK_DIR" && ANSIBLE_CONFIG=$PLAYBOOK_DIR/ansible.cfg ANSIBLE_NOCOLOR=1 \
        "$ANSIBLE_VENV/bin/ansible-playbook" -i "$inventory" show.yml \
        -e "appliance_source_ref=$COMMIT" -e "appliance_archive_dir=$WORKDIR") >"$out" 2>&1 || rc=$?
    say "$name: ansible-playbook exit $rc in $(($(date +%s) - start)) s"
    sed -n '/^PLAY RECAP/,$p' "$out" | grep -E '^(box|localhost)' | sed 's/  */ /g; s/^/    /' | tee -a "$LOG"
    sed 's/^/    | /' "$out" >>"$LOG"
    PLAY_RC=$rc
    PLAY_OUT=$out
}

# recap HOST FIELD: the number after FIELD= on HOST's PLAY RECAP line of the last play
recap() {
    sed -n "/^PLAY RECAP/,\$p" "$PLAY_OUT" |
        awk -v host="$1" -v field="$2" '$1 == host { for (i = 3; i <= NF; i++) {
            split($i, kv, "="); if (kv[1] == field) print kv[2] } }'
}

recap_is() {  # recap_is HOST FIELD VALUE
    test "$(recap "$1" "$2")" = "$3"
}

# A listing of everything the playbook and install.sh touch, with content digests and mtimes.
snapshot() {
    local root
    root=$(root_of "$1")
    (cd "$root" && find etc/systemd opt/appliance var/lib/appliance boot/firmware etc/passwd etc/group \
        -path opt/appliance/venv -prune -o -printf '%p %m %u %T@\n' 2>/dev/null | LC_ALL=C sort
     sha256sum boot/firmware/appliance.toml opt/appliance/VERSION)
}

# --- the check ----------------------------------------------------------------------------------

main() {
    local box t before1 before2 broken before_toml1 before_toml2
    mkdir -p "$WORKDIR"
    : >"$LOG"
    COMMIT=$(git -C "$REPO" rev-parse HEAD)
    say "ansible-chroot: $ARCH $SUITE, repo $REPO, deploying commit ${COMMIT:0:12}"
    trap unmount_all EXIT
    ensure_ansible
    make_base
    for box in "${BOXES[@]}"; do prepare_box "$box"; say "root: fresh copy in $(root_of "$box")"; done
    write_inventory "$INVENTORY" painted-visitors 90

    play first "$INVENTORY"
    check "first run: exit 0" test "$PLAY_RC" = 0
    for box in "${BOXES[@]}"; do
        check "first run: $box failed=0, changed>0" sh -c "[ '$(recap "$box" failed)' = 0 ] && [ '$(recap "$box" changed)' -gt 0 ]"
        check "$box: unit installed and enabled" \
            test -L "$(root_of "$box")/etc/systemd/system/multi-user.target.wants/appliance.service"
        check "$box: VERSION names the deployed commit" grep -q "commit $COMMIT" "$(root_of "$box")/opt/appliance/VERSION"
        check "$box: staged source removed" test ! -e "$(root_of "$box")/var/cache/appliance-deploy"
        check "$box: appliance config check passes on its appliance.toml" \
            in_box "$box" /opt/appliance/venv/bin/appliance config check /boot/firmware/appliance.toml
        check "$box: restart reported as skipped (no running systemd in a chroot)" \
            grep -q "no running systemd on $box" "$PLAY_OUT"
        check "$box: doctor's report shown" grep -q "appliance doctor: exit" "$PLAY_OUT"
        check "$box: cmdline.txt got the screen settings" grep -q consoleblank=0 "$(root_of "$box")/boot/firmware/cmdline.txt"
    done
    check "box1 config: aged-film, rotation 90, synthetic source" sh -c "
        f='$(root_of box1)/boot/firmware/appliance.toml'; grep -qx 'mode = \"aged-film\"' \"\$f\" &&
        grep -qx 'rotation = 90' \"\$f\" && grep -qx 'spec = \"synthetic\"' \"\$f\" && grep -qx 'spec = \"hdmi\"' \"\$f\""
    check "box2 config: painted-visitors, rotation 270, camera:0, its own mode" sh -c "
        f='$(root_of box2)/boot/firmware/appliance.toml'; grep -qx 'mode = \"painted-visitors\"' \"\$f\" &&
        grep -qx 'rotation = 270' \"\$f\" && grep -qx 'spec = \"camera:0\"' \"\$f\" &&
        grep -qx '\[\[modes.painted-visitors.effects\]\]' \"\$f\""
    check "the two configs differ" sh -c "! cmp -s '$(root_of box1)/boot/firmware/appliance.toml' '$(root_of box2)/boot/firmware/appliance.toml'"
    check "both boxes: the show's settings (OSC host)" grep -qx 'host = "192.168.1.10"' \
        "$(root_of box1)/boot/firmware/appliance.toml" "$(root_of box2)/boot/firmware/appliance.toml"
    check "box2: \`appliance config show\` runs its own mode" sh -c \
        "chroot '$(root_of box2)' /opt/appliance/venv/bin/appliance config show --config /boot/firmware/appliance.toml | grep -q painted-visitors"

    before1=$(snapshot box1); before2=$(snapshot box2)
    play second "$INVENTORY"
    check "second run: exit 0" test "$PLAY_RC" = 0
    for box in "${BOXES[@]}"; do
        check "second run: $box changed=0 failed=0" sh -c "[ '$(recap "$box" changed)' = 0 ] && [ '$(recap "$box" failed)' = 0 ]"
    done
    check "second run: no handler ran (no restart)" sh -c "! grep -q '^RUNNING HANDLER' '$PLAY_OUT'"
    check "second run: box1 files unchanged (paths, modes, owners, mtimes, digests)" test "$before1" = "$(snapshot box1)"
    check "second run: box2 files unchanged" test "$before2" = "$(snapshot box2)"

    write_inventory "$WORKDIR/ansible-inventory-rotated-$ARCH-$SUITE.yml" painted-visitors 180
    before2=$(snapshot box2)
    play rotated "$WORKDIR/ansible-inventory-rotated-$ARCH-$SUITE.yml"
    check "box1 rotation 90 -> 180: exit 0" test "$PLAY_RC" = 0
    check "box1 rotation 90 -> 180: box1 changed=1 (its config only)" recap_is box1 changed 1
    check "box1 rotation 90 -> 180: box1 restart handler ran" grep -q "no running systemd on box1" "$PLAY_OUT"
    check "box1 rotation 90 -> 180: box2 changed=0, no restart" sh -c "
        [ '$(recap box2 changed)' = 0 ] && ! grep -q 'no running systemd on box2' '$PLAY_OUT'"
    check "box1 rotation 90 -> 180: box2 files unchanged" test "$before2" = "$(snapshot box2)"
    check "box1 now has rotation 180" grep -qx 'rotation = 180' "$(root_of box1)/boot/firmware/appliance.toml"

    # box2 as if it had an older version: the role unpacks and runs install.sh again (which
    # finds nothing to change in this tree), writes VERSION and restarts box2 alone
    printf 'appliance 0.0.9 commit 0000000000000000000000000000000000000000\n' >"$(root_of box2)/opt/appliance/VERSION"
    before1=$(snapshot box1)
    play older "$WORKDIR/ansible-inventory-rotated-$ARCH-$SUITE.yml"
    check "box2 at an older version: exit 0" test "$PLAY_RC" = 0
    check "box2 at an older version: install.sh ran on box2 only" sh -c "
        sed -n '/^TASK \[appliance : Run deploy\/install.sh/,/^TASK/p' '$PLAY_OUT' | grep -q '^ok: \[box2\]' &&
        ! sed -n '/^TASK \[appliance : Run deploy\/install.sh/,/^TASK/p' '$PLAY_OUT' | grep -q 'box1'"
    check "box2 at an older version: box2 restart handler ran, box1's did not" sh -c "
        grep -q 'no running systemd on box2' '$PLAY_OUT' && ! grep -q 'no running systemd on box1' '$PLAY_OUT'"
    check "box2 at an older version: VERSION names the deployed commit again" \
        grep -q "commit $COMMIT" "$(root_of box2)/opt/appliance/VERSION"
    check "box2 at an older version: box1 changed=0" recap_is box1 changed 0
    check "box2 at an older version: box1 files unchanged" test "$before1" = "$(snapshot box1)"

    broken=$WORKDIR/ansible-inventory-broken-$ARCH-$SUITE.yml
    write_inventory "$broken" nope 180
    before_toml1=$WORKDIR/ansible-box1-before.toml; before_toml2=$WORKDIR/ansible-box2-before.toml
    cp -p "$(root_of box1)/boot/firmware/appliance.toml" "$before_toml1"
    cp -p "$(root_of box2)/boot/firmware/appliance.toml" "$before_toml2"
    before1=$(snapshot box1); before2=$(snapshot box2)
    play broken "$broken"
    check "broken box2 config (mode nope): ansible-playbook fails" test "$PLAY_RC" != 0
    check "broken: box2 failed=1" recap_is box2 failed 1
    check "broken: box2 refused at the validate step" sh -c "
        sed -n '/^TASK \[appliance : appliance.toml from the inventory/,/^TASK/p' '$PLAY_OUT' |
        grep -q 'fatal: \[box2\]: FAILED.*failed to validate'"
    check "broken: the refusal names the mistake" grep -q "run.mode: unknown mode 'nope'" "$PLAY_OUT"
    check "broken: box2 appliance.toml byte-identical" cmp "$before_toml2" "$(root_of box2)/boot/firmware/appliance.toml"
    check "broken: box2 nothing else touched" test "$before2" = "$(snapshot box2)"
    check "broken: box2 not restarted" sh -c "! grep -q 'no running systemd on box2' '$PLAY_OUT'"
    check "broken: box1 failed=0 changed=0" sh -c "[ '$(recap box1 failed)' = 0 ] && [ '$(recap box1 changed)' = 0 ]"
    check "broken: box1 appliance.toml byte-identical" cmp "$before_toml1" "$(root_of box1)/boot/firmware/appliance.toml"
    check "broken: box1 nothing touched" test "$before1" = "$(snapshot box1)"

    # a new version and a refused config in one run: the version goes in and box2 is restarted
    # (force_handlers) with its previous, valid config
    printf 'appliance 0.0.9 commit 0000000000000000000000000000000000000000\n' >"$(root_of box2)/opt/appliance/VERSION"
    play older-broken "$broken"
    check "older version + broken config: box2 failed=1" recap_is box2 failed 1
    check "older version + broken config: box2 updated (VERSION) and restart handler ran" sh -c "
        grep -q 'commit $COMMIT' '$(root_of box2)/opt/appliance/VERSION' && grep -q 'no running systemd on box2' '$PLAY_OUT'"
    check "older version + broken config: box2 appliance.toml byte-identical" \
        cmp "$before_toml2" "$(root_of box2)/boot/firmware/appliance.toml"

    t=$(($(date +%s) - T0))
    if [ "$FAILED" = 0 ]; then say "ansible-chroot: ALL PASSED ($ARCH $SUITE, ${t} s)"; else say "ansible-chroot: FAILED"; fi
    say "log: $LOG"
    return "$FAILED"
}

main
