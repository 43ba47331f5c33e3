# shellcheck shell=bash
# Installs missing Debian packages; sourced by scripts/test.sh and scripts/demo.sh.

# install_missing_packages CALLER PACKAGE...
# Installs with apt-get the PACKAGEs that dpkg does not list as installed. CALLER prefixes the
# messages. Returns 1 when packages are missing and the user is not root.
install_missing_packages() {
  local caller=$1
  shift
  local package missing=()
  for package in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$package")
    fi
  done
  if ((${#missing[@]} == 0)); then
    return 0
  fi
  echo "$caller: installing ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    echo "$caller: installing packages needs root; install them or run as root" >&2
    return 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
}
