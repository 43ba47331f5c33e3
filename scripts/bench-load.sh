#!/usr/bin/env bash
# Runs many concurrent readers over layers that bin/jsoci-snapshotter mounted lazily, and measures
# the daemon's resident memory. Prints a Markdown block for docs/benchmarks.md.
#
# Usage: scripts/bench-load.sh [WORK_DIR]   (default /tmp/jsoci-bench-load; its load and memory
#        subdirectories are replaced)
# Needs root, /dev/fuse, fusermount, docker-registry, skopeo, python3 and a checkout built with
# `mvn -q -DskipTests package` (which also compiles the test classes this script runs).
# JSOCI_JAVA_OPTS reaches the daemon, as it does through bin/jsoci-snapshotter.
#
# Two runs, each against a new daemon and registry on 127.0.0.1:
#   load:   10 layers (300 files of 0-32 KiB and 3 files of 8 MiB each), 64 readers, 60 s
#   memory: 50 layers (300 files of 0-32 KiB and 3 files of 1 MiB each), 64 readers, 30 s
# Readers mix whole-file reads (SHA-256 checked), random ranges (compared with the source bytes)
# and directory listings with stats. The background fetcher is on. A read that takes over 60 s
# stops the run with a thread dump of the daemon.
set -euo pipefail

root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
# shellcheck source=scripts/lib/bench-args.sh
source "$root/scripts/lib/bench-args.sh"
bench_check_args "$0" "$@"
work="${1:-/tmp/jsoci-bench-load}"
if [[ $EUID -ne 0 ]]; then
  echo "bench-load.sh: FUSE mounts need root; run this script as root" >&2
  exit 1
fi
for built in snapshotter/target/jsoci-snapshotter.jar integration-tests/target/test-classes \
  test-support/target/classes; do
  if [[ ! -e "$root/$built" ]]; then
    echo "bench-load.sh: $built is missing; run 'mvn -q -DskipTests package' in $root" >&2
    exit 1
  fi
done
classpath="$root/integration-tests/target/test-classes:$root/test-support/target/classes"
classpath+=":$root/snapshotter/target/jsoci-snapshotter.jar:$root/snapshotter/target/lib/*"

busy_cpu() {
  read -r _ u1 n1 s1 i1 w1 q1 sq1 _ < /proc/stat
  sleep "$1"
  read -r _ u2 n2 s2 i2 w2 q2 sq2 _ < /proc/stat
  local busy=$(((u2 + n2 + s2 + q2 + sq2) - (u1 + n1 + s1 + q1 + sq1)))
  local idle=$(((i2 + w2) - (i1 + w1)))
  echo $((100 * busy / (busy + idle)))
}

# Runs one load cycle; prints the summary line of LoadRun (key=value pairs).
run_load() {
  local name=$1 layers=$2 seconds=$3 big_mib=$4
  rm -rf "${work:?}/$name"
  mkdir -p "$work/$name"
  java -cp "$classpath" dev.jsoci.it.LoadRun "$work/$name" "$root" "$layers" 64 "$seconds" \
    "$big_mib" > "$work/$name.out" 2>&1 || {
    echo "bench-load.sh: the $name run failed; its output:" >&2
    cat "$work/$name.out" >&2
    exit 1
  }
  grep '^layers=' "$work/$name.out"
}

# Returns the value of KEY in a summary line.
field() { tr ' ' '\n' <<< "$1" | sed -n "s/^$2=//p"; }

mkdir -p "$work"
busy_load=$(busy_cpu 1)
load=$(run_load load 10 60 8)
busy_memory=$(busy_cpu 1)
memory=$(run_load memory 50 30 1)

echo "### Concurrent readers and resident memory"
echo
echo "- machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)," \
  "$(grep MemTotal /proc/meminfo | awk '{printf "%.0f GiB", $2 / 1048576}'), $(java -version 2>&1 | head -1)"
echo "- command: \`scripts/bench-load.sh\`, $(date -u +%Y-%m-%d); registry: Debian docker-registry on 127.0.0.1"
echo "- daemon JVM options: \`$(field "$load" jvm_options | tr ',' ' ')\`"
echo
echo "| run | layers | seconds | busy CPU before | reads | MiB read | failures | p50 ms | p99 ms | daemon threads |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for pair in "load:$busy_load" "memory:$busy_memory"; do
  name=${pair%%:*}
  line=$([[ $name == load ]] && echo "$load" || echo "$memory")
  echo "| $name | $(field "$line" layers) | $(field "$line" seconds) | ${pair#*:}% |" \
    "$(field "$line" reads) | $(($(field "$line" bytes) / 1048576)) | $(field "$line" failures) |" \
    "$(field "$line" p50_ms) | $(field "$line" p99_ms) | $(field "$line" daemon_threads) |"
done
echo
echo "| daemon resident memory, MiB | VmRSS idle | VmRSS max under load | VmHWM |"
echo "| --- | --- | --- | --- |"
for name in load memory; do
  line=$([[ $name == load ]] && echo "$load" || echo "$memory")
  echo "| $(field "$line" layers) layers | $(field "$line" rss_idle_mib) |" \
    "$(field "$line" rss_load_max_mib) | $(field "$line" hwm_mib) |"
done
