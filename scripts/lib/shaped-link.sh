#!/usr/bin/env bash
# Sets up, measures and removes a shaped network link between two network namespaces: one for a
# registry (PREFIX-reg, address 10.213.0.1) and one for the node that pulls (PREFIX-node,
# 10.213.0.2). Each namespace has one TUN device. delay_forwarder.py moves packets between the
# two and delays each by half the round-trip time, and tc's tbf limits the rate on both devices.
# This replaces netem, which kernels built without sch_netem lack.
#
# Usage: shaped-link.sh [OPTIONS] up|down|selftest
#   up        create the namespaces, devices and qdiscs, start the forwarder
#   down      stop the forwarder, remove the namespaces (and with them the devices)
#   selftest  measure the round-trip time (ping) and one TCP stream's throughput (curl of a file
#             from python3 -m http.server in the registry namespace); the link must be up
# Options:
#   --rate RATE       tbf rate in tc's units, for example 1gbit or 200mbit (default 1gbit)
#   --rtt-ms MS       round-trip time in milliseconds, split evenly between directions (default 20)
#   --prefix NAME     namespace and state name prefix (default jsoci-bench)
#   --state-dir DIR   where the forwarder's PID and log go (default /run/NAME-link)
#   --mtu BYTES       MTU of the TUN devices (default 9000, jumbo frames). Larger values lower
#                     the packet rate, but some TCP receive windows then stop growing.
#   --help            print this text
# Needs root, ip and tc (iproute2), python3, ping (or busybox), curl.
set -euo pipefail

script_dir="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"

rate=1gbit
rtt_ms=20
prefix=jsoci-bench
state_dir=
mtu=9000
action=

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
fail() { echo "shaped-link.sh: $*" >&2; exit 1; }

while (($# > 0)); do
  case "$1" in
    --rate) rate="${2:?--rate needs a value such as 1gbit}"; shift 2 ;;
    --rtt-ms) rtt_ms="${2:?--rtt-ms needs a number of milliseconds}"; shift 2 ;;
    --prefix) prefix="${2:?--prefix needs a name}"; shift 2 ;;
    --state-dir) state_dir="${2:?--state-dir needs a directory}"; shift 2 ;;
    --mtu) mtu="${2:?--mtu needs a number of bytes}"; shift 2 ;;
    --help|-h) usage; exit 0 ;;
    up|down|selftest) action="$1"; shift ;;
    *) fail "unknown argument '$1'; run with --help" ;;
  esac
done
[[ -n "$action" ]] || fail "missing action: up, down or selftest; run with --help"
[[ "$rtt_ms" =~ ^[0-9]+([.][0-9]+)?$ ]] || fail "invalid --rtt-ms '$rtt_ms': expected a number of milliseconds"
[[ "$rate" =~ ^[0-9]+([.][0-9]+)?(bit|kbit|mbit|gbit|bps|kbps|mbps|gbps)$ ]] \
  || fail "invalid --rate '$rate': expected a number with a tc unit, for example 1gbit or 200mbit"
[[ "$mtu" =~ ^[0-9]+$ ]] && ((mtu >= 1280 && mtu <= 65535)) \
  || fail "invalid --mtu '$mtu': expected 1280 to 65535 bytes"
[[ "$prefix" =~ ^[a-z0-9-]{1,20}$ ]] || fail "invalid --prefix '$prefix': use 1-20 of a-z, 0-9 and -"
[[ $(id -u) -eq 0 ]] || fail "needs root to create network namespaces"
state_dir="${state_dir:-/run/$prefix-link}"

registry_netns="$prefix-reg"
node_netns="$prefix-node"
# Interface names are at most 15 bytes.
registry_tun="jbt-reg"
node_tun="jbt-node"
registry_addr=10.213.0.1
node_addr=10.213.0.2

in_registry() { nsenter --net="/run/netns/$registry_netns" "$@"; }
in_node() { nsenter --net="/run/netns/$node_netns" "$@"; }

link_down() {
  local pid_file="$state_dir/forwarder.pid"
  if [[ -f "$pid_file" ]]; then
    local pid
    pid=$(cat "$pid_file")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      if kill -0 "$pid" 2>/dev/null; then
        echo "shaped-link.sh: the forwarder (PID $pid) did not stop within 5 s of SIGTERM; sending SIGKILL" >&2
        kill -KILL "$pid"
      fi
    fi
    rm -f "$pid_file"
  fi
  local netns
  for netns in "$registry_netns" "$node_netns"; do
    if [[ -e "/run/netns/$netns" ]]; then
      ip netns delete "$netns"
    fi
  done
}

configure_end() {
  local netns="$1" tun="$2" addr="$3" peer="$4"
  ip netns add "$netns"
  ip -n "$netns" link set lo up
  ip -n "$netns" tuntap add dev "$tun" mode tun
  ip -n "$netns" link set "$tun" mtu "$mtu"
  ip -n "$netns" addr add "$addr" peer "$peer/32" dev "$tun"
  ip -n "$netns" link set "$tun" up
  # The bucket takes a few full-size packets, and up to 25 ms of data may queue before drops.
  tc -n "$netns" qdisc add dev "$tun" root tbf rate "$rate" burst $((4 * mtu)) latency 25ms
}

link_up() {
  if [[ -e "/run/netns/$registry_netns" || -e "/run/netns/$node_netns" ]]; then
    fail "namespace $registry_netns or $node_netns already exists; run '$0 --prefix $prefix down' first"
  fi
  mkdir -p "$state_dir"
  configure_end "$registry_netns" "$registry_tun" "$registry_addr" "$node_addr"
  configure_end "$node_netns" "$node_tun" "$node_addr" "$registry_addr"

  local delay_ms
  delay_ms=$(python3 -c "print(float('$rtt_ms') / 2)")
  local ready="$state_dir/forwarder.ready"
  rm -f "$ready"
  setsid python3 "$script_dir/delay_forwarder.py" --delay-ms "$delay_ms" \
    "$registry_netns" "$registry_tun" "$node_netns" "$node_tun" \
    > "$ready" 2> "$state_dir/forwarder.log" < /dev/null &
  echo $! > "$state_dir/forwarder.pid"
  for _ in $(seq 100); do
    grep -q ready "$ready" 2>/dev/null && break
    kill -0 "$(cat "$state_dir/forwarder.pid")" 2>/dev/null \
      || fail "the forwarder exited: $(cat "$state_dir/forwarder.log")"
    sleep 0.05
  done
  grep -q ready "$ready" || fail "the forwarder did not attach to the TUN devices within 5 s"
  if ! in_node ping -c 1 -W 2 "$registry_addr" > /dev/null 2>&1 \
    && ! in_node busybox ping -c 1 -W 2 "$registry_addr" > /dev/null 2>&1; then
    fail "no reply from $registry_addr across the link; see $state_dir/forwarder.log"
  fi
  echo "registry_netns=$registry_netns registry_addr=$registry_addr node_netns=$node_netns node_addr=$node_addr rate=$rate rtt_ms=$rtt_ms"
}

selftest_server_pid=
selftest_dir=
stop_selftest_server() {
  if [[ -n "$selftest_server_pid" ]]; then
    kill "$selftest_server_pid" 2>/dev/null || true
    wait "$selftest_server_pid" 2>/dev/null || true
  fi
  if [[ -n "$selftest_dir" ]]; then
    rm -rf "$selftest_dir"
  fi
}

link_selftest() {
  [[ -e "/run/netns/$registry_netns" ]] || fail "the link is not up; run '$0 --prefix $prefix up' first"
  local ping_cmd=(ping)
  command -v ping > /dev/null || ping_cmd=(busybox ping)
  local rtt
  # The summary line reads "rtt min/avg/max/mdev = a/b/c/d ms" (iputils) or
  # "round-trip min/avg/max = a/b/c ms" (busybox).
  rtt=$(in_node "${ping_cmd[@]}" -c 20 -i 0.2 "$registry_addr" \
    | sed -n 's|.*min/avg/max[^=]*= *\([0-9.]*\)/\([0-9.]*\)/\([0-9.]*\).*|\1 \2 \3|p')
  [[ -n "$rtt" ]] || fail "ping across the link printed no round-trip summary"
  read -r rtt_min rtt_avg rtt_max <<< "$rtt"

  local serve_dir payload_bytes=$((256 * 1048576))
  serve_dir=$(mktemp -d "/tmp/$prefix-selftest.XXXXXX")
  head -c "$payload_bytes" /dev/urandom > "$serve_dir/payload"
  # nsenter executes python3 in place, so $! is the server's own PID.
  nsenter --net="/run/netns/$registry_netns" python3 -m http.server --bind "$registry_addr" \
    --directory "$serve_dir" 8713 > /dev/null 2>&1 &
  selftest_server_pid=$!
  selftest_dir="$serve_dir"
  trap stop_selftest_server EXIT
  for _ in $(seq 100); do
    in_node curl -fs -o /dev/null "http://$registry_addr:8713/" && break
    sleep 0.1
  done
  local speed
  speed=$(in_node curl -fs -o /dev/null -w '%{speed_download} %{time_total}' \
    "http://$registry_addr:8713/payload")
  read -r bytes_per_second seconds <<< "$speed"
  python3 - "$rtt_min" "$rtt_avg" "$rtt_max" "$bytes_per_second" "$seconds" "$rate" "$rtt_ms" "$payload_bytes" <<'PY'
import sys
rtt_min, rtt_avg, rtt_max, speed, seconds = map(float, sys.argv[1:6])
print(f"rate={sys.argv[6]} rtt_ms_set={sys.argv[7]} rtt_ms_min={rtt_min:.2f} rtt_ms_avg={rtt_avg:.2f} "
      f"rtt_ms_max={rtt_max:.2f} stream_mb_s={speed / 1e6:.1f} stream_seconds={seconds:.2f} "
      f"stream_bytes={sys.argv[8]}")
PY
}

case "$action" in
  up) link_up ;;
  down) link_down ;;
  selftest) link_selftest ;;
esac
