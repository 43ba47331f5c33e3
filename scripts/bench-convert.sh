#!/usr/bin/env bash
# Benchmarks `jsoci convert` of a four-layer image from one loopback docker-registry to another
# against `skopeo copy` of the same image between them: a gzip image, and its uncompressed twin
# converted with --force-gzip. Prints a Markdown block for docs/benchmarks.md.
#
# Usage: scripts/bench-convert.sh [WORK_DIR]   (default /tmp/jsoci-bench-convert)
# The layers, the OCI layouts and the source registry's storage stay in WORK_DIR for reruns.
# Needs a built checkout (mvn -q -DskipTests package), docker-registry, skopeo, pigz, curl and
# python3. Traffic goes to 127.0.0.1 only.
set -euo pipefail

root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
# shellcheck source=scripts/lib/bench-args.sh
source "$root/scripts/lib/bench-args.sh"
bench_check_args "$0" "$@"
work="${1:-/tmp/jsoci-bench-convert}"
jsoci="$root/bin/jsoci"
layer_count=4
layer_mib=1000 # of tar per layer; pigz -6 makes the four gzip blobs well over 1 GiB together
mkdir -p "$work/layers"

# The layers: files under /usr in name order, each under 64 MiB, cut into four runs of about
# 1000 MiB. Each is packed by GNU tar and compressed by pigz -6, and both forms are kept.
if [[ ! -f "$work/layers/complete" ]]; then
  rm -f "$work"/layers/files-*.txt
  find /usr -xdev -type f -size -64M -printf '%s %p\n' 2>/dev/null \
    | sort -k2 \
    | awk -v per=$((layer_mib * 1048576)) -v count="$layer_count" -v dir="$work/layers" '
        BEGIN { layer = 0 }
        layer < count {
          print substr($0, index($0, " ") + 1) > (dir "/files-" layer ".txt")
          total += $1
          if (total >= per) { close(dir "/files-" layer ".txt"); layer++; total = 0 }
        }'
  for n in $(seq 0 $((layer_count - 1))); do
    tar --no-recursion -cf "$work/layers/layer-$n.tar" -T "$work/layers/files-$n.txt" 2>/dev/null
    pigz -6 -k -f "$work/layers/layer-$n.tar"
  done
  touch "$work/layers/complete"
fi
tars=()
gzips=()
for n in $(seq 0 $((layer_count - 1))); do
  tars+=("$work/layers/layer-$n.tar")
  gzips+=("$work/layers/layer-$n.tar.gz")
done
if [[ ! -f "$work/layout-gzip/index.json" || ! -f "$work/layout-tar/index.json" ]]; then
  rm -rf "$work/layout-gzip" "$work/layout-tar"
  python3 "$root/scripts/lib/oci_layout.py" "$work/layout-gzip" bench "${gzips[@]}"
  python3 "$root/scripts/lib/oci_layout.py" --uncompressed "$work/layout-tar" bench "${tars[@]}"
fi
gzip_bytes=$(cat "${gzips[@]}" | wc -c)
tar_bytes=$(cat "${tars[@]}" | wc -c)
if ((gzip_bytes < 1073741824)); then
  echo "bench-convert: the gzip layers add up to $gzip_bytes bytes, less than 1 GiB;" \
    "raise layer_mib or delete $work/layers" >&2
  exit 1
fi

# Registries on free loopback ports, each stopped by its PID on exit. Registry a is the source
# and keeps its storage across runs. Registry b is the destination and starts empty for every
# timed copy.
pids=()
stop_all() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}
trap stop_all EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts registry NAME and sets registry_pid and registry_host.
start_registry() {
  local directory="$work/registry-$1"
  local port
  port=$(free_port)
  mkdir -p "$directory"
  cat > "$directory/config.yml" <<YAML
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $directory/data
http:
  addr: 127.0.0.1:$port
YAML
  docker-registry serve "$directory/config.yml" > "$directory/log" 2>&1 &
  registry_pid=$!
  pids+=("$registry_pid")
  registry_host="127.0.0.1:$port"
  for _ in $(seq 100); do
    curl -fs "http://$registry_host/v2/" > /dev/null && return 0
    sleep 0.1
  done
  echo "bench-convert: docker-registry $1 did not start; see $directory/log" >&2
  exit 1
}

# Stops the destination registry, if running, deletes its storage and starts it again empty.
restart_destination() {
  if [[ -n "${destination_pid:-}" ]]; then
    kill "$destination_pid"
    wait "$destination_pid" 2>/dev/null || true
    # Forget the PID, so that the exit trap cannot hit a process that reuses it.
    local running=()
    for pid in "${pids[@]}"; do
      [[ "$pid" == "$destination_pid" ]] || running+=("$pid")
    done
    pids=("${running[@]}")
  fi
  rm -rf "$work/registry-b"
  start_registry b
  destination_pid=$registry_pid
  destination=$registry_host
}

start_registry a
source_host=$registry_host
source_pid=$registry_pid
skopeo copy -q --dest-tls-verify=false "oci:$work/layout-gzip:bench" "docker://$source_host/bench:gzip"
skopeo copy -q --dest-tls-verify=false "oci:$work/layout-tar:bench" "docker://$source_host/bench:tar"

busy_cpu() {
  # Prints the machine-wide busy CPU percentage over the given number of seconds.
  read -r _ u1 n1 s1 i1 w1 q1 sq1 _ < /proc/stat
  sleep "$1"
  read -r _ u2 n2 s2 i2 w2 q2 sq2 _ < /proc/stat
  local busy=$(((u2 + n2 + s2 + q2 + sq2) - (u1 + n1 + s1 + q1 + sq1)))
  local idle=$(((i2 + w2) - (i1 + w1)))
  echo $((100 * busy / (busy + idle)))
}

# Waits up to 120 s for the machine-wide busy CPU to fall under 25% over one second, so that other
# work disturbs a timing less, and sets busy_before to the last figure, which the table reports.
await_quiet() {
  for _ in $(seq 60); do
    busy_before=$(busy_cpu 1)
    if ((busy_before < 25)); then
      return 0
    fi
    sleep 1
  done
}

# Prints the CPU time in clock ticks that the registries have used so far.
registry_ticks() {
  local total=0
  for pid in "$source_pid" "$destination_pid"; do
    # Fields 14 and 15 of /proc/PID/stat are utime and stime. Splitting at spaces finds them,
    # because the process name in field 2, docker-registry, has none.
    read -r -a fields < "/proc/$pid/stat"
    total=$((total + fields[13] + fields[14]))
  done
  echo "$total"
}

# Runs a command against an empty destination registry, after reading every source blob so that
# the source registry serves it from the page cache. Sets figures to: wall seconds, CPU seconds
# of the command and its children, CPU seconds of both registries, machine-wide busy CPU in the
# second before and over the run (which includes the command's own work).
timed() {
  local name=$1
  shift
  restart_destination
  find "$work/registry-a/data" -type f -name data -exec cat {} + > /dev/null
  await_quiet
  local ticks_before
  ticks_before=$(registry_ticks)
  read -r _ u1 n1 s1 i1 w1 q1 sq1 _ < /proc/stat
  local start
  start=$(date +%s.%N)
  local TIMEFORMAT="%U %S"
  { time "$@" > "$work/$name.log" 2>&1; } 2> "$work/$name.time" \
    || { echo "bench-convert: $* failed; see $work/$name.log" >&2; exit 1; }
  local seconds
  seconds=$(python3 -c "import time; print(f'{time.time() - $start:.1f}')")
  read -r _ u2 n2 s2 i2 w2 q2 sq2 _ < /proc/stat
  local ticks_after
  ticks_after=$(registry_ticks)

  local busy=$(((u2 + n2 + s2 + q2 + sq2) - (u1 + n1 + s1 + q1 + sq1)))
  local idle=$(((i2 + w2) - (i1 + w1)))
  local command_cpu registry_cpu user system
  read -r user system < "$work/$name.time"
  command_cpu=$(python3 -c "print(f'{$user + $system:.1f}')")
  registry_cpu=$(python3 -c "print(f'{($ticks_after - $ticks_before) / $(getconf CLK_TCK):.1f}')")
  figures=("$seconds" "$command_cpu" "$registry_cpu" "$busy_before" $((100 * busy / (busy + idle))))
}

# Both read $destination when they run, after timed has restarted the destination registry.
skopeo_copy() {
  skopeo copy --src-tls-verify=false --dest-tls-verify=false \
    "docker://$source_host/bench:$1" "docker://$destination/bench:$1"
}
jsoci_convert() {
  "$jsoci" convert --plain-http "${@:2}" "$source_host/bench:$1" "$destination/bench:soci"
}

timed skopeo-gzip skopeo_copy gzip
skopeo_gzip=("${figures[@]}")
timed convert-gzip jsoci_convert gzip
convert_gzip=("${figures[@]}")
timed skopeo-tar skopeo_copy tar
skopeo_tar=("${figures[@]}")
timed convert-tar jsoci_convert tar --force-gzip
convert_tar=("${figures[@]}")

# The floor of convert's own work: zTOCs of the gzip layers built from local files, one layer after
# another as convert processes them, with no registry involved.
ztoc_builds() {
  for layer in "${gzips[@]}"; do
    "$jsoci" ztoc build --out "$work/ztoc" "$layer"
  done
}
find "$work/layers" -name '*.tar.gz' -exec cat {} + > /dev/null
timed ztoc-build ztoc_builds
ztoc_build=("${figures[@]}")
grep -q "layers: $layer_count indexed" "$work/convert-gzip.log"
grep -q "layers: $layer_count indexed" "$work/convert-tar.log"

py() { python3 -c "print($1)"; }
mib() { py "f'{$1 / 1048576:.0f}'"; }
row() {
  local -n values=$2
  echo "| $1 | ${values[0]} | ${values[1]} | ${values[2]} | ${values[3]}% | ${values[4]}% |"
}
echo "### Convert against skopeo copy"
echo
echo "- machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(java -version 2>&1 | head -1)"
echo "- command: \`scripts/bench-convert.sh\`, $(date -u +%Y-%m-%d); Debian docker-registry $(docker-registry --version | awk '{print $3}'), $(skopeo --version)"
echo "- image: $layer_count layers of files under /usr, $(mib "$gzip_bytes") MiB of gzip blobs (pigz -6), $(mib "$tar_bytes") MiB of tar; zTOCs with the default 4 MiB spans"
echo "- every copy and convert reads from registry a and writes to an empty registry b, both on 127.0.0.1"
echo
echo "| what | seconds | CPU s, command | CPU s, registries | busy CPU before | busy CPU during |"
echo "| --- | --- | --- | --- | --- | --- |"
row "\`skopeo copy\` of the gzip image" skopeo_gzip
row "\`jsoci convert\` of the gzip image (copies and indexes)" convert_gzip
row "\`skopeo copy\` of the uncompressed image" skopeo_tar
row "\`jsoci convert --force-gzip\` of the uncompressed image" convert_tar
row "\`jsoci ztoc build\` of the four gzip layers from local files, one after another" ztoc_build
echo
echo "Ratio, convert / skopeo copy, gzip image: **$(py "f'{${convert_gzip[0]} / ${skopeo_gzip[0]}:.2f}'")** (target: at most 1.5)."
echo "Ratio, convert --force-gzip / skopeo copy, uncompressed image: **$(py "f'{${convert_tar[0]} / ${skopeo_tar[0]}:.2f}'")** (no target)."
