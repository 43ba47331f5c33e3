#!/usr/bin/env bash
# Benchmarks lazy reads through the span engine against downloading and inflating a whole layer,
# on a loopback docker-registry. Prints a Markdown block for docs/benchmarks.md.
#
# Usage: scripts/bench-lazy.sh [WORK_DIR]   (default /tmp/jsoci-bench-lazy; the layer is kept)
# Needs a built checkout (mvn -q -DskipTests package test-compile), docker-registry, skopeo,
# pigz, curl and python3. Traffic goes to 127.0.0.1 only.
set -euo pipefail

root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
# shellcheck source=scripts/lib/bench-args.sh
source "$root/scripts/lib/bench-args.sh"
bench_check_args "$0" "$@"
work="${1:-/tmp/jsoci-bench-lazy}"
mkdir -p "$work"
target="$root/snapshotter/target"
classpath="$target/jsoci-snapshotter.jar:$target/test-classes:$target/lib/*"
jsoci="$root/bin/jsoci"

# The layer: files under /usr (name order, each under 64 MiB) up to 1.2 GiB, with a 1 MiB file of
# random bytes in the middle of the archive and a small file for the warm-up read.
layer="$work/layer.tar.gz"
if [[ ! -f "$layer" ]]; then
  mkdir -p "$work/extra/bench"
  head -c 1048576 /dev/urandom > "$work/extra/bench/one-mib.bin"
  echo "warm-up" > "$work/extra/bench/warmup.txt"
  find /usr -xdev -type f -size -64M -printf '%s %p\n' 2>/dev/null \
    | sort -k2 \
    | awk 'total <= 1200 * 1048576 { total += $1; print substr($0, index($0, " ") + 1) }' \
    > "$work/files.txt"
  half=$(($(wc -l < "$work/files.txt") / 2))
  {
    head -n "$half" "$work/files.txt"
    echo "$work/extra/bench/warmup.txt"
    echo "$work/extra/bench/one-mib.bin"
    tail -n +"$((half + 1))" "$work/files.txt"
  } > "$work/files-with-bench.txt"
  tar --no-recursion --transform "s|^${work#/}/extra/||" -cf - -T "$work/files-with-bench.txt" \
    2>/dev/null | pigz -6 > "$layer"
fi
rm -rf "$work/layout"
python3 "$root/scripts/lib/oci_layout.py" "$work/layout" bench "$layer"

# A registry on a free loopback port, stopped by its PID on exit.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
rm -rf "$work/registry"
mkdir -p "$work/registry"
cat > "$work/registry/config.yml" <<YAML
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/registry/data
http:
  addr: 127.0.0.1:$port
YAML
docker-registry serve "$work/registry/config.yml" > "$work/registry/log" 2>&1 &
registry_pid=$!
trap 'kill "$registry_pid" 2>/dev/null; wait "$registry_pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$port/v2/" > /dev/null && break
  sleep 0.1
done

host="127.0.0.1:$port"
skopeo copy -q --dest-tls-verify=false "oci:$work/layout:bench" "docker://$host/bench:plain"
convert_start=$(date +%s.%N)
"$jsoci" convert --plain-http "$host/bench:plain" "$host/bench:soci" > "$work/convert.log"
convert_seconds=$(python3 -c "import time; print(f'{time.time() - $convert_start:.1f}')")

layer_digest="sha256:$(sha256sum "$layer" | cut -d' ' -f1)"
blob_url="http://$host/v2/bench/blobs/$layer_digest"
compressed_bytes=$(stat -c %s "$layer")
curl -fs "$blob_url" > /dev/null # the registry now serves the blob from the page cache

busy_cpu() {
  read -r _ u1 n1 s1 i1 w1 q1 sq1 _ < /proc/stat
  sleep "$1"
  read -r _ u2 n2 s2 i2 w2 q2 sq2 _ < /proc/stat
  local busy=$(((u2 + n2 + s2 + q2 + sq2) - (u1 + n1 + s1 + q1 + sq1)))
  local idle=$(((i2 + w2) - (i1 + w1)))
  echo $((100 * busy / (busy + idle)))
}
busy_before=$(busy_cpu 1)

# Baseline: download the whole layer and inflate it.
baseline_start=$(date +%s.%N)
tar_bytes=$(curl -fs "$blob_url" | gzip -d | wc -c)
baseline_seconds=$(python3 -c "import time; print(f'{time.time() - $baseline_start:.2f}')")

# Lazy: one 1 MiB file, in this JVM after a warm-up read, and as a fresh command.
lazy_line=$(java -cp "$classpath" dev.jsoci.bench.LazyReadBenchmark get-file \
  "$host/bench:soci" /bench/one-mib.bin /bench/warmup.txt)
lazy_seconds=$(sed -n 's/.*wall_seconds=\([0-9.]*\).*/\1/p' <<< "$lazy_line")
lazy_stats=$(sed -n 's/.*stats=//p' <<< "$lazy_line")
lazy_bytes=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['bytes_fetched'])" "$lazy_stats")
lazy_requests=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['requests'])" "$lazy_stats")
lazy_spans=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['spans_fetched'])" "$lazy_stats")
cli_start=$(date +%s.%N)
"$jsoci" image get-file --plain-http --out "$work/one-mib.out" "$host/bench:soci" /bench/one-mib.bin
cli_seconds=$(python3 -c "import time; print(f'{time.time() - $cli_start:.2f}')")
cmp "$work/one-mib.out" "$work/extra/bench/one-mib.bin"

# Sequential: the whole layer through a fresh span engine.
sequential_line=$(java -cp "$classpath" dev.jsoci.bench.LazyReadBenchmark sequential "$host/bench:soci")
sequential_seconds=$(sed -n 's/.*seconds=\([0-9.]*\) .*/\1/p' <<< "$sequential_line")
sequential_tar=$(sed -n 's/.*tar_bytes=\([0-9]*\).*/\1/p' <<< "$sequential_line")

py() { python3 -c "print($1)"; }
echo "### Lazy read of one file against the whole layer"
echo
echo "- machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(java -version 2>&1 | head -1)"
echo "- command: \`scripts/bench-lazy.sh\`, $(date -u +%Y-%m-%d); registry: Debian docker-registry on 127.0.0.1"
echo "- layer: $(py "f'{$compressed_bytes / 1048576:.0f}'") MiB gzip (pigz -6 of files under /usr), $(py "f'{$tar_bytes / 1048576:.0f}'") MiB of tar, 4 MiB spans; \`jsoci convert\` took $convert_seconds s"
echo "- machine-wide busy CPU before the timed runs: ${busy_before}%"
echo
echo "| what | bytes from the registry | seconds |"
echo "| --- | --- | --- |"
echo "| baseline: \`curl\` of the layer blob piped to \`gzip -d\` | $compressed_bytes | $baseline_seconds |"
echo "| \`jsoci image get-file\` of a 1 MiB file, in a warm JVM ($lazy_requests requests, $lazy_spans spans) | $lazy_bytes | $lazy_seconds |"
echo "| the same as a new \`bin/jsoci\` process (JVM start included) | $lazy_bytes | $cli_seconds |"
echo
echo "Bytes: **$(py "f'{$compressed_bytes / $lazy_bytes:.0f}'")x** fewer (target: 50x). Time: **$(py "f'{$baseline_seconds / $lazy_seconds:.0f}'")x** faster in a warm JVM (target: 20x), $(py "f'{$baseline_seconds / $cli_seconds:.1f}'")x as a new process."
echo
echo "### Sequential read of the whole layer"
echo
echo "| what | seconds | MB/s of tar |"
echo "| --- | --- | --- |"
echo "| baseline: \`curl \| gzip -d\` | $baseline_seconds | $(py "f'{$tar_bytes / $baseline_seconds / 1e6:.0f}'") |"
echo "| span engine, 1 MiB reads in order, no background fetch | $sequential_seconds | $(py "f'{$sequential_tar / $sequential_seconds / 1e6:.0f}'") |"
echo
echo "Throughput ratio, span engine / baseline: **$(py "f'{($sequential_tar / $sequential_seconds) / ($tar_bytes / $baseline_seconds):.2f}'")** (target: at least 0.8)"
