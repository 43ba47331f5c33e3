#!/usr/bin/env bash
# Benchmarks reads through a `jsoci mount` of a two-layer image against the same files unpacked on
# local disk, on a loopback docker-registry. Prints a Markdown block for docs/benchmarks.md.
#
# Usage: scripts/bench-fuse.sh [WORK_DIR]   (default /tmp/jsoci-bench-fuse; the layers are kept)
# Needs root, /dev/fuse, a built checkout (mvn -q -DskipTests package), docker-registry, skopeo,
# pigz, curl and python3. JSOCI_ROOT selects another built checkout (default: this script's).
# Traffic goes to 127.0.0.1 only.
set -euo pipefail

script_root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
root="${JSOCI_ROOT:-$script_root}"
# shellcheck source=scripts/lib/bench-args.sh
source "$script_root/scripts/lib/bench-args.sh"
bench_check_args "$0" "$@"
work="${1:-/tmp/jsoci-bench-fuse}"
jsoci="$root/bin/jsoci"
if [[ $EUID -ne 0 ]]; then
  echo "bench-fuse.sh: jsoci mount needs root; run this script as root" >&2
  exit 1
fi
mkdir -p "$work"

big_bytes=$((256 * 1048576))

# Layer 1: one 256 MiB file, the files under /usr/lib concatenated in name order, so that it
# compresses like binaries. Layer 2: 50,000 files of 0-4096 bytes in 500 directories, two levels
# deep (20 x 25 directories of 100 files each). Both trees stay unpacked as the local-disk copies.
if [[ ! -f "$work/big.tar.gz" ]]; then
  rm -rf "$work/big"
  mkdir -p "$work/big/bench"
  python3 - "$work/big/bench/big.bin" "$big_bytes" <<'PY'
import os, sys

out, remaining = sys.argv[1], int(sys.argv[2])
paths = []
for directory, subdirectories, files in os.walk("/usr/lib"):
    subdirectories.sort()
    paths.extend(os.path.join(directory, name) for name in sorted(files))
with open(out, "wb") as target:
    for path in paths:
        if remaining == 0:
            break
        if os.path.islink(path) or not os.path.isfile(path):
            continue
        try:
            with open(path, "rb") as source:
                data = source.read(remaining)
        except OSError:
            continue
        target.write(data)
        remaining -= len(data)
if remaining:
    sys.exit(f"/usr/lib holds {remaining} bytes too few for the large file")
PY
  tar -C "$work/big" --sort=name -cf - bench | pigz -6 > "$work/big.tar.gz"
fi
if [[ ! -f "$work/small.tar.gz" ]]; then
  rm -rf "$work/small"
  mkdir -p "$work/small"
  python3 - "$work/small/tree" <<'PY'
import os, random, sys

top = sys.argv[1]
generator = random.Random(1)
for outer in range(20):
    for inner in range(25):
        directory = os.path.join(top, f"d{outer:02d}", f"d{inner:02d}")
        os.makedirs(directory)
        for index in range(100):
            with open(os.path.join(directory, f"f{index:03d}"), "wb") as f:
                f.write(generator.randbytes(generator.randint(0, 4096)))
PY
  tar -C "$work/small" --sort=name -cf - tree | pigz -6 > "$work/small.tar.gz"
fi
rm -rf "$work/layout"
python3 "$script_root/scripts/lib/oci_layout.py" "$work/layout" bench \
  "$work/big.tar.gz" "$work/small.tar.gz"

# Everything started here is stopped by its PID on exit, and the mount is undone first.
registry_pid=""
mount_pid=""
mount_point="$work/mnt"
state_base="$work/state"
cleanup() {
  if [[ -n "$mount_pid" ]] && kill -0 "$mount_pid" 2>/dev/null; then
    "$jsoci" unmount --state-dir "$state_base" "$mount_point" > /dev/null 2>&1 \
      || kill "$mount_pid" 2>/dev/null || true
    wait "$mount_pid" 2>/dev/null || true
  fi
  if [[ -n "$registry_pid" ]]; then
    kill "$registry_pid" 2>/dev/null || true
    wait "$registry_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT

# A registry on a free loopback port.
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
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$port/v2/" > /dev/null && break
  sleep 0.1
done

host="127.0.0.1:$port"
ref="$host/bench:soci"
skopeo copy -q --dest-tls-verify=false "oci:$work/layout:bench" "docker://$host/bench:plain"
"$jsoci" convert --plain-http --min-layer-size 0 "$host/bench:plain" "$ref" > "$work/convert.log"

# The mount runs in the background until `jsoci unmount`, and is ready once the overlay is mounted.
mkdir -p "$mount_point"
"$jsoci" mount --plain-http --state-dir "$state_base" "$ref" "$mount_point" > "$work/mount.log" 2>&1 &
mount_pid=$!
overlay_mounted() {
  awk -v dir="$mount_point" '$5 == dir && $(NF - 2) == "overlay" { found = 1 } END { exit !found }' \
    /proc/self/mountinfo
}
for _ in $(seq 600); do
  overlay_mounted && break
  if ! kill -0 "$mount_pid" 2>/dev/null; then
    echo "bench-fuse.sh: jsoci mount exited before mounting; its log:" >&2
    cat "$work/mount.log" >&2
    exit 1
  fi
  sleep 0.1
done
if ! overlay_mounted; then
  echo "bench-fuse.sh: no overlay at $mount_point after 60 s; see $work/mount.log" >&2
  exit 1
fi
lazy_layers=$(grep -c ' lazy ' "$work/mount.log" || true)

# Prints the wall-clock seconds that a command takes, discarding its output.
seconds_of() {
  local start end
  start=$(date +%s.%N)
  "$@" > /dev/null
  end=$(date +%s.%N)
  python3 -c "print(f'{$end - $start:.3f}')"
}
read_file() { dd if="$1" of=/dev/null bs=1M status=none; }
stat_tree() { find "$1" -type f -print0 | xargs -0 stat > /dev/null; }

busy_cpu() {
  read -r _ u1 n1 s1 i1 w1 q1 sq1 _ < /proc/stat
  sleep "$1"
  read -r _ u2 n2 s2 i2 w2 q2 sq2 _ < /proc/stat
  local busy=$(((u2 + n2 + s2 + q2 + sq2) - (u1 + n1 + s1 + q1 + sq1)))
  local idle=$(((i2 + w2) - (i1 + w1)))
  echo $((100 * busy / (busy + idle)))
}
busy_before=$(busy_cpu 1)

# Sequential read of the large file: the first FUSE read fetches spans from the registry, the
# second comes from the page cache (kernel_cache). The local copy is read once first to warm it.
fuse_big="$mount_point/bench/big.bin"
local_big="$work/big/bench/big.bin"
fuse_first=$(seconds_of read_file "$fuse_big")
fuse_second=$(seconds_of read_file "$fuse_big")
read_file "$local_big"
local_read=$(seconds_of read_file "$local_big")
cmp "$fuse_big" "$local_big"

# Metadata walk of the small files, twice on each side. The second run is the warm one.
fuse_walk_first=$(seconds_of stat_tree "$mount_point/tree")
fuse_walk=$(seconds_of stat_tree "$mount_point/tree")
stat_tree "$work/small/tree"
local_walk=$(seconds_of stat_tree "$work/small/tree")
fuse_files=$(find "$mount_point/tree" -type f | wc -l)

"$jsoci" unmount --state-dir "$state_base" "$mount_point" > /dev/null
wait "$mount_pid" || true
mount_pid=""
leftovers=$(awk -v prefix="$work/" 'index($5, prefix) == 1' /proc/self/mountinfo | wc -l)
if [[ "$leftovers" -ne 0 ]]; then
  echo "bench-fuse.sh: $leftovers mounts are left under $work" >&2
  exit 1
fi

py() { python3 -c "print($1)"; }
mib_per_second() { py "f'{$big_bytes / $1 / 1048576:.0f}'"; }
echo "### Reads through jsoci mount against local disk"
echo
echo "- machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(java -version 2>&1 | head -1)"
echo "- command: \`scripts/bench-fuse.sh\`, $(date -u +%Y-%m-%d); registry: Debian docker-registry on 127.0.0.1"
echo "- image: two layers ($lazy_layers mounted lazily through FUSE under an overlay), 4 MiB spans;" \
  "one 256 MiB file of /usr/lib contents ($(py "f'{$(stat -c %s "$work/big.tar.gz") / 1048576:.0f}'") MiB gzip)," \
  "and $fuse_files files of 0-4096 bytes in 500 directories ($(py "f'{$(stat -c %s "$work/small.tar.gz") / 1048576:.0f}'") MiB gzip)"
echo "- local disk: the same trees unpacked in the work directory, read from the page cache"
echo "- machine-wide busy CPU before the timed runs: ${busy_before}%"
echo
echo "| sequential read of the 256 MiB file (\`dd bs=1M\`) | seconds | MiB/s |"
echo "| --- | --- | --- |"
echo "| local disk, second read (page cache) | $local_read | $(mib_per_second "$local_read") |"
echo "| jsoci mount, first read (spans from the registry) | $fuse_first | $(mib_per_second "$fuse_first") |"
echo "| jsoci mount, second read (page cache) | $fuse_second | $(mib_per_second "$fuse_second") |"
echo
echo "Ratio, cached FUSE read / local read: **$(py "f'{$local_read / $fuse_second:.2f}'")** (target: at least 0.5)"
echo
echo "| \`find -type f \| xargs stat\` over $fuse_files files | seconds |"
echo "| --- | --- |"
echo "| local disk, second run | $local_walk |"
echo "| jsoci mount, first run | $fuse_walk_first |"
echo "| jsoci mount, second run | $fuse_walk |"
echo
echo "Throughput ratio, local seconds / FUSE seconds (second runs): **$(py "f'{$local_walk / $fuse_walk:.2f}'")** (target: at least 0.3)"
