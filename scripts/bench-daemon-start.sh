#!/usr/bin/env bash
# Measures the time from starting jsoci-snapshotter to the first gRPC call it completes, with an
# empty root and socket in a temporary directory. A checking client (jsoci-snapshotter --check)
# is started first and polls the socket, so its own JVM start is not counted. Prints one line
# per run and the median, in milliseconds.
#
# Usage: scripts/bench-daemon-start.sh [RUNS]   (default 5)
# Needs a built checkout (mvn -q -DskipTests package).
set -euo pipefail

root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
# shellcheck source=scripts/lib/bench-args.sh
source "$root/scripts/lib/bench-args.sh"
bench_check_args "$0" "$@"
runs="${1:-5}"
if ! [[ "$runs" =~ ^[1-9][0-9]*$ ]]; then
  echo "bench-daemon-start.sh: invalid RUNS '$runs': expected a positive whole number" >&2
  exit 2
fi
launcher="$root/bin/jsoci-snapshotter"
work="$(mktemp -d /tmp/jsoci-bench-start.XXXXXX)"
daemon_pid=""

cleanup() {
  if [[ -n "$daemon_pid" ]] && kill -0 "$daemon_pid" 2>/dev/null; then
    kill -TERM "$daemon_pid"
    wait "$daemon_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

busy_cpu() {
  # Prints the machine-wide busy CPU percentage over the given number of seconds.
  read -r _ u1 n1 s1 i1 w1 q1 sq1 _ < /proc/stat
  sleep "$1"
  read -r _ u2 n2 s2 i2 w2 q2 sq2 _ < /proc/stat
  local busy=$(( (u2 + n2 + s2 + q2 + sq2) - (u1 + n1 + s1 + q1 + sq1) ))
  local idle=$(( (i2 + w2) - (i1 + w1) ))
  echo $(( 100 * busy / (busy + idle) ))
}

echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
echo "java: $(java -version 2>&1 | head -1)"
echo "machine-wide busy CPU before the runs: $(busy_cpu 1)%"

results=()
for run in $(seq 1 "$runs"); do
  dir="$work/run-$run"
  mkdir -p "$dir"
  socket="$dir/run/jsoci.sock"

  # The checker polls for up to 30 s and prints
  # "ok: jsoci-snapshotter at SOCKET answered in N ms, at ISO_8601_INSTANT".
  "$launcher" --check --check-timeout 30 --address "$socket" > "$dir/check.out" 2>&1 &
  check_pid=$!
  sleep 1.5

  # An empty config file: the defaults, without reading /etc/jsoci/config.toml.
  : > "$dir/config.toml"
  start_ms=$(date +%s%3N)
  "$launcher" --root "$dir/root" --address "$socket" --config "$dir/config.toml" \
    > "$dir/daemon.log" 2>&1 &
  daemon_pid=$!
  wait "$check_pid" || { echo "run $run: the daemon did not answer"; cat "$dir/daemon.log"; exit 1; }
  answered_at=$(sed -n 's/^ok: .* answered in [0-9]* ms, at \(.*\)$/\1/p' "$dir/check.out")
  answered_ms=$(date -d "$answered_at" +%s%3N)
  elapsed=$(( answered_ms - start_ms ))
  results+=("$elapsed")
  echo "run $run: first answered call after $elapsed ms"

  kill -TERM "$daemon_pid"
  wait "$daemon_pid" 2>/dev/null || true
  daemon_pid=""
done

median=$(printf '%s\n' "${results[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
echo "median of $runs runs: $median ms (target: under 2000 ms)"
