#!/usr/bin/env bash
# Starts a container from a large image twice, after a full pull and after a lazy pull through
# jsoci, and prints both times to the container's first line of output.
set -euo pipefail

root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
# shellcheck source=scripts/lib/packages.sh
source "$root/scripts/lib/packages.sh"
# shellcheck source=scripts/lib/coldstart.sh
source "$root/scripts/lib/coldstart.sh"

usage() {
  cat << 'EOF'
Usage: scripts/demo.sh [OPTIONS]

Builds jsoci, starts a loopback docker-registry, jsoci-snapshotter and containerd under one
temporary directory, builds a sample image and converts it with `jsoci convert`, then starts a
container from it twice: after `ctr images pull` (full pull, overlayfs snapshotter) and after a
lazy pull through jsoci. Each time is measured from the start of the pull to the container's
first line of output. Installs missing Debian packages with apt-get. Needs root and /dev/fuse.

The last line reads: full pull: <seconds> s, lazy: <seconds> s, speed-up: <ratio>x

Options:
  --size MB             file data in the image, in MiB (default 512, at least 32)
  --layers N            gzip layers of file data (default 4)
  --startup-fraction F  share of each layer's bytes that the container reads at start
                        (default 0.02)
  --puller NAME         lazy pull with ctr-remote (`ctr-remote images rpull`, default) or jsoci
                        (`jsoci rpull`, which adds a JVM start and a per-layer report)
  --disk                keep containerd's and jsoci's roots on disk instead of a tmpfs
  --keep                keep the work directory (logs, image, registry data) after the run
  --no-warm-up          skip the untimed pull and run of a 32 MiB image that compiles the
                        jsoci daemon's code before the timed runs
  --no-build            use the jsoci already built in this checkout
  -h, --help            print this help
EOF
}

size_mb=512
layers=4
startup_fraction=0.02
puller=ctr-remote
use_tmpfs=true
keep=false
build=true
warm_up=true
while (($# > 0)); do
  case $1 in
    --size | --layers | --startup-fraction | --puller)
      if (($# < 2)); then
        echo "demo.sh: option $1 needs a value; see scripts/demo.sh --help" >&2
        exit 2
      fi
      ;;&
    --size) size_mb=$2; shift 2 ;;
    --layers) layers=$2; shift 2 ;;
    --startup-fraction) startup_fraction=$2; shift 2 ;;
    --puller) puller=$2; shift 2 ;;
    --disk) use_tmpfs=false; shift ;;
    --keep) keep=true; shift ;;
    --no-build) build=false; shift ;;
    --no-warm-up) warm_up=false; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "demo.sh: unknown option '$1'; see scripts/demo.sh --help" >&2; exit 2 ;;
  esac
done
if ! [[ $size_mb =~ ^[0-9]+$ ]] || ((size_mb < 32)); then
  echo "demo.sh: --size '$size_mb' is invalid; give a whole number of MiB, at least 32" >&2
  exit 2
fi
# 32 MiB of data compress to about 13 MiB, above the 10 MiB that jsoci convert needs for a zTOC.
if ! [[ $layers =~ ^[0-9]+$ ]] || ((layers < 1 || layers > size_mb / 32)); then
  echo "demo.sh: --layers '$layers' is invalid; give 1 to $((size_mb / 32)) so that every layer" \
    "contains at least 32 MiB" >&2
  exit 2
fi
if ! [[ $startup_fraction =~ ^(0?\.[0-9]*[1-9][0-9]*|1(\.0*)?)$ ]]; then
  echo "demo.sh: --startup-fraction '$startup_fraction' is invalid; give a number above 0 and" \
    "at most 1, such as 0.02" >&2
  exit 2
fi
if [[ $puller != ctr-remote && $puller != jsoci ]]; then
  echo "demo.sh: --puller '$puller' is invalid; give ctr-remote or jsoci" >&2
  exit 2
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "demo.sh: needs root (containerd, runc, FUSE and overlay mounts)" >&2
  exit 1
fi
if [[ ! -c /dev/fuse ]]; then
  echo "demo.sh: /dev/fuse is missing; load the fuse module (modprobe fuse)" >&2
  exit 1
fi

# The step that runs now, in the background so that signals reach the trap at once.
step_pid=""
work=""
tmpfs=""
failed_step=""

# Sends SIGTERM to PID and every process below it, then SIGKILL to those still running after 5 s.
kill_tree() {
  local pids=("$1") index=0 child
  while ((index < ${#pids[@]})); do
    for child in $(pgrep -P "${pids[index]}" || true); do
      pids+=("$child")
    done
    index=$((index + 1))
  done
  kill -TERM "${pids[@]}" 2> /dev/null || true
  for _ in $(seq 50); do
    kill -0 "${pids[@]}" 2> /dev/null || break
    sleep 0.1
  done
  kill -KILL "${pids[@]}" 2> /dev/null || true
  wait "$1" 2> /dev/null || true
}

cleanup() {
  local status=$?
  # Cleaning up goes on past failures, and a second Ctrl-C does not cut it short.
  set +e
  trap '' INT TERM
  if [[ -n $step_pid ]]; then
    kill_tree "$step_pid"
  fi
  if [[ -n $work ]]; then
    coldstart_containerd_stop "$work/containerd"
    coldstart_snapshotter_stop "$work/jsoci"
    coldstart_registry_stop "$work/registry"
    if [[ -n $tmpfs ]] && mountpoint -q "$tmpfs"; then
      umount "$tmpfs" || umount -l "$tmpfs"
    fi
    if [[ -n $(coldstart_mounts_under "$work") ]]; then
      echo "demo.sh: mounts remain under $work; not removing it:" >&2
      coldstart_mounts_under "$work" >&2
    elif [[ $keep == true ]]; then
      if ((status != 0)); then
        echo "demo.sh: kept $work" >&2
      fi
    elif [[ -n $failed_step ]]; then
      # Keeps the logs of a failed run and drops the image data.
      local logs
      logs=$(mktemp -d /tmp/jsoci-demo-logs.XXXXXX)
      (cd "$work" && find . -name '*log*' -type f -size -64M -exec cp --parents {} "$logs" \;)
      rm -rf "$work"
      echo "demo.sh: logs of this run are in $logs" >&2
    else
      rm -rf "$work"
    fi
  fi
  exit "$status"
}
trap cleanup EXIT
# Exits with 128 plus the signal number, as a shell does for a command killed by the signal.
on_signal() {
  echo "demo.sh: $1${failed_step:+ during: $failed_step}; cleaning up" >&2
  exit "$2"
}
trap 'on_signal interrupted 130' INT
trap 'on_signal terminated 143' TERM

# Runs a step in the background and waits for it; on failure, names the step and exits. The step
# ignores SIGINT, so that Ctrl-C reaches this shell's trap, which stops the step.
run_step() {
  local description=$1
  shift
  failed_step=$description
  printf '%s: %s\n' "$(date +%T)" "$description"
  (
    trap '' INT
    "$@"
  ) &
  step_pid=$!
  local status=0
  wait "$step_pid" || status=$?
  step_pid=""
  if ((status != 0)); then
    echo "demo.sh: step failed: $description (status $status)" >&2
    exit 1
  fi
  failed_step=""
}

run_step "installing missing Debian packages" \
  install_missing_packages demo.sh "${COLDSTART_PACKAGES[@]}"
work=$(mktemp -d /tmp/jsoci-demo.XXXXXX)
echo "work directory: $work"
mkdir -p "$work/containerd" "$work/jsoci" "$work/registry" "$work/image"
if [[ $build == true ]]; then
  run_step "building jsoci (mvn package, log: $work/build.log)" \
    coldstart_build_jsoci "$work/build.log"
fi

containerd_root=$work/containerd/root
snapshotter_root=$work/jsoci/root
if [[ $use_tmpfs == true ]]; then
  tmpfs=$work/tmpfs
  mkdir -p "$tmpfs"
  # Room for the pulled blobs (0.4 times the data), the unpacked layers and the span cache. A
  # tmpfs takes memory only for the files written to it.
  if ! mount -t tmpfs -o "size=$((size_mb * 3 + 512))m,mode=0700" jsoci-demo "$tmpfs"; then
    failed_step="mounting a tmpfs at $tmpfs"
    echo "demo.sh: mounting a tmpfs at $tmpfs failed; run with --disk to use the disk" >&2
    exit 1
  fi
  containerd_root=$tmpfs/containerd
  snapshotter_root=$tmpfs/jsoci
fi
run_step "starting docker-registry on 127.0.0.1" coldstart_registry_start "$work/registry"
registry=$(< "$work/registry/address")
run_step "starting jsoci-snapshotter" \
  coldstart_snapshotter_start "$work/jsoci" "" "$snapshotter_root"
run_step "starting containerd with jsoci as snapshotter soci" \
  coldstart_containerd_start "$work/containerd" "$containerd_root" soci "$work/jsoci/jsoci.sock"

run_step "building a $size_mb MiB image of $layers layers (log: $work/image/build.log)" \
  coldstart_image_build "$work/image" "$size_mb" "$layers" "$startup_fraction"
plain=$registry/demo/app:v1
soci=$registry/demo/app:v1-soci
run_step "pushing $plain" coldstart_image_push "$work/image" "$plain"
run_step "converting it to $soci (jsoci convert)" \
  coldstart_image_convert "$plain" "$soci" "$work/convert.log"
if [[ $warm_up == true ]]; then
  run_step "warming up: pulling and running a 32 MiB image fully and lazily" \
    coldstart_warm_up "$work/warm-up" "$work/containerd" "$registry" soci "$puller" \
    "$work/jsoci/jsoci.sock"
fi
run_step "reading the registry's blobs into the page cache" coldstart_registry_warm "$work/registry"

# Stores the seconds in OUT_DIR/seconds only; the summary prints them.
time_to_first_output() {
  coldstart_time_to_first_output "$@" > /dev/null
}

full_namespace=$(coldstart_namespace jsoci-demo-full)
lazy_namespace=$(coldstart_namespace jsoci-demo-lazy)
ticks_before=$(coldstart_cpu_ticks)
run_step "full pull and run (ctr images pull, overlayfs)" time_to_first_output full \
  "$work/containerd" "$full_namespace" overlayfs "$plain" "$work/full"
ticks_full=$(coldstart_cpu_ticks)
run_step "removing the fully pulled image" \
  coldstart_image_remove "$work/containerd" "$full_namespace" "$plain"
ticks_lazy_start=$(coldstart_cpu_ticks)
run_step "lazy pull and run ($puller, snapshotter soci)" time_to_first_output "$puller" \
  "$work/containerd" "$lazy_namespace" soci "$soci" "$work/lazy" "$work/jsoci/jsoci.sock"
ticks_lazy=$(coldstart_cpu_ticks)
lazy_layers=$(coldstart_lazy_layer_count "$work/jsoci")
if ((lazy_layers != layers)); then
  failed_step="checking the lazy pull"
  echo "demo.sh: jsoci mounted $lazy_layers of the image's $layers data layers lazily, expected" \
    "all; see $work/jsoci/log and $work/lazy/pull.log" >&2
  exit 1
fi
run_step "removing the lazily pulled image" \
  coldstart_image_remove "$work/containerd" "$lazy_namespace" "$soci"

expected=$(< "$work/image/expected-output")
for run in full lazy; do
  output=$(head -n 1 "$work/$run/output")
  if [[ $output != "$expected" ]]; then
    failed_step="checking the output of the $run run"
    echo "demo.sh: the $run run printed '$output', expected '$expected'" >&2
    exit 1
  fi
done

full_seconds=$(< "$work/full/seconds")
lazy_seconds=$(< "$work/lazy/seconds")
compressed_mib=$(du -sm --apparent-size "$work/image/layout/blobs" | cut -f1)
echo
echo "image: $size_mb MiB of files in $layers layers plus busybox, $compressed_mib MiB compressed"
echo "container output: $expected"
echo "full pull: pull $(< "$work/full/pull-seconds") s, first output at $full_seconds s," \
  "busy CPU $(coldstart_busy_percent "$ticks_before" "$ticks_full") %"
echo "lazy pull: pull $(< "$work/lazy/pull-seconds") s, first output at $lazy_seconds s," \
  "$lazy_layers of $layers data layers mounted lazily, busy CPU $(coldstart_busy_percent "$ticks_lazy_start" "$ticks_lazy") %"
if [[ $keep == true ]]; then
  echo "work directory kept: $work (its processes are stopped and its mounts removed on exit)"
fi
speedup=$(LC_ALL=C awk -v f="$full_seconds" -v l="$lazy_seconds" 'BEGIN { printf "%.1f", f / l }')
echo "full pull: $full_seconds s, lazy: $lazy_seconds s, speed-up: ${speedup}x"
