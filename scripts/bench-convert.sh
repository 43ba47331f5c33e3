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

# Runs a command against an empty destination registry, after reading every source blob so that
# the source registry serves it from the page cache. Sets seconds, busy_before (machine-wide busy
# CPU in the second before) and busy_during (over the run, the command's own work included).
timed() {
  local log="$work/$1.log"
  shift
  restart_destination
  find "$work/registry-a/data" -type f -name data -exec cat {} + > /dev/null
  await_quiet
  read -r _ u1 n1 s1 i1 w1 q1 sq1 _ < /proc/stat
  local start
  start=$(date +%s.%N)
  "$@" > "$log" 2>&1 || { echo "bench-convert: $* failed; see $log" >&2; exit 1; }
  seconds=$(python3 -c "import time; print(f'{time.time() - $start:.1f}')")
  read -r _ u2 n2 s2 i2 w2 q2 sq2 _ < /proc/stat
  local busy=$(((u2 + n2 + s2 + q2 + sq2) - (u1 + n1 + s1 + q1 + sq1)))
  local idle=$(((i2 + w2) - (i1 + w1)))
  busy_during=$((100 * busy / (busy + idle)))
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
skopeo_gzip=("$seconds" "$busy_before" "$busy_during")
timed convert-gzip jsoci_convert gzip
convert_gzip=("$seconds" "$busy_before" "$busy_during")
timed skopeo-tar skopeo_copy tar
skopeo_tar=("$seconds" "$busy_before" "$busy_during")
timed convert-tar jsoci_convert tar --force-gzip
convert_tar=("$seconds" "$busy_before" "$busy_during")

# The floor of convert's own work: zTOCs of the gzip layers built from local files, one layer after
# another as convert processes them, with no registry involved.
ztoc_builds() {
  for layer in "${gzips[@]}"; do
    "$jsoci" ztoc build --out "$work/ztoc" "$layer"
  done
}
find "$work/layers" -name '*.tar.gz' -exec cat {} + > /dev/null
timed ztoc-build ztoc_builds
ztoc_build=("$seconds" "$busy_before" "$busy_during")
grep -q "layers: $layer_count indexed" "$work/convert-gzip.log"
grep -q "layers: $layer_count indexed" "$work/convert-tar.log"

py() { python3 -c "print($1)"; }
mib() { py "f'{$1 / 1048576:.0f}'"; }
row() {
  local -n figures=$2
  echo "| $1 | ${figures[0]} | ${figures[1]}% | ${figures[2]}% |"
}
echo "### Convert against skopeo copy"
echo
echo "- machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(java -version 2>&1 | head -1)"
echo "- command: \`scripts/bench-convert.sh\`, $(date -u +%Y-%m-%d); Debian docker-registry $(docker-registry --version | awk '{print $3}'), $(skopeo --version)"
echo "- image: $layer_count layers of files under /usr, $(mib "$gzip_bytes") MiB of gzip blobs (pigz -6), $(mib "$tar_bytes") MiB of tar; zTOCs with the default 4 MiB spans"
echo "- every copy and convert reads from registry a and writes to an empty registry b, both on 127.0.0.1"
echo
echo "| what | seconds | busy CPU before | busy CPU during |"
echo "| --- | --- | --- | --- |"
row "\`skopeo copy\` of the gzip image" skopeo_gzip
row "\`jsoci convert\` of the gzip image (copies and indexes)" convert_gzip
row "\`skopeo copy\` of the uncompressed image" skopeo_tar
row "\`jsoci convert --force-gzip\` of the uncompressed image" convert_tar
row "\`jsoci ztoc build\` of the four gzip layers from local files, one after another" ztoc_build
echo
echo "Ratio, convert / skopeo copy, gzip image: **$(py "f'{${convert_gzip[0]} / ${skopeo_gzip[0]}:.2f}'")** (target: at most 1.5)."
echo "Ratio, convert --force-gzip / skopeo copy, uncompressed image: **$(py "f'{${convert_tar[0]} / ${skopeo_tar[0]}:.2f}'")** (no target)."
