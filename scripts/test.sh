#!/usr/bin/env bash
# Installs the Debian packages the tests need when they are missing, then runs every test.
set -euo pipefail

cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."
# shellcheck source=scripts/lib/packages.sh
source scripts/lib/packages.sh

# Tools the tests and their fixtures call: GNU tar, gzip and pigz make layers, python3 writes
# tars with tarfile, docker-registry serves images on loopback (apache2-utils makes bcrypt
# htpasswd files for its Basic auth), skopeo copies images into it, containerd and runc run the
# converted images (busybox-static is the shell inside them), fuse and attr serve and inspect
# the FUSE layer filesystems, curl probes the registry, stargz-snapshotter provides ctr-remote
# for lazy pulls with remote-snapshot labels, zstd makes zstd layers and libzstd1 decodes them,
# and libdeflate0 inflates whole gzip spans.
packages=(
  tar gzip pigz python3 curl maven openjdk-17-jdk-headless
  docker-registry apache2-utils skopeo containerd runc busybox-static fuse attr
  stargz-snapshotter zstd libzstd1 libdeflate0
)

install_missing_packages test.sh "${packages[@]}"

mvn -B -ntp verify "$@"
