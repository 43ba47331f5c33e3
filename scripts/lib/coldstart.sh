# shellcheck shell=bash
# Cold-start comparison of a full pull and a lazy pull through jsoci, for scripts that source it
# (scripts/demo.sh and the cold-start benchmark).
#
# Every function takes its directories and addresses as parameters, writes its files and logs
# under the directory it is given, and returns a non-zero status after printing on stderr what
# failed and which log to read. Each start function records the process it starts in DIR/pid
# ("PID START_TIME"), and its stop function ends that process only. Stop functions go on past
# failures, also under `set -e`, so an EXIT trap may call them at any stage: twice, or after a
# start that failed.
#
# Needs bash 5 (EPOCHREALTIME), a built checkout (mvn -q -DskipTests package), root, /dev/fuse,
# and the Debian packages in COLDSTART_PACKAGES.
#
# Registries: the jsoci daemon and `jsoci convert` use plain HTTP for localhost and 127.0.0.0/8
# only (other hosts need a hosts.toml under /etc/containerd/certs.d), so keep the registry address
# on loopback as seen from the daemon.

COLDSTART_ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)

# Debian packages the functions below call.
# shellcheck disable=SC2034 # read by the scripts that source this file
COLDSTART_PACKAGES=(
  tar gzip pigz python3 curl maven openjdk-17-jdk-headless
  docker-registry skopeo containerd runc busybox-static fuse stargz-snapshotter
)

# Entrypoint of the images that coldstart_image_build writes.
COLDSTART_ENTRYPOINT='["/bin/sh", "/app/start.sh"]'

# containerd 1.6 keeps runc state and task bundles under /run/containerd whatever its `state`
# setting is.
COLDSTART_RUN_CONTAINERD=/run/containerd

coldstart_error() {
  echo "coldstart: $*" >&2
  return 1
}

# coldstart_free_port: prints a TCP port that is free on 127.0.0.1 now.
coldstart_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# coldstart_namespace PREFIX: prints a containerd namespace name PREFIX-<8 random hex digits>.
coldstart_namespace() {
  echo "$1-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
}

# coldstart_cpu_ticks: prints the machine's busy and total CPU ticks from /proc/stat. Busy time
# is user, nice, system, irq, softirq and steal; total adds idle and iowait.
coldstart_cpu_ticks() {
  local user nice system idle iowait irq softirq steal busy
  read -r _ user nice system idle iowait irq softirq steal _ < /proc/stat
  busy=$((user + nice + system + irq + softirq + steal))
  echo "$busy $((busy + idle + iowait))"
}

# coldstart_busy_percent START_TICKS END_TICKS: prints the machine-wide busy CPU in percent
# between two outputs of coldstart_cpu_ticks.
coldstart_busy_percent() {
  local busy1 total1 busy2 total2
  read -r busy1 total1 <<< "$1"
  read -r busy2 total2 <<< "$2"
  if ((total2 == total1)); then
    echo 0
    return
  fi
  echo $((100 * (busy2 - busy1) / (total2 - total1)))
}

# coldstart_record_pid FILE PID: stores PID and its start time, so that a later process reusing
# the PID is not mistaken for the one started.
coldstart_record_pid() {
  local stat
  stat=$(cat "/proc/$2/stat" 2> /dev/null) || return 1
  # Field 22 of /proc/PID/stat is the start time; the command name (field 2) may hold spaces,
  # so fields are counted after its closing parenthesis.
  echo "$2 $(echo "${stat##*) }" | cut -d' ' -f20)" > "$1"
}

# coldstart_recorded_pid FILE: prints the PID in FILE when that process still runs.
coldstart_recorded_pid() {
  local pid start stat
  [[ -f $1 ]] || return 1
  read -r pid start < "$1" || return 1
  stat=$(cat "/proc/$pid/stat" 2> /dev/null) || return 1
  [[ $(echo "${stat##*) }" | cut -d' ' -f20) == "$start" ]] || return 1
  # A zombie has ended and only waits for its parent.
  [[ $(echo "${stat##*) }" | cut -d' ' -f1) != Z ]] || return 1
  echo "$pid"
}

# coldstart_stop_recorded FILE NAME TIMEOUT_SECONDS: sends SIGTERM to the process recorded in
# FILE, waits up to TIMEOUT_SECONDS for it to end, then sends SIGKILL.
coldstart_stop_recorded() {
  local file=$1 name=$2 timeout=$3 pid deadline
  pid=$(coldstart_recorded_pid "$file") || return 0
  kill -TERM "$pid" 2> /dev/null || true
  deadline=$((SECONDS + timeout))
  while coldstart_recorded_pid "$file" > /dev/null && ((SECONDS < deadline)); do
    sleep 0.1
  done
  if coldstart_recorded_pid "$file" > /dev/null; then
    echo "coldstart: $name (PID $pid) did not stop within $timeout s; sending SIGKILL" >&2
    kill -KILL "$pid" 2> /dev/null || true
    sleep 0.5
  fi
  # Reaps the process when it is a child of this shell; fails harmlessly otherwise.
  wait "$pid" 2> /dev/null || true
  rm -f "$file"
}

# coldstart_mounts_under DIR: prints the mount points below DIR, deepest first.
coldstart_mounts_under() {
  local dir=${1%/}
  # Field 5 of mountinfo is the mount point, with octal escapes such as \040 for a space.
  awk '{ print $5 }' /proc/self/mountinfo \
    | while IFS= read -r escaped; do printf '%b\n' "$escaped"; done \
    | awk -v prefix="$dir/" 'index($0, prefix) == 1 { print length($0) "\t" $0 }' \
    | sort -rn | cut -f2-
}

# coldstart_unmount_under DIR: unmounts every mount below DIR, deepest first; a mount that stays
# busy is detached lazily.
coldstart_unmount_under() {
  local mountpoint
  while IFS= read -r mountpoint; do
    umount "$mountpoint" 2> /dev/null || umount -l "$mountpoint" 2> /dev/null \
      || echo "coldstart: could not unmount $mountpoint" >&2
  done < <(coldstart_mounts_under "$1")
}

# coldstart_build_jsoci LOG: builds jsoci in this checkout (mvn package without tests).
coldstart_build_jsoci() {
  (cd "$COLDSTART_ROOT" && mvn -B -ntp -q -DskipTests package) > "$1" 2>&1 \
    || coldstart_error "building jsoci failed; see $1"
}

# coldstart_registry_start DIR [ADDRESS [WRAPPER...]]
# Starts Debian's docker-registry with its storage, config and log in DIR, listening on ADDRESS
# (HOST:PORT; default 127.0.0.1 and a free port), and waits until it responds to /v2/. WRAPPER is an
# optional command prefix for the registry and the probe, such as `ip netns exec NAME`. Writes
# the address to DIR/address.
coldstart_registry_start() {
  local dir=$1 address=${2:-} wrapper=("${@:3}") pid
  mkdir -p "$dir/data" || return 1
  if [[ -z $address ]]; then
    address=127.0.0.1:$(coldstart_free_port) || return 1
  fi
  cat > "$dir/config.yml" << YAML
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: $address
YAML
  "${wrapper[@]}" docker-registry serve "$dir/config.yml" > "$dir/log" 2>&1 < /dev/null &
  pid=$!
  if ! coldstart_record_pid "$dir/pid" "$pid"; then
    coldstart_error "docker-registry exited at once; see $dir/log"
    return 1
  fi
  echo "$address" > "$dir/address"
  for _ in $(seq 100); do
    if "${wrapper[@]}" curl -fs -o /dev/null "http://$address/v2/"; then
      return 0
    fi
    if ! coldstart_recorded_pid "$dir/pid" > /dev/null; then
      coldstart_error "docker-registry on $address exited; see $dir/log"
      return 1
    fi
    sleep 0.1
  done
  coldstart_error "docker-registry on $address did not answer within 10 s; see $dir/log"
}

# coldstart_registry_stop DIR: stops the registry that coldstart_registry_start DIR started.
coldstart_registry_stop() {
  coldstart_stop_recorded "$1/pid" docker-registry 10
}

# coldstart_registry_warm DIR: reads every blob of the registry's storage once, so that timed
# pulls are served from the page cache.
coldstart_registry_warm() {
  find "$1/data" -type f -name data -exec cat {} + > /dev/null
}

# coldstart_snapshotter_start DIR [CONFIG_TOML [ROOT]]
# Starts jsoci-snapshotter with its socket (DIR/jsoci.sock), config (DIR/config.toml, from
# CONFIG_TOML text or empty for the defaults), log (DIR/log) and root (ROOT, default DIR/root;
# it contains the span cache), and waits up to 60 s until it responds. JSOCI_BENCH_LOG_LEVEL sets
# the daemon's --log-level (default info).
coldstart_snapshotter_start() {
  local dir=$1 config=${2:-} root=${3:-$1/root} pid
  mkdir -p "$dir" "$root" || return 1
  echo "$root" > "$dir/root-path"
  printf '%s\n' "$config" > "$dir/config.toml"
  "$COLDSTART_ROOT/bin/jsoci-snapshotter" --root "$root" --address "$dir/jsoci.sock" \
    --config "$dir/config.toml" --log-level "${JSOCI_BENCH_LOG_LEVEL:-info}" \
    > "$dir/log" 2>&1 < /dev/null &
  pid=$!
  if ! coldstart_record_pid "$dir/pid" "$pid"; then
    coldstart_error "jsoci-snapshotter exited at once; see $dir/log"
    return 1
  fi
  if ! "$COLDSTART_ROOT/bin/jsoci-snapshotter" --check --check-timeout 60 \
    --address "$dir/jsoci.sock" >> "$dir/check.log" 2>&1; then
    coldstart_error "jsoci-snapshotter did not respond on $dir/jsoci.sock;" \
      "see $dir/log and $dir/check.log"
    return 1
  fi
}

# coldstart_snapshotter_stop DIR: stops the daemon that coldstart_snapshotter_start DIR started
# (SIGTERM makes it unmount its layers) and unmounts what it left under DIR and its root.
coldstart_snapshotter_stop() {
  coldstart_stop_recorded "$1/pid" jsoci-snapshotter 60
  if [[ -f $1/root-path ]]; then
    coldstart_unmount_under "$(< "$1/root-path")"
  fi
  coldstart_unmount_under "$1"
}

# coldstart_lazy_layer_count DIR: prints how many layers the daemon of
# coldstart_snapshotter_start DIR has mounted lazily now (its FUSE mounts of type fuse.jsoci).
coldstart_lazy_layer_count() {
  local root
  root=$(cat "$1/root-path" 2> /dev/null) || root=$1/root
  awk -v prefix="${root%/}/" '$3 == "fuse.jsoci" && index($2, prefix) == 1' /proc/self/mounts \
    | wc -l
}

# coldstart_containerd_start DIR ROOT [PROXY_NAME PROXY_SOCKET]
# Starts containerd with its config, state, socket (DIR/containerd.sock) and log in DIR and its
# root in ROOT (a tmpfs mount point keeps file creation out of the measurement), and waits until
# it responds. PROXY_NAME and PROXY_SOCKET register a proxy snapshotter such as jsoci's. Content is
# not shared between namespaces, so pulls in two namespaces both download every blob.
coldstart_containerd_start() {
  local dir=$1 root=$2 proxy_name=${3:-} proxy_socket=${4:-} pid
  mkdir -p "$dir/state" "$dir/opt" "$dir/fifo" "$root" || return 1
  if [[ -d $COLDSTART_RUN_CONTAINERD ]]; then
    touch "$dir/run-containerd-existed"
  fi

  {
    echo 'version = 2'
    echo "root = \"$root\""
    echo "state = \"$dir/state\""
    echo 'disabled_plugins = ["io.containerd.grpc.v1.cri"]'
    echo '[grpc]'
    echo "  address = \"$dir/containerd.sock\""
    echo '[ttrpc]'
    echo "  address = \"$dir/containerd.sock.ttrpc\""
    echo '[plugins."io.containerd.internal.v1.opt"]'
    echo "  path = \"$dir/opt\""
    echo '[plugins."io.containerd.metadata.v1.bolt"]'
    echo '  content_sharing_policy = "isolated"'
    if [[ -n $proxy_name ]]; then
      echo '[proxy_plugins]'
      echo "  [proxy_plugins.$proxy_name]"
      echo '    type = "snapshot"'
      echo "    address = \"$proxy_socket\""
    fi
  } > "$dir/config.toml"
  echo "$root" > "$dir/root-path"

  containerd --config "$dir/config.toml" > "$dir/log" 2>&1 < /dev/null &
  pid=$!
  if ! coldstart_record_pid "$dir/pid" "$pid"; then
    coldstart_error "containerd exited at once; see $dir/log"
    return 1
  fi
  for _ in $(seq 100); do
    if [[ -S $dir/containerd.sock ]] \
      && ctr --address "$dir/containerd.sock" version > /dev/null 2>&1; then
      return 0
    fi
    if ! coldstart_recorded_pid "$dir/pid" > /dev/null; then
      coldstart_error "containerd exited; see $dir/log"
      return 1
    fi
    sleep 0.2
  done
  coldstart_error "containerd did not answer on $dir/containerd.sock within 20 s; see $dir/log"
}

# coldstart_ctr DIR NAMESPACE ARGS...: runs ctr on the containerd of DIR in NAMESPACE.
coldstart_ctr() {
  ctr --address "$1/containerd.sock" --namespace "$2" "${@:3}"
}

# coldstart_containerd_stop DIR
# Stops the containerd that coldstart_containerd_start DIR started, after killing and deleting
# the tasks and containers of every namespace it used. Then it ends the shims and runc containers
# that outlived it, and unmounts what it left under DIR, its root and /run/containerd. Last, it
# removes its namespaces' entries under /run/containerd, and the directories there when
# /run/containerd did not exist before it started.
coldstart_containerd_stop() {
  local dir=$1 root namespace id pid
  [[ -f $dir/config.toml ]] || return 0
  root=$(cat "$dir/root-path" 2> /dev/null) || root=$dir/root
  local namespaces=()
  if [[ -f $dir/namespaces ]]; then
    mapfile -t namespaces < "$dir/namespaces"
  fi
  if coldstart_recorded_pid "$dir/pid" > /dev/null; then
    while IFS= read -r namespace; do
      namespaces+=("$namespace")
    done < <(ctr --address "$dir/containerd.sock" namespaces ls -q 2> /dev/null)
    for namespace in $(printf '%s\n' "${namespaces[@]}" | sort -u); do
      for id in $(coldstart_ctr "$dir" "$namespace" tasks ls -q 2> /dev/null); do
        coldstart_ctr "$dir" "$namespace" tasks kill --signal SIGKILL "$id" > /dev/null 2>&1 || true
        timeout 10 ctr --address "$dir/containerd.sock" --namespace "$namespace" \
          tasks delete --force "$id" > /dev/null 2>&1 || true
      done
      for id in $(coldstart_ctr "$dir" "$namespace" containers ls -q 2> /dev/null); do
        coldstart_ctr "$dir" "$namespace" containers delete "$id" > /dev/null 2>&1 || true
      done
    done
  fi
  coldstart_stop_recorded "$dir/pid" containerd 20

  # Shims are started by containerd but outlive it; each one names containerd's socket.
  local socket_pattern
  socket_pattern=$(printf '%s' "$dir/containerd.sock" | sed 's/[][\.*^$+?(){}|]/\\&/g')
  for pid in $(pgrep -f -- "-address $socket_pattern( |\$)" || true); do
    echo "coldstart: stopping containerd-shim (PID $pid) left by $dir/containerd.sock" >&2
    kill -KILL "$pid" 2> /dev/null || true
  done
  for namespace in $(printf '%s\n' "${namespaces[@]}" | sort -u); do
    local runc_root=$COLDSTART_RUN_CONTAINERD/runc/$namespace
    if [[ -d $runc_root ]]; then
      for id in $(runc --root "$runc_root" list -q 2> /dev/null); do
        runc --root "$runc_root" delete --force "$id" > /dev/null 2>&1 || true
      done
    fi
    coldstart_unmount_under "$COLDSTART_RUN_CONTAINERD/io.containerd.runtime.v2.task/$namespace"
    rm -rf "$runc_root" "$COLDSTART_RUN_CONTAINERD/io.containerd.runtime.v2.task/$namespace"
  done
  coldstart_unmount_under "$dir"
  coldstart_unmount_under "$root"
  if [[ ! -f $dir/run-containerd-existed && -d $COLDSTART_RUN_CONTAINERD ]]; then
    local child
    for child in runc fifo s io.containerd.runtime.v2.task; do
      rmdir "$COLDSTART_RUN_CONTAINERD/$child" 2> /dev/null || true
    done
    rmdir "$COLDSTART_RUN_CONTAINERD" 2> /dev/null || true
  fi
  rm -f "$dir/config.toml"
}

# coldstart_image_build DIR SIZE_MB LAYERS STARTUP_FRACTION [SEED]
# Writes an OCI image layout at DIR/layout (tag "app") of a busybox layer and LAYERS gzip layers
# that contain SIZE_MB MiB of files. Its entrypoint reads about STARTUP_FRACTION of every layer's
# bytes and prints one line, which is stored in DIR/expected-output. scripts/lib/sized_image.py describes
# the contents.
coldstart_image_build() {
  local dir=$1 size_mb=$2 layers=$3 fraction=$4 seed=${5:-1}
  mkdir -p "$dir" || return 1
  if ! python3 "$COLDSTART_ROOT/scripts/lib/sized_image.py" "$dir" "$size_mb" "$layers" \
    "$fraction" "$seed" > "$dir/build.log" 2>&1; then
    coldstart_error "building the image failed; see $dir/build.log"
    return 1
  fi
  local blobs=("$dir/layer-0.tar.gz") layer
  for ((layer = 1; layer <= layers; layer++)); do
    blobs+=("$dir/layer-$layer.tar.gz")
  done
  rm -rf "$dir/layout"
  if ! python3 "$COLDSTART_ROOT/scripts/lib/oci_layout.py" --entrypoint "$COLDSTART_ENTRYPOINT" \
    "$dir/layout" app "${blobs[@]}" >> "$dir/build.log" 2>&1; then
    coldstart_error "writing the image layout failed; see $dir/build.log"
    return 1
  fi
  # The layout contains hard links or copies of the layers.
  rm -f "${blobs[@]}"
}

# coldstart_image_push DIR REFERENCE: copies the layout of coldstart_image_build DIR to a
# registry over plain HTTP.
coldstart_image_push() {
  skopeo copy -q --dest-tls-verify=false "oci:$1/layout:app" "docker://$2" > "$1/push.log" 2>&1 \
    || coldstart_error "pushing $2 failed; see $1/push.log"
}

# coldstart_image_convert SOURCE TARGET LOG [OPTION...]: converts the image SOURCE into the
# SOCI-enabled image TARGET with `jsoci convert` over plain HTTP and the given options.
coldstart_image_convert() {
  local source="$1" target="$2" log="$3"
  shift 3
  "$COLDSTART_ROOT/bin/jsoci" convert --plain-http "$@" "$source" "$target" > "$log" 2>&1 \
    || coldstart_error "jsoci convert $source $target failed; see $log"
}

# coldstart_time_to_first_output PULLER CONTAINERD_DIR NAMESPACE SNAPSHOTTER REFERENCE OUT_DIR \
#   [SNAPSHOTTER_SOCKET]
# Pulls REFERENCE into NAMESPACE of the containerd of CONTAINERD_DIR and runs it with SNAPSHOTTER.
# Prints the seconds from the start of the pull to the container's first line of output, and
# writes them to OUT_DIR/seconds, the pull's share to OUT_DIR/pull-seconds, the container's
# output to OUT_DIR/output and the logs to OUT_DIR/*.log.
# PULLER is one of:
#   full       `ctr images pull` (every layer is downloaded and unpacked)
#   ctr-remote `ctr-remote images rpull` (sends the labels that make layers lazy)
#   jsoci      `jsoci rpull`, which also reports the lazy layers; needs SNAPSHOTTER_SOCKET
coldstart_time_to_first_output() {
  local puller=$1 dir=$2 namespace=$3 snapshotter=$4 reference=$5 out=$6 snapshotter_socket=${7:-}
  local socket=$dir/containerd.sock
  local pull=()
  case $puller in
    full) pull=(ctr --address "$socket" --namespace "$namespace" images pull --plain-http \
      --snapshotter "$snapshotter" "$reference") ;;
    ctr-remote) pull=(ctr-remote --address "$socket" --namespace "$namespace" images rpull \
      --plain-http --snapshotter "$snapshotter" "$reference") ;;
    jsoci)
      if [[ -z $snapshotter_socket ]]; then
        coldstart_error "puller jsoci needs SNAPSHOTTER_SOCKET"
        return 1
      fi
      pull=("$COLDSTART_ROOT/bin/jsoci" rpull --address "$socket" --namespace "$namespace" \
        --snapshotter "$snapshotter" --snapshotter-address "$snapshotter_socket" --plain-http \
        "$reference") ;;
    *)
      coldstart_error "unknown puller '$puller'; use full, ctr-remote or jsoci"
      return 1
      ;;
  esac
  mkdir -p "$out" || return 1
  echo "$namespace" >> "$dir/namespaces"

  # Makes the `if` below see a failure of ctr run, not only of the reader after it.
  local -
  set -o pipefail
  local start=$EPOCHREALTIME
  if ! "${pull[@]}" > "$out/pull.log" 2>&1; then
    coldstart_error "${pull[*]} failed; see $out/pull.log"
    return 1
  fi
  local pulled=$EPOCHREALTIME
  # The reader records the time at which the first line arrives, then keeps the rest.
  if ! ctr --address "$socket" --namespace "$namespace" run --rm --fifo-dir "$dir/fifo" \
    --snapshotter "$snapshotter" "$reference" "${namespace}-start" 2> "$out/run.log" \
    | {
      IFS= read -r line
      echo "$EPOCHREALTIME" > "$out/first-output-time"
      printf '%s\n' "$line" > "$out/output"
      cat >> "$out/output"
    }; then
    coldstart_error "ctr run $reference failed; see $out/run.log and $dir/log"
    return 1
  fi
  if [[ ! -s $out/output ]]; then
    coldstart_error "the container of $reference printed nothing; see $out/run.log"
    return 1
  fi
  local first_output
  first_output=$(< "$out/first-output-time")
  coldstart_seconds_between "$start" "$pulled" > "$out/pull-seconds"
  coldstart_seconds_between "$start" "$first_output" | tee "$out/seconds"
}

# coldstart_seconds_between START END: prints END - START, two $EPOCHREALTIME values, in seconds
# with two decimals.
coldstart_seconds_between() {
  LC_ALL=C awk -v start="$1" -v end="$2" 'BEGIN { printf "%.2f\n", end - start }'
}

# coldstart_image_remove CONTAINERD_DIR NAMESPACE REFERENCE: removes the image and, through
# containerd's synchronous garbage collection, its content and snapshots.
coldstart_image_remove() {
  coldstart_ctr "$1" "$2" images rm --sync "$3" > /dev/null \
    || coldstart_error "ctr images rm $3 in namespace $2 failed; see $1/log"
}

# coldstart_warm_up DIR CONTAINERD_DIR REGISTRY LAZY_SNAPSHOTTER PULLER [SNAPSHOTTER_SOCKET]
# Pulls and runs a 32 MiB image once fully (overlayfs) and once lazily (LAZY_SNAPSHOTTER with
# PULLER), each in a namespace of its own, then removes both. Timed runs then find the jsoci
# daemon's code compiled by the JVM and the programs in the page cache, as on a node that has
# pulled before.
# Its image and logs go to DIR; REGISTRY is HOST:PORT.
coldstart_warm_up() {
  local dir=$1 containerd=$2 registry=$3 snapshotter=$4 puller=$5 snapshotter_socket=${6:-}
  local plain=$registry/coldstart-warm-up/app:v1 soci=$registry/coldstart-warm-up/app:v1-soci
  local namespace
  # 32 MiB of data compress to about 13 MiB, above jsoci convert's 10 MiB minimum layer size.
  coldstart_image_build "$dir/image" 32 1 0.5 2 || return 1
  coldstart_image_push "$dir/image" "$plain" || return 1
  coldstart_image_convert "$plain" "$soci" "$dir/convert.log" || return 1

  namespace=$(coldstart_namespace coldstart-warm-up-full)
  coldstart_time_to_first_output full "$containerd" "$namespace" overlayfs "$plain" "$dir/full" \
    > /dev/null || return 1
  coldstart_image_remove "$containerd" "$namespace" "$plain" || return 1

  namespace=$(coldstart_namespace coldstart-warm-up-lazy)
  coldstart_time_to_first_output "$puller" "$containerd" "$namespace" "$snapshotter" "$soci" \
    "$dir/lazy" "$snapshotter_socket" > /dev/null || return 1
  coldstart_image_remove "$containerd" "$namespace" "$soci"
}
