#!/usr/bin/env bash
# Benchmarks cold starts on a shaped network link: the time from the start of the pull to the
# container's first line of output. A full pull (ctr images pull, containerd's overlayfs
# snapshotter, root on disk and on a tmpfs) is timed against a lazy pull (ctr-remote images rpull
# with jsoci-snapshotter). The registry runs in one network namespace and containerd in another,
# joined by scripts/lib/shaped-link.sh (tbf rate limit and a user-space delay).
#
# Usage: scripts/bench-cold-start.sh [OPTIONS]
# Options:
#   --rate RATE     link rate in tc's units (default 1gbit)
#   --rtt-ms MS     link round-trip time in milliseconds (default 20)
#   --mtu BYTES     MTU of the link (default 9000, jumbo frames as within an EC2 VPC)
#   --runs N        timed runs of every image and mode (default 5)
#   --images LIST   comma-separated SIZE_MIB:STARTUP_PERCENT[:LAYERS] (default 2048:2,1024:5,1536:1;
#                   4 data layers unless given); sizes are uncompressed file bytes
#   --out DIR       results directory (default WORK/results): one JSON per run, the daemon's log of
#                   every lazy run, the link self-test, the limits, summary.json and summary.md
#   --chart FILE    where the PNG bar chart of the medians goes (default docs/cold-start.png)
#   --work DIR      images, registry storage and run directories (default /tmp/jsoci-bench-cold-start;
#                   images are kept and reused)
#   --modes LIST    comma-separated modes to time (default full-disk,full-tmpfs,lazy,lazy-no-background,
#                   lazy-prefetch). full-disk and full-tmpfs are ctr images pull with containerd's
#                   root on disk or on a tmpfs. lazy is ctr-remote images rpull through jsoci, and
#                   lazy-no-background the same with the daemon's background fetch turned off.
#                   lazy-prefetch pulls the image converted with its start-up files as
#                   --prefetch-files-json lazily, by a daemon with [prefetch] enable = true
#   --build-only    build, push and convert the images, then stop
#   --help          print this text
# Needs root, a built checkout (mvn -q -DskipTests package), and the Debian packages
# docker-registry, containerd, runc, stargz-snapshotter (ctr-remote), skopeo, busybox-static, pigz,
# fuse, iproute2, curl, python3-matplotlib (installed when missing). Traffic stays on loopback and
# inside the two namespaces the script creates and removes.
set -euo pipefail

root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
lib="$root/scripts/lib"
# shellcheck source=lib/packages.sh
source "$lib/packages.sh"
# shellcheck source=lib/coldstart.sh
source "$lib/coldstart.sh"

rate=1gbit
rtt_ms=20
mtu=9000
runs=5
images_spec="2048:2,1024:5,1536:1"
work=/tmp/jsoci-bench-cold-start
out=
chart=
prefix=jsoci-bench
build_only=
modes_spec=full-disk,full-tmpfs,lazy,lazy-no-background,lazy-prefetch

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
fail() { echo "bench-cold-start.sh: $*" >&2; exit 1; }
log() { echo "bench-cold-start.sh: $(date -u +%H:%M:%S) $*" >&2; }

while (($# > 0)); do
  case "$1" in
    --rate) rate="${2:?--rate needs a value such as 1gbit}"; shift 2 ;;
    --rtt-ms) rtt_ms="${2:?--rtt-ms needs a number of milliseconds}"; shift 2 ;;
    --mtu) mtu="${2:?--mtu needs a number of bytes}"; shift 2 ;;
    --runs) runs="${2:?--runs needs a number}"; shift 2 ;;
    --images) images_spec="${2:?--images needs a list such as 2048:2,1024:5}"; shift 2 ;;
    --out) out="${2:?--out needs a directory}"; shift 2 ;;
    --chart) chart="${2:?--chart needs a file name}"; shift 2 ;;
    --work) work="${2:?--work needs a directory}"; shift 2 ;;
    --modes) modes_spec="${2:?--modes needs a list such as full-tmpfs,lazy}"; shift 2 ;;
    --build-only) build_only=1; shift ;;
    --help|-h) usage; exit 0 ;;
    *) fail "unknown argument '$1'; run with --help" ;;
  esac
done
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || fail "invalid --runs '$runs': expected a whole number of 1 or more"
IFS=, read -r -a modes <<< "$modes_spec"
for mode in "${modes[@]}"; do
  [[ "$mode" =~ ^(full-disk|full-tmpfs|lazy|lazy-no-background|lazy-prefetch)$ ]] \
    || fail "invalid mode '$mode' in --modes: use full-disk, full-tmpfs, lazy, lazy-no-background or lazy-prefetch"
done
[[ $(id -u) -eq 0 ]] || fail "needs root for network namespaces, containerd and FUSE"
[[ -f "$root/snapshotter/target/jsoci-snapshotter.jar" ]] \
  || fail "no build in $root; run 'mvn -q -DskipTests package' first"
work="$(mkdir -p "$work" && cd "$work" && pwd)"
out="${out:-$work/results}"
chart="${chart:-$root/docs/cold-start.png}"

# Each image: name, uncompressed MiB, start-up percent, data layers. The first is the warm-up
# image that every run pulls and runs before its timing: 64 MiB in two data layers, each large
# enough (about 13 MB of gzip) for a zTOC.
declare -a image_names=() image_sizes=() image_percents=() image_layers=()
IFS=, read -r -a specs <<< "64:5:2,$images_spec"
for spec in "${specs[@]}"; do
  [[ "$spec" =~ ^([0-9]+):([0-9]+([.][0-9]+)?)(:([0-9]+))?$ ]] \
    || fail "invalid --images entry '$spec': expected SIZE_MIB:STARTUP_PERCENT[:LAYERS], for example 2048:2"
  size="${BASH_REMATCH[1]}" percent="${BASH_REMATCH[2]}" layers="${BASH_REMATCH[5]:-4}"
  ((size >= 16)) || fail "invalid size in --images entry '$spec': give at least 16 MiB"
  ((layers >= 1)) || fail "invalid layer count in --images entry '$spec': give at least 1"
  image_names+=("cs-${size}m-${percent}p-${layers}l")
  image_sizes+=("$size")
  image_percents+=("$percent")
  image_layers+=("$layers")
done

install_missing_packages bench-cold-start.sh "${COLDSTART_PACKAGES[@]}" iproute2 util-linux \
  python3-matplotlib >&2 || exit 1

link_is_up=
cleanup() {
  local status=$?
  # Without errexit, a failed step does not skip the ones after it.
  set +e
  coldstart_registry_stop "$work/registry"
  if [[ -n "$link_is_up" ]]; then
    "$lib/shaped-link.sh" --prefix "$prefix" --state-dir "$work/link" down || true
  fi
  rm -rf "$work/runs"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 1. Images: built once into WORK/images, then pushed and converted on a loopback registry. The
# registry's storage is kept for the runs.
mkdir -p "$work/images"
registry_running=
for i in "${!image_names[@]}"; do
  name="${image_names[$i]}"
  dir="$work/images/$name"
  [[ -f "$dir/converted" ]] && continue
  if [[ -z "$registry_running" ]]; then
    coldstart_registry_start "$work/registry"
    registry_running=1
  fi
  loopback=$(< "$work/registry/address")
  log "building $name: ${image_sizes[$i]} MiB in ${image_layers[$i]} data layers, start-up set ${image_percents[$i]}%"
  rm -rf "$dir"
  coldstart_image_build "$dir" "${image_sizes[$i]}" "${image_layers[$i]}" \
    "$(python3 -c "print(${image_percents[$i]} / 100)")" "$((i + 1))"
  coldstart_image_push "$dir" "$loopback/$name:plain"
  log "converting $name"
  coldstart_image_convert "$loopback/$name:plain" "$loopback/$name:soci" "$dir/convert.log"
  "$root/bin/jsoci" index info --plain-http "$loopback/$name:soci" > "$dir/index-info.json"
  # The start-up list is in the bottom layer, the busybox layer that sized_image.py writes.
  python3 - "$dir/layout" "$dir/startup.list" "$dir/compressed-bytes" <<'PY'
import json, os, sys, tarfile
layout, startup_path, compressed_path = sys.argv[1:]
def blob(digest):
    return os.path.join(layout, "blobs", *digest.split(":", 1))
index = json.load(open(os.path.join(layout, "index.json")))
manifest = json.load(open(blob(index["manifests"][0]["digest"])))
with tarfile.open(blob(manifest["layers"][0]["digest"])) as tar:
    open(startup_path, "wb").write(tar.extractfile("app/startup.list").read())
open(compressed_path, "w").write(str(sum(layer["size"] for layer in manifest["layers"])))
PY
  touch "$dir/converted"
done
# The same images converted with their start-up files as prefetch files, tagged soci-prefetch.
for name in "${image_names[@]}"; do
  dir="$work/images/$name"
  [[ -f "$dir/converted-prefetch" ]] && continue
  if [[ -z "$registry_running" ]]; then
    coldstart_registry_start "$work/registry"
    registry_running=1
  fi
  loopback=$(< "$work/registry/address")
  log "converting $name with prefetch files"
  python3 -c 'import json, sys; json.dump(open(sys.argv[1]).read().split(), open(sys.argv[2], "w"))' \
    "$dir/startup.list" "$dir/prefetch-files.json"
  coldstart_image_convert "$loopback/$name:plain" "$loopback/$name:soci-prefetch" \
    "$dir/convert-prefetch.log" --prefetch-files-json "$dir/prefetch-files.json"
  touch "$dir/converted-prefetch"
done
coldstart_registry_stop "$work/registry"
if [[ -n "$build_only" ]]; then
  log "images ready in $work/images"
  exit 0
fi
warmup_name="${image_names[0]}"
image_names=("${image_names[@]:1}") image_sizes=("${image_sizes[@]:1}")
image_percents=("${image_percents[@]:1}") image_layers=("${image_layers[@]:1}")

# 2. The shaped link, the registry in its namespace, and the link's self-test.
log "setting up the link: rate $rate, RTT $rtt_ms ms, MTU $mtu"
"$lib/shaped-link.sh" --prefix "$prefix" --state-dir "$work/link" --rate "$rate" --rtt-ms "$rtt_ms" --mtu "$mtu" up > "$work/link.env"
link_is_up=1
read -r registry_netns_kv registry_addr_kv node_netns_kv _ < "$work/link.env"
registry_netns="${registry_netns_kv#*=}" registry_addr="${registry_addr_kv#*=}" node_netns="${node_netns_kv#*=}"
registry="$registry_addr:5000"
coldstart_registry_start "$work/registry" "$registry" nsenter --net="/run/netns/$registry_netns"
mkdir -p "$out"
log "measuring the link"
"$lib/shaped-link.sh" --prefix "$prefix" --state-dir "$work/link" --rate "$rate" --rtt-ms "$rtt_ms" --mtu "$mtu" selftest \
  | tee "$out/link-selftest.txt" >&2

rate_bits=$(python3 - "$rate" <<'PY'
import re, sys
number, unit = re.fullmatch(r"([0-9.]+)([a-z]+)", sys.argv[1]).groups()
scale = {"bit": 1, "kbit": 1e3, "mbit": 1e6, "gbit": 1e9, "bps": 8, "kbps": 8e3, "mbps": 8e6, "gbps": 8e9}
print(float(number) * scale[unit])
PY
)

# 3. The physical limit of every image's lazy start, from its zTOCs.
blob_dir="$work/registry/data/docker/registry/v2/blobs"
for name in "${image_names[@]}"; do
  dir="$work/images/$name"
  python3 "$lib/cold_start_limit.py" "$root/bin/jsoci" "$dir/index-info.json" "$blob_dir" \
    "$dir/startup.list" "$rate_bits" "$rtt_ms" > "$out/limit-$name.json"
done

# 4. The timed runs. Every blob is read once first, so the registry serves from the page cache.
coldstart_registry_warm "$work/registry"
machine_busy_before=$(python3 - <<'PY'
import time
def ticks():
    fields = [int(x) for x in open("/proc/stat").readline().split()[1:9]]
    return sum(fields[0:3]) + sum(fields[5:8]), fields[3] + fields[4]
b1, i1 = ticks(); time.sleep(2); b2, i2 = ticks()
print(round(100 * (b2 - b1) / max(1, (b2 - b1) + (i2 - i1))))
PY
)
log "machine-wide busy CPU before the runs: $machine_busy_before%"

mkdir -p "$work/runs"
for ((run = 1; run <= runs; run++)); do
  for i in "${!image_names[@]}"; do
    name="${image_names[$i]}"
    dir="$work/images/$name"
    for mode in "${modes[@]}"; do
      case "$mode" in
        lazy-prefetch) tag=soci-prefetch ;;
        lazy*) tag=soci ;;
        *) tag=plain ;;
      esac
      result="$out/run-$run-$name-$mode.json"
      nsenter --net="/run/netns/$node_netns" unshare --mount --propagation private \
        env JSOCI_BENCH_TUN=jbt-node "$lib/cold-start-run.sh" "$mode" "$registry/$name:$tag" \
        "$registry/$warmup_name:$tag" "$work/runs/$run-$name-$mode" "$result"
      python3 - "$result" "$name" "${image_sizes[$i]}" "${image_percents[$i]}" \
        "$(cat "$dir/compressed-bytes")" "$dir/expected-output" "$run" "$rate" "$rtt_ms" "$mtu" <<'PY'
import json, sys
path, name, size_mib, percent, compressed, expected_path, run, rate, rtt_ms, mtu = sys.argv[1:]
result = json.load(open(path))
expected = open(expected_path).read().strip()
result.update({
    "image": name,
    "image_mib": int(size_mib),
    "image_compressed_bytes": int(compressed),
    "startup_percent": float(percent),
    "startup_bytes": int(expected.split(" files, ")[1].split(" bytes")[0]),
    "output_matches": result["first_line"] == expected,
    "run": int(run),
    "rate": rate,
    "rtt_ms": float(rtt_ms),
    "mtu": int(mtu),
})
json.dump(result, open(path, "w"), indent=1)
print(f"run {run} {name} {result['mode']}: {result['seconds']} s "
      f"(pull {result['pull_seconds']} s), {result['bytes_received']} bytes received, "
      f"busy CPU {result['busy_cpu_percent']}%, output matches: {result['output_matches']}",
      file=sys.stderr)
PY
      # Nothing of the run may outlive it: no process started from its directory, no mount in it.
      if pgrep -f "$work/runs/" > /dev/null; then
        fail "processes of run $run $name $mode are still running: $(pgrep -af "$work/runs/")"
      fi
      if grep -q "$work/runs/" /proc/mounts; then
        fail "mounts of run $run $name $mode remain: $(grep "$work/runs/" /proc/mounts)"
      fi
    done
  done
done

# 5. Medians, the table and the chart.
/usr/bin/python3 "$lib/cold_start_report.py" "$out" "$chart" "$machine_busy_before"
