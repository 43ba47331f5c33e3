#!/usr/bin/env bash
# Times one cold start: from the start of the pull to the first line the container prints, with
# a new containerd (and for lazy pulls a new jsoci-snapshotter) whose root directories are empty.
# scripts/bench-cold-start.sh runs this inside the node's network namespace and a private mount
# namespace (nsenter --net=... unshare --mount --propagation private), so the mounts made here
# (tmpfs, overlay, FUSE, the bind mounts over /etc/containerd and /run/containerd) are seen by
# no other process on the machine.
#
# Usage: cold-start-run.sh MODE REFERENCE WARMUP_REFERENCE RUN_DIR RESULT_JSON
#   MODE              full-disk (ctr images pull, containerd's overlayfs snapshotter, root on
#                     RUN_DIR's filesystem), full-tmpfs (the same with containerd's root on a
#                     tmpfs) or lazy (ctr-remote images rpull with the jsoci snapshotter, roots on
#                     RUN_DIR's filesystem), lazy-no-background (lazy with the daemon's
#                     background fetch turned off) or lazy-prefetch (lazy, for an image whose
#                     SOCI index has prefetch artifacts, with the daemon's prefetch turned on)
#   REFERENCE         the image to time, on a plain-http registry
#   WARMUP_REFERENCE  another image, pulled and run the same way before the timing so that the
#                     daemons' first-call costs (class loading, the FUSE library) are not timed,
#                     as on a node whose containerd and snapshotter have served images before
#   RUN_DIR           a directory that must not exist yet; it is removed at the end
#   RESULT_JSON       where the timings go (one JSON object)
# Environment: JSOCI_BENCH_TUN, the node's link device, whose byte counters give the bytes
# received during the timed pull and run; JSOCI_BENCH_SNAPSHOTTER_CONFIG, optional text of the
# daemon's config.toml (empty for the defaults); JSOCI_BENCH_LOG_LEVEL, the daemon's log level.
set -euo pipefail

lib="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
# shellcheck source=coldstart.sh
source "$lib/coldstart.sh"

(($# == 5)) || { echo "usage: cold-start-run.sh MODE REFERENCE WARMUP_REFERENCE RUN_DIR RESULT_JSON" >&2; exit 2; }
mode="$1" reference="$2" warmup_reference="$3" run_dir="$4" result="$5"
tun="${JSOCI_BENCH_TUN:?JSOCI_BENCH_TUN must name the link device of this network namespace}"
case "$mode" in
  full-disk|full-tmpfs) puller=full snapshotter=overlayfs ;;
  lazy|lazy-no-background|lazy-prefetch) puller=ctr-remote snapshotter=soci ;;
  *) echo "cold-start-run.sh: invalid MODE '$mode': use full-disk, full-tmpfs, lazy, lazy-no-background or lazy-prefetch" >&2; exit 2 ;;
esac
[[ ! -e "$run_dir" ]] || { echo "cold-start-run.sh: $run_dir already exists; give a new directory" >&2; exit 2; }

run_containerd_existed=1
cleanup() {
  local status=$?
  # Without errexit, a failed step does not skip the ones after it.
  set +e
  coldstart_containerd_stop "$run_dir/containerd"
  coldstart_snapshotter_stop "$run_dir/jsoci"
  coldstart_unmount_under "$run_dir"
  umount /etc/containerd 2>/dev/null || true
  umount /run/containerd 2>/dev/null || true
  if [[ -z "$run_containerd_existed" ]]; then
    rmdir /run/containerd 2>/dev/null || true
  fi
  rm -rf "$run_dir"
  exit "$status"
}
trap cleanup EXIT

mkdir -p "$run_dir"/{etc/certs.d,run,containerd-root,jsoci-root}
# containerd 1.6 writes shim sockets and runc state under /run/containerd whatever its state
# directory is: this run gets its own, in this mount namespace only.
run_containerd_existed=
if [[ -d /run/containerd ]]; then
  run_containerd_existed=1
fi
mkdir -p /run/containerd
mount --bind "$run_dir/run" /run/containerd
if [[ "$mode" == full-tmpfs ]]; then
  mount -t tmpfs -o mode=0711 jsoci-bench "$run_dir/containerd-root"
fi

# The daemon reads registry hosts from /etc/containerd/certs.d and uses https for every registry
# that is not on loopback, so this hosts.toml gives the benchmark's registry an http:// server URL.
registry_host="${reference%%/*}"
if [[ -f /etc/containerd/config.toml ]]; then
  cp /etc/containerd/config.toml "$run_dir/etc/"
fi
mkdir -p "$run_dir/etc/certs.d/$registry_host"
echo "server = \"http://$registry_host\"" > "$run_dir/etc/certs.d/$registry_host/hosts.toml"
mount --bind "$run_dir/etc" /etc/containerd

snapshotter_config="${JSOCI_BENCH_SNAPSHOTTER_CONFIG:-}"
if [[ "$mode" == lazy-no-background ]]; then
  snapshotter_config+=$'\n[background_fetch]\ndisable = true'
fi
if [[ "$mode" == lazy-prefetch ]]; then
  snapshotter_config+=$'\n[prefetch]\nenable = true'
fi
if [[ "$snapshotter" == soci ]]; then
  coldstart_snapshotter_start "$run_dir/jsoci" "$snapshotter_config" "$run_dir/jsoci-root"
fi
coldstart_containerd_start "$run_dir/containerd" "$run_dir/containerd-root" \
  soci "$run_dir/jsoci/jsoci.sock"

coldstart_time_to_first_output "$puller" "$run_dir/containerd" "$(coldstart_namespace jsoci-bench-warmup)" \
  "$snapshotter" "$warmup_reference" "$run_dir/warmup" > /dev/null

# /proc/net/dev lists the devices of the reader's network namespace: here the node's end of the
# link. Fields 2 and 10 are the bytes received and sent.
link_bytes() { awk -v dev="$tun:" '$1 == dev { print $2, $10 }' /proc/net/dev; }

read -r received_before sent_before <<< "$(link_bytes)"
ticks_before=$(coldstart_cpu_ticks)
coldstart_time_to_first_output "$puller" "$run_dir/containerd" "$(coldstart_namespace jsoci-bench)" \
  "$snapshotter" "$reference" "$run_dir/timed" > /dev/null
ticks_after=$(coldstart_cpu_ticks)
read -r received_after sent_after <<< "$(link_bytes)"

if [[ "$snapshotter" == soci ]]; then
  cp "$run_dir/jsoci/log" "${result%.json}.jsoci.log"
fi
# The container's output and ctr's messages, to tell a wrong output from a lost one.
cp "$run_dir/timed/output" "${result%.json}.output"
cp "$run_dir/timed/run.log" "${result%.json}.run.log"

python3 - "$result" "$mode" "$reference" "$(< "$run_dir/timed/seconds")" \
  "$(< "$run_dir/timed/pull-seconds")" "$(head -n 1 "$run_dir/timed/output")" \
  "$((received_after - received_before))" "$((sent_after - sent_before))" \
  "$(coldstart_busy_percent "$ticks_before" "$ticks_after")" <<'PY'
import json, sys
path, mode, reference, seconds, pull_seconds, first_line, received, sent, busy = sys.argv[1:]
with open(path, "w") as f:
    json.dump({
        "mode": mode,
        "reference": reference,
        "seconds": float(seconds),
        "pull_seconds": float(pull_seconds),
        "first_line": first_line,
        "bytes_received": int(received),
        "bytes_sent": int(sent),
        "busy_cpu_percent": int(busy),
    }, f, indent=1)
PY
