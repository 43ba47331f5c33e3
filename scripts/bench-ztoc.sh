#!/usr/bin/env bash
# Benchmarks zTOC building against zlib's own single-core inflate of the same gzip layer, and
# 4 KiB random reads through checkpoints per span size. Prints a Markdown block for
# docs/benchmarks.md.
#
# Usage: scripts/bench-ztoc.sh [WORK_DIR]   (default /tmp/jsoci-bench-ztoc; kept for reruns)
# Needs a built checkout (mvn -q -DskipTests package test-compile) and python3.
set -euo pipefail

root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
# shellcheck source=scripts/lib/bench-args.sh
source "$root/scripts/lib/bench-args.sh"
bench_check_args "$0" "$@"
work="${1:-/tmp/jsoci-bench-ztoc}"
mkdir -p "$work"
layer="$work/layer.tar.gz"
target="$root/snapshotter/target"
classpath="$target/jsoci-snapshotter.jar:$target/test-classes:$target/lib/*"

# A layer of at least 256 MiB uncompressed, made of the machine's own files for realistic
# compressibility: the first files under /usr whose sizes add up to 300 MiB.
if [[ ! -f "$layer" ]]; then
  find /usr -xdev -type f -size -64M -printf '%s %p\n' 2>/dev/null \
    | sort -k2 \
    | awk 'total <= 300 * 1048576 { total += $1; print substr($0, index($0, " ") + 1) }' \
    > "$work/files.txt"
  tar --no-recursion -cf - -T "$work/files.txt" 2>/dev/null | gzip -6 > "$layer"
fi

busy_cpu() {
  # Prints the machine-wide busy CPU percentage over the given number of seconds.
  read -r _ u1 n1 s1 i1 w1 q1 sq1 _ < /proc/stat
  sleep "$1"
  read -r _ u2 n2 s2 i2 w2 q2 sq2 _ < /proc/stat
  local busy=$(((u2 + n2 + s2 + q2 + sq2) - (u1 + n1 + s1 + q1 + sq1)))
  local idle=$(((i2 + w2) - (i1 + w1)))
  echo $((100 * busy / (busy + idle)))
}

cat "$layer" > /dev/null # warm the page cache
compressed_bytes=$(stat -c %s "$layer")
busy_before=$(busy_cpu 1)

zlib_seconds=$(python3 - "$layer" <<'PY'
import sys, time, zlib
path = sys.argv[1]
best = None
for _ in range(3):
    with open(path, 'rb') as f:
        start = time.perf_counter()
        d = zlib.decompressobj(31)
        total = 0
        while True:
            chunk = f.read(1 << 20)
            if not chunk:
                break
            total += len(d.decompress(chunk))
        total += len(d.flush())
        elapsed = time.perf_counter() - start
    best = elapsed if best is None else min(best, elapsed)
print(f"{best:.3f}")
PY
)

build_line=$(java -cp "$classpath" dev.jsoci.bench.ZtocBenchmark build "$layer")
build_seconds=$(sed -n 's/.*build_seconds=\([0-9.]*\).*/\1/p' <<< "$build_line")
uncompressed_bytes=$(sed -n 's/.*uncompressed_bytes=\([0-9]*\).*/\1/p' <<< "$build_line")

ratio=$(python3 -c "print(f'{$zlib_seconds / $build_seconds:.2f}')")
mib() { python3 -c "print(f'{$1 / 1048576:.0f}')"; }
rate() { python3 -c "print(f'{$1 / $2 / 1e6:.0f}')"; }

echo "### zTOC build against zlib inflate"
echo
echo "- machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(java -version 2>&1 | head -1)"
echo "- command: \`scripts/bench-ztoc.sh\`, $(date -u +%Y-%m-%d)"
echo "- layer: $(mib "$compressed_bytes") MiB gzip (gzip -6 of files under /usr), $(mib "$uncompressed_bytes") MiB of tar"
echo "- machine-wide busy CPU before the run: ${busy_before}%"
echo
echo "| what | seconds (best of 3) | MB/s of tar |"
echo "| --- | --- | --- |"
echo "| Python \`zlib.decompressobj\` (single core, baseline) | $zlib_seconds | $(rate "$uncompressed_bytes" "$zlib_seconds") |"
echo "| \`ZtocBuilder\`, span size 4 MiB (TOC, checkpoints, span digests) | $build_seconds | $(rate "$uncompressed_bytes" "$build_seconds") |"
echo
echo "Ratio, build throughput / zlib throughput: **$ratio** (target: at least 0.8)"
echo
echo "### 4 KiB random reads through the get-file path"
echo
echo "| span size | spans | reads | p50 ms | p90 ms | p99 ms |"
echo "| --- | --- | --- | --- | --- | --- |"
for span in 65536 1048576 4194304; do
  line=$(java -cp "$classpath" dev.jsoci.bench.ZtocBenchmark read "$layer" "$span" 400)
  get() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<< "$line"; }
  echo "| $span | $(get spans) | $(get reads) | $(get p50_ms) | $(get p90_ms) | $(get p99_ms) |"
done
