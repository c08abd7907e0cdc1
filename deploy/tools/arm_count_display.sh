#!/usr/bin/env bash
# Every mode's display path and a bare Lightning invoke, counted in aarch64 instructions on the
# Pi's own wheels, into tests/bench/display-arm64-count.json (see arm_count_display.py).
# Run from the project root as root, after `../shared/tools/arm-count setup`.
set -eu
root=${ARM_ROOT:-/var/tmp/arm-count-root}
inputs=/var/tmp/display-inputs.pkl
python=${PYTHON:-.venv/bin/python}
mkdir -p "$root/var/tmp"
"$python" deploy/tools/arm_count_display.py prepare "$root$inputs" 60
count() { bash ../shared/tools/arm-count -- python /src/deploy/tools/arm_count_display.py "$@" 2>&1 \
          | sed -n 's/^aarch64 instructions: //p'; }
{
  for n in 4 12; do echo "lightning $n $(count lightning "$inputs" "$n")"; done
  for n in 1 3; do
    echo "keyframe_384x384 $n $(count keyframe 384 384 "$n")"
    echo "keyframe_288x384 $n $(count keyframe 288 384 "$n")"
  done
  for mode in $("$python" -c 'from appliance.config import Settings; print(" ".join(Settings().modes))'); do
    for n in 10 30; do echo "$mode $n $(count count "$inputs" "$mode" "$n")"; done
  done
  # what [output] corners adds, drawn by SDL's renderer (+corners) or warped on the CPU (+warp)
  for pinned in passthrough+corners passthrough+warp; do
    for n in 10 30; do echo "$pinned $n $(count count "$inputs" "$pinned" "$n")"; done
  done
} > /var/tmp/display-arm64-counts.txt
"$python" - <<'PY'
import json, time
rows = [line.split() for line in open("/var/tmp/display-arm64-counts.txt")]
raw = {}
for what, n, c in rows:
    raw.setdefault(what, {})[f"{n}_frames"] = int(c)
per = {}
for what, counts in raw.items():
    (n1, c1), (n2, c2) = sorted((int(k.split("_")[0]), v) for k, v in counts.items())
    per[what] = round((c2 - c1) / (n2 - n1) / 1e6, 2)
json.dump({"what": "aarch64 instructions per displayed frame of each mode's display path (its effects and the "
                   "picture handed to SDL, analysis results precomputed at a Pi 4's rate), and per bare MoveNet "
                   "Lightning invoke (1 thread) and bare style transformer invoke (keyframe_HxW), counted by "
                   "../shared/tools/arm-count on the Pi's own wheels; per frame = the difference between two "
                   "frame counts over their difference",
           "when": time.strftime("%Y-%m-%d"), "command": "sh deploy/tools/arm_count_display.sh",
           "raw_counts": raw, "million_instructions_per_frame": per},
          open("tests/bench/display-arm64-count.json", "w"), indent=1)
print(json.dumps(per, indent=1))
PY
